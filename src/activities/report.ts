import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { DateTime } from 'luxon';
import { parseBoundary, toInstant, type Period } from '../aggregation/periods';
import { createTenantAggregator } from '../aggregation/tenant-aggregator';
import { withTransientMapping } from '../aggregation/transient';
import { poolOf, type Db } from '../db/client';
import { UnknownTenantError } from '../errors/unknown-tenant-error';
import type { Logger } from '../logger';
import { safeSegment } from './export';
import { jobPeriods } from './planning';
import { loadTenant, missingCohortJobs, missingPeriodJobs, zoneOf, type MissingAggregation } from './missing-aggregates';
import { cohortHeatMap, escapeHtml, formatChart, revenueChart, users, type CohortLine, type RevenuePoint } from './report-charts';

// Scheduled reports: for each tenant, a plain-text and an HTML summary written to
// `<reportDir>/<tenantId>/<fileStem>.txt|.html`. Before reading, the activity computes the
// aggregates the report shows where they are missing (planReportAggregates, then the tenant
// aggregator of src/aggregation/tenant-aggregator.ts: the same statement and outcome ledger as an
// aggregation job's tenant activity). It stays one activity per tenant, so a report over every
// tenant keeps its history as small as before; the report itself only reads aggregates:
// - revenue and MRR over the last REPORT_PERIODS complete periods of the report's period type,
//   with the change of the latest against the one before;
// - the retention triangle of the last REPORT_COHORT_MONTHS cohort months (up to the as-of month);
// - the latest period's tournaments, and their count per format (counted in SQL from the
//   tournaments table: the aggregate row keeps only the most popular format).

export type ReportPeriodType = 'day' | 'week' | 'month';

/** Complete periods charted (revenue, MRR). */
export const REPORT_PERIODS = 8;
/** Cohort months in the retention triangle, ending with the month that contains the as-of instant. */
export const REPORT_COHORT_MONTHS = 6;

export interface WriteTenantReportInput {
  tenantId: string;
  /** @defaultValue day */
  periodType?: ReportPeriodType;
  /** ISO instant the report is "as of": only periods that ended by then count. */
  asOf: string;
  fileStem: string;
  /**
   * Compute the missing aggregates first, recording their outcomes under `<key>/ensure:…` (the
   * workflow passes its id). Absent: only read what exists.
   */
  ensureAggregatesKey?: string;
}

export interface PlanReportAggregatesInput {
  tenantId: string;
  /** @defaultValue day */
  periodType?: ReportPeriodType;
  asOf: string;
}

export interface TenantReport {
  tenantId: string;
  textPath: string;
  htmlPath: string;
  /** Period start of the revenue row reported, or null when the tenant has none yet. */
  revenuePeriodStart: string | null;
  tournamentPeriodStart: string | null;
  /** `YYYY-MM-DD` of the newest cohort month reported, or null. */
  cohortMonth: string | null;
}

export interface ReportActivityDeps {
  db: Db;
  logger: Logger;
  /** Stamps the outcome rows of the aggregates a report computes. @defaultValue the system clock */
  clock?: { now(): Date };
  /** Directory the reports are written to (created when missing). */
  reportDir: string;
}

interface Decimalish {
  toFixed(n: number): string;
}

interface RevenueRow {
  periodStart: Date; periodEnd: Date; totalRevenueCents: bigint; grossRevenueCents: bigint; paymentCount: number;
  paymentSuccessCount: number; paymentSuccessRate: Decimalish; refundCount: number; refundAmountCents: bigint; mrrCents: bigint; arrCents: bigint;
}

interface TournamentRow {
  periodStart: Date; periodEnd: Date; tournamentCount: number; completedCount: number; completionRate: Decimalish; totalPlayers: number;
  avgPlayers: Decimalish; avgDurationMinutes: Decimalish | null; mostPopularFormat: string | null; revenueCents: bigint;
}

