import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { planCohortMonths } from '../src/aggregation/cohort-months';
import { listPeriods, parseBoundary } from '../src/aggregation/periods';
import { TooManyPeriodsError } from '../src/errors';

// The month layout of a cohort computation. Expected instants are local month starts worked out
// by hand: New York is UTC-4 (EDT) until 2025-11-02 and UTC-5 (EST) after; Tokyo is UTC+9 all year.

function months(zone: string, from: string, to: string) {
  return listPeriods(parseBoundary(from, zone, 'from'), parseBoundary(to, zone, 'to'), 'month');
}

const at = (iso: string) => DateTime.fromISO(iso, { zone: 'UTC' });

describe('planCohortMonths', () => {
  it('two cohort months with as-of in the second: bounds up to the end of the as-of month', () => {
    const plan = planCohortMonths(months('America/New_York', '2025-10-01', '2025-12-01'), at('2025-11-06T12:00:00Z'));
    expect(plan.cohortMonths).toEqual(['2025-10-01', '2025-11-01']);
    expect(plan.bounds).toEqual(['2025-10-01T04:00:00.000Z', '2025-11-01T04:00:00.000Z', '2025-12-01T05:00:00.000Z']);
    expect(plan.asOfIndex).toBe(2);
    expect(plan.months).toHaveLength(2);
  });

  it('as-of months after the last cohort month extend the bounds to the as-of month (its month numbers)', () => {
    // Cohort January 2025, as of March 2025: months 1 (Feb) and 2 (Mar) need Feb, Mar and Apr starts.
    const plan = planCohortMonths(months('UTC', '2025-01-01', '2025-02-01'), at('2025-03-15T00:00:00Z'));
    expect(plan.cohortMonths).toEqual(['2025-01-01']);
    expect(plan.bounds).toEqual(['2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z', '2025-04-01T00:00:00.000Z']);
    expect(plan.asOfIndex).toBe(3);
  });

  it('as-of on the first instant of a month is in that month; one millisecond earlier is in the one before', () => {
    const cohort = months('UTC', '2025-01-01', '2025-02-01');
    expect(planCohortMonths(cohort, at('2025-03-01T00:00:00Z')).asOfIndex).toBe(3);
    const before = planCohortMonths(cohort, at('2025-02-28T23:59:59.999Z'));
    expect(before.asOfIndex).toBe(2);
    expect(before.bounds).toEqual(['2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z', '2025-03-01T00:00:00.000Z']);
  });

  it('as-of inside the first cohort month is index 1', () => {
    const plan = planCohortMonths(months('UTC', '2025-01-01', '2025-04-01'), at('2025-01-31T23:00:00Z'));
    expect(plan.asOfIndex).toBe(1);
    expect(plan.bounds).toHaveLength(4);
  });

  it('as-of before the first cohort month is index 0, and the bounds are the cohort months only', () => {
    const plan = planCohortMonths(months('UTC', '2025-05-01', '2025-07-01'), at('2025-01-10T00:00:00Z'));
    expect(plan.asOfIndex).toBe(0);
    expect(plan.bounds).toEqual(['2025-05-01T00:00:00.000Z', '2025-06-01T00:00:00.000Z', '2025-07-01T00:00:00.000Z']);
  });

  it('reads as-of in the tenant zone, not in the zone it was given in', () => {
    // 2025-10-31T20:00Z is 05:00 on November 1 in Tokyo: the as-of month is November there.
    const plan = planCohortMonths(months('Asia/Tokyo', '2025-10-01', '2025-11-01'), at('2025-10-31T20:00:00Z'));
    expect(plan.bounds).toEqual(['2025-09-30T15:00:00.000Z', '2025-10-31T15:00:00.000Z', '2025-11-30T15:00:00.000Z']);
    expect(plan.asOfIndex).toBe(2);
  });

  it('caps the bounds at maxPeriods, naming asOf', () => {
    // Cohort January, as of March: the walk reaches 3 bounds before the as-of month is closed.
    const cohort = months('UTC', '2025-01-01', '2025-02-01');
    expect(planCohortMonths(cohort, at('2025-03-15T00:00:00Z'), 3).bounds).toHaveLength(4);
    const attempt = () => planCohortMonths(cohort, at('2025-03-15T00:00:00Z'), 2);
    expect(attempt).toThrow(TooManyPeriodsError);
    expect(attempt).toThrow('asOf: the range covers more than 2 months between the first cohort month and the as-of month (the maximum per call)');
  });
});
