import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportWorkflowResult } from '../src/workflows/export';
import type { AnalyticsQueue } from '../src/queue';
import { createTestQueue, waitForState, type RunningWorker } from './fixtures/queue';
import { runRealWorker } from './fixtures/real-workers';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { createTestRedis } from './helpers/redis';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// `export` jobs through the facade, the bridge, the real exportWorkflow and its activities, over
// aggregate rows written here by hand. The expected files are built from what Postgres itself
// prints for those rows (::text, to_char, numeric division), not from the exporter's own formatting.
// The tenant is suspended, so nothing recomputes its hand-written rows (an export first computes
// an active tenant's missing rows: test/reports.acceptance.test.ts).

const COMPUTED_AT = '2025-11-06T01:02:03.456Z';
/** Europe/Berlin local midnight of a November 2025 day (CET, UTC+1), as a UTC instant. */
const berlinMidnight = (day: number) => `2025-${day === 0 ? '10-31' : `11-${String(day).padStart(2, '0')}`}T00:00:00+01:00`;

const utc = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
/** The tenant-local first and last day of a period, and its zone and currency, as Postgres computes them. */
const TERMS = `o.timezone, to_char(period_start AT TIME ZONE o.timezone, 'YYYY-MM-DD') AS period_first_day,
  to_char((period_end AT TIME ZONE o.timezone) - interval '1 day', 'YYYY-MM-DD') AS period_last_day, o.currency`;
/** Cents and the same amount as a decimal, by numeric division. */
const money = (name: string) => `${name}_cents::text, (${name}_cents / 100.0)::numeric(30, 2)::text AS ${name}`;

/** RFC 4180 quoting, written independently of the exporter's. */
function csvCell(value: unknown): string {
  if (value === null) return '';
  const s = String(value);
  return s.includes(',') || s.includes('"') || s.includes('\n') ? `"${s.split('"').join('""')}"` : s;
}

function csv(rows: Record<string, unknown>[], columns: string[]): string {
  return [columns, ...rows.map((r) => columns.map((c) => r[c]))].map((cells) => `${cells.map(csvCell).join(',')}\r\n`).join('');
}

const PERIOD_COLUMNS = ['period_start', 'period_end', 'timezone', 'period_first_day', 'period_last_day', 'currency'];
const REVENUE_COLUMNS = [
  'tenant_id', 'period_type', ...PERIOD_COLUMNS, 'total_revenue_cents', 'total_revenue', 'gross_revenue_cents', 'gross_revenue', 'payment_count',
  'payment_success_count', 'payment_success_rate', 'refund_count', 'refund_amount_cents', 'refund_amount', 'mrr_cents', 'mrr', 'arr_cents', 'arr',
  'computed_at',
];
const TOURNAMENT_COLUMNS = [
  'tenant_id', 'period_type', ...PERIOD_COLUMNS, 'tournament_count', 'completed_count', 'completion_rate', 'total_players',
  'avg_players', 'avg_duration_minutes', 'most_popular_format', 'revenue_cents', 'revenue', 'computed_at',
];
const COHORT_COLUMNS = [
  'tenant_id', 'cohort_month', 'timezone', 'cohort_month_start', 'cohort_month_end', 'month_number', 'cohort_size', 'retained_users', 'retention_rate',
  'computed_at',
];

