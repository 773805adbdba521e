import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DateTime } from 'luxon';
import type { Period } from '../aggregation/periods';
import { parseBoundary, toInstant } from '../aggregation/periods';
import { withTransientMapping } from '../aggregation/transient';
import { poolOf, type Db } from '../db/client';
import { UnknownTenantError } from '../errors/unknown-tenant-error';
import type { Logger } from '../logger';
import { loadTenant, missingCohortJobs, missingPeriodJobs, zoneOf, type MissingAggregation } from './missing-aggregates';
import { jobPeriods } from './planning';
import { typesOfJob, type AggregationType, type AggregationTypeOrAll, type PeriodType } from '../contract/aggregation';

// Export: one tenant's aggregate rows for a range, streamed page by page (keyset pagination, one
// page in memory at a time) into a CSV or JSON file. The file is written under a temporary name
// and renamed when complete, so a retried or crashed attempt never leaves half a file behind.
// Rows are in the tenant's terms: its timezone and local period days next to the UTC instants,
// its currency, and every amount both as integer cents and as an exact decimal string. The
// workflow first computes the rows of the range that are missing (planExportAggregates, then
// the aggregation activity), so an export never comes out empty because nothing had run yet.

export type ExportFormat = 'csv' | 'json';

export interface ExportAggregatesInput {
  tenantId: string;
  type: AggregationType;
  /** For revenue and tournaments. @defaultValue day */
  periodType?: PeriodType;
  periodStart?: string;
  periodEnd?: string;
  format: ExportFormat;
  /** ISO instant the default range is computed from (the job's enqueue time, never the wall clock). */
  asOf: string;
  /** File name stem, usually the job id; the file is `<exportDir>/<tenantId>/<fileStem>-<type>.<format>`. */
  fileStem: string;
}

/** The range fields of an export, as the aggregation of the same fields reads them. */
export type ExportRangeInput = Pick<ExportAggregatesInput, 'tenantId' | 'periodType' | 'periodStart' | 'periodEnd' | 'asOf'>;

export interface ExportedFile {
  type: AggregationType;
  format: ExportFormat;
  /** Absolute path. */
  path: string;
  rows: number;
  bytes: number;
  /** `month` for cohorts. */
  periodType: PeriodType;
  /** The range exported, as ISO instants of the tenant-local boundaries: [rangeStart, rangeEnd). */
  rangeStart: string;
  rangeEnd: string;
}

export interface ExportActivityDeps {
  db: Db;
  logger: Logger;
  /** Directory the files are written to (created when missing). */
  exportDir: string;
  /** Rows per database round trip. @defaultValue 500 */
  pageSize?: number;
}

type Cell = string | number | null;
/** What every row of one export shares: the tenant's own terms. */
interface TenantTerms {
  timezone: string;
  currency: string;
}
interface Column<R> {
  name: string;
  cell(row: R, terms: TenantTerms): Cell;
}

const iso = (d: Date) => d.toISOString();
const isoDate = (d: Date) => d.toISOString().slice(0, 10);
const fixed2 = (d: { toFixed(n: number): string }) => d.toFixed(2);

