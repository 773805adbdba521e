import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client';

export type Db = PrismaClient;

/** The schema named by `?schema=` in a Postgres URL, or `public`. */
export function schemaOf(databaseUrl: string): string {
  return new URL(databaseUrl).searchParams.get('schema') ?? 'public';
}

/** The URL without Prisma's `schema` parameter, which `pg` does not understand. */
export function connectionStringOf(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.searchParams.delete('schema');
  return u.toString();
}

/**
 * `pg` connection settings for a Prisma-style URL: the URL without `schema`, and the session's
 * `search_path` set to that schema so raw SQL resolves names there too.
 */
export function pgConfigOf(databaseUrl: string): { connectionString: string; options: string } {
  return { connectionString: connectionStringOf(databaseUrl), options: `-c search_path=${pg.escapeIdentifier(schemaOf(databaseUrl))}` };
}

/**
 * A Prisma client over the `pg` driver adapter (no native engine). The schema comes from the
 * URL's `?schema=` parameter, as with Prisma's own engines. The adapter's `schema` only qualifies
 * model queries; raw SQL (all of the aggregation) resolves names through `search_path`, so the
 * connections get that too.
 */
export function createDb(
  databaseUrl: string,
  options: {
    /** Pool size. @defaultValue 10 */
    max?: number;
    /** Prisma's log setting (tests count statements through `query` events). @defaultValue none */
    log?: ConstructorParameters<typeof PrismaClient>[0]['log'];
  } = {},
): Db {
  const schema = schemaOf(databaseUrl);
  const adapter = new PrismaPg(
    { ...pgConfigOf(databaseUrl), max: options.max ?? 10 },
    { schema },
  );
  return new PrismaClient({ adapter, ...(options.log ? { log: options.log } : {}) });
}
