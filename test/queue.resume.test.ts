import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateTenant } from '../src/seed/generate';
import type { AggregationWorkflowResult } from '../src/contract/aggregation';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { startTestWorkers, type TestWorkers } from './helpers/workers';

// A job whose tenant failed for good ends failed; retrying it (retryJob, as `analytics job
// retry` and the dead-letter retry do) starts a new run of the same workflow id that runs only the
// failed tenant: the others' outcome rows say they are done and are left untouched.

let t: TestDatabase;
let workers: TestWorkers;

beforeAll(async () => {
  t = await createTestDatabase('resume');
  await withBatchWriter(t.pool, async (writer) => {
    for (let i = 0; i < 3; i++) await generateTenant({ tenants: 3, usersPerTenant: 20, days: 120, seed: 4, untilMs: Date.parse('2025-04-15T00:00:00Z') }, i, writer);
  });
  workers = await startTestWorkers(t.url, { address: inject('temporalAddress') });
});

afterAll(async () => {
  await workers?.proc.shutdown();
  await t?.drop();
});

describe('retrying a job with a failed tenant', () => {
  it('fails the job, then runs only the failed tenant under the same workflow id', async () => {
    const queue = workers.proc.queue;
    const { rows: zones } = await t.pool.query<{ id: string; timezone: string }>(`SELECT id, timezone FROM organizations ORDER BY id`);
    expect(zones.map((z) => z.id)).toEqual(['tenant-001', 'tenant-002', 'tenant-003']);
    await t.pool.query(`UPDATE organizations SET timezone = 'Mars/Olympus_Mons' WHERE id = 'tenant-003'`);

    const job = await queue.addJob('aggregation', { type: 'all', periodType: 'day', periodStart: '2025-01-01', periodEnd: '2025-04-01' });
    const jobId = job.id!;
    await expect.poll(async () => (await queue.getJob(jobId))?.getState(), { timeout: 60_000, interval: 200 }).toBe('failed');
    const failed = (await queue.getJob(jobId))!;
    expect(failed.failedReason).toMatch(/1 of 3 tenants failed: tenant-003 \(InvalidInputError: organizations\.timezone/);
    // Bad data is not retried by BullMQ's attempts either: one attempt.
    expect(failed.attemptsMade).toBe(1);
    const before = await t.pool.query(`SELECT tenant_id, type, status, recorded_at FROM aggregation_outcomes WHERE job_key = $1 ORDER BY tenant_id, type`, [`aggregation/${queue.name}:${jobId}`]);
    expect(before.rows.map((r) => `${r.tenant_id} ${r.type} ${r.status}`)).toEqual([
      'tenant-001 cohorts succeeded', 'tenant-001 revenue succeeded', 'tenant-001 tournaments succeeded',
      'tenant-002 cohorts succeeded', 'tenant-002 revenue succeeded', 'tenant-002 tournaments succeeded',
      'tenant-003 cohorts failed', 'tenant-003 revenue failed', 'tenant-003 tournaments failed',
    ]);

    await t.pool.query(`UPDATE organizations SET timezone = $1 WHERE id = 'tenant-003'`, [zones[2]!.timezone]);
    expect(await queue.retryJob(jobId)).toEqual({ jobId, state: 'failed', retried: true });
    await expect.poll(async () => (await queue.getJob(jobId))?.getState(), { timeout: 60_000, interval: 200 }).toBe('completed');
    const result = (await queue.getJob(jobId))!.returnvalue as AggregationWorkflowResult;
    expect(result.workflowId).toBe(`aggregation/${queue.name}:${jobId}`);
    expect(result.totals).toMatchObject({ tenants: 3, tasks: 9, succeeded: 3, resumed: 6, failed: 0 });

    const after = await t.pool.query(`SELECT tenant_id, type, status, recorded_at FROM aggregation_outcomes WHERE job_key = $1 ORDER BY tenant_id, type`, [`aggregation/${queue.name}:${jobId}`]);
    expect(after.rows.every((r) => r.status === 'succeeded')).toBe(true);
    // The tenants done by the first run were not run again: their rows are as they were.
    expect(after.rows.slice(0, 6)).toEqual(before.rows.slice(0, 6));
    const counts = await t.pool.query(`SELECT tenant_id, count(*)::int AS n FROM revenue_aggregates WHERE period_type = 'day' GROUP BY 1 ORDER BY 1`);
    expect(counts.rows).toEqual([{ tenant_id: 'tenant-001', n: 90 }, { tenant_id: 'tenant-002', n: 90 }, { tenant_id: 'tenant-003', n: 90 }]);
  });
});
