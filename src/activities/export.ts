import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Period } from '../aggregation/periods';
import { parseBoundary } from '../aggregation/periods';
import { withTransientMapping } from '../aggregation/transient';
import type { Db } from '../db/client';
import { UnknownTenantError } from '../errors/unknown-tenant-error';
import type { Logger } from '../logger';
import { jobPeriods } from './planning';
import type { AggregationType, PeriodType } from '../contract/aggregation';

// Export: one tenant's aggregate rows for a range, streamed page by page (keyset pagination, one
// page in memory at a time) into a CSV or JSON file. The file is written under a temporary name
// and renamed when complete, so a retried or crashed attempt never leaves half a file behind.

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
interface Column<R> {
  name: string;
  cell(row: R): Cell;
}

const iso = (d: Date) => d.toISOString();
const isoDate = (d: Date) => d.toISOString().slice(0, 10);
const fixed2 = (d: { toFixed(n: number): string }) => d.toFixed(2);

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

// Columns carry the database's names; money stays exact (bigint cents as digits), rates keep their
// two decimals, instants are UTC ISO strings.
const REVENUE_COLUMNS: Column<RevenueRow>[] = [
  { name: 'tenant_id', cell: (r) => r.tenantId },
  { name: 'period_type', cell: (r) => r.periodType },
  { name: 'period_start', cell: (r) => iso(r.periodStart) },
  { name: 'period_end', cell: (r) => iso(r.periodEnd) },
  { name: 'total_revenue_cents', cell: (r) => r.totalRevenueCents.toString() },
  { name: 'gross_revenue_cents', cell: (r) => r.grossRevenueCents.toString() },
  { name: 'payment_count', cell: (r) => r.paymentCount },
  { name: 'payment_success_count', cell: (r) => r.paymentSuccessCount },
  { name: 'payment_success_rate', cell: (r) => fixed2(r.paymentSuccessRate) },
  { name: 'refund_count', cell: (r) => r.refundCount },
  { name: 'refund_amount_cents', cell: (r) => r.refundAmountCents.toString() },
  { name: 'mrr_cents', cell: (r) => r.mrrCents.toString() },
  { name: 'arr_cents', cell: (r) => r.arrCents.toString() },
  { name: 'computed_at', cell: (r) => iso(r.computedAt) },
];

const TOURNAMENT_COLUMNS: Column<TournamentRow>[] = [
  { name: 'tenant_id', cell: (r) => r.tenantId },
  { name: 'period_type', cell: (r) => r.periodType },
  { name: 'period_start', cell: (r) => iso(r.periodStart) },
  { name: 'period_end', cell: (r) => iso(r.periodEnd) },
  { name: 'tournament_count', cell: (r) => r.tournamentCount },
  { name: 'completed_count', cell: (r) => r.completedCount },
  { name: 'completion_rate', cell: (r) => fixed2(r.completionRate) },
  { name: 'total_players', cell: (r) => r.totalPlayers },
  { name: 'avg_players', cell: (r) => fixed2(r.avgPlayers) },
  { name: 'avg_duration_minutes', cell: (r) => (r.avgDurationMinutes === null ? null : fixed2(r.avgDurationMinutes)) },
  { name: 'most_popular_format', cell: (r) => r.mostPopularFormat },
  { name: 'revenue_cents', cell: (r) => r.revenueCents.toString() },
  { name: 'computed_at', cell: (r) => iso(r.computedAt) },
];

const COHORT_COLUMNS: Column<CohortRow>[] = [
  { name: 'tenant_id', cell: (r) => r.tenantId },
  { name: 'cohort_month', cell: (r) => isoDate(r.cohortMonth) },
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
async function* encode<R>(pages: AsyncIterable<R[]>, columns: Column<R>[], format: ExportFormat, counter: { rows: number }): AsyncGenerator<string> {
  if (format === 'csv') yield csvLine(columns.map((c) => c.name));
  else yield '[';
  for await (const page of pages) {
    let chunk = '';
    for (const row of page) {
      const cells = columns.map((c) => c.cell(row));
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

  async function tenantZone(tenantId: string): Promise<string> {
    const org = await withTransientMapping('loading the tenant', () =>
      db.organization.findUnique({ where: { id: tenantId }, select: { timezone: true } }),
    );
    if (!org) throw new UnknownTenantError(tenantId);
    return org.timezone;
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
     * Writes one tenant's aggregates of one type for the job's range (the same periods an
     * aggregation job with these fields covers) to `<exportDir>/<tenantId>/<fileStem>-<type>.<format>`.
     */
    async exportAggregates(input: ExportAggregatesInput): Promise<ExportedFile> {
      const zone = await tenantZone(input.tenantId);
      const cohorts = input.type === 'cohorts';
      const periodType: PeriodType = cohorts ? 'month' : (input.periodType ?? 'day');
      const asOf = parseBoundary(input.asOf, 'UTC', 'asOf');
      const periods: Period[] = jobPeriods(
        { tenantId: input.tenantId, type: input.type, periodType, periodStart: input.periodStart, periodEnd: input.periodEnd },
        cohorts,
        periodType,
        zone,
        asOf,
      );
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
        bytes = await writeFile(path, encode(revenuePages(input.tenantId, periodType, from, to), REVENUE_COLUMNS, input.format, counter));
      } else if (input.type === 'tournaments') {
        bytes = await writeFile(path, encode(tournamentPages(input.tenantId, periodType, from, to), TOURNAMENT_COLUMNS, input.format, counter));
      } else {
        const month = (p: Period) => new Date(`${p.start.toISODate()!}T00:00:00.000Z`);
        bytes = await writeFile(path, encode(cohortPages(input.tenantId, month(first), month(last)), COHORT_COLUMNS, input.format, counter));
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
