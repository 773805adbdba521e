import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DateTime } from 'luxon';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/paths';
import type { AnalyticsQueue } from '../src/queue';
import type { ExportWorkflowResult } from '../src/workflows/export';
import type { ScheduledReportWorkflowResult } from '../src/workflows/report';
import { createTestQueue, waitForState, type RunningWorker } from './fixtures/queue';
import { runRealWorker } from './fixtures/real-workers';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { loadRaw, oracleCohorts, oraclePeriods, oracleRevenue, oracleTournaments, type RawData } from './helpers/oracle';
import { createTestRedis } from './helpers/redis';
import { seedTenants } from './helpers/seed';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// Acceptance of issue 13's reports and exports, on a freshly seeded database that nothing has
// aggregated: a weekly `scheduled-report` and a monthly `export` go through the facade, the
// bridge and the real workflows, and must show real figures — the independent oracle's
// (test/helpers/oracle.ts), never the production code's own output. A headless Chromium then
// opens a generated HTML report, reads the values off its SVG charts and compares them with the
// aggregate rows in Postgres, and saves a screenshot under artifacts/.

const ARTIFACTS = join(PROJECT_ROOT, 'artifacts');
const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
/** Seed tenants: tenant-001 in New York (USD), tenant-002 in Berlin (EUR). */
const ZONES = ['America/New_York', 'Europe/Berlin'];
const TENANTS = ['tenant-001', 'tenant-002'];
const CURRENCY: Record<string, string> = { 'tenant-001': 'USD', 'tenant-002': 'EUR' };
const DAY_MS = 86_400_000;

/** Money as the report prints it, written independently (Intl over a float: exact at these sizes). */
const usd = (cents: string, currency: string) => {
  const text = (Math.abs(Number(cents)) / 100).toLocaleString('en-US', { style: 'currency', currency, minimumFractionDigits: 2 });
  return Number(cents) < 0 ? `-${text}` : text;
};
/** Cents as a decimal string by string surgery (not the exporter's bigint division). */
const decimal = (cents: string) => {
  const negative = cents.startsWith('-');
  const digits = (negative ? cents.slice(1) : cents).padStart(3, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
};

/** Plain CSV reader for files without quoted fields (asserted). */
function parseCsv(text: string): Record<string, string>[] {
  expect(text).not.toContain('"');
  const [header, ...lines] = text.trimEnd().split('\r\n');
  const names = header!.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((v, i) => [names[i]!, v])));
}

/** The report's weeks, computed here: the 8 complete ISO weeks before `asOf`, as local Monday dates. */
function reportWeeks(zone: string, asOf: number): { from: string; to: string } {
  const local = DateTime.fromMillis(asOf, { zone });
  const monday = local.minus({ days: local.weekday - 1 }).toISODate()!;
  return { from: DateTime.fromISO(monday).minus({ days: 56 }).toISODate()!, to: monday };
}

/** The report's cohort months: 6 months ending with the month of `asOf`, as [from, to) local dates. */
function reportMonths(zone: string, asOf: number): { from: string; to: string } {
  const local = DateTime.fromMillis(asOf, { zone });
  const first = DateTime.fromObject({ year: local.year, month: local.month, day: 1 });
  return { from: first.minus({ months: 5 }).toISODate()!, to: first.plus({ months: 1 }).toISODate()! };
}

/** Tournaments created in [start, end) per format, most first then by name, from the raw rows. */
function formatsOf(raw: RawData, start: number, end: number): { format: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const t of raw.tournaments) if (t.createdAt >= start && t.createdAt < end) counts.set(t.format, (counts.get(t.format) ?? 0) + 1);
  return [...counts].map(([format, count]) => ({ format, count })).sort((a, b) => b.count - a.count || a.format.localeCompare(b.format));
}