/** Integer cents as an exact decimal string (`-1234` → `-12.34`), from the bigint: no float on the way. */
export function centsToDecimal(cents: bigint): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  return `${negative ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** The tenant-local first day of a period, and its last day (the day before its exclusive end). */
const firstDay = (start: Date, zone: string) => DateTime.fromJSDate(start, { zone }).toISODate()!;
const lastDay = (end: Date, zone: string) => DateTime.fromJSDate(end, { zone }).minus({ days: 1 }).toISODate()!;

/** `<name>_cents` as digits and `<name>` as a decimal in the tenant's currency. */
function money<R>(name: string, get: (r: R) => bigint): Column<R>[] {
  return [
    { name: `${name}_cents`, cell: (r) => get(r).toString() },
    { name, cell: (r) => centsToDecimal(get(r)) },
  ];
}

/** The period columns: instants (UTC), then the tenant's timezone and local first and last day. */
function periodColumns<R extends { periodStart: Date; periodEnd: Date }>(): Column<R>[] {
  return [
    { name: 'period_start', cell: (r) => iso(r.periodStart) },
    { name: 'period_end', cell: (r) => iso(r.periodEnd) },
    { name: 'timezone', cell: (_r, t) => t.timezone },
    { name: 'period_first_day', cell: (r, t) => firstDay(r.periodStart, t.timezone) },
    { name: 'period_last_day', cell: (r, t) => lastDay(r.periodEnd, t.timezone) },
  ];
}

const currencyColumn = { name: 'currency', cell: (_r: unknown, t: TenantTerms) => t.currency };

/** Row shapes as Prisma returns them (bigint and Decimal kept exact). */
interface RevenueRow {
  tenantId: string; periodType: string; periodStart: Date; periodEnd: Date;
  totalRevenueCents: bigint; grossRevenueCents: bigint; paymentCount: number; paymentSuccessCount: number;
  paymentSuccessRate: { toFixed(n: number): string }; refundCount: number; refundAmountCents: bigint;
  mrrCents: bigint; arrCents: bigint; computedAt: Date;
}
interface TournamentRow {
  tenantId: string; periodType: string; periodStart: Date; periodEnd: Date;
  tournamentCount: number; completedCount: number; completionRate: { toFixed(n: number): string };
  totalPlayers: number; avgPlayers: { toFixed(n: number): string }; avgDurationMinutes: { toFixed(n: number): string } | null;
  mostPopularFormat: string | null; revenueCents: bigint; computedAt: Date;
}
interface CohortRow {
  tenantId: string; cohortMonth: Date; monthNumber: number; cohortSize: number; retainedUsers: number;
  retentionRate: { toFixed(n: number): string }; computedAt: Date;
}

// Columns carry the database's names; money stays exact (bigint cents as digits, and the same
// amount as a decimal string next to it), rates keep their two decimals, instants are UTC ISO
// strings, local days are the tenant's calendar dates.
const REVENUE_COLUMNS: Column<RevenueRow>[] = [
  { name: 'tenant_id', cell: (r) => r.tenantId },
  { name: 'period_type', cell: (r) => r.periodType },
  ...periodColumns<RevenueRow>(),
  currencyColumn,
  ...money<RevenueRow>('total_revenue', (r) => r.totalRevenueCents),
  ...money<RevenueRow>('gross_revenue', (r) => r.grossRevenueCents),
  { name: 'payment_count', cell: (r) => r.paymentCount },
  { name: 'payment_success_count', cell: (r) => r.paymentSuccessCount },
  { name: 'payment_success_rate', cell: (r) => fixed2(r.paymentSuccessRate) },
  { name: 'refund_count', cell: (r) => r.refundCount },
  ...money<RevenueRow>('refund_amount', (r) => r.refundAmountCents),
  ...money<RevenueRow>('mrr', (r) => r.mrrCents),
  ...money<RevenueRow>('arr', (r) => r.arrCents),
  { name: 'computed_at', cell: (r) => iso(r.computedAt) },
];

const TOURNAMENT_COLUMNS: Column<TournamentRow>[] = [
  { name: 'tenant_id', cell: (r) => r.tenantId },
  { name: 'period_type', cell: (r) => r.periodType },
  ...periodColumns<TournamentRow>(),
  currencyColumn,
  { name: 'tournament_count', cell: (r) => r.tournamentCount },
  { name: 'completed_count', cell: (r) => r.completedCount },
  { name: 'completion_rate', cell: (r) => fixed2(r.completionRate) },
  { name: 'total_players', cell: (r) => r.totalPlayers },
  { name: 'avg_players', cell: (r) => fixed2(r.avgPlayers) },
  { name: 'avg_duration_minutes', cell: (r) => (r.avgDurationMinutes === null ? null : fixed2(r.avgDurationMinutes)) },
  { name: 'most_popular_format', cell: (r) => r.mostPopularFormat },
  ...money<TournamentRow>('revenue', (r) => r.revenueCents),
  { name: 'computed_at', cell: (r) => iso(r.computedAt) },
];

const COHORT_COLUMNS: Column<CohortRow>[] = [
  { name: 'tenant_id', cell: (r) => r.tenantId },
  { name: 'cohort_month', cell: (r) => isoDate(r.cohortMonth) },
  { name: 'timezone', cell: (_r, t) => t.timezone },
  // The instants of the cohort month's local boundaries, like period_start/period_end elsewhere.
  { name: 'cohort_month_start', cell: (r, t) => iso(DateTime.fromISO(isoDate(r.cohortMonth), { zone: t.timezone }).toJSDate()) },
  { name: 'cohort_month_end', cell: (r, t) => iso(DateTime.fromISO(isoDate(r.cohortMonth), { zone: t.timezone }).plus({ months: 1 }).toJSDate()) },
  { name: 'month_number', cell: (r) => r.monthNumber },
  { name: 'cohort_size', cell: (r) => r.cohortSize },
  { name: 'retained_users', cell: (r) => r.retainedUsers },
  { name: 'retention_rate', cell: (r) => fixed2(r.retentionRate) },
  { name: 'computed_at', cell: (r) => iso(r.computedAt) },
];

/** RFC 4180: quote a field holding a comma, quote, CR or LF, doubling inner quotes. Null is an empty field. */
export function csvField(cell: Cell): string {
  if (cell === null) return '';
  const text = String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(cells: Cell[]): string {
  return `${cells.map(csvField).join(',')}\r\n`;
}

/** Encodes pages of rows as one CSV document (header first) or one JSON array of objects. */
async function* encode<R>(
  pages: AsyncIterable<R[]>,
  columns: Column<R>[],
  terms: TenantTerms,
  format: ExportFormat,
  counter: { rows: number },
): AsyncGenerator<string> {
  if (format === 'csv') yield csvLine(columns.map((c) => c.name));
  else yield '[';
  for await (const page of pages) {
    let chunk = '';
    for (const row of page) {
      const cells = columns.map((c) => c.cell(row, terms));
      if (format === 'csv') {
        chunk += csvLine(cells);
      } else {
        const object = Object.fromEntries(columns.map((c, i) => [c.name, cells[i]]));
        chunk += `${counter.rows === 0 ? '\n' : ',\n'}${JSON.stringify(object)}`;
      }
      counter.rows += 1;
    }
    if (chunk) yield chunk;
  }
  if (format === 'json') yield counter.rows === 0 ? ']\n' : '\n]\n';
}

/** A name safe as one path segment (job ids and tenant ids may hold `/`). */
export function safeSegment(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? `_${cleaned}` : cleaned;
}

export function createExportActivities({ db, logger, exportDir, pageSize = 500 }: ExportActivityDeps) {
  const log = logger.child({ component: 'export' });
  const pool = poolOf(db);

  async function tenantTerms(tenantId: string): Promise<TenantTerms> {
    const org = await withTransientMapping('loading the tenant', () =>
      db.organization.findUnique({ where: { id: tenantId }, select: { timezone: true, currency: true } }),
    );
    if (!org) throw new UnknownTenantError(tenantId);
    return org;
  }

  /** The periods an export of `type` covers (the same an aggregation job with these fields covers). */
  function exportPeriods(input: ExportRangeInput, type: AggregationType, zone: string): { periodType: PeriodType; periods: Period[] } {
    const cohorts = type === 'cohorts';
    const periodType: PeriodType = cohorts ? 'month' : (input.periodType ?? 'day');
    const asOf = parseBoundary(input.asOf, 'UTC', 'asOf');
    const job = { tenantId: input.tenantId, type, periodType, periodStart: input.periodStart, periodEnd: input.periodEnd };
    return { periodType, periods: jobPeriods(job, cohorts, periodType, zone, asOf) };
  }

  /** Pages of one tenant's rows of [from, to), by period_start (keyset pagination: no OFFSET scans). */
  async function* periodPages<Row extends { periodStart: Date }>(
    what: string,
    fetch: (periodStart: { gte: Date; lt: Date; gt?: Date }) => Promise<Row[]>,
    from: Date,
    to: Date,
  ): AsyncGenerator<Row[]> {
    let after: Date | undefined;
    for (;;) {
      const page = await withTransientMapping(`reading ${what}`, () => fetch({ gte: from, lt: to, ...(after ? { gt: after } : {}) }));
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.periodStart;
    }
  }

  const revenuePages = (tenantId: string, periodType: PeriodType, from: Date, to: Date) =>
    periodPages<RevenueRow>(
      'revenue aggregates',
      (periodStart) => db.revenueAggregate.findMany({ where: { tenantId, periodType, periodStart }, orderBy: { periodStart: 'asc' }, take: pageSize }) as Promise<RevenueRow[]>,
      from,
      to,
    );

  const tournamentPages = (tenantId: string, periodType: PeriodType, from: Date, to: Date) =>
    periodPages<TournamentRow>(
      'tournament aggregates',
      (periodStart) => db.tournamentAggregate.findMany({ where: { tenantId, periodType, periodStart }, orderBy: { periodStart: 'asc' }, take: pageSize }) as Promise<TournamentRow[]>,
      from,
      to,
    );

  /** Cohort months are dates (the month's first local day); the range is [firstMonth, lastMonth]. */
  async function* cohortPages(tenantId: string, firstMonth: Date, lastMonth: Date): AsyncGenerator<CohortRow[]> {
    let after: { month: Date; n: number } | undefined;
    for (;;) {
      const keyset = after
        ? [{ OR: [{ cohortMonth: { gt: after.month } }, { cohortMonth: after.month, monthNumber: { gt: after.n } }] }]
        : [];
      const page = await withTransientMapping('reading cohort aggregates', () =>
        db.userCohort.findMany({
          where: { tenantId, AND: [{ cohortMonth: { gte: firstMonth, lte: lastMonth } }, ...keyset] },
          orderBy: [{ cohortMonth: 'asc' }, { monthNumber: 'asc' }],
          take: pageSize,
        }),
      );
      if (page.length > 0) yield page as CohortRow[];
      if (page.length < pageSize) return;
      const last = page[page.length - 1]!;
      after = { month: last.cohortMonth, n: last.monthNumber };
    }
  }

  async function writeFile(target: string, chunks: AsyncIterable<string>): Promise<number> {
    const partial = `${target}.partial-${process.pid}-${Date.now()}`;
    try {
      await pipeline(Readable.from(chunks), createWriteStream(partial, { encoding: 'utf8' }));
      await rename(partial, target);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    return (await stat(target)).size;
  }

  return {
    /**
     * The aggregations an export needs before its files are written: the periods (cohort months)
     * of its range, for every type it asks for, without a complete row. None for a tenant that is
     * not active (nothing aggregates it; its export holds what exists).
     */
    async planExportAggregates(input: ExportRangeInput & { type: AggregationTypeOrAll }): Promise<MissingAggregation[]> {
      const org = await loadTenant(pool, input.tenantId);
      if (org.status !== 'active') return [];
      const zone = zoneOf(org);
      const asOf = toInstant(parseBoundary(input.asOf, 'UTC', 'asOf'));
      const planned: MissingAggregation[] = [];
      for (const type of typesOfJob(input.type)) {
        const { periodType, periods } = exportPeriods(input, type, zone);
        if (type === 'cohorts') planned.push(...(await missingCohortJobs(pool, input.tenantId, zone, periods, asOf)));
        else planned.push(...(await missingPeriodJobs(pool, input.tenantId, type, periodType, periods, asOf)));
      }
      if (planned.length > 0) log.info({ tenantId: input.tenantId, aggregations: planned.length }, 'export needs missing aggregates');
      return planned;
    },

    /**
     * Writes one tenant's aggregates of one type for the job's range (the same periods an
     * aggregation job with these fields covers) to `<exportDir>/<tenantId>/<fileStem>-<type>.<format>`.
     */
    async exportAggregates(input: ExportAggregatesInput): Promise<ExportedFile> {
      const terms = await tenantTerms(input.tenantId);
      const { periodType, periods } = exportPeriods(input, input.type, terms.timezone);
      const first = periods[0]!;
      const last = periods[periods.length - 1]!;
      const from = first.start.toJSDate();
      const to = last.end.toJSDate();

      const dir = resolve(exportDir, safeSegment(input.tenantId));
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${safeSegment(input.fileStem)}-${input.type}.${input.format}`);
      const counter = { rows: 0 };
      let bytes: number;
      if (input.type === 'revenue') {
        bytes = await writeFile(path, encode(revenuePages(input.tenantId, periodType, from, to), REVENUE_COLUMNS, terms, input.format, counter));
      } else if (input.type === 'tournaments') {
        bytes = await writeFile(path, encode(tournamentPages(input.tenantId, periodType, from, to), TOURNAMENT_COLUMNS, terms, input.format, counter));
      } else {
        const month = (p: Period) => new Date(`${p.start.toISODate()!}T00:00:00.000Z`);
        bytes = await writeFile(path, encode(cohortPages(input.tenantId, month(first), month(last)), COHORT_COLUMNS, terms, input.format, counter));
      }
      const result: ExportedFile = {
        type: input.type,
        format: input.format,
        path,
        rows: counter.rows,
        bytes,
        periodType,
        rangeStart: first.start.toUTC().toISO()!,
        rangeEnd: last.end.toUTC().toISO()!,
      };
      log.info({ tenantId: input.tenantId, type: input.type, rows: result.rows, path }, 'exported aggregates');
      return result;
    },
  };
}

export type ExportActivities = ReturnType<typeof createExportActivities>;
