import type { DateTime } from 'luxon';
import { TooManyPeriodsError } from '../errors/too-many-periods-error';
import { DEFAULT_MAX_PERIODS, floorToPeriod, nextPeriodStart, toInstant, type Period } from './periods';

export interface CohortPlan {
  /** The cohort months, tenant-local. */
  months: Period[];
  /** `YYYY-MM-DD` of each cohort month's first local day. */
  cohortMonths: string[];
  /** Month starts from M_1 up to max(last cohort month, as-of month), then one end: ISO instants. */
  bounds: string[];
  /** 1-based index in `bounds` of the month containing as-of; 0 when as-of precedes M_1. */
  asOfIndex: number;
}

/**
 * Lays out the months a cohort computation needs: the cohort months themselves and every month
 * up to the one containing `asOf` (its month numbers). Capped at `maxPeriods` months in total.
 */
export function planCohortMonths(
  months: Period[],
  asOf: DateTime,
  maxPeriods = DEFAULT_MAX_PERIODS,
): CohortPlan {
  const first = months[0]!;
  const asOfMonth = floorToPeriod(asOf.setZone(first.start.zone), 'month');
  const bounds = [first.start];
  let asOfIndex = 0;
  let cursor = first.start;
  // Walk month by month until both the cohort months and the as-of month are covered.
  while (bounds.length <= months.length || cursor <= asOfMonth) {
    if (bounds.length > maxPeriods) {
      throw new TooManyPeriodsError('asOf', maxPeriods, 'months between the first cohort month and the as-of month');
    }
    if (+cursor === +asOfMonth) asOfIndex = bounds.length;
    cursor = nextPeriodStart(cursor, 'month');
    bounds.push(cursor);
  }
  return {
    months,
    cohortMonths: months.map((m) => m.start.toISODate()!),
    bounds: bounds.map(toInstant),
    asOfIndex,
  };
}
