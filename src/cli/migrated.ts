import pg from 'pg';
import { connectionStringOf, schemaOf } from '../db/client';
import { readMigrations } from '../db/migrate';
import type { Config } from '../config';
import { DatabaseNotMigratedError } from '../errors/database-not-migrated-error';
import { ServiceUnavailableError } from '../errors/service-unavailable-error';
import { POSTGRES_VARIABLES, probePostgres } from '../queue/health';

/**
 * Throws {@link DatabaseNotMigratedError} when the database has no `_prisma_migrations` in its
 * schema or misses a migration on disk, so a command says "run `analytics db migrate`" instead
 * of failing later on a missing table. The server must answer (the health probes ask first).
 */
export async function assertMigrated(databaseUrl: string, timeoutMs: number): Promise<void> {
  const schema = schemaOf(databaseUrl);
  const client = new pg.Client({ connectionString: connectionStringOf(databaseUrl), connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ table: string | null }>('SELECT to_regclass(format(\'%I._prisma_migrations\', $1::text))::text AS table', [schema]);
    if (rows[0]?.table == null) throw new DatabaseNotMigratedError(databaseUrl, `schema "${schema}" has no _prisma_migrations table`);
    const applied = await client.query<{ name: string }>(
      `SELECT migration_name AS name FROM ${pg.escapeIdentifier(schema)}._prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const done = new Set(applied.rows.map((r) => r.name));
    const pending = (await readMigrations()).filter((m) => !done.has(m.name)).map((m) => m.name);
    if (pending.length > 0) throw new DatabaseNotMigratedError(databaseUrl, `${pending.length} migration(s) not applied: ${pending.join(', ')}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Postgres's "undefined table" (42P01), or Prisma's P2021 wrapping it, anywhere in the cause chain. */
export function missingTableOf(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown; meta?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (e.code === '42P01' || e.code === 'P2021') {
      const message = typeof e.message === 'string' ? e.message : '';
      const table = /relation "([^"]+)" does not exist/.exec(message)?.[1] ?? /table `([^`]+)` does not exist/.exec(message)?.[1];
      return table === undefined ? 'a table does not exist' : `relation "${table}" does not exist`;
    }
  }
  return undefined;
}

/**
 * For commands that use Postgres alone (`seed`, `aggregate --local`): the server answers within
 * CONNECT_TIMEOUT_MS ({@link ServiceUnavailableError} otherwise) and the migrations are applied.
 */
export async function requireMigratedDatabase(config: Pick<Config, 'databaseUrl' | 'connectTimeoutMs'>): Promise<void> {
  const postgres = await probePostgres(config.databaseUrl, config.connectTimeoutMs, { requireSchema: false });
  if (!postgres.healthy) throw new ServiceUnavailableError('Postgres', config.databaseUrl, POSTGRES_VARIABLES, postgres.reason, config.connectTimeoutMs);
  await assertMigrated(config.databaseUrl, config.connectTimeoutMs);
}
