import type pg from 'pg';
import { generateTenant, tenantId, type GenerateOptions } from './generate';
import { RESET_TABLES, type SeedTable } from './tables';
import { BatchWriter, DEFAULT_BATCH_SIZE } from './writer';
import { SeedConflictError } from '../errors/seed-conflict-error';

export interface SeedProgress {
  tenantsDone: number;
  tenants: number;
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
    const ids = Array.from({ length: options.tenants }, (_, i) => tenantId(i));
    const { rows } = await client.query<{ id: string }>('SELECT id FROM organizations WHERE id = ANY($1::text[]) ORDER BY id', [ids]);
    if (rows.length > 0) throw new SeedConflictError(rows.map((r) => r.id));
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
  for (let i = 0; i < options.tenants; i++) {
    await generateTenant(options, i, writer);
    await writer.flush();
    tenantsDone++;
    onProgress({ tenantsDone, tenants: options.tenants, rows });
  }
  // Fresh statistics, so the first aggregation plans against the real row counts, and a visibility
  // map, so the covering user_activity index is read without visiting the heap.
  await client.query(`VACUUM (ANALYZE) ${RESET_TABLES.join(', ')}`);
  return { options, rows: writer.counts, totalRows: rows, durationMs: Date.now() - started };
}
