import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsQueue } from '../src/queue';
import type { ScheduledReportWorkflowResult } from '../src/workflows/report';
import { createTestQueue, waitForState, type RunningWorker } from './fixtures/queue';
import { runRealWorker } from './fixtures/real-workers';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { createTestRedis } from './helpers/redis';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// `scheduled-report` jobs through the facade, the bridge, the real scheduledReportWorkflow and its
// activities. The expected reports are written out by hand from the rows inserted here.

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
    // New York days (EST, UTC-5): Nov 4 and Nov 5 2025, and one far in the future (not complete yet).
    await q.query(
      `INSERT INTO revenue_aggregates (tenant_id, period_type, period_start, period_end, total_revenue_cents, gross_revenue_cents,
         payment_count, payment_success_count, payment_success_rate, refund_count, refund_amount_cents, mrr_cents, arr_cents)
       VALUES ('org_rep', 'day', '2025-11-04T05:00:00Z', '2025-11-05T05:00:00Z', 1, 1, 1, 1, 100, 0, 0, 1, 12),
              ('org_rep', 'day', '2025-11-05T05:00:00Z', '2025-11-06T05:00:00Z', 123456, 133456, 12, 10, 83.33, 1, 10000, 9900, 118800),
              ('org_rep', 'day', '2099-01-01T05:00:00Z', '2099-01-02T05:00:00Z', 7, 7, 1, 1, 100, 0, 0, 0, 0)`,
    );
    await q.query(
      `INSERT INTO tournament_aggregates (tenant_id, period_type, period_start, period_end, tournament_count, completed_count, completion_rate,
         total_players, avg_players, avg_duration_minutes, most_popular_format, revenue_cents)
       VALUES ('org_rep', 'day', '2025-11-05T05:00:00Z', '2025-11-06T05:00:00Z', 3, 2, 66.67, 17, 5.67, NULL, 'swiss', 1500)`,
    );
    await q.query(
      `INSERT INTO user_cohorts (tenant_id, cohort_month, month_number, cohort_size, retained_users, retention_rate)
       VALUES ('org_rep', '2025-10-01', 0, 4, 4, 100), ('org_rep', '2025-11-01', 0, 12, 12, 100), ('org_rep', '2025-11-01', 1, 12, 5, 41.67),
              ('org_rep', '2099-01-01', 0, 1, 1, 100)`,
    );
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

  it("writes a text and an HTML summary of each active tenant's latest aggregates", async () => {
    const job = await queue.addJob('scheduled-report', { periodType: 'day' });
    const done = await waitForState(queue, job.id!, 'completed', 60_000);
    const asOf = new Date(job.timestamp).toISOString();
    const result = done.returnvalue as ScheduledReportWorkflowResult;
    const files = (tenant: string) => ({ textPath: join(reportDir, tenant, `${job.id}.txt`), htmlPath: join(reportDir, tenant, `${job.id}.html`) });
    expect(result).toEqual({
      workflowId: `scheduled-report/${redis.queueName}:${job.id}`,
      jobId: job.id,
      totals: { tenants: 2, succeeded: 2, failed: 0 },
      outcomes: [
        { tenantId: 'org_empty', status: 'succeeded', ...files('org_empty') },
        { tenantId: 'org_rep', status: 'succeeded', ...files('org_rep') },
      ],
    });

    expect(await readFile(files('org_rep').textPath, 'utf8')).toBe(
      [
        'Analytics report: Acme & <Co> (org_rep)',
        `Latest complete day as of ${asOf}, timezone America/New_York, currency USD`,
        '',
        'Revenue, day 2025-11-05',
        '  Net revenue    $1,234.56',
        '  Gross revenue  $1,334.56',
        '  Payments       12 (10 succeeded, 83.33%)',
        '  Refunds        1 ($100.00)',
        '  MRR            $99.00',
        '  ARR            $1,188.00',
        '',
        'Tournaments, day 2025-11-05',
        '  Tournaments          3 (2 completed, 66.67%)',
        '  Players              17 (5.67 per tournament)',
        '  Average duration     n/a',
        '  Most popular format  swiss',
        '  Tournament revenue   $15.00',
        '',
        'Retention, cohort 2025-11',
        '  Month 0  12 of 12 users (100.00%)',
        '  Month 1  5 of 12 users (41.67%)',
        '',
      ].join('\n'),
    );
    const html = await readFile(files('org_rep').htmlPath, 'utf8');
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<h1>Analytics report: Acme &amp; &lt;Co&gt; (org_rep)</h1>');
    expect(html).toContain('<h2>Revenue, day 2025-11-05</h2>');
    expect(html).toContain('<tr><th>Net revenue</th><td>$1,234.56</td></tr>');
    expect(html).toContain('<tr><th>Month 1</th><td>5 of 12 users (41.67%)</td></tr>');

    expect(await readFile(files('org_empty').textPath, 'utf8')).toBe(
      [
        'Analytics report: Empty Org (org_empty)',
        `Latest complete day as of ${asOf}, timezone UTC, currency EUR`,
        '',
        'Revenue',
        '  no day revenue aggregates yet',
        '',
        'Tournaments',
        '  no day tournament aggregates yet',
        '',
        'Retention',
        '  no cohort aggregates yet',
        '',
      ].join('\n'),
    );
    expect(await readFile(files('org_empty').htmlPath, 'utf8')).toContain('<p class="empty">no day revenue aggregates yet</p>');
  });

  it('reports on one tenant when asked; an unknown tenant fails the job once, naming it', async () => {
    const job = await queue.addJob('scheduled-report', { tenantId: 'org_rep', periodType: 'week' });
    const done = await waitForState(queue, job.id!, 'completed', 60_000);
    expect((done.returnvalue as ScheduledReportWorkflowResult).totals).toEqual({ tenants: 1, succeeded: 1, failed: 0 });
    const text = await readFile(join(reportDir, 'org_rep', `${job.id}.txt`), 'utf8');
    expect(text).toContain('Revenue\n  no week revenue aggregates yet\n');
    expect(text).toContain('Retention, cohort 2025-11\n');

    const unknown = await queue.addJob('scheduled-report', { tenantId: 'org_nope' });
    const failed = await waitForState(queue, unknown.id!, 'failed', 60_000);
    expect(failed.failedReason).toBe(`workflow scheduled-report/${redis.queueName}:${unknown.id} failed: UnknownTenantError: tenantId: unknown tenant "org_nope"`);
    expect(failed.attemptsMade).toBe(1);
  });
});
