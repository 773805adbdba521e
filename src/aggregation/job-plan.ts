import { DateTime, IANAZone } from 'luxon';
import { typesOfJob, AGGREGATION_TYPES, type AggregationJobData, type AggregationType, type PeriodType } from '../contract/aggregation';
import { MAX_JOB_PERIODS } from '../contract/limits';
import { InvalidInputError } from '../errors/invalid-input-error';
import { InvalidPeriodError } from '../errors/invalid-period-error';
import type { PeriodsInput } from '../db/sql/periods';
import type { CohortsInput } from '../db/sql/cohorts';
import { planCohortMonths } from './cohort-months';
import { floorToPeriod, isPeriodType, listPeriods, parseBoundary, periodContaining, toInstant, type Period } from './periods';

// A job's periods per tenant timezone (docs/data-contract.md, "Which periods a job computes"),
// decided in TypeScript with luxon so the SQL only sees lists of instants. Pure, and cached per
// (timezone, job, as-of): a job over 10,000 tenants in five timezones computes its period lists
// five times, not 10,000.

export { MAX_JOB_PERIODS };

const PLUS_UNIT = { day: 'days', week: 'weeks', month: 'months', quarter: 'quarters', year: 'years' } as const;

/** The statement inputs of one type for one tenant (tenant id filled in by the caller). */
export type TypePlan =
  | { type: 'revenue' | 'tournaments'; periodType: PeriodType; periods: number; input: Omit<PeriodsInput, 'tenantId'> }
  | { type: 'cohorts'; periodType: 'month'; periods: number; input: Omit<CohortsInput, 'tenantId'> };

function typesOf(job: AggregationJobData): readonly AggregationType[] {
  if (job.type === 'all' || (AGGREGATION_TYPES as readonly string[]).includes(job.type)) return typesOfJob(job.type);
  throw new InvalidInputError('type', `type: expected one of ${[...AGGREGATION_TYPES, 'all'].join(', ')}, got ${JSON.stringify(job.type)}`);
}

function periodCount(job: AggregationJobData, fallback: number): number {
  const n = job.periods ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_JOB_PERIODS) {
    throw new InvalidInputError('periods', `periods: expected a whole number from 1 to ${MAX_JOB_PERIODS}, got ${JSON.stringify(job.periods)}`);
  }
  return n;
}

/** The instant a job's defaults and cohort month numbers are computed from: its `asOf`, else the request time. */
export function asOfOfJob(job: AggregationJobData, requestedAt: string): string {
  const raw = job.asOf ?? requestedAt;
  return toInstant(parseBoundary(raw, 'UTC', job.asOf === undefined ? 'requestedAt' : 'asOf'));
}

/**
 * The periods one job covers for one type in one timezone:
 * - no periodStart/periodEnd: the last `periods` (default 1) complete periods before `asOf`, plus
 *   the current one with `includeCurrent`; cohorts: the `periods` (default 2) cohort months
 *   ending with the month that contains `asOf`;
 * - periodStart alone: the one period (cohort month) containing it;
 * - a range: every period intersecting [periodStart, periodEnd).
 */
export function jobPeriods(job: AggregationJobData, cohorts: boolean, periodType: PeriodType, zone: string, asOf: DateTime): Period[] {
  const max = { maxPeriods: MAX_JOB_PERIODS };
  if (job.periodStart === undefined && job.periodEnd === undefined) {
    const current = floorToPeriod(asOf.setZone(zone), periodType);
    if (cohorts) {
      const months = periodCount(job, 2);
      return listPeriods(floorToPeriod(current.minus({ months: months - 1 }), 'month'), current.plus({ months: 1 }), 'month', max);
    }
    const n = periodCount(job, 1);
    const from = floorToPeriod(current.minus({ [PLUS_UNIT[periodType]]: n }), periodType);
    const to = job.includeCurrent ? periodContaining(current, periodType).end : current;
    return listPeriods(from, to, periodType, max);
  }
  if (job.periodEnd === undefined) return [periodContaining(parseBoundary(job.periodStart, zone, 'periodStart'), periodType)];
  const end = parseBoundary(job.periodEnd, zone, 'periodEnd');
  if (job.periodStart === undefined) return [periodContaining(end.minus({ milliseconds: 1 }), periodType)];
  const start = parseBoundary(job.periodStart, zone, 'periodStart');
  if (end <= start) throw new InvalidPeriodError('periodEnd', `must be after periodStart (${job.periodStart} .. ${job.periodEnd} is empty)`);
  return listPeriods(start, end, periodType, { ...max, field: 'periodEnd' });
}

/**
 * Every type's statement inputs for a tenant in `zone`. Throws an InvalidInputError subclass for
 * a bad job field or an invalid zone (never retried).
 */
export function planTenantTypes(job: AggregationJobData, zone: string, asOf: string): TypePlan[] {
  if (!IANAZone.isValidZone(zone)) {
    throw new InvalidInputError('organizations.timezone', `organizations.timezone: ${JSON.stringify(zone)} is not an IANA timezone`);
  }
  const jobPeriodType = job.periodType ?? 'day';
  if (!isPeriodType(jobPeriodType)) throw new InvalidPeriodError('periodType', `unknown period type ${JSON.stringify(jobPeriodType)}`);
  const asOfDt = DateTime.fromISO(asOf, { zone });
  return typesOf(job).map((type): TypePlan => {
    if (type === 'cohorts') {
      const months = jobPeriods(job, true, 'month', zone, asOfDt);
      const plan = planCohortMonths(months, asOfDt, MAX_JOB_PERIODS);
      return { type, periodType: 'month', periods: months.length, input: { cohortMonths: plan.cohortMonths, bounds: plan.bounds, asOfIndex: plan.asOfIndex } };
    }
    const periods = jobPeriods(job, false, jobPeriodType, zone, asOfDt);
    return {
      type,
      periodType: jobPeriodType,
      periods: periods.length,
      input: { periodType: jobPeriodType, starts: periods.map((p) => toInstant(p.start)), ends: periods.map((p) => toInstant(p.end)) },
    };
  });
}

/** {@link planTenantTypes} behind a small LRU cache keyed by (zone, job without tenant, as-of). */
export function createPlanCache(capacity = 256) {
  const cache = new Map<string, TypePlan[] | Error>();
  return (job: AggregationJobData, zone: string, asOf: string): TypePlan[] => {
    const { tenantId: _tenant, ...shape } = job;
    const key = `${zone}\u0000${asOf}\u0000${JSON.stringify(shape)}`;
    let plan = cache.get(key);
    if (plan === undefined) {
      try {
        plan = planTenantTypes(job, zone, asOf);
      } catch (err) {
        // Bad input fails every tenant of the zone the same way: remember that too.
        if (!(err instanceof Error)) throw err;
        plan = err;
      }
      if (cache.size >= capacity) cache.delete(cache.keys().next().value!);
    } else {
      cache.delete(key); // re-inserted below: most recently used last
    }
    cache.set(key, plan);
    if (plan instanceof Error) throw plan;
    return plan;
  };
}
