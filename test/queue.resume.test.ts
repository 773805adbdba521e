import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { generateTenant } from '../src/seed/generate';
import type { AggregationProgress, AggregationWorkflowResult } from '../src/workflows/types';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { startTestWorkers, type TestWorkers } from './helpers/workers';

// Cancel a backfill job half-way, then `retryJob` it: the new run of the same workflow id skips
// the chunks the cancelled run finished. To stop it half-way on purpose, the test holds a lock on
// tournament_aggregates: revenue and cohorts finish, the tournament calls wait.

let t: TestDatabase;
let workers: TestWorkers;

beforeAll(async () => {
  t = await createTestDatabase('resume');
  await withBatchWriter(t.pool, async (writer) => {
    await generateTenant({ tenants: 1, usersPerTenant: 30, days: 120, seed: 4, untilMs: Date.parse('2025-04-15T00:00:00Z') }, 0, writer);
  });
  workers = await startTestWorkers(t.url, { address: inject('temporalAddress') });
});

afterAll(async () => {
  await workers?.proc.shutdown();
  await t?.drop();
});

describe('resuming a cancelled backfill through the queue', () => {
  it('retryJob runs it again under the same id and skips the chunks already done', async () => {
    const queue = workers.proc.queue;
    const lock: pg.PoolClient = await t.pool.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE tournament_aggregates IN EXCLUSIVE MODE');
    let locked = true;
    try {
      // 90 days: 3 revenue calls and 3 tournament calls of 30 days, and the cohort months.
      const job = await queue.addJob('aggregation', { tenantId: 'tenant-001', type: 'all', periodType: 'day', periodStart: '2025-01-01', periodEnd: '2025-04-01' });
      const jobId = job.id!;
      const client = await queue.temporalClient();
      const child = client.workflow.getHandle(`aggregation/${jobId}/chunk-1`);
      const progress = async () => child.query<AggregationProgress>('progress').catch(() => undefined);
      // Everything but the three tournament calls is done; those wait on the lock.
      await expect.poll(async () => { const p = await progress(); return p && p.total - p.done; }, { timeout: 60_000, interval: 200 }).toBe(3);
      const doneBeforeCancel = (await progress())!.done;
      expect(doneBeforeCancel).toBeGreaterThanOrEqual(4);

      const cancelled = await queue.cancelJob(jobId);
      expect(cancelled.workflowCancelled).toBe(true);
      await expect.poll(async () => (await queue.getJob(jobId))?.getState(), { timeout: 60_000 }).toBe('failed');
      expect((await queue.getJob(jobId))!.failedReason).toMatch(/cancelled/);

      await lock.query('COMMIT');
      locked = false;
      const retried = await queue.retryJob(jobId);
      expect(retried).toEqual({ jobId, state: 'failed', retried: true });
      await expect.poll(async () => (await queue.getJob(jobId))?.getState(), { timeout: 60_000 }).toBe('completed');
      const result = (await queue.getJob(jobId))!.returnvalue as AggregationWorkflowResult;
      expect(result.workflowId).toBe(`aggregation/${jobId}`);
      expect(result.chunks.resumed).toBe(doneBeforeCancel);
      expect(result.chunks.done + result.chunks.resumed).toBe(result.chunks.total);
      expect(result.chunks.done).toBe(3); // only the tournament calls ran again
      expect(result.totals).toMatchObject({ tasks: 3, succeeded: 3, failed: 0 });
      const counts = await t.pool.query(
        `SELECT (SELECT count(*)::int FROM revenue_aggregates) AS revenue, (SELECT count(*)::int FROM tournament_aggregates) AS tournaments`,
      );
      expect(counts.rows[0]).toEqual({ revenue: 90, tournaments: 90 });
    } finally {
      if (locked) await lock.query('COMMIT');
      lock.release();
    }
  });
});
