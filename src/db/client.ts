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

const pools = new WeakMap<Db, pg.Pool>();

/**
 * The `pg` pool under a client made by {@link createDb}. The aggregation runs its statements on
 * it directly, as named prepared statements (parsed and planned once per connection): Prisma's
 * raw queries are unnamed, so Postgres would parse and plan every statement on every call.
 */
export function poolOf(db: Db): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('this Prisma client was not made by createDb: it has no pool to run prepared statements on');
  return pool;
}

/**
 * A Prisma client over the `pg` driver adapter (no native engine), on a `pg` pool the
 * aggregation shares ({@link poolOf}). The schema comes from the URL's `?schema=` parameter, as
 * with Prisma's own engines. The adapter's `schema` only qualifies model queries; raw SQL (all of
 * the aggregation) resolves names through `search_path`, so the connections get that too.
 * `$disconnect()` closes the pool.
 */
export function createDb(
  databaseUrl: string,
  options: {
    /** Pool size: size it to the activities that run at once. @defaultValue 10 */
    max?: number;
    /** Prisma's log setting (tests count statements through `query` events). @defaultValue none */
    log?: ConstructorParameters<typeof PrismaClient>[0]['log'];
  } = {},
): Db {
  const schema = schemaOf(databaseUrl);
  const pool = new pg.Pool({ ...pgConfigOf(databaseUrl), max: options.max ?? 10 });
  // An idle connection that the server drops (restart, admin shutdown) must not crash the process.
  pool.on('error', () => {});
  const adapter = new PrismaPg(pool, { schema });
  const client = new PrismaClient({ adapter, ...(options.log ? { log: options.log } : {}) });
  const disconnect = client.$disconnect.bind(client);
  let ended: Promise<void> | undefined;
  Object.defineProperty(client, '$disconnect', {
    value: async () => {
      await disconnect();
      ended ??= pool.end();
      await ended;
    },
  });
  pools.set(client, pool);
  return client;
}
