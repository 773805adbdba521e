import type pg from 'pg';
import { generateTenant, type GenerateOptions } from './generate';
import { RESET_TABLES, type SeedTable } from './tables';
import { BatchWriter, DEFAULT_BATCH_SIZE } from './writer';
import { SeedConflictError } from '../errors/seed-conflict-error';

/** Existing organizations a conflict names before "and N more". */
const CONFLICTS_LISTED = 10;

export interface SeedProgress {
  /** Tenants generated (their last rows may still be buffered). */
  tenantsDone: number;
  tenants: number;
  /** Rows written to Postgres so far. */
  rows: number;
}

export interface SeedResult {
  options: GenerateOptions;
  rows: Record<SeedTable, number>;
  totalRows: number;
  durationMs: number;
}

/**
 * Generates the data set of `options` into the tables `client` sees (its search_path). With
 * `reset`, every raw and aggregate table is emptied first; otherwise existing seed tenants are a
 * {@link SeedConflictError}. The client should be a dedicated connection: its session settings
 * (synchronous_commit off, for speed) are changed.
 */
export async function seedDatabase(
  client: pg.ClientBase,
  options: GenerateOptions,
  { reset = false, batchSize = DEFAULT_BATCH_SIZE, onProgress = () => {} }: { reset?: boolean; batchSize?: number; onProgress?: (p: SeedProgress) => void } = {},
): Promise<SeedResult> {
  const started = Date.now();
  // A crash mid-seed loses at most the last batches of a throwaway data set; not waiting for
  // the WAL flush on each batch roughly halves the time.
  await client.query('SET synchronous_commit = off');
  if (reset) {
    await client.query(`TRUNCATE ${RESET_TABLES.join(', ')} RESTART IDENTITY`);
  } else {
    // Any seed organization 1..N, whatever the width of its id (an earlier seed of another count).
    const { rows } = await client.query<{ id: string; n: number }>(
      `SELECT id, count(*) OVER ()::int AS n
         FROM (SELECT id, CASE WHEN id ~ '^tenant-[0-9]{1,15}$' THEN substr(id, 8)::bigint END AS k FROM organizations) o
        WHERE k BETWEEN 1 AND $1
        ORDER BY k, id LIMIT $2`,
      [options.tenants, CONFLICTS_LISTED],
    );
    if (rows.length > 0) {
      const more = rows[0]!.n - rows.length;
      throw new SeedConflictError([...rows.map((r) => r.id), ...(more > 0 ? [`and ${more} more`] : [])]);
    }
  }
  let rows = 0;
  let tenantsDone = 0;
  const writer = new BatchWriter(
    client,
    (n) => {
      rows += n;
      onProgress({ tenantsDone, tenants: options.tenants, rows });
    },
    batchSize,
  );
  // One pass: tenants stream into the same batches (a batch spans many small tenants), and the
  // writer sends a table's parents before it, so foreign keys hold at every statement.
  for (let i = 0; i < options.tenants; i++) {
    await generateTenant(options, i, writer);
    tenantsDone++;
    onProgress({ tenantsDone, tenants: options.tenants, rows });
  }
  await writer.flush();
  // Fresh statistics, so the first aggregation plans against the real row counts, and a visibility
  // map, so the covering user_activity index is read without visiting the heap.
  await client.query(`VACUUM (ANALYZE) ${RESET_TABLES.join(', ')}`);
  return { options, rows: writer.counts, totalRows: rows, durationMs: Date.now() - started };
}
