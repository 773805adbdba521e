import type pg from 'pg';
import { SEED_TABLES, type RowSink, type SeedRow, type SeedTable } from './tables';

/** Rows per INSERT. @defaultValue 5000 */
export const DEFAULT_BATCH_SIZE = 5000;
const MAX_IN_FLIGHT = 2;

/**
 * Buffers rows per table in columns and writes each batch with one
 * `INSERT … SELECT * FROM unnest($1::text[], $2::timestamptz[], …)`: one round trip and one
 * parse per few thousand rows, without COPY. A table's parents are flushed before it, so foreign
 * keys hold at every statement.
 */
export class BatchWriter implements RowSink {
  private readonly buffers = new Map<SeedTable, SeedRow[]>();
  // Inserts queued but not yet awaited: the next batch is generated while Postgres writes this
  // one. They run one after another (chained), so a parent batch lands before its children and a
  // failed batch stops the ones queued after it.
  private readonly inFlight: Promise<void>[] = [];
  private tail: Promise<void> = Promise.resolve();
  readonly counts: Record<SeedTable, number>;

  constructor(
    private readonly client: Pick<pg.ClientBase, 'query'>,
    private readonly onRows: (rows: number) => void = () => {},
    private readonly batchSize = DEFAULT_BATCH_SIZE,
  ) {
    this.counts = Object.fromEntries(Object.keys(SEED_TABLES).map((t) => [t, 0])) as Record<SeedTable, number>;
  }

  add(table: SeedTable, row: SeedRow): void | Promise<void> {
    let buffer = this.buffers.get(table);
    if (!buffer) this.buffers.set(table, (buffer = []));
    buffer.push(row);
    if (buffer.length >= this.batchSize) return this.flushTable(table);
  }

  /** Writes everything buffered, parents first. */
  async flush(): Promise<void> {
    for (const table of Object.keys(SEED_TABLES) as SeedTable[]) await this.flushTable(table);
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }

  private async flushTable(table: SeedTable): Promise<void> {
    const spec = SEED_TABLES[table];
    for (const parent of spec.parents) await this.flushTable(parent);
    const rows = this.buffers.get(table);
    if (!rows || rows.length === 0) return;
    this.buffers.set(table, []);
    const columns = spec.columns.map((_, i) =>
      rows.map((row) => {
        const v = row[i] ?? null;
        return spec.types[i] === 'timestamptz' && v !== null ? new Date(v).toISOString() : v;
      }),
    );
    const unnest = spec.types.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
    const sql = `INSERT INTO ${table} (${spec.columns.map((c) => `"${c}"`).join(', ')}) SELECT * FROM unnest(${unnest})`;
    const sent = this.tail
      .then(() => this.client.query(sql, columns))
      .then(() => {
        this.counts[table] += rows.length;
        this.onRows(rows.length);
      });
    sent.catch(() => {}); // observed when awaited below or in flush(); not an unhandled rejection meanwhile
    this.tail = sent;
    this.inFlight.push(sent);
    if (this.inFlight.length > MAX_IN_FLIGHT) await this.inFlight.shift();
  }
}
