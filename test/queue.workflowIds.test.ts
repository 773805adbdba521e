import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor, type AnalyticsQueue } from '../src/queue';
import { JOB_NAMES, jobIdProblem, queueNameProblem } from '../src/queue/schemas';
import type { AggregationWorkflowResult } from '../src/contract/aggregation';
import { createTestQueue, waitForState, type RunningWorker } from './fixtures/queue';
import { runRealWorker } from './fixtures/real-workers';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { org, payment, revenueRows } from './helpers/fixtures';
import { createTestRedis } from './helpers/redis';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// Workflow ids are per queue: the default queue (`analytics`) keeps `aggregation/<jobId>`, every
// other queue Q gets `aggregation/Q:<jobId>`, so two queues in one namespace never share a workflow
// (nor, through the workflow id, an outcome ledger).

describe('workflowIdFor', () => {
  it('keeps the documented ids on the default queue and puts any other queue name in front of the job id', () => {
    expect(workflowIdFor('aggregation', 'daily-revenue-20261129T000000Z', 'analytics')).toBe('aggregation/daily-revenue-20261129T000000Z');
    expect(workflowIdFor('export', 'e1', 'analytics')).toBe('export/e1');
    expect(workflowIdFor('scheduled-report', 'r1', 'analytics')).toBe('scheduled-report/r1');
    expect(workflowIdFor('aggregation', 'job-1', 'tenant-batch')).toBe('aggregation/tenant-batch:job-1');
    expect(workflowIdFor('export', 'e1', 'analytics-eu')).toBe('export/analytics-eu:e1');
    expect(workflowIdFor('scheduled-report', 'r1', 'q.2')).toBe('scheduled-report/q.2:r1');
  });

  it('never gives two (queue, job) pairs the same id, nor a job the id of another job\'s chunk child', () => {
    const valid = (problem: (v: string) => string | undefined) =>
      fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/).filter((s) => problem(s) === undefined);
    const queue = fc.oneof(fc.constant('analytics'), valid(queueNameProblem));
    const pair = fc.record({ name: fc.constantFrom(...JOB_NAMES), queue, jobId: valid(jobIdProblem) });
    fc.assert(
      fc.property(pair, pair, fc.integer({ min: 1, max: 99 }), (a, b, chunk) => {
        const idA = workflowIdFor(a.name, a.jobId, a.queue);
        const idB = workflowIdFor(b.name, b.jobId, b.queue);
        const same = a.name === b.name && a.queue === b.queue && a.jobId === b.jobId;
        expect(idA === idB).toBe(same);
        expect(`${idA}/chunk-${chunk}`).not.toBe(idB);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('two queues, one namespace, the same job id', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let t: TestDatabase;
  let dir: string;
  let worker: RunningWorker;
  let first: AnalyticsQueue;
  let second: AnalyticsQueue;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    t = await createTestDatabase('perqueue');
    dir = await mkdtemp(join(tmpdir(), 'analytics-perqueue-'));
    await org(t.pool, 'org_a', 'UTC');
    await org(t.pool, 'org_b', 'UTC');
    await payment(t.pool, 'org_a', { id: 'pa1', amountCents: 1000, status: 'succeeded', createdAt: '2025-11-01T10:00:00Z' });
    await payment(t.pool, 'org_b', { id: 'pb1', amountCents: 400, status: 'succeeded', createdAt: '2025-11-02T10:00:00Z' });
    await payment(t.pool, 'org_b', { id: 'pb2', amountCents: 600, status: 'failed', createdAt: '2025-11-02T11:00:00Z' });
    worker = await runRealWorker(temporal, { db: t.db, exportDir: dir, reportDir: dir });
    // Both facades start workflows on the same task queue in the same namespace.
    first = await createTestQueue(redis.queueName, temporal, { databaseUrl: t.url }).ready();
    second = await createTestQueue(`${redis.queueName}-second`, temporal, { databaseUrl: t.url }).ready();
    await first.createWorker();
    await second.createWorker();
  });

  afterAll(async () => {
    await first?.close();
    await second?.close();
    await worker?.stop();
    await t?.drop();
    await temporal?.close();
    await redis.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts two workflows, and each job completes with its own result', async () => {
    const jobId = 'same-id-on-two-queues';
    const a = await first.addJob('aggregation', { tenantId: 'org_a', type: 'revenue', periodType: 'day', periodStart: '2025-11-01', periodEnd: '2025-11-03' }, { jobId });
    const b = await second.addJob('aggregation', { tenantId: 'org_b', type: 'revenue', periodType: 'day', periodStart: '2025-11-01', periodEnd: '2025-11-04' }, { jobId });
    expect([a.id, b.id]).toEqual([jobId, jobId]);

    const doneA = await waitForState(first, jobId, 'completed', 90_000);
    const doneB = await waitForState(second, jobId, 'completed', 90_000);
    const resultA = doneA.returnvalue as AggregationWorkflowResult;
    const resultB = doneB.returnvalue as AggregationWorkflowResult;
    expect(resultA.workflowId).toBe(`aggregation/${redis.queueName}:${jobId}`);
    expect(resultB.workflowId).toBe(`aggregation/${redis.queueName}-second:${jobId}`);
    // Each ran its own tenant and range: 2 days for org_a, 3 for org_b; nothing "resumed" from the other.
    expect(resultA.totals).toEqual({ tenants: 1, tasks: 1, succeeded: 1, failed: 0, resumed: 0, rowsWritten: 2 });
    expect(resultB.totals).toEqual({ tenants: 1, tasks: 1, succeeded: 1, failed: 0, resumed: 0, rowsWritten: 3 });

    // Two workflows on the task queue, one per queue (visibility catches up within a moment).
    const listed = async () => {
      const ids: string[] = [];
      for await (const w of temporal.client.workflow.list({ query: `WorkflowType = 'aggregationWorkflow' AND TaskQueue = '${temporal.taskQueue}'` })) ids.push(w.workflowId);
      return ids.sort();
    };
    await expect.poll(listed, { timeout: 15_000, interval: 250 }).toEqual([resultA.workflowId, resultB.workflowId].sort());

    const ledger = await t.pool.query(`SELECT job_key, tenant_id, status, rows_written FROM aggregation_outcomes ORDER BY job_key`);
    expect(ledger.rows).toEqual([
      { job_key: resultB.workflowId, tenant_id: 'org_b', status: 'succeeded', rows_written: 3 },
      { job_key: resultA.workflowId, tenant_id: 'org_a', status: 'succeeded', rows_written: 2 },
    ].sort((x, y) => (x.job_key < y.job_key ? -1 : 1)));

    // The rows, by hand: org_a's 1000 on Nov 1; org_b's 400 succeeded and 600 failed on Nov 2.
    expect((await revenueRows(t.pool, 'org_a')).map((r) => [r.period_start, r.gross_revenue_cents, r.payment_count])).toEqual([
      ['2025-11-01T00:00:00.000Z', '1000', 1],
      ['2025-11-02T00:00:00.000Z', '0', 0],
    ]);
    expect((await revenueRows(t.pool, 'org_b')).map((r) => [r.period_start, r.gross_revenue_cents, r.payment_count, r.payment_success_rate])).toEqual([
      ['2025-11-01T00:00:00.000Z', '0', 0, '0.00'],
      ['2025-11-02T00:00:00.000Z', '400', 2, '50.00'],
      ['2025-11-03T00:00:00.000Z', '0', 0, '0.00'],
    ]);
  });
});
