import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isBulkJob } from '../src/queue/job-class';
import { workflowIdFor } from '../src/queue/job-types';
import { generateTenant } from '../src/seed/generate';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { startTestWorkers, type TestWorkers } from './helpers/workers';

// Backfills do not starve the schedules: with every backfill slot of the bridge held by a
// running backfill, a further backfill waits, and a one-day job (what the schedules enqueue)
// starts at once in a slot reserved for it and completes while the backfill is still running.
// The running backfill is held on purpose: an uncommitted outcome row of its own job key makes
// its tenant's statement wait on the row lock.

let t: TestDatabase;
let workers: TestWorkers;

beforeAll(async () => {
  t = await createTestDatabase('lane');
  await withBatchWriter(t.pool, async (writer) => {
    for (let i = 0; i < 2; i++) await generateTenant({ tenants: 2, usersPerTenant: 10, days: 60, seed: 5, untilMs: Date.parse('2025-03-01T00:00:00Z') }, i, writer);
  });
  // One backfill slot, one reserved slot.
  workers = await startTestWorkers(t.url, { address: inject('temporalAddress') }, { bridge: { concurrency: 1, reservedSlots: 1, bulkRecheckMs: 200 } });
});

afterAll(async () => {
  await workers?.proc.shutdown();
  await t?.drop();
});

describe('the backfill lane', () => {
  it('tells backfills from the jobs the schedules enqueue, by the periods they span', () => {
    expect(isBulkJob('aggregation', { type: 'all', periodType: 'day', periodStart: '2025-01-01', periodEnd: '2025-01-31' })).toBe(true);
    expect(isBulkJob('aggregation', { type: 'all', periodType: 'day', periodStart: '2025-01-01', periodEnd: '2025-01-08' })).toBe(false); // 7 days
    expect(isBulkJob('aggregation', { type: 'all', periodType: 'day', periodStart: '2025-01-01', periodEnd: '2025-01-09' })).toBe(true); // 8 days
    expect(isBulkJob('aggregation', { type: 'cohorts', periodStart: '2025-01-01', periodEnd: '2025-06-01' })).toBe(false); // 5 cohort months
    expect(isBulkJob('aggregation', { type: 'all', periodType: 'day', asOf: '2025-02-01T00:00:00Z', includeCurrent: true })).toBe(false); // the hourly job
    expect(isBulkJob('aggregation', { type: 'revenue', periodType: 'day', periods: 30 })).toBe(true);
  });

  it('a one-day job completes while the only backfill slot is held; the next backfill waits for it', async () => {
    const queue = workers.proc.queue;
    const client = await queue.temporalClient();
    const first = 'lane-backfill-1';
    const lock: pg.PoolClient = await t.pool.connect();
    let locked = true;
    try {
      await lock.query('BEGIN');
      await lock.query(
        `INSERT INTO aggregation_outcomes (job_key, tenant_id, type, status, recorded_at) VALUES ($1, 'tenant-001', 'revenue', 'failed', now())`,
        [workflowIdFor('aggregation', first, queue.name)],
      );
      const backfill = { tenantId: 'tenant-001', type: 'all' as const, periodType: 'day' as const, periodStart: '2025-01-01', periodEnd: '2025-02-01' };
      await queue.addJob('aggregation', backfill, { jobId: first });
      // The first backfill holds the backfill slot; its tenant waits on the lock.
      await expect.poll(async () => (await queue.getJob(first))?.getState(), { timeout: 30_000, interval: 100 }).toBe('active');
      await queue.addJob('aggregation', { ...backfill, tenantId: 'tenant-002' }, { jobId: 'lane-backfill-2' });

      const started = Date.now();
      const small = await queue.addJob('aggregation', { tenantId: 'tenant-002', type: 'all', periodType: 'day', periodStart: '2025-02-10' }, { jobId: 'lane-one-day' });
      await expect.poll(async () => (await queue.getJob(small.id!))?.getState(), { timeout: 30_000, interval: 100 }).toBe('completed');
      const tookMs = Date.now() - started;
      // ...while the first backfill still runs and the second has not started a workflow.
      expect(await (await queue.getJob(first))!.getState()).toBe('active');
      expect(['waiting', 'delayed', 'prioritized']).toContain(await (await queue.getJob('lane-backfill-2'))!.getState());
      await expect(client.workflow.getHandle(workflowIdFor('aggregation', 'lane-backfill-2', queue.name)).describe()).rejects.toThrow();
      expect(tookMs).toBeLessThan(30_000);

      await lock.query('ROLLBACK');
      locked = false;
      for (const id of [first, 'lane-backfill-2']) {
        await expect.poll(async () => (await queue.getJob(id))?.getState(), { timeout: 60_000, interval: 200 }).toBe('completed');
      }
      // Each backfill wrote its 31 days; none was attempted twice.
      const rows = await t.pool.query(`SELECT tenant_id, count(*)::int AS n FROM revenue_aggregates WHERE period_type = 'day' GROUP BY 1 ORDER BY 1`);
      expect(rows.rows).toEqual([{ tenant_id: 'tenant-001', n: 31 }, { tenant_id: 'tenant-002', n: 31 + 1 }]);
      expect((await queue.getJob('lane-backfill-2'))!.attemptsMade).toBe(1);
    } finally {
      if (locked) await lock.query('ROLLBACK');
      lock.release();
    }
  });
});
