import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRng } from '../src/seed/prng';
import { SEED_TABLES, type RowSink, type SeedRow, type SeedTable } from '../src/seed/tables';
import { BatchWriter } from '../src/seed/writer';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { cohortRows, revenueRows, tournamentRows } from './helpers/fixtures';
import { writeRandomTenant } from './helpers/random-raw';
import { testService } from './helpers/service';

// Tenants built from the same random draws (so their rows share timestamps, amounts and formats),
// two of them in the same timezone. Together in one database, rows interleaved, each tenant's
// aggregates must equal those computed with the tenant alone in its own database.

class MemorySink implements RowSink {
  readonly rows = new Map<SeedTable, SeedRow[]>();
  add(table: SeedTable, row: SeedRow): void {
    if (!this.rows.has(table)) this.rows.set(table, []);
    this.rows.get(table)!.push(row);
  }
}

const TENANTS = [
  { id: 'iso-a', zone: 'America/New_York' },
  { id: 'iso-b', zone: 'America/New_York' },
  { id: 'iso-c', zone: 'Asia/Kolkata' },
];

let together: TestDatabase;
const alone = new Map<string, TestDatabase>();
const data = new Map<string, MemorySink>();

async function write(t: TestDatabase, sinks: MemorySink[]): Promise<void> {
  const client = await t.pool.connect();
  try {
    const writer = new BatchWriter(client, () => {}, 50);
    for (const table of Object.keys(SEED_TABLES) as SeedTable[]) {
      const lists = sinks.map((s) => s.rows.get(table) ?? []);
      // Round-robin: one row of each tenant in turn.
      for (let i = 0; i < Math.max(...lists.map((l) => l.length)); i++) {
        for (const list of lists) if (i < list.length) await writer.add(table, list[i]!);
      }
      await writer.flush();
    }
  } finally {
    client.release();
  }
}

async function aggregate(t: TestDatabase, tenantId: string): Promise<void> {
  const service = testService(t.db);
  await service.aggregateAll(tenantId, '2024-10-01', '2025-04-01', 'week', '2025-04-15T00:00:00Z');
  await service.aggregateAll(tenantId, '2024-10-01', '2025-04-01', 'month', '2025-04-15T00:00:00Z');
  await service.aggregateRevenue(tenantId, '2025-03-01', '2025-03-20', 'day');
  await service.aggregateTournaments(tenantId, '2024-11-01', '2024-11-10', 'day');
}

async function snapshot(t: TestDatabase, tenantId: string) {
  return { revenue: await revenueRows(t.pool, tenantId), tournaments: await tournamentRows(t.pool, tenantId), cohorts: await cohortRows(t.pool, tenantId) };
}

beforeAll(async () => {
  for (const tenant of TENANTS) {
    const sink = new MemorySink();
    await writeRandomTenant(createRng(2024), sink, tenant.id, tenant.zone);
    data.set(tenant.id, sink);
  }
  together = await createTestDatabase('isoall');
  await write(together, [...data.values()]);
  for (const tenant of TENANTS) {
    const t = await createTestDatabase('isoone');
    await write(t, [data.get(tenant.id)!]);
    alone.set(tenant.id, t);
  }
});

afterAll(async () => {
  await together?.drop();
  for (const t of alone.values()) await t.drop();
});

describe('tenant isolation', () => {
  it.each(TENANTS.map((x) => x.id))('%s: aggregates with other tenants present equal those computed alone', async (tenantId) => {
    const solo = alone.get(tenantId)!;
    await aggregate(solo, tenantId);
    await aggregate(together, tenantId);
    const expected = await snapshot(solo, tenantId);
    // Non-trivial: the tenant has revenue, tournaments and cohorts.
    expect(expected.revenue.some((r) => r.payment_count !== 0)).toBe(true);
    expect(expected.tournaments.some((r) => r.tournament_count !== 0)).toBe(true);
    expect(expected.cohorts.length).toBeGreaterThan(0);
    expect(await snapshot(together, tenantId)).toEqual(expected);
  });

  it('tenants with identical rows in the same zone get identical aggregates, and nothing leaks between them', async () => {
    for (const tenant of TENANTS) await aggregate(together, tenant.id);
    const a = await snapshot(together, 'iso-a');
    const b = await snapshot(together, 'iso-b');
    expect(b).toEqual(a);
    // Written for exactly these tenants.
    const { rows } = await together.pool.query<{ tenant_id: string }>(
      'SELECT DISTINCT tenant_id FROM (SELECT tenant_id FROM revenue_aggregates UNION ALL SELECT tenant_id FROM tournament_aggregates UNION ALL SELECT tenant_id FROM user_cohorts) x ORDER BY 1',
    );
    expect(rows.map((r) => r.tenant_id)).toEqual(['iso-a', 'iso-b', 'iso-c']);
  });
});