describe('export jobs', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let t: TestDatabase;
  let exportDir: string;
  let worker: RunningWorker;
  let queue: AnalyticsQueue;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    t = await createTestDatabase('export');
    exportDir = await mkdtemp(join(tmpdir(), 'analytics-export-'));
    const q = t.pool;
    await q.query(`INSERT INTO organizations (id, name, timezone, currency) VALUES ('org_exp', 'Export Org', 'Europe/Berlin', 'EUR'), ('org_other', 'Other', 'UTC', 'USD')`);
    await q.query(`UPDATE organizations SET status = 'suspended' WHERE id = 'org_exp'`);
    // Day rows for Berlin days Oct 31 .. Nov 6: the job's range [Nov 1, Nov 6) holds five of them.
    for (let day = 0; day <= 6; day++) {
      await q.query(
        `INSERT INTO revenue_aggregates (tenant_id, period_type, period_start, period_end, total_revenue_cents, gross_revenue_cents,
           payment_count, payment_success_count, payment_success_rate, refund_count, refund_amount_cents, mrr_cents, arr_cents, computed_at)
         VALUES ('org_exp', 'day', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          berlinMidnight(day), berlinMidnight(day + 1),
          day === 3 ? '-2500' : String(10_000 * day + 7), day === 4 ? '9007199254740993' : String(10_000 * day + 7),
          day + 2, day + 1, day === 2 ? '66.70' : '50.00', day % 2, day === 3 ? '2500' : '0', '123456', '1481472', COMPUTED_AT,
        ],
      );
    }
    // Same period start, other period type or other tenant: never exported by this job.
    await q.query(
      `INSERT INTO revenue_aggregates (tenant_id, period_type, period_start, period_end, total_revenue_cents, gross_revenue_cents,
         payment_count, payment_success_count, payment_success_rate, refund_count, refund_amount_cents, mrr_cents, arr_cents)
       VALUES ('org_exp', 'week', $1, $2, 1, 1, 1, 1, 100, 0, 0, 0, 0), ('org_other', 'day', $1, $3, 1, 1, 1, 1, 100, 0, 0, 0, 0)`,
      ['2025-11-03T00:00:00+01:00', '2025-11-10T00:00:00+01:00', '2025-11-04T00:00:00+01:00'],
    );
    await q.query(
      `INSERT INTO tournament_aggregates (tenant_id, period_type, period_start, period_end, tournament_count, completed_count, completion_rate,
         total_players, avg_players, avg_duration_minutes, most_popular_format, revenue_cents, computed_at)
       VALUES ('org_exp', 'day', $1, $2, 3, 2, 66.67, 17, 5.67, 42.50, 'swiss, "open"', 1500, $7),
              ('org_exp', 'day', $3, $4, 0, 0, 0, 0, 0, NULL, NULL, 0, $7),
              ('org_exp', 'day', $5, $6, 1, 1, 100, 4, 4, 30, 'knockout', 0, $7)`,
      [berlinMidnight(1), berlinMidnight(2), berlinMidnight(3), berlinMidnight(4), berlinMidnight(6), '2025-11-07T00:00:00+01:00', COMPUTED_AT],
    );
    await q.query(
      `INSERT INTO user_cohorts (tenant_id, cohort_month, month_number, cohort_size, retained_users, retention_rate, computed_at)
       VALUES ('org_exp', '2025-11-01', 0, 12, 12, 100, $1), ('org_exp', '2025-11-01', 1, 12, 5, 41.67, $1),
              ('org_exp', '2025-10-01', 0, 9, 9, 100, $1), ('org_other', '2025-11-01', 0, 3, 3, 100, $1)`,
      [COMPUTED_AT],
    );
    // Pages of two rows: the five revenue rows take three round trips.
    worker = await runRealWorker(temporal, { db: t.db, exportDir, reportDir: exportDir, exportPageSize: 2 });
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
    await rm(exportDir, { recursive: true, force: true });
  });

  async function sqlRevenue(): Promise<Record<string, unknown>[]> {
    const { rows } = await t.pool.query(
      `SELECT tenant_id, period_type, ${utc('period_start')}, ${utc('period_end')}, ${TERMS}, ${money('total_revenue')}, ${money('gross_revenue')},
              payment_count, payment_success_count, payment_success_rate::text, refund_count, ${money('refund_amount')},
              ${money('mrr')}, ${money('arr')}, ${utc('computed_at')}
       FROM revenue_aggregates JOIN organizations o ON o.id = tenant_id WHERE tenant_id = 'org_exp' AND period_type = 'day'
         AND period_start >= '2025-10-31T23:00:00Z' AND period_start < '2025-11-05T23:00:00Z' ORDER BY period_start`,
    );
    return rows;
  }

  it('writes the revenue, cohort and tournament rows of the range to CSV files and completes with their paths', async () => {
    const job = await queue.addJob('export', { tenantId: 'org_exp', type: 'all', periodType: 'day', periodStart: '2025-11-01', periodEnd: '2025-11-06' });
    const done = await waitForState(queue, job.id!, 'completed', 60_000);
    const result = done.returnvalue as ExportWorkflowResult;
    const dir = join(exportDir, 'org_exp');
    expect(result.workflowId).toBe(`export/${redis.queueName}:${job.id}`);
    expect(result.format).toBe('csv');
    expect(result.files.map((f) => [f.type, f.path, f.rows, f.periodType, f.rangeStart, f.rangeEnd])).toEqual([
      ['revenue', join(dir, `${job.id}-revenue.csv`), 5, 'day', '2025-10-31T23:00:00.000Z', '2025-11-05T23:00:00.000Z'],
      ['cohorts', join(dir, `${job.id}-cohorts.csv`), 2, 'month', '2025-10-31T23:00:00.000Z', '2025-11-30T23:00:00.000Z'],
      ['tournaments', join(dir, `${job.id}-tournaments.csv`), 2, 'day', '2025-10-31T23:00:00.000Z', '2025-11-05T23:00:00.000Z'],
    ]);
    expect(result.totals).toEqual({ files: 3, rows: 9, bytes: result.files.reduce((n, f) => n + f.bytes, 0) });

    const revenue = await sqlRevenue();
    expect(revenue.map((r) => r.total_revenue_cents)).toEqual(['10007', '20007', '-2500', '40007', '50007']);
    expect(await readFile(result.files[0]!.path, 'utf8')).toBe(csv(revenue, REVENUE_COLUMNS));

    const { rows: cohorts } = await t.pool.query(
      `SELECT tenant_id, cohort_month::text, o.timezone,
              to_char((cohort_month::timestamp AT TIME ZONE o.timezone) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS cohort_month_start,
              to_char(((cohort_month + interval '1 month')::timestamp AT TIME ZONE o.timezone) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS cohort_month_end,
              month_number, cohort_size, retained_users, retention_rate::text, ${utc('computed_at')}
       FROM user_cohorts JOIN organizations o ON o.id = tenant_id WHERE tenant_id = 'org_exp' AND cohort_month = '2025-11-01' ORDER BY month_number`,
    );
    expect(await readFile(result.files[1]!.path, 'utf8')).toBe(csv(cohorts, COHORT_COLUMNS));

    const { rows: tournaments } = await t.pool.query(
      `SELECT tenant_id, period_type, ${utc('period_start')}, ${utc('period_end')}, ${TERMS}, tournament_count, completed_count, completion_rate::text,
              total_players, avg_players::text, avg_duration_minutes::text, most_popular_format, ${money('revenue')}, ${utc('computed_at')}
       FROM tournament_aggregates JOIN organizations o ON o.id = tenant_id WHERE tenant_id = 'org_exp' AND period_start >= '2025-10-31T23:00:00Z' AND period_start < '2025-11-05T23:00:00Z'
       ORDER BY period_start`,
    );
    const tournamentCsv = await readFile(result.files[2]!.path, 'utf8');
    expect(tournamentCsv).toBe(csv(tournaments, TOURNAMENT_COLUMNS));
    expect(tournamentCsv).toContain(',"swiss, ""open""",');
    // Nothing but the three files: no partial files left behind.
    expect((await readdir(dir)).filter((f) => f.startsWith(job.id!)).sort()).toEqual(
      [`${job.id}-cohorts.csv`, `${job.id}-revenue.csv`, `${job.id}-tournaments.csv`],
    );
  });

  it('writes JSON when asked: an array of row objects, exact cents and rates as strings', async () => {
    const job = await queue.addJob('export', { tenantId: 'org_exp', type: 'revenue', periodStart: '2025-11-01', periodEnd: '2025-11-06', format: 'json' });
    const done = await waitForState(queue, job.id!, 'completed', 60_000);
    const [file] = (done.returnvalue as ExportWorkflowResult).files;
    expect(file!.path).toBe(join(exportDir, 'org_exp', `${job.id}-revenue.json`));
    const parsed = JSON.parse(await readFile(file!.path, 'utf8')) as Record<string, unknown>[];
    expect(parsed).toEqual(await sqlRevenue());
    expect(parsed[3]!.gross_revenue_cents).toBe('9007199254740993');
    // Decimals from the integer cents, never through a float (2^53 + 1 cents stays exact).
    expect(parsed[3]!.gross_revenue).toBe('90071992547409.93');
    expect(parsed[2]!.total_revenue).toBe('-25.00');
    expect(parsed[0]).toMatchObject({ timezone: 'Europe/Berlin', currency: 'EUR', period_first_day: '2025-11-01', period_last_day: '2025-11-01' });
  });

  it('an unknown tenant fails the job once, naming the tenant', async () => {
    const job = await queue.addJob('export', { tenantId: 'org_nope', type: 'revenue' });
    const failed = await waitForState(queue, job.id!, 'failed', 60_000);
    expect(failed.failedReason).toBe(`workflow export/${redis.queueName}:${job.id} failed: UnknownTenantError: tenantId: unknown tenant "org_nope"`);
    expect(failed.attemptsMade).toBe(1);
  });
});
