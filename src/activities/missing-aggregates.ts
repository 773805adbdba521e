import { DateTime } from 'luxon';
import type pg from 'pg';
import { assertZone, floorToPeriod, nextPeriodStart, toInstant, type Period } from '../aggregation/periods';
import { withTransientMapping } from '../aggregation/transient';
import type { AggregationJobData, PeriodType } from '../contract/aggregation';
import { UnknownTenantError } from '../errors/unknown-tenant-error';

// Reports and exports show aggregates; before they read them, this finds the periods of the
// tenant that have no usable row, as aggregation jobs of one tenant. The calling workflow runs
// each through the `aggregateTenant` activity (the same per-tenant path as every aggregation
// job), so a report on a database nothing has aggregated yet shows real figures.
//
// A revenue or tournament period is missing when it has no row, or when its row was computed
// before the period ended (an "so far" row of the current period, e.g. from the hourly schedule).
// A cohort month is missing when its cohort is non-empty but lacks a row for some month number up
// to the as-of month, or when a row before the as-of month was computed before that month began;
// or when the cohort is empty but rows remain.

/** One aggregation the caller must run before reading, with a key suffix unique to its content. */
export interface MissingAggregation {
  /** Appended to the caller's workflow id to make the outcome-ledger key of the run. */
  key: string;
  job: AggregationJobData;
}

/** Runs of missing periods beyond this are merged into one range (recomputing rows in between is harmless). */
const MAX_RUNS = 4;

export interface TenantForPlanning {
  timezone: string;
  status: string;
  currency: string;
  name: string;
}

export async function loadTenant(pool: pg.Pool, tenantId: string): Promise<TenantForPlanning> {
  const rows = await withTransientMapping('loading the tenant', async () =>
    (
      await pool.query<TenantForPlanning>({
        name: 'missing_tenant',
        text: 'SELECT timezone, status, currency, name FROM organizations WHERE id = $1',
        values: [tenantId],
      })
    ).rows,
  );
  const org = rows[0];
  if (!org) throw new UnknownTenantError(tenantId);
  return org;
}

/** Contiguous runs of `missing` flags over `periods`, merged into one when there are many. */
function runsOf(periods: Period[], missing: boolean[]): Period[] {
  const runs: Period[] = [];
  for (let i = 0; i < periods.length; i++) {
    if (!missing[i]) continue;
    const last = runs[runs.length - 1];
    if (last && i > 0 && missing[i - 1]) last.end = periods[i]!.end;
    else runs.push({ start: periods[i]!.start, end: periods[i]!.end });
  }
  return runs.length > MAX_RUNS ? [{ start: runs[0]!.start, end: runs[runs.length - 1]!.end }] : runs;
}

/**
 * The revenue or tournament periods of `periods` (ascending, contiguous or not) without a
 * complete row, as aggregation jobs over ranges of instants.
 */
export async function missingPeriodJobs(
  pool: pg.Pool,
  tenantId: string,
  type: 'revenue' | 'tournaments',
  periodType: PeriodType,
  periods: Period[],
  asOf: string,
): Promise<MissingAggregation[]> {
  if (periods.length === 0) return [];
  const table = type === 'revenue' ? 'revenue_aggregates' : 'tournament_aggregates';
  const starts = periods.map((p) => toInstant(p.start));
  const ends = periods.map((p) => toInstant(p.end));
  const present = await withTransientMapping(`checking ${type} aggregates`, async () =>
    (
      await pool.query<{ i: number }>({
        name: `missing_${type}`,
        text: `SELECT p.i::int AS i
               FROM unnest($2::timestamptz[], $3::timestamptz[]) WITH ORDINALITY AS p(period_start, period_end, i)
               JOIN ${table} a ON a.tenant_id = $1 AND a.period_type = $4 AND a.period_start = p.period_start
                 AND a.period_end = p.period_end AND a.computed_at >= p.period_end`,
        values: [tenantId, starts, ends, periodType],
      })
    ).rows,
  );
  const have = new Set(present.map((r) => r.i - 1));
  return runsOf(periods, periods.map((_, i) => !have.has(i))).map((run) => {
    const periodStart = toInstant(run.start);
    const periodEnd = toInstant(run.end);
    return { key: `ensure:${type}:${periodType}:${periodStart}:${periodEnd}`, job: { tenantId, type, periodType, periodStart, periodEnd, asOf } };
  });
}

/**
 * The cohort months of `months` (ascending tenant-local months) whose rows are missing or stale
 * as of `asOf`, as cohort jobs over ranges of local dates.
 */
export async function missingCohortJobs(pool: pg.Pool, tenantId: string, zone: string, months: Period[], asOf: string): Promise<MissingAggregation[]> {
  if (months.length === 0) return [];
  const asOfMonth = floorToPeriod(DateTime.fromISO(asOf, { zone }), 'month');
  // Months after the as-of month have no cohort yet: nothing to compute.
  const due = months.filter((m) => m.start <= asOfMonth);
  if (due.length === 0) return [];
  const expectedMax = due.map((m) => Math.round(asOfMonth.diff(m.start, 'months').months));
  const rows = await withTransientMapping('checking cohort aggregates', async () =>
    (
      await pool.query<{ i: number; has_users: boolean; cells: number; stale: boolean; extra: number }>({
        name: 'missing_cohorts',
        text: `SELECT m.i::int AS i,
                      EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = $1 AND u.created_at >= m.month_start AND u.created_at < m.month_end) AS has_users,
                      (SELECT count(*) FROM user_cohorts c WHERE c.tenant_id = $1 AND c.cohort_month = m.month AND c.month_number <= m.max_k)::int AS cells,
                      EXISTS (SELECT 1 FROM user_cohorts c WHERE c.tenant_id = $1 AND c.cohort_month = m.month AND c.month_number < m.max_k
                                AND c.computed_at < $5::timestamptz) AS stale,
                      (SELECT count(*) FROM user_cohorts c WHERE c.tenant_id = $1 AND c.cohort_month = m.month)::int AS extra
               FROM unnest($2::date[], $3::timestamptz[], $4::timestamptz[], $6::int[]) WITH ORDINALITY AS m(month, month_start, month_end, max_k, i)`,
        values: [
          tenantId,
          due.map((m) => m.start.toISODate()!),
          due.map((m) => toInstant(m.start)),
          due.map((m) => toInstant(m.end)),
          toInstant(asOfMonth),
          expectedMax,
        ],
      })
    ).rows,
  );
  const missing = new Array<boolean>(due.length).fill(false);
  for (const r of rows) {
    const i = r.i - 1;
    missing[i] = r.has_users ? r.cells < expectedMax[i]! + 1 || r.stale : r.extra > 0;
  }
  return runsOf(due, missing).map((run) => {
    const periodStart = run.start.toISODate()!;
    // The local first day of the month after the run: the range's exclusive end.
    const periodEnd = nextPeriodStart(floorToPeriod(run.end.minus({ milliseconds: 1 }), 'month'), 'month').toISODate()!;
    return { key: `ensure:cohorts:${periodStart}:${periodEnd}:${asOf}`, job: { tenantId, type: 'cohorts', periodType: 'month', periodStart, periodEnd, asOf } };
  });
}

/** Asserts the tenant's timezone is usable before any calendar is computed in it. */
export function zoneOf(org: TenantForPlanning): string {
  return assertZone(org.timezone, 'organizations.timezone');
}