describe('reports and exports on a database nothing has aggregated', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let t: TestDatabase;
  let outDir: string;
  let worker: RunningWorker;
  let queue: AnalyticsQueue;
  let browser: Browser | undefined;
  const raw: Record<string, RawData> = {};
  let report: { result: ScheduledReportWorkflowResult; asOf: number };
  /** The monthly export's range (tenant-local dates), for the test that exports it again. */
  let exported: { from: string; to: string };

  beforeAll(async () => {
    [temporal, t] = await Promise.all([connectTestTemporal(), createTestDatabase('reports_fresh')]);
    outDir = await mkdtemp(join(tmpdir(), 'analytics-reports-'));
    // History up to today, so the report's default periods (the weeks before "now") hold data.
    const untilMs = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    await seedTenants(t.pool, { tenants: 2, usersPerTenant: 120, days: 220, seed: 13, untilMs, timezones: ZONES });
    for (const id of TENANTS) raw[id] = await loadRaw(t.pool, id);
    worker = await runRealWorker(temporal, { db: t.db, exportDir: outDir, reportDir: outDir });
    queue = createTestQueue(redis.queueName, temporal, { databaseUrl: t.url });
    await queue.ready();
    await queue.createWorker();
  });

  afterAll(async () => {
    await browser?.close();
    await queue?.close();
    await worker?.stop();
    await t?.drop();
    await temporal?.close();
    await redis.cleanup();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  const aggregateRows = async () =>
    (
      await t.pool.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM revenue_aggregates) + (SELECT count(*) FROM tournament_aggregates) + (SELECT count(*) FROM user_cohorts) AS n',
      )
    ).rows[0]!.n;

  it('a weekly report computes the missing aggregates first and shows the oracle’s figures', async () => {
    expect(Number(await aggregateRows())).toBe(0);
    const job = await queue.addJob('scheduled-report', { periodType: 'week' });
    const done = await waitForState(queue, job.id!, 'completed', 30_000);
    report = { result: done.returnvalue as ScheduledReportWorkflowResult, asOf: job.timestamp };
    expect(report.result.totals).toEqual({ tenants: 2, succeeded: 2, failed: 0 });

    for (const id of TENANTS) {
      const r = raw[id]!;
      const weeks = reportWeeks(r.zone, report.asOf);
      const revenue = oracleRevenue(r, 'week', weeks.from, weeks.to);
      const tournaments = oracleTournaments(r, 'week', weeks.from, weeks.to);
      const months = reportMonths(r.zone, report.asOf);
      const cohorts = oracleCohorts(r, months.from, months.to, report.asOf);
      expect(revenue).toHaveLength(8);
      // Real figures: the seed has paying users in these weeks.
      expect(revenue.some((x) => x.gross_revenue_cents !== '0')).toBe(true);

      // The rows the report computed equal the oracle's.
      const { rows: stored } = await t.pool.query(
        `SELECT period_start, total_revenue_cents::text, mrr_cents::text FROM revenue_aggregates
         WHERE tenant_id = $1 AND period_type = 'week' AND period_start >= $2 AND period_start < $3 ORDER BY period_start`,
        [id, revenue[0]!.period_start, revenue[7]!.period_end],
      );
      expect(stored.map((s) => [s.period_start.toISOString(), s.total_revenue_cents, s.mrr_cents])).toEqual(
        revenue.map((x) => [x.period_start, x.total_revenue_cents, x.mrr_cents]),
      );

      const outcome = report.result.outcomes.find((o) => o.tenantId === id);
      expect(outcome?.status).toBe('succeeded');
      const html = await readFile((outcome as { htmlPath: string }).htmlPath, 'utf8');
      const text = await readFile((outcome as { textPath: string }).textPath, 'utf8');
      // Every revenue bar and MRR point carries the oracle's cents for its week.
      const bars = [...html.matchAll(/data-period-start="([^"]+)" data-period="[^"]*" data-net-revenue-cents="(-?\d+)"/g)].map((m) => [m[1], m[2]]);
      expect(bars).toEqual(revenue.map((x) => [x.period_start, x.total_revenue_cents]));
      const points = [...html.matchAll(/data-period-start="([^"]+)" data-period="[^"]*" data-mrr-cents="(-?\d+)"/g)].map((m) => [m[1], m[2]]);
      expect(points).toEqual(revenue.map((x) => [x.period_start, x.mrr_cents]));
      // The heat map holds the oracle's triangle, cell by cell.
      const cells = [...html.matchAll(/data-cohort-month="([^"]+)" data-month-number="(\d+)" data-retained-users="(\d+)" data-cohort-size="(\d+)" data-retention-rate="([\d.]+)"/g)];
      expect(cells.map((m) => ({ cohort_month: m[1], month_number: Number(m[2]), retained_users: Number(m[3]), cohort_size: Number(m[4]), retention_rate: m[5] }))).toEqual(cohorts);
      // Tournaments per format in the latest week, counted here from the raw rows.
      const latest = oraclePeriods(r.zone, weeks.from, weeks.to, 'week').at(-1)!;
      const formats = formatsOf(r, latest.start, latest.end);
      const drawn = [...html.matchAll(/data-format="([^"]+)" data-count="(\d+)"/g)].map((m) => ({ format: m[1], count: Number(m[2]) }));
      expect(drawn).toEqual(formats);
      expect(formats.reduce((n, f) => n + f.count, 0)).toBe(tournaments.at(-1)!.tournament_count);

      // The text version: the latest week's figures and the change against the week before.
      const [last, previous] = [revenue[7]!, revenue[6]!];
      const currency = CURRENCY[id]!;
      const localWeek = `${DateTime.fromISO(last.period_start as string, { zone: r.zone }).toISODate()} .. ${DateTime.fromISO(last.period_end as string, { zone: r.zone }).minus({ days: 1 }).toISODate()}`;
      expect(text).toContain(`Revenue, week ${localWeek}\n`);
      expect(text).toMatch(new RegExp(`\\n  Net revenue +${usd(last.total_revenue_cents as string, currency).replace(/[$.]/g, '\\$&')}\\n`));
      expect(text).toMatch(new RegExp(`\\n  MRR +${usd(last.mrr_cents as string, currency).replace(/[$.]/g, '\\$&')}\\n`));
      const delta = BigInt(last.total_revenue_cents as string) - BigInt(previous.total_revenue_cents as string);
      expect(text).toContain(`Change in net revenue  ${delta > 0n ? '+' : ''}${usd(delta.toString(), currency)}`);
      const week = tournaments.at(-1)!;
      expect(text).toMatch(new RegExp(`\\n  Tournaments +${week.tournament_count} \\(${week.completed_count} completed, ${week.completion_rate}%\\)\\n`));
    }
  });

  it('headless Chromium renders the charts; their values match the aggregate rows in Postgres', async () => {
    expect(report).toBeDefined();
    const id = 'tenant-002';
    const outcome = report.result.outcomes.find((o) => o.tenantId === id) as { htmlPath: string };
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
    const page = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    const url = pathToFileURL(outcome.htmlPath).href;
    await page.goto(url);

    // Self-contained: the page asked for nothing but itself.
    expect(requests).toEqual([url]);
    expect(await page.locator('svg.chart').count()).toBe(3);
    for (const chart of ['revenue', 'cohorts', 'formats']) {
      const box = await page.locator(`svg[data-chart="${chart}"]`).boundingBox();
      expect(box && box.width > 100 && box.height > 50, `${chart} chart is laid out`).toBe(true);
    }

    const weeks = reportWeeks(raw[id]!.zone, report.asOf);
    const periods = oraclePeriods(raw[id]!.zone, weeks.from, weeks.to, 'week');
    const { rows: revenue } = await t.pool.query<{ period_start: Date; total_revenue_cents: string; mrr_cents: string }>(
      `SELECT period_start, total_revenue_cents::text, mrr_cents::text FROM revenue_aggregates
       WHERE tenant_id = $1 AND period_type = 'week' AND period_start >= $2 AND period_start < $3 ORDER BY period_start`,
      [id, new Date(periods[0]!.start), new Date(periods.at(-1)!.end)],
    );
    expect(revenue).toHaveLength(8);
    const bars = await page.locator('svg[data-chart="revenue"] rect.bar.revenue').evaluateAll((els) =>
      els.map((e) => ({ start: e.getAttribute('data-period-start'), cents: e.getAttribute('data-net-revenue-cents'), height: (e as unknown as { getBBox(): { height: number } }).getBBox().height })),
    );
    expect(bars.map((b) => [b.start, b.cents])).toEqual(revenue.map((r) => [r.period_start.toISOString(), r.total_revenue_cents]));
    expect(bars.every((b) => b.height >= 1)).toBe(true);
    const labels = await page.locator('svg[data-chart="revenue"] text.value.revenue').allTextContents();
    expect(labels).toEqual(revenue.map((r) => usd(r.total_revenue_cents, 'EUR')));
    const mrr = await page.locator('svg[data-chart="revenue"] circle.point.mrr').evaluateAll((els) => els.map((e) => e.getAttribute('data-mrr-cents')));
    expect(mrr).toEqual(revenue.map((r) => r.mrr_cents));

    const months = reportMonths(raw[id]!.zone, report.asOf);
    const { rows: cohorts } = await t.pool.query<{ cohort_month: string; month_number: number; retention_rate: string }>(
      `SELECT cohort_month::text, month_number, retention_rate::text FROM user_cohorts
       WHERE tenant_id = $1 AND cohort_month >= $2 AND cohort_month < $3 ORDER BY cohort_month, month_number`,
      [id, months.from, months.to],
    );
    expect(cohorts.length).toBeGreaterThan(6);
    const cells = await page.locator('svg[data-chart="cohorts"] rect.cell').evaluateAll((els) =>
      els.map((e) => ({ cohort_month: e.getAttribute('data-cohort-month'), month_number: Number(e.getAttribute('data-month-number')), retention_rate: e.getAttribute('data-retention-rate') })),
    );
    expect(cells).toEqual(cohorts);
    const rates = await page.locator('svg[data-chart="cohorts"] text.rate').allTextContents();
    expect(rates).toEqual(cohorts.map((c) => `${c.retention_rate}%`));

    const { rows: latest } = await t.pool.query<{ tournament_count: number; most_popular_format: string | null }>(
      `SELECT tournament_count, most_popular_format FROM tournament_aggregates WHERE tenant_id = $1 AND period_type = 'week' AND period_start = $2`,
      [id, new Date(periods.at(-1)!.start)],
    );
    const formats = await page.locator('svg[data-chart="formats"] rect.bar.format').evaluateAll((els) =>
      els.map((e) => ({ format: e.getAttribute('data-format')!, count: Number(e.getAttribute('data-count')) })),
    );
    expect(formats.reduce((n, f) => n + f.count, 0)).toBe(latest[0]!.tournament_count);
    expect(formats[0]!.format).toBe(latest[0]!.most_popular_format);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report-weekly.png'), fullPage: true });
  });

  it('a monthly export computes what is missing and writes the oracle’s rows in the tenant’s terms', async () => {
    const id = 'tenant-001';
    const r = raw[id]!;
    // Three complete months well inside the seeded history, named in the tenant's own calendar.
    const local = DateTime.fromMillis(report.asOf, { zone: r.zone });
    const first = DateTime.fromObject({ year: local.year, month: local.month, day: 1 }).minus({ months: 4 });
    const [from, to] = [first.toISODate()!, first.plus({ months: 3 }).toISODate()!];
    const job = await queue.addJob('export', { tenantId: id, type: 'all', periodType: 'month', periodStart: from, periodEnd: to });
    const done = await waitForState(queue, job.id!, 'completed', 30_000);
    const result = done.returnvalue as ExportWorkflowResult;
    const [revenueFile, cohortFile, tournamentFile] = result.files;

    const revenue = parseCsv(await readFile(revenueFile!.path, 'utf8'));
    const expected = oracleRevenue(r, 'month', from, to);
    expect(expected).toHaveLength(3);
    expect(expected.every((x) => x.gross_revenue_cents !== '0')).toBe(true);
    expect(revenue).toHaveLength(3);
    revenue.forEach((row, i) => {
      const o = expected[i]!;
      const firstDay = DateTime.fromISO(o.period_start as string, { zone: r.zone });
      expect(row).toMatchObject({
        tenant_id: id,
        period_type: 'month',
        period_start: o.period_start,
        period_end: o.period_end,
        timezone: r.zone,
        period_first_day: firstDay.toISODate(),
        period_last_day: firstDay.endOf('month').toISODate(),
        currency: 'USD',
        payment_count: String(o.payment_count),
        payment_success_rate: o.payment_success_rate,
      });
      for (const name of ['total_revenue', 'gross_revenue', 'refund_amount', 'mrr', 'arr']) {
        expect(row[`${name}_cents`], `${name}_cents of ${row.period_first_day}`).toBe(o[`${name}_cents`]);
        expect(row[name], `${name} of ${row.period_first_day}`).toBe(decimal(o[`${name}_cents`] as string));
      }
    });

    const tournaments = parseCsv(await readFile(tournamentFile!.path, 'utf8'));
    const expectedTournaments = oracleTournaments(r, 'month', from, to);
    expect(tournaments.map((x) => [x.period_start, x.tournament_count, x.completion_rate, x.revenue_cents, x.revenue, x.currency])).toEqual(
      expectedTournaments.map((x) => [x.period_start, String(x.tournament_count), x.completion_rate, x.revenue_cents, decimal(x.revenue_cents as string), 'USD']),
    );

    const cohorts = parseCsv(await readFile(cohortFile!.path, 'utf8'));
    const expectedCohorts = oracleCohorts(r, from, to, job.timestamp);
    expect(expectedCohorts.length).toBeGreaterThan(3);
    expect(cohorts.map((x) => [x.cohort_month, x.month_number, x.cohort_size, x.retained_users, x.retention_rate, x.timezone])).toEqual(
      expectedCohorts.map((x) => [x.cohort_month, String(x.month_number), String(x.cohort_size), String(x.retained_users), x.retention_rate, r.zone]),
    );
    exported = { from, to };
  });

  it('exporting again recomputes only a row computed before its period ended, back to the oracle’s figures', async () => {
    expect(exported).toBeDefined();
    const id = 'tenant-001';
    const rows = async () =>
      (
        await t.pool.query<{ period_start: Date; total_revenue_cents: string; computed_at: Date }>(
          `SELECT period_start, total_revenue_cents::text, computed_at FROM revenue_aggregates
           WHERE tenant_id = $1 AND period_type = 'month' ORDER BY period_start`,
          [id],
        )
      ).rows;
    const before = await rows();
    expect(before).toHaveLength(3);
    // The middle month as a "so far" row: wrong figures, computed before the month ended.
    await t.pool.query(
      `UPDATE revenue_aggregates SET total_revenue_cents = 1, computed_at = period_end - interval '1 hour'
       WHERE tenant_id = $1 AND period_type = 'month' AND period_start = $2`,
      [id, before[1]!.period_start],
    );
    const job = await queue.addJob('export', { tenantId: id, type: 'revenue', periodType: 'month', periodStart: exported.from, periodEnd: exported.to });
    const done = await waitForState(queue, job.id!, 'completed', 30_000);
    const csv = parseCsv(await readFile((done.returnvalue as ExportWorkflowResult).files[0]!.path, 'utf8'));
    const expected = oracleRevenue(raw[id]!, 'month', exported.from, exported.to);
    expect(csv.map((x) => x.total_revenue_cents)).toEqual(expected.map((x) => x.total_revenue_cents));
    const after = await rows();
    expect(after[0]!.computed_at).toEqual(before[0]!.computed_at);
    expect(after[2]!.computed_at).toEqual(before[2]!.computed_at);
    expect(after[1]!.computed_at.getTime()).toBeGreaterThan(before[1]!.computed_at.getTime());
  });
});