export interface ReportData {
  org: { id: string; name: string; timezone: string; currency: string };
  periodType: ReportPeriodType;
  asOf: string;
  /** The report's periods, oldest first, with their row (null when there is none). */
  series: { period: Period; revenue: RevenueRow | null }[];
  /** The newest period with a revenue row, and the period before it (null when absent). */
  revenue: RevenueRow | null;
  previousRevenue: RevenueRow | null;
  tournaments: TournamentRow | null;
  /** Tournaments of the `tournaments` period per format, most first, then by name. */
  formats: { format: string; count: number }[];
  /** Cohort months with rows, oldest first. */
  cohorts: CohortLine[];
}

/** Cents in the tenant's currency, e.g. `€1,234.56`; an unknown currency code is printed after the amount. */
export function formatMoney(cents: bigint, currency: string): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const units = `${(abs / 100n).toLocaleString('en-US')}.${(abs % 100n).toString().padStart(2, '0')}`;
  let symbol: string | undefined;
  try {
    symbol = new Intl.NumberFormat('en-US', { style: 'currency', currency }).formatToParts(0).find((p) => p.type === 'currency')?.value;
  } catch {
    symbol = undefined;
  }
  const amount = symbol ? `${symbol}${units}` : `${units} ${currency}`;
  return negative ? `-${amount}` : amount;
}

/**
 * The change from `previous` to `current`: signed amount and percentage with one decimal
 * (half away from zero, exact integer arithmetic); `n/a` when there is no previous period, and no
 * percentage when the previous amount is zero.
 */
export function formatChange(current: bigint, previous: bigint | null, currency: string): string {
  if (previous === null) return 'n/a (no previous period)';
  const delta = current - previous;
  const amount = `${delta > 0n ? '+' : ''}${formatMoney(delta, currency)}`;
  if (previous === 0n) return `${amount} (previous was 0)`;
  const base = previous < 0n ? -previous : previous;
  const n = delta * 1000n;
  const tenthsAbs = ((n < 0n ? -n : n) * 2n + base) / (2n * base);
  const tenths = n < 0n ? -tenthsAbs : tenthsAbs;
  const abs = tenths < 0n ? -tenths : tenths;
  const pct = `${tenths > 0n ? '+' : tenths < 0n ? '-' : ''}${abs / 10n}.${abs % 10n}%`;
  return `${amount} (${pct})`;
}

function localPeriod(start: Date, end: Date, zone: string, periodType: string): string {
  const s = DateTime.fromJSDate(start, { zone });
  const e = DateTime.fromJSDate(end, { zone });
  if (periodType === 'day') return s.toISODate()!;
  return `${s.toISODate()!} .. ${e.minus({ days: 1 }).toISODate()!}`;
}

