import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsQueue } from '../src/queue';
import type { ScheduledReportWorkflowResult } from '../src/workflows/report';
import { createTestQueue, waitForState, type RunningWorker } from './fixtures/queue';
import { runRealWorker } from './fixtures/real-workers';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { activity, payment, player, refund, subscription, tournament, user } from './helpers/fixtures';
import { createTestRedis } from './helpers/redis';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// `scheduled-report` jobs through the facade, the bridge, the real scheduledReportWorkflow and its
// activities, over raw rows inserted here and no aggregates: each report first computes the
// aggregates it shows. The expected reports are written out by hand from those raw rows.
//
// As of 2025-11-06T12:00Z, org_rep's (New York) last complete day is Nov 5 (EST, 05:00Z..05:00Z);
// its 8 days start Oct 29, before the end of daylight saving time on Nov 2.

const AS_OF = '2025-11-06T12:00:00.000Z';

describe('scheduled-report jobs', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let t: TestDatabase;
  let reportDir: string;
  let worker: RunningWorker;
  let queue: AnalyticsQueue;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    t = await createTestDatabase('report');
    reportDir = await mkdtemp(join(tmpdir(), 'analytics-report-'));
    const q = t.pool;
    await q.query(
      `INSERT INTO organizations (id, name, timezone, currency, status) VALUES
         ('org_rep', 'Acme & <Co>', 'America/New_York', 'USD', 'active'),
         ('org_empty', 'Empty Org', 'UTC', 'EUR', 'active'),
         ('org_gone', 'Gone', 'UTC', 'USD', 'suspended')`,
    );
    const R = 'org_rep';
    // Cohorts: u1 in October (active again in November), u2 and u3 in November.
    await user(q, R, 'u1', '2025-10-10T15:00:00Z');
    await user(q, R, 'u2', '2025-11-03T15:00:00Z');
    await user(q, R, 'u3', '2025-11-04T15:00:00Z');
    await activity(q, R, 'u1', '2025-11-02T15:00:00Z');
    // MRR: 19.99 a month from October 1; a yearly 99.99 (8.3325 a month) from Nov 5 noon.
    await subscription(q, R, { id: 's1', userId: 'u1', amountCents: 1999, interval: 'month', startedAt: '2025-10-01T00:00:00Z' });
    await subscription(q, R, { id: 's2', userId: 'u2', amountCents: 9999, interval: 'year', startedAt: '2025-11-05T17:00:00Z' });
    // Nov 4 (New York): 20.00 succeeded. Nov 5: 100.00 + 34.56 (a tournament fee) + 1.00 at 23:30
    // local (04:30Z on Nov 6) succeeded, 50.00 failed, 9.99 pending; a 10.00 refund of Nov 4's payment.
    await payment(q, R, { id: 'p5', amountCents: 2000, status: 'succeeded', createdAt: '2025-11-04T20:00:00Z' });
    await payment(q, R, { id: 'p1', amountCents: 10000, status: 'succeeded', createdAt: '2025-11-05T14:00:00Z' });
    await payment(q, R, { id: 'p2', amountCents: 5000, status: 'failed', createdAt: '2025-11-05T15:00:00Z' });
    await payment(q, R, { id: 'p3', amountCents: 3456, status: 'succeeded', createdAt: '2025-11-05T16:00:00Z', tournamentId: 't1' });
    await payment(q, R, { id: 'p4', amountCents: 999, status: 'pending', createdAt: '2025-11-05T17:00:00Z' });
    await payment(q, R, { id: 'p6', amountCents: 100, status: 'succeeded', createdAt: '2025-11-06T04:30:00Z' });
    await refund(q, R, { id: 'r1', paymentId: 'p5', amountCents: 1000, createdAt: '2025-11-05T18:00:00Z' });
    // Nov 5: two swiss (one completed in 90 minutes), one cancelled with a format that needs escaping.
    await tournament(q, R, { id: 't1', format: 'swiss', status: 'completed', createdAt: '2025-11-05T13:00:00Z', startedAt: '2025-11-05T14:00:00Z', completedAt: '2025-11-05T15:30:00Z' });
    await tournament(q, R, { id: 't2', format: 'swiss', status: 'in_progress', createdAt: '2025-11-05T13:30:00Z', startedAt: '2025-11-05T14:00:00Z' });
    await tournament(q, R, { id: 't3', format: 'knockout <b>', status: 'cancelled', createdAt: '2025-11-05T14:00:00Z' });
    await player(q, R, 't1', 'u1', '2025-11-05T13:10:00Z');
    await player(q, R, 't1', 'u2', '2025-11-05T13:10:00Z');
    await player(q, R, 't2', 'u3', '2025-11-05T13:40:00Z');
    worker = await runRealWorker(temporal, { db: t.db, exportDir: reportDir, reportDir });
    queue = createTestQueue(redis.queueName, temporal, { databaseUrl: t.url });
    await queue.ready();
    await queue.createWorker();
  });

  afterAll(async () => {
    await queue.close();
    await worker.stop();
    await t.drop();
    await temporal.close();
    await redis.cleanup();
    await rm(reportDir, { recursive: true, force: true });
  });

  const files = (tenant: string, jobId: string) => ({ textPath: join(reportDir, tenant, `${jobId}.txt`), htmlPath: join(reportDir, tenant, `${jobId}.html`) });
  const computedAt = async (tenant: string) =>
    (await t.pool.query<{ at: Date | null; n: string }>(`SELECT max(computed_at) AS at, count(*) AS n FROM revenue_aggregates WHERE tenant_id = $1`, [tenant])).rows[0]!;

  it("computes each active tenant's missing aggregates, then writes a text and an HTML summary of them", async () => {
    const job = await queue.addJob('scheduled-report', { periodType: 'day', asOf: AS_OF });
    const done = await waitForState(queue, job.id!, 'completed', 30_000);
    expect(done.returnvalue as ScheduledReportWorkflowResult).toEqual({
      workflowId: `scheduled-report/${redis.queueName}:${job.id}`,
      jobId: job.id,
      totals: { tenants: 2, succeeded: 2, failed: 0 },
      outcomes: [
        { tenantId: 'org_empty', status: 'succeeded', ...files('org_empty', job.id!) },
        { tenantId: 'org_rep', status: 'succeeded', ...files('org_rep', job.id!) },
      ],
    });

    expect(await readFile(files('org_rep', job.id!).textPath, 'utf8')).toBe(
      [
        'Analytics report: Acme & <Co> (org_rep)',
        `Latest complete day as of ${AS_OF}, timezone America/New_York, currency USD`,
        '',
        'Revenue, day 2025-11-05',
        '  Net revenue            $125.56',
        '  Change in net revenue  +$105.56 (+527.8%)',
        '  Gross revenue          $135.56',
        '  Payments               4 (3 succeeded, 75.00%)',
        '  Refunds                1 ($10.00)',
        '  MRR                    $28.32',
        '  Change in MRR          +$8.33 (+41.7%)',
        '  ARR                    $339.84',
        '',
        'Revenue and MRR, last 8 days',
        ...['10-29', '10-30', '10-31', '11-01', '11-02', '11-03'].map((d) => `  2025-${d}  net $0.00, MRR $19.99`),
        '  2025-11-04  net $20.00, MRR $19.99',
        '  2025-11-05  net $125.56, MRR $28.32',
        '',
        'Tournaments, day 2025-11-05',
        '  Tournaments          3 (1 completed, 33.33%)',
        '  Players              3 (1.00 per tournament)',
        '  Average duration     90.00 minutes',
        '  Most popular format  swiss',
        '  Per format           swiss 2, knockout <b> 1',
        '  Tournament revenue   $34.56',
        '',
        'Retention, cohorts 2025-10 .. 2025-11',
        '  2025-10 (1 user)   100.00%  100.00%',
        '  2025-11 (2 users)  100.00%',
        '',
      ].join('\n'),
    );
    const html = await readFile(files('org_rep', job.id!).htmlPath, 'utf8');
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<h1>Analytics report: Acme &amp; &lt;Co&gt; (org_rep)</h1>');
    expect(html).toContain('<h2>Revenue, day 2025-11-05</h2>');
    expect(html).toContain('<tr><th>Net revenue</th><td>$125.56</td></tr>');
    // Self-contained: no scripts, stylesheets, images or fonts fetched from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|url\(/);
    expect(html.match(/<svg /g)).toHaveLength(3);
    // Nov 5 began at 05:00Z (EST); Oct 29 at 04:00Z (EDT).
    expect(html).toContain('data-period-start="2025-11-05T05:00:00.000Z" data-period="2025-11-05" data-net-revenue-cents="12556"');
    expect(html).toContain('data-period-start="2025-10-29T04:00:00.000Z" data-period="2025-10-29" data-mrr-cents="1999"');
    expect(html).toContain('data-cohort-month="2025-10-01" data-month-number="1" data-retained-users="1" data-cohort-size="1" data-retention-rate="100.00"');
    expect(html).toContain('data-format="knockout &lt;b&gt;" data-count="1"');
    expect(html).not.toContain('knockout <b>');

    // The tenant with no raw rows: real zeros, computed by the same aggregation, not "nothing yet".
    const empty = await readFile(files('org_empty', job.id!).textPath, 'utf8');
    expect(empty).toContain('Revenue, day 2025-11-05\n  Net revenue            €0.00\n  Change in net revenue  €0.00 (previous was 0)\n');
    expect(empty).toContain('  Tournaments          0 (0 completed, 0.00%)\n');
    expect(empty).toContain('Retention\n  no cohort aggregates yet\n');
    expect(await computedAt('org_empty')).toMatchObject({ n: '8' });
  });

  it('a second report over the same periods computes nothing again', async () => {
    const before = await computedAt('org_rep');
    expect(before.n).toBe('8');
    const job = await queue.addJob('scheduled-report', { tenantId: 'org_rep', periodType: 'day', asOf: AS_OF });
    await waitForState(queue, job.id!, 'completed', 30_000);
    expect(await computedAt('org_rep')).toEqual(before);
    expect(await readFile(files('org_rep', job.id!).textPath, 'utf8')).toContain('  Net revenue            $125.56\n');
  });

  it('reports on one tenant when asked; a suspended one is not aggregated; an unknown tenant fails the job once, naming it', async () => {
    const job = await queue.addJob('scheduled-report', { tenantId: 'org_rep', periodType: 'week', asOf: AS_OF });
    const done = await waitForState(queue, job.id!, 'completed', 30_000);
    expect((done.returnvalue as ScheduledReportWorkflowResult).totals).toEqual({ tenants: 1, succeeded: 1, failed: 0 });
    const text = await readFile(join(reportDir, 'org_rep', `${job.id}.txt`), 'utf8');
    // The week of Oct 27 (Monday) .. Nov 2, and the seven before it.
    expect(text).toContain('Revenue, week 2025-10-27 .. 2025-11-02\n  Net revenue            $0.00\n');
    expect(text).toContain('Revenue and MRR, last 8 weeks\n  2025-09-08 .. 2025-09-14  net $0.00, MRR $0.00\n');
    expect(text).toContain('  2025-10-27 .. 2025-11-02  net $0.00, MRR $19.99\n');

    const gone = await queue.addJob('scheduled-report', { tenantId: 'org_gone', asOf: AS_OF });
    await waitForState(queue, gone.id!, 'completed', 30_000);
    expect(await readFile(join(reportDir, 'org_gone', `${gone.id}.txt`), 'utf8')).toContain('Revenue\n  no day revenue aggregates yet\n');
    expect(await computedAt('org_gone')).toMatchObject({ n: '0' });

    const unknown = await queue.addJob('scheduled-report', { tenantId: 'org_nope' });
    const failed = await waitForState(queue, unknown.id!, 'failed', 30_000);
    expect(failed.failedReason).toBe(`workflow scheduled-report/${redis.queueName}:${unknown.id} failed: UnknownTenantError: tenantId: unknown tenant "org_nope"`);
    expect(failed.attemptsMade).toBe(1);
  });
});
