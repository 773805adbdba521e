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
 * A Prisma client over the `pg` driver adapter (no native engine). The schema comes from the
 * URL's `?schema=` parameter, as with Prisma's own engines. The adapter's `schema` only qualifies
 * model queries; raw SQL (all of the aggregation) resolves names through `search_path`, so the
 * connections get that too.
 */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const schema = schemaOf(databaseUrl);
  const adapter = new PrismaPg(
    {
      connectionString: connectionStringOf(databaseUrl),
      max: options.max ?? 10,
      options: `-c search_path=${pg.escapeIdentifier(schema)}`,
    },
    { schema },
  );
  return new PrismaClient({ adapter });
}