/** The report as lines of [label, value] per section, shared by the text and HTML renderings. */
function sections(d: ReportData): { title: string; rows: [string, string][]; empty?: string }[] {
  const money = (c: bigint) => formatMoney(c, d.org.currency);
  const zone = d.org.timezone;
  const r = d.revenue;
  const p = d.previousRevenue;
  const t = d.tournaments;
  return [
    {
      title: r ? `Revenue, ${d.periodType} ${localPeriod(r.periodStart, r.periodEnd, zone, d.periodType)}` : 'Revenue',
      empty: r ? undefined : `no ${d.periodType} revenue aggregates yet`,
      rows: r
        ? [
            ['Net revenue', money(r.totalRevenueCents)],
            ['Change in net revenue', formatChange(r.totalRevenueCents, p?.totalRevenueCents ?? null, d.org.currency)],
            ['Gross revenue', money(r.grossRevenueCents)],
            ['Payments', `${r.paymentCount} (${r.paymentSuccessCount} succeeded, ${r.paymentSuccessRate.toFixed(2)}%)`],
            ['Refunds', `${r.refundCount} (${money(r.refundAmountCents)})`],
            ['MRR', money(r.mrrCents)],
            ['Change in MRR', formatChange(r.mrrCents, p?.mrrCents ?? null, d.org.currency)],
            ['ARR', money(r.arrCents)],
          ]
        : [],
    },
    {
      title: `Revenue and MRR, last ${d.series.length} ${d.periodType}s`,
      rows: d.series.map(({ period, revenue }): [string, string] => [
        localPeriod(period.start.toJSDate(), period.end.toJSDate(), zone, d.periodType),
        revenue ? `net ${money(revenue.totalRevenueCents)}, MRR ${money(revenue.mrrCents)}` : 'no data',
      ]),
    },
    {
      title: t ? `Tournaments, ${d.periodType} ${localPeriod(t.periodStart, t.periodEnd, zone, d.periodType)}` : 'Tournaments',
      empty: t ? undefined : `no ${d.periodType} tournament aggregates yet`,
      rows: t
        ? [
            ['Tournaments', `${t.tournamentCount} (${t.completedCount} completed, ${t.completionRate.toFixed(2)}%)`],
            ['Players', `${t.totalPlayers} (${t.avgPlayers.toFixed(2)} per tournament)`],
            ['Average duration', t.avgDurationMinutes === null ? 'n/a' : `${t.avgDurationMinutes.toFixed(2)} minutes`],
            ['Most popular format', t.mostPopularFormat ?? 'n/a'],
            ['Per format', d.formats.length === 0 ? 'none' : d.formats.map((f) => `${f.format} ${f.count}`).join(', ')],
            ['Tournament revenue', money(t.revenueCents)],
          ]
        : [],
    },
    {
      title: d.cohorts.length > 0 ? `Retention, cohorts ${d.cohorts[0]!.month.slice(0, 7)} .. ${d.cohorts[d.cohorts.length - 1]!.month.slice(0, 7)}` : 'Retention',
      empty: d.cohorts.length > 0 ? undefined : 'no cohort aggregates yet',
      rows: d.cohorts.map((c): [string, string] => [
        `${c.month.slice(0, 7)} (${users(c.cohortSize)})`,
        c.cells.map((cell) => `${cell.retentionRate}%`).join('  '),
      ]),
    },
  ];
}

function heading(d: ReportData): string {
  return `Analytics report: ${d.org.name} (${d.org.id})`;
}

function subheading(d: ReportData): string {
  return `Latest complete ${d.periodType} as of ${d.asOf}, timezone ${d.org.timezone}, currency ${d.org.currency}`;
}

export function renderText(d: ReportData): string {
  const lines = [heading(d), subheading(d), ''];
  for (const s of sections(d)) {
    lines.push(s.title);
    if (s.empty) lines.push(`  ${s.empty}`);
    const width = Math.max(0, ...s.rows.map(([label]) => label.length));
    for (const [label, value] of s.rows) lines.push(`  ${label.padEnd(width)}  ${value}`);
    lines.push('');
  }
  return lines.join('\n');
}

