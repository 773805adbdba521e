import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantAggregator } from '../src/aggregation/tenant-aggregator';
import { createIncrementalRefresher } from '../src/incremental/refresh';
import { poolOf } from '../src/db/client';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { org, payment } from './helpers/fixtures';
import { expectTenantMatchesOracle, pendingChanges } from './helpers/incremental';
import { fixedClock, silentLogger } from './helpers/service';

// Changes that commit while an incremental run is in progress are folded in by the next run:
// the run consumes only the change rows its own snapshot sees, so none is lost or counted twice.

const ASOF = '2025-04-01T00:00:00.000Z';
const COHORTS = { from: '2025-03-01', to: '2025-04-01' };

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('incconc');
});
afterAll(async () => {
  await t?.drop();
});

async function setUp(tenant: string) {
  const clock = fixedClock(ASOF);
  await org(t.pool, tenant, 'Europe/Berlin');
  await payment(t.pool, tenant, { id: `${tenant}-p0`, amountCents: 100, status: 'succeeded', createdAt: '2025-03-10T12:00:00+01:00' });
  const full = createTenantAggregator({ pool: poolOf(t.db), clock, logger: silentLogger });
  await full.aggregateTenant({ tenantId: tenant, job: { type: 'all', periodType: 'day', periodStart: '2025-03-01', periodEnd: '2025-04-01', asOf: ASOF }, asOf: ASOF });
  return createIncrementalRefresher({ pool: poolOf(t.db), clock, logger: silentLogger });
}

const dayRow = async (tenant: string, start: string) =>
  (await t.pool.query<{ payment_count: number }>(`SELECT payment_count FROM revenue_aggregates WHERE tenant_id = $1 AND period_type = 'day' AND period_start = $2`, [tenant, start])).rows[0];

describe('incremental refresh under concurrent writes', () => {
  it('a transaction held open across a run is folded in by the next run', async () => {
    const tenant = 'held';
    const incremental = await setUp(tenant);
    await incremental.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF }); // folds in the set-up rows
    const writer = await t.pool.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO payments (id, tenant_id, amount_cents, status, created_at) VALUES ('held-p1', $1, 250, 'succeeded', '2025-03-12T00:00:00+01:00')`, [tenant]);
      // The run neither waits for the open transaction nor sees its change.
      const during = await incremental.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF });
      expect(during.changes).toBe(0);
      await writer.query('COMMIT');
    } finally {
      writer.release();
    }
    expect(await pendingChanges(t.pool, tenant)).toBe(1);
    expect((await dayRow(tenant, '2025-03-11T23:00:00.000Z'))?.payment_count).toBe(0); // not folded in yet
    const next = await incremental.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF });
    expect(next.changes).toBe(1);
    expect(await pendingChanges(t.pool, tenant)).toBe(0);
    expect((await dayRow(tenant, '2025-03-11T23:00:00.000Z'))?.payment_count).toBe(1);
    await expectTenantMatchesOracle(t.pool, tenant, ASOF, COHORTS);
  });

  it('a change committed after the run consumed its changes but before it commits waits for the next run', async () => {
    const tenant = 'midrun';
    const incremental = await setUp(tenant);
    await payment(t.pool, tenant, { id: `${tenant}-p1`, amountCents: 300, status: 'succeeded', createdAt: '2025-03-20T08:00:00+01:00' });
    // Hold the aggregate row the run will upsert, so the run stops after consuming its changes.
    const blocker = await t.pool.connect();
    let running: Promise<unknown> | undefined;
    try {
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM revenue_aggregates WHERE tenant_id = $1 AND period_type = 'day' AND period_start = '2025-03-19T23:00:00Z' FOR UPDATE`, [tenant]);
      const blockerPid = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      running = incremental.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF });
      await expect
        .poll(async () => (await t.pool.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [blockerPid])).rowCount, { timeout: 10_000, interval: 20 })
        .toBeGreaterThan(0);
      // Commits while the run is blocked mid-way: its change row was not visible to the run's consume.
      await payment(t.pool, tenant, { id: `${tenant}-p2`, amountCents: 700, status: 'succeeded', createdAt: '2025-03-25T08:00:00+01:00' });
      await blocker.query('COMMIT');
      await running;
    } finally {
      if (running === undefined) await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect(await pendingChanges(t.pool, tenant)).toBe(1);
    await incremental.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF });
    expect(await pendingChanges(t.pool, tenant)).toBe(0);
    await expectTenantMatchesOracle(t.pool, tenant, ASOF, COHORTS);
  });

  it('two runs of one tenant at once: each change is folded in once, by one of them', async () => {
    const tenant = 'twice';
    const incremental = await setUp(tenant);
    for (let i = 1; i <= 5; i++) {
      await payment(t.pool, tenant, { id: `${tenant}-p${i}`, amountCents: 100 * i, status: 'succeeded', createdAt: `2025-03-0${i}T08:00:00+01:00` });
    }
    const results = await Promise.all([1, 2, 3].map(() => incremental.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF })));
    expect(results.reduce((n, r) => n + r.changes, 0)).toBe(6); // the set-up payment's change and five more
    expect(await pendingChanges(t.pool, tenant)).toBe(0);
    await expectTenantMatchesOracle(t.pool, tenant, ASOF, COHORTS);
  });
});
