import { PrismaPg } from '@prisma/adapter-pg';
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
 * URL's `?schema=` parameter, as with Prisma's own engines.
 */
export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg(
    { connectionString: connectionStringOf(databaseUrl), max: options.max ?? 10 },
    { schema: schemaOf(databaseUrl) },
  );
  return new PrismaClient({ adapter });
}