function table(rows: [string, string][]): string {
  return `<table>\n${rows.map(([l, v]) => `<tr><th>${escapeHtml(l)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n')}\n</table>`;
}

function tick(period: Period, periodType: ReportPeriodType): string {
  return periodType === 'month' ? period.start.toFormat('yyyy-MM') : period.start.toFormat('MM-dd');
}

export function renderHtml(d: ReportData): string {
  const money = (c: bigint) => formatMoney(c, d.org.currency);
  const zone = d.org.timezone;
  const [latest, trend, tournaments, retention] = sections(d);
  const points: RevenuePoint[] = d.series.map(({ period, revenue }) => ({
    label: localPeriod(period.start.toJSDate(), period.end.toJSDate(), zone, d.periodType),
    tick: tick(period, d.periodType),
    periodStart: toInstant(period.start),
    netRevenueCents: revenue?.totalRevenueCents ?? null,
    mrrCents: revenue?.mrrCents ?? null,
    netRevenueText: revenue ? money(revenue.totalRevenueCents) : '',
    mrrText: revenue ? money(revenue.mrrCents) : '',
  }));
  const section = (s: { title: string; rows: [string, string][]; empty?: string }, chart?: string) =>
    [`<section>`, `<h2>${escapeHtml(s.title)}</h2>`, ...(chart ? [`<figure>${chart}</figure>`] : []), s.empty ? `<p class="empty">${escapeHtml(s.empty)}</p>` : table(s.rows), `</section>`].join('\n');
  const body = [
    section(latest!),
    section(trend!, revenueChart(points, d.org.currency)),
    section(tournaments!, d.tournaments && d.formats.length > 0 ? formatChart(d.formats) : undefined),
    section(retention!, d.cohorts.length > 0 ? cohortHeatMap(d.cohorts) : undefined),
  ].join('\n');
  return [
    '<!doctype html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${escapeHtml(heading(d))}</title>`,
    '<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}th{text-align:left;padding-right:1rem;font-weight:normal;color:#555}' +
      '.empty{color:#888}figure{margin:1rem 0}svg .rate{font-weight:600}</style></head>',
    '<body>',
    `<h1>${escapeHtml(heading(d))}</h1>`,
    `<p>${escapeHtml(subheading(d))}</p>`,
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The report's periods and cohort months for a tenant zone and as-of instant. */
function reportPeriods(periodType: ReportPeriodType, zone: string, asOf: string): { periods: Period[]; months: Period[] } {
  const at = parseBoundary(asOf, 'UTC', 'asOf');
  return {
    periods: jobPeriods({ type: 'revenue', periodType, periods: REPORT_PERIODS }, false, periodType, zone, at),
    months: jobPeriods({ type: 'cohorts', periods: REPORT_COHORT_MONTHS }, true, 'month', zone, at),
  };
}

/** The attempt of the activity running now; 1 outside an activity (a direct call in a test). */
function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

export function createReportActivities({ db, logger, clock = { now: () => new Date() }, reportDir }: ReportActivityDeps) {
  const log = logger.child({ component: 'report' });
  const pool = poolOf(db);
  const aggregator = createTenantAggregator({ pool, clock, logger: logger.child({ component: 'aggregation' }) });

  async function loadReport(tenantId: string, periodType: ReportPeriodType, asOf: Date): Promise<ReportData> {
    return withTransientMapping('reading aggregates for a report', async () => {
      const org = await db.organization.findUnique({ where: { id: tenantId }, select: { id: true, name: true, timezone: true, currency: true } });
      if (!org) throw new UnknownTenantError(tenantId);
      const { periods, months } = reportPeriods(periodType, zoneOf({ ...org, status: '' }), asOf.toISOString());
      const starts = periods.map((p) => p.start.toJSDate());
      const where = { tenantId, periodType, periodStart: { in: starts } };
      const [revenueRows, tournamentRows] = await Promise.all([
        db.revenueAggregate.findMany({ where, orderBy: { periodStart: 'asc' } }),
        db.tournamentAggregate.findMany({ where, orderBy: { periodStart: 'asc' } }),
      ]);
      const byStart = new Map(revenueRows.map((r) => [r.periodStart.getTime(), r]));
      const series = periods.map((period) => ({ period, revenue: byStart.get(period.start.toMillis()) ?? null }));
      const withRows = series.map((s, i) => ({ ...s, i })).filter((s) => s.revenue !== null);
      const newest = withRows[withRows.length - 1];
      const tournaments = tournamentRows[tournamentRows.length - 1] ?? null;
      const formats = tournaments
        ? (
            await db.tournament.groupBy({
              by: ['format'],
              where: { tenantId, createdAt: { gte: tournaments.periodStart, lt: tournaments.periodEnd } },
              _count: { _all: true },
            })
          )
            .map((g) => ({ format: g.format, count: g._count._all }))
            .sort((a, b) => b.count - a.count || (a.format < b.format ? -1 : a.format > b.format ? 1 : 0))
        : [];
      // Cohort months are stored as dates (the month's first local day).
      const monthDates = months.map((m) => new Date(`${m.start.toISODate()!}T00:00:00.000Z`));
      const cohortRows = await db.userCohort.findMany({
        where: { tenantId, cohortMonth: { in: monthDates } },
        orderBy: [{ cohortMonth: 'asc' }, { monthNumber: 'asc' }],
      });
      const cohorts: CohortLine[] = [];
      for (const row of cohortRows) {
        const month = row.cohortMonth.toISOString().slice(0, 10);
        let line = cohorts[cohorts.length - 1];
        if (!line || line.month !== month) cohorts.push((line = { month, cohortSize: row.cohortSize, cells: [] }));
        line.cells.push({ monthNumber: row.monthNumber, retainedUsers: row.retainedUsers, cohortSize: row.cohortSize, retentionRate: row.retentionRate.toFixed(2) });
      }
      return {
        org,
        periodType,
        asOf: asOf.toISOString(),
        series,
        revenue: newest?.revenue ?? null,
        previousRevenue: newest && newest.i > 0 ? (series[newest.i - 1]!.revenue ?? null) : null,
        tournaments,
        formats,
        cohorts,
      };
    });
  }

  async function writeAtomically(path: string, content: string): Promise<void> {
    const partial = `${path}.partial-${process.pid}-${Date.now()}`;
    await writeFile(partial, content, 'utf8');
    await rename(partial, path);
  }

  async function planReportAggregates(input: PlanReportAggregatesInput): Promise<MissingAggregation[]> {
    const periodType = input.periodType ?? 'day';
    const org = await loadTenant(pool, input.tenantId);
    if (org.status !== 'active') return [];
    const zone = zoneOf(org);
    const asOf = toInstant(parseBoundary(input.asOf, 'UTC', 'asOf'));
    const { periods, months } = reportPeriods(periodType, zone, asOf);
    return [
      ...(await missingPeriodJobs(pool, input.tenantId, 'revenue', periodType, periods, asOf)),
      ...(await missingPeriodJobs(pool, input.tenantId, 'tournaments', periodType, periods, asOf)),
      ...(await missingCohortJobs(pool, input.tenantId, zone, months, asOf)),
    ];
  }

  return {
    /** The tenant the job names (it must exist), or every active organization, sorted by id. */
    async listReportTenants(input: { tenantId?: string }): Promise<string[]> {
      if (input.tenantId !== undefined) {
        const org = await withTransientMapping('loading the tenant', () => db.organization.findUnique({ where: { id: input.tenantId }, select: { id: true } }));
        if (!org) throw new UnknownTenantError(input.tenantId);
        return [org.id];
      }
      const rows = await withTransientMapping('listing active tenants', () =>
        db.organization.findMany({ where: { status: 'active' }, select: { id: true }, orderBy: { id: 'asc' } }),
      );
      return rows.map((r) => r.id);
    },

    /**
     * The aggregations a tenant's report needs before it is written: its periods and cohort
     * months without a complete row. None for a tenant that is not active (nothing aggregates
     * it; its report shows what exists).
     */
    planReportAggregates,

    /**
     * Writes one tenant's text and HTML summary, after computing the aggregates it shows that are
     * missing (with `ensureAggregatesKey`); returns their paths.
     */
    async writeTenantReport(input: WriteTenantReportInput): Promise<TenantReport> {
      const periodType = input.periodType ?? 'day';
      if (input.ensureAggregatesKey !== undefined) {
        const missing = await planReportAggregates({ tenantId: input.tenantId, periodType, asOf: input.asOf });
        for (const m of missing) {
          await aggregator.aggregateTenant({ tenantId: input.tenantId, job: m.job, asOf: input.asOf, jobKey: `${input.ensureAggregatesKey}/${m.key}`, attempt: currentAttempt() });
        }
        if (missing.length > 0) log.info({ tenantId: input.tenantId, aggregations: missing.length }, 'computed missing aggregates for a report');
      }
      const data = await loadReport(input.tenantId, periodType, new Date(input.asOf));
      const dir = resolve(reportDir, safeSegment(input.tenantId));
      await mkdir(dir, { recursive: true });
      const stem = join(dir, safeSegment(input.fileStem));
      const textPath = `${stem}.txt`;
      const htmlPath = `${stem}.html`;
      await writeAtomically(textPath, renderText(data));
      await writeAtomically(htmlPath, renderHtml(data));
      log.info({ tenantId: input.tenantId, textPath, htmlPath }, 'wrote tenant report');
      return {
        tenantId: input.tenantId,
        textPath,
        htmlPath,
        revenuePeriodStart: data.revenue?.periodStart.toISOString() ?? null,
        tournamentPeriodStart: data.tournaments?.periodStart.toISOString() ?? null,
        cohortMonth: data.cohorts[data.cohorts.length - 1]?.month ?? null,
      };
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
