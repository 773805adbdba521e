import type pg from 'pg';
import { generateTenant, type GenerateOptions } from '../../src/seed/generate';
import { BatchWriter } from '../../src/seed/writer';

/**
 * Runs `fill` with a batch writer on one connection of `pool` (the seed writes through a
 * dedicated connection), flushes it and releases the connection.
 */
export async function withBatchWriter(pool: pg.Pool, fill: (writer: BatchWriter, client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    const writer = new BatchWriter(client);
    await fill(writer, client);
    await writer.flush();
  } finally {
    client.release();
  }
}

/** The seed generator's tenants 0..n-1 (tenant-001, …) of `options`, into the pool's schema. */
export function seedTenants(pool: pg.Pool, options: GenerateOptions): Promise<void> {
  return withBatchWriter(pool, async (writer) => {
    for (let i = 0; i < options.tenants; i++) await generateTenant(options, i, writer);
  });
}
