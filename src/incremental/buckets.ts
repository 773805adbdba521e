import { DateTime } from 'luxon';
import { PERIOD_TYPES, type PeriodType } from '../contract/aggregation';
import { MAX_JOB_PERIODS } from '../contract/limits';
import { planCohortMonths } from '../aggregation/cohort-months';
import { nextPeriodStart, periodContaining, toInstant, type Period } from '../aggregation/periods';
import type { CohortsInput } from '../db/sql/cohorts';
import type { PeriodsInput } from '../db/sql/periods';

// Pending changes -> the tenant-local buckets they dirty (docs/incremental.md). Pure: the
// refresher reads the changes and what the tenant has stored, this decides what to recompute.

/** What a change row says changed (aggregate_changes.aggregate_type). */
export const CHANGE_KINDS = ['revenue', 'mrr', 'tournaments', 'cohorts'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface PendingChange {
  kind: ChangeKind;
  /** Earliest and latest time the statement changed (ISO instants, inclusive). */
  from: string;
  to: string;
  /** When the writing transaction started. */
  recordedAt: string;
}

/** A stored aggregate row's period, as the refresher reads it back. */
export interface StoredPeriod {
  type: 'revenue' | 'tournaments';
  periodType: PeriodType;
  start: string;
  end: string;
}

export interface TenantShape {
  zone: string;
  /** Period types the tenant has rows of, per type ('day' is always refreshed as well). */
  revenueTypes: readonly PeriodType[];
  tournamentTypes: readonly PeriodType[];
  /**
   * Stored periods the changes may reach beyond the buckets of their own times: revenue rows
   * ending after the earliest subscription change (their MRR), and any row starting after as-of.
   */
  stored: readonly StoredPeriod[];
}

export type PeriodsRun = Omit<PeriodsInput, 'tenantId'>;

export interface DirtyPlan {
  /** Contiguous runs of dirty periods, any number per period type. */
  revenue: PeriodsRun[];
  tournaments: PeriodsRun[];
  /** The dirty cohort months as one contiguous range (months between two dirty ones included). */
  cohorts?: Omit<CohortsInput, 'tenantId'> & { months: number };
}

interface Bucket {
  startMs: number;
  start: string;
  end: string;
}

function withDay(types: readonly PeriodType[]): PeriodType[] {
  return PERIOD_TYPES.filter((p) => p === 'day' || types.includes(p));
}

interface CachedBucket extends Bucket {
  endMs: number;
}

/** Recently used periods per (zone, period type): most changes of an hour fall in the same few buckets, and luxon's zone arithmetic costs tens of microseconds a call. */
const RECENT_BUCKETS = new Map<string, CachedBucket[]>();
const RECENT_PER_KEY = 64;
const RECENT_KEYS = 1_000;

/** The period of `periodType` containing instant `ms` in `zone`. */
function bucketAt(zone: string, periodType: PeriodType, ms: number): CachedBucket {
  const key = `${zone}\u0000${periodType}`;
  let recent = RECENT_BUCKETS.get(key);
  const hit = recent?.find((b) => b.startMs <= ms && ms < b.endMs);
  if (hit) return hit;
  const p = periodContaining(DateTime.fromMillis(ms, { zone }), periodType);
  const bucket = { startMs: p.start.toMillis(), endMs: p.end.toMillis(), start: toInstant(p.start), end: toInstant(p.end) };
  if (!recent) {
    if (RECENT_BUCKETS.size >= RECENT_KEYS) RECENT_BUCKETS.delete(RECENT_BUCKETS.keys().next().value!);
    RECENT_BUCKETS.set(key, (recent = []));
  }
  recent.unshift(bucket);
  if (recent.length > RECENT_PER_KEY) recent.pop();
  return bucket;
}

/** Periods of `periodType` intersecting [fromMs, toMs] that have started by `asOfMs`. */
function bucketsBetween(zone: string, fromMs: number, toMs: number, asOfMs: number, periodType: PeriodType, into: Map<number, Bucket>): void {
  const lastMs = Math.min(toMs, asOfMs);
  for (let b = bucketAt(zone, periodType, fromMs); b.startMs <= lastMs; b = bucketAt(zone, periodType, b.endMs)) into.set(b.startMs, b);
}

/** Sorted buckets -> contiguous runs (at most MAX_JOB_PERIODS periods each, like a job's range). */
function runsOf(periodType: PeriodType, buckets: Map<number, Bucket>): PeriodsRun[] {
  const sorted = [...buckets.values()].sort((a, b) => a.startMs - b.startMs);
  const runs: PeriodsRun[] = [];
  let current: PeriodsRun | undefined;
  for (const b of sorted) {
    if (current && current.ends[current.ends.length - 1] === b.start && current.starts.length < MAX_JOB_PERIODS) {
      current.starts.push(b.start);
      current.ends.push(b.end);
    } else {
      current = { periodType, starts: [b.start], ends: [b.end] };
      runs.push(current);
    }
  }
  return runs;
}

/**
 * The buckets a tenant's pending changes dirty, for every period type it has rows of (and day):
 * - revenue / tournaments changes: every period intersecting [from, to] that has started by
 *   as-of (a day's change is also its week's, month's, quarter's and year's), and stored rows
 *   beyond as-of in that range;
 * - subscription changes (`mrr`): the MRR at the end of every stored revenue period ending after
 *   the earliest change, and of the current period (so MRR up to now is fresh);
 * - cohorts changes (signup times): every cohort month from the earliest to the latest, up to the
 *   as-of month; the cohort statement recomputes each of them, all its month numbers.
 */
const RECENT_COHORT_PLANS = new Map<string, NonNullable<DirtyPlan['cohorts']>>();

/** The cohort statement's input for the months [firstMs .. lastMs] (month starts), as of `asOfIso`; cached like the buckets. */
function cohortPlanOf(zone: string, firstMs: number, lastMs: number, asOfIso: string): NonNullable<DirtyPlan['cohorts']> {
  // Keyed by the as-of month: the plan depends on as-of only through it.
  const key = `${zone}\u0000${firstMs}\u0000${lastMs}\u0000${bucketAt(zone, 'month', Date.parse(asOfIso)).startMs}`;
  const cached = RECENT_COHORT_PLANS.get(key);
  if (cached) return cached;
  const asOf = DateTime.fromISO(asOfIso, { zone });
  const months: Period[] = [];
  const last = DateTime.fromMillis(lastMs, { zone });
  for (let m: DateTime = DateTime.fromMillis(firstMs, { zone }); m <= last; m = nextPeriodStart(m, 'month')) months.push({ start: m, end: nextPeriodStart(m, 'month') });
  const p = planCohortMonths(months, asOf, MAX_JOB_PERIODS);
  const result = { cohortMonths: p.cohortMonths, bounds: p.bounds, asOfIndex: p.asOfIndex, months: months.length };
  if (RECENT_COHORT_PLANS.size >= RECENT_KEYS) RECENT_COHORT_PLANS.delete(RECENT_COHORT_PLANS.keys().next().value!);
  RECENT_COHORT_PLANS.set(key, result);
  return result;
}

export function dirtyBuckets(changes: readonly PendingChange[], shape: TenantShape, asOfIso: string): DirtyPlan {
  const zone = shape.zone;
  const asOfMs = Date.parse(asOfIso);
  const revenueTypes = withDay(shape.revenueTypes);
  const tournamentTypes = withDay(shape.tournamentTypes);
  const plan: DirtyPlan = { revenue: [], tournaments: [] };

  for (const type of ['revenue', 'tournaments'] as const) {
    const own = changes.filter((c) => c.kind === type || (type === 'revenue' && c.kind === 'mrr'));
    if (own.length === 0) continue;
    const periodTypes = type === 'revenue' ? revenueTypes : tournamentTypes;
    for (const periodType of periodTypes) {
      const buckets = new Map<number, Bucket>();
      const stored = shape.stored.filter((s) => s.type === type && s.periodType === periodType);
      const keep = (s: StoredPeriod) => buckets.set(Date.parse(s.start), { startMs: Date.parse(s.start), start: s.start, end: s.end });
      for (const c of own) {
        const fromMs = Date.parse(c.from);
        const toMs = Date.parse(c.to);
        if (c.kind === 'mrr') {
          const current = bucketAt(zone, periodType, asOfMs);
          if (current.endMs > fromMs) buckets.set(current.startMs, current);
          for (const s of stored) if (Date.parse(s.end) > fromMs) keep(s);
        } else {
          bucketsBetween(zone, fromMs, toMs, asOfMs, periodType, buckets);
          for (const s of stored) if (Date.parse(s.start) > asOfMs && Date.parse(s.start) <= toMs && Date.parse(s.end) > fromMs) keep(s);
        }
      }
      plan[type].push(...runsOf(periodType, buckets));
    }
  }

  const cohortChanges = changes.filter((c) => c.kind === 'cohorts');
  if (cohortChanges.length > 0) {
    const asOfMonthMs = bucketAt(zone, 'month', asOfMs).startMs;
    let firstMs: number | undefined;
    let lastMs: number | undefined;
    for (const c of cohortChanges) {
      const fromMs = bucketAt(zone, 'month', Date.parse(c.from)).startMs;
      const toMs = Math.min(bucketAt(zone, 'month', Date.parse(c.to)).startMs, asOfMonthMs);
      if (fromMs > asOfMonthMs) continue; // signups after as-of: no cohort row exists for them yet
      if (firstMs === undefined || fromMs < firstMs) firstMs = fromMs;
      if (lastMs === undefined || toMs > lastMs) lastMs = toMs;
    }
    if (firstMs !== undefined && lastMs !== undefined) plan.cohorts = cohortPlanOf(zone, firstMs, lastMs, asOfIso);
  }
  return plan;
}
