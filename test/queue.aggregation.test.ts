import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addJob, getQueueMetrics, type AnalyticsQueue } from '../src/queue';
import type { AggregationWorkflowResult } from '../src/contract/aggregation';
import { waitForState } from './fixtures/queue';
import { startQueuePipeline, type QueuePipeline } from './fixtures/real-workers';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { activity, cohortRows, org, payment, refund, revenueRows, subscription, tournamentRows, user } from './helpers/fixtures';
import { loadRaw, oracleCohorts, oracleRevenue, oracleTournaments } from './helpers/oracle';
import { createTestRedis } from './helpers/redis';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// Acceptance: the original README's calls, verbatim, through the module-level facade, the bridge,
// the real aggregationWorkflow and activities, into Postgres. Expected rows are worked out by hand
// from the raw rows below (docs/data-contract.md, "Metric definitions").

describe('addJob -> workflow -> aggregate rows -> job completed with the result', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let t: TestDatabase;
  let dir: string;
  let pipeline: QueuePipeline;
  let queue: AnalyticsQueue;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    t = await createTestDatabase('acceptance');
    dir = await mkdtemp(join(tmpdir(), 'analytics-acceptance-'));
    const q = t.pool;
    await org(q, 'org_123', 'UTC');
    await org(q, 'org_456', 'America/New_York');
    await org(q, 'org_off', 'UTC', 'suspended');
    // org_123, November 2025 (UTC days).
    await payment(q, 'org_123', { id: 'p1', amountCents: 1000, status: 'succeeded', createdAt: '2025-11-01T10:00:00Z' });
    await payment(q, 'org_123', { id: 'p2', amountCents: 500, status: 'failed', createdAt: '2025-11-01T12:00:00Z' });
    await payment(q, 'org_123', { id: 'p3', amountCents: 2500, status: 'succeeded', createdAt: '2025-11-03T09:00:00Z' });
    await payment(q, 'org_123', { id: 'p4', amountCents: 700, status: 'pending', createdAt: '2025-11-05T23:59:00Z' });
    await payment(q, 'org_123', { id: 'p5', amountCents: 9999, status: 'succeeded', createdAt: '2025-11-06T00:00:00Z' });
    await refund(q, 'org_123', { id: 'r1', paymentId: 'p1', amountCents: 300, createdAt: '2025-11-03T10:00:00Z' });
    await subscription(q, 'org_123', { id: 's1', amountCents: 2000, interval: 'month', startedAt: '2025-10-01T00:00:00Z' });
    await subscription(q, 'org_123', { id: 's2', amountCents: 12000, interval: 'year', startedAt: '2025-11-02T00:00:00Z', canceledAt: '2025-11-04T12:00:00Z' });
    // The October 2025 cohort of org_123: u1 and u2 (u3 signed up in November).
    await user(q, 'org_123', 'u1', '2025-10-05T08:00:00Z');
    await user(q, 'org_123', 'u2', '2025-10-20T08:00:00Z');
    await user(q, 'org_123', 'u3', '2025-11-02T08:00:00Z');
    await activity(q, 'org_123', 'u1', '2025-11-10T08:00:00Z');
    await activity(q, 'org_123', 'u2', '2025-12-01T08:00:00Z');
    await activity(q, 'org_123', 'u1', '2026-01-15T08:00:00Z');
    await activity(q, 'org_123', 'u3', '2025-11-03T08:00:00Z');

    pipeline = await startQueuePipeline(temporal, { db: t.db, databaseUrl: t.url, queueName: redis.queueName, dir });
    queue = pipeline.queue;
  });

  afterAll(async () => {
    await pipeline.stop();
    await t.drop();
    await temporal.close();
    await redis.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the README's revenue backfill for org_123 and writes one row per day", async () => {
    const job = await addJob('aggregation', { tenantId: 'org_123', type: 'revenue', periodStart: '2025-11-01', periodEnd: '2025-11-06', periodType: 'day' });

    const done = await waitForState(queue, job.id!, 'completed', 90_000);
    const result = done.returnvalue as AggregationWorkflowResult;
    expect(result.workflowId).toBe(`aggregation/${redis.queueName}:${job.id}`);
    expect(result.jobId).toBe(job.id);
    expect(result.totals).toEqual({ tenants: 1, tasks: 1, succeeded: 1, failed: 0, resumed: 0, rowsWritten: 5 });
    const outcomes = await t.pool.query(`SELECT tenant_id, type, status, rows_written, periods FROM aggregation_outcomes WHERE job_key = $1`, [result.workflowId]);
    expect(outcomes.rows).toEqual([{ tenant_id: 'org_123', type: 'revenue', status: 'succeeded', rows_written: 5, periods: 5 }]);
    const progress = done.progress as { total: number; done: number; failed: number };
    expect(progress.failed).toBe(0);
    expect(progress.done).toBe(progress.total);

    const day = (d: number) => `2025-11-0${d}T00:00:00.000Z`;
    const row = (d: number, r: [string, string, number, number, string, number, string, string]) => ({
      period_type: 'day',
      period_start: day(d),
      period_end: day(d + 1),
      total_revenue_cents: r[0],
      gross_revenue_cents: r[1],
      payment_count: r[2],
      payment_success_count: r[3],
      payment_success_rate: r[4],
      refund_count: r[5],
      refund_amount_cents: r[6],
      mrr_cents: r[7],
      arr_cents: String(12 * Number(r[7])),
    });
    expect(await revenueRows(t.pool, 'org_123')).toEqual([
      // p1 succeeded + p2 failed; s2 starts exactly at the end of the day, so only s1 counts.
      row(1, ['1000', '1000', 2, 1, '50.00', 0, '0', '2000']),
      // s2 (yearly 12000 -> 1000 a month) joins s1.
      row(2, ['0', '0', 0, 0, '0.00', 0, '0', '3000']),
      // p3, and r1 refunds 300 of p1 (refunds count on the day they are made).
      row(3, ['2200', '2500', 1, 1, '100.00', 1, '300', '3000']),
      // s2 was cancelled at noon on the 4th: gone by the end of the day.
      row(4, ['0', '0', 0, 0, '0.00', 0, '0', '2000']),
      // p4 is pending: not counted; p5 belongs to the 6th, outside the range.
      row(5, ['0', '0', 0, 0, '0.00', 0, '0', '2000']),
    ]);
  });

  it("runs the README's all-types job for every active tenant: each tenant's last complete day, cohorts of this and last month", async () => {
    // The README's call, with the request time pinned (BullMQ's own `timestamp` option): the
    // defaults are computed from it, so the expected rows do not depend on today's date.
    const requestedAt = Date.parse('2025-11-07T12:00:00Z');
    const job = await addJob('aggregation', { type: 'all' }, { timestamp: requestedAt });
    expect(job.timestamp).toBe(requestedAt);

    const done = await waitForState(queue, job.id!, 'completed', 90_000);
    const result = done.returnvalue as AggregationWorkflowResult;
    // Two active tenants (org_off is suspended) x three types.
    expect(result.totals).toMatchObject({ tenants: 2, tasks: 6, succeeded: 6, failed: 0 });
    const outcomes = await t.pool.query<{ o: string }>(`SELECT tenant_id || '/' || type || '/' || status AS o FROM aggregation_outcomes WHERE job_key = $1`, [result.workflowId]);
    expect(outcomes.rows.map((r) => r.o).sort()).toEqual([
      'org_123/cohorts/succeeded', 'org_123/revenue/succeeded', 'org_123/tournaments/succeeded',
      'org_456/cohorts/succeeded', 'org_456/revenue/succeeded', 'org_456/tournaments/succeeded',
    ]);
    // Nov 7 12:00Z is 07:00 on Nov 7 in New York too: "yesterday" is Nov 6 in both zones; New
    // York's is 05:00Z..05:00Z (EST since Nov 2).
    const nov6 = (rows: Record<string, unknown>[]) => rows.filter((r) => r.period_start === '2025-11-06T00:00:00.000Z' || r.period_start === '2025-11-06T05:00:00.000Z');
    // By hand: p5 (9999, succeeded) at Nov 6 00:00Z; s2 was cancelled on Nov 4, so MRR is s1's 2000.
    expect(nov6(await revenueRows(t.pool, 'org_123'))).toEqual([
      {
        period_type: 'day', period_start: '2025-11-06T00:00:00.000Z', period_end: '2025-11-07T00:00:00.000Z',
        total_revenue_cents: '9999', gross_revenue_cents: '9999', payment_count: 1, payment_success_count: 1, payment_success_rate: '100.00',
        refund_count: 0, refund_amount_cents: '0', mrr_cents: '2000', arr_cents: '24000',
      },
    ]);
    expect((await revenueRows(t.pool, 'org_456')).map((r) => [r.period_start, r.period_end])).toEqual([['2025-11-06T05:00:00.000Z', '2025-11-07T05:00:00.000Z']]);
    expect(await revenueRows(t.pool, 'org_off')).toEqual([]);
    // And against the independent oracle, every table of both tenants: the day Nov 6, the cohort
    // months October and November as of the request time.
    for (const tenantId of ['org_123', 'org_456']) {
      const raw = await loadRaw(t.pool, tenantId);
      expect(nov6(await revenueRows(t.pool, tenantId)), `${tenantId} revenue`).toEqual(oracleRevenue(raw, 'day', '2025-11-06', '2025-11-07'));
      expect(await tournamentRows(t.pool, tenantId), `${tenantId} tournaments`).toEqual(oracleTournaments(raw, 'day', '2025-11-06', '2025-11-07'));
      expect(await cohortRows(t.pool, tenantId), `${tenantId} cohorts`).toEqual(oracleCohorts(raw, '2025-10-01', '2025-12-01', requestedAt));
    }
    // By hand: October's cohort is u1 and u2, u1 active in November; November's is u3 alone.
    expect((await cohortRows(t.pool, 'org_123')).map((r) => [r.cohort_month, r.month_number, r.retained_users])).toEqual([
      ['2025-10-01', 0, 2],
      ['2025-10-01', 1, 1],
      ['2025-11-01', 0, 1],
    ]);
  });

  it("runs the README's cohorts job for October 2025: every month number up to the month the job was added in", async () => {
    // Added (pinned request time) on 2026-02-10: month numbers 0 (October) to 4 (February).
    const job = await addJob('aggregation', { type: 'cohorts', periodStart: '2025-10-01' }, { timestamp: Date.parse('2026-02-10T09:00:00Z') });

    const done = await waitForState(queue, job.id!, 'completed', 90_000);
    const result = done.returnvalue as AggregationWorkflowResult;
    expect(result.totals).toMatchObject({ tenants: 2, tasks: 2, succeeded: 2, failed: 0 });

    const expected = [
      { month_number: 0, retained_users: 2, retention_rate: '100.00' },
      { month_number: 1, retained_users: 1, retention_rate: '50.00' }, // u1 in November (u3 is not in the cohort)
      { month_number: 2, retained_users: 1, retention_rate: '50.00' }, // u2 in December
      { month_number: 3, retained_users: 1, retention_rate: '50.00' }, // u1 in January
      { month_number: 4, retained_users: 0, retention_rate: '0.00' }, // nobody in February
    ];
    expect((await cohortRows(t.pool, 'org_123')).filter((r) => r.cohort_month === '2025-10-01')).toEqual(
      expected.map((e) => ({ cohort_month: '2025-10-01', cohort_size: 2, ...e })),
    );
    // org_456 has no users: an empty cohort has no rows.
    expect((await cohortRows(t.pool, 'org_456')).filter((r) => r.cohort_month === '2025-10-01')).toEqual([]);
    expect(await getQueueMetrics()).toMatchObject({ waiting: 0, active: 0, failed: 0, completed: 3 });
  });
});
