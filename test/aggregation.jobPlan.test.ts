import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { asOfOfJob, createPlanCache, jobPeriods, MAX_JOB_PERIODS, planTenantTypes } from '../src/aggregation/job-plan';
import type { AggregationJobData, PeriodType } from '../src/contract/aggregation';
import { InvalidInputError, InvalidPeriodError, TooManyPeriodsError } from '../src/errors';

// A job's statement inputs per tenant timezone, without a database. Expected instants are worked
// out by hand from a calendar and each zone's offsets: New York EDT (UTC-4) until 2025-11-02 02:00
// and EST (UTC-5) after; Berlin CET (UTC+1) after 2025-10-26; Tokyo UTC+9; Kiritimati UTC+14.

const AS_OF = '2025-11-06T12:00:00.000Z'; // a Thursday; 07:00 in New York

function local(job: AggregationJobData, zone: string, periodType: PeriodType = job.periodType ?? 'day', cohorts = false, asOf = AS_OF): string[] {
  return jobPeriods(job, cohorts, periodType, zone, DateTime.fromISO(asOf, { zone })).map((p) => `${p.start.toISO()}..${p.end.toISO()}`);
}

describe('jobPeriods defaults', () => {
  it('the last `periods` complete periods before as-of, and the current one with includeCurrent', () => {
    expect(local({ type: 'revenue', periods: 3 }, 'UTC')).toEqual([
      '2025-11-03T00:00:00.000Z..2025-11-04T00:00:00.000Z',
      '2025-11-04T00:00:00.000Z..2025-11-05T00:00:00.000Z',
      '2025-11-05T00:00:00.000Z..2025-11-06T00:00:00.000Z',
    ]);
    expect(local({ type: 'revenue', includeCurrent: true }, 'UTC')).toEqual([
      '2025-11-05T00:00:00.000Z..2025-11-06T00:00:00.000Z',
      '2025-11-06T00:00:00.000Z..2025-11-07T00:00:00.000Z',
    ]);
    expect(local({ type: 'revenue', includeCurrent: false }, 'UTC')).toEqual(['2025-11-05T00:00:00.000Z..2025-11-06T00:00:00.000Z']);
  });

  it('counts back in local periods across a DST change (New York, 2025-11-02 is 25 hours)', () => {
    expect(local({ type: 'revenue', periods: 2 }, 'America/New_York', 'day', false, '2025-11-03T12:00:00Z')).toEqual([
      '2025-11-01T00:00:00.000-04:00..2025-11-02T00:00:00.000-04:00',
      '2025-11-02T00:00:00.000-04:00..2025-11-03T00:00:00.000-05:00',
    ]);
  });

  it('weeks, months, quarters and years count back in their own unit', () => {
    expect(local({ type: 'revenue', periodType: 'week', periods: 2 }, 'UTC')).toEqual([
      '2025-10-20T00:00:00.000Z..2025-10-27T00:00:00.000Z',
      '2025-10-27T00:00:00.000Z..2025-11-03T00:00:00.000Z',
    ]);
    expect(local({ type: 'revenue', periodType: 'month' }, 'UTC')).toEqual(['2025-10-01T00:00:00.000Z..2025-11-01T00:00:00.000Z']);
    expect(local({ type: 'revenue', periodType: 'quarter' }, 'UTC')).toEqual(['2025-07-01T00:00:00.000Z..2025-10-01T00:00:00.000Z']);
    expect(local({ type: 'revenue', periodType: 'year', includeCurrent: true }, 'UTC')).toEqual([
      '2024-01-01T00:00:00.000Z..2025-01-01T00:00:00.000Z',
      '2025-01-01T00:00:00.000Z..2026-01-01T00:00:00.000Z',
    ]);
  });

  it('cohorts: the `periods` (default 2) months ending with the as-of month', () => {
    expect(local({ type: 'cohorts' }, 'UTC', 'month', true)).toEqual([
      '2025-10-01T00:00:00.000Z..2025-11-01T00:00:00.000Z',
      '2025-11-01T00:00:00.000Z..2025-12-01T00:00:00.000Z',
    ]);
    expect(local({ type: 'cohorts', periods: 1 }, 'Asia/Tokyo', 'month', true)).toEqual(['2025-11-01T00:00:00.000+09:00..2025-12-01T00:00:00.000+09:00']);
    // 2025-03-31T20:00Z is April 1 in Tokyo: April and March, not March and February.
    expect(local({ type: 'cohorts' }, 'Asia/Tokyo', 'month', true, '2025-03-31T20:00:00Z')).toEqual([
      '2025-03-01T00:00:00.000+09:00..2025-04-01T00:00:00.000+09:00',
      '2025-04-01T00:00:00.000+09:00..2025-05-01T00:00:00.000+09:00',
    ]);
  });

  it('periods must be a whole number from 1 to MAX_JOB_PERIODS', () => {
    expect(local({ type: 'revenue', periods: MAX_JOB_PERIODS }, 'UTC')).toHaveLength(MAX_JOB_PERIODS);
    for (const bad of [0, -1, 1.5, MAX_JOB_PERIODS + 1, Number.NaN]) {
      const attempt = () => local({ type: 'revenue', periods: bad }, 'UTC');
      expect(attempt).toThrow(InvalidInputError);
      expect(attempt).toThrow(`periods: expected a whole number from 1 to ${MAX_JOB_PERIODS}, got ${JSON.stringify(bad)}`);
    }
    expect(() => local({ type: 'cohorts', periods: 0 }, 'UTC', 'month', true)).toThrow(expect.objectContaining({ field: 'periods' }));
  });
});

describe('jobPeriods with explicit boundaries', () => {
  it('periodStart alone: the period containing it; periodEnd alone: the period ending there', () => {
    expect(local({ type: 'revenue', periodType: 'month', periodStart: '2025-02-14' }, 'UTC')).toEqual(['2025-02-01T00:00:00.000Z..2025-03-01T00:00:00.000Z']);
    expect(local({ type: 'revenue', periodType: 'month', periodEnd: '2025-03-01' }, 'UTC')).toEqual(['2025-02-01T00:00:00.000Z..2025-03-01T00:00:00.000Z']);
    // An end 1 ms into March: the period containing the last millisecond is March.
    expect(local({ type: 'revenue', periodType: 'month', periodEnd: '2025-03-01T00:00:00.001Z' }, 'UTC')).toEqual(['2025-03-01T00:00:00.000Z..2025-04-01T00:00:00.000Z']);
    // A local date: midnight in the tenant zone (Tokyo), an instant is converted.
    expect(local({ type: 'revenue', periodStart: '2025-06-10' }, 'Asia/Tokyo')).toEqual(['2025-06-10T00:00:00.000+09:00..2025-06-11T00:00:00.000+09:00']);
    expect(local({ type: 'revenue', periodStart: '2025-06-10T16:00:00Z' }, 'Asia/Tokyo')).toEqual(['2025-06-11T00:00:00.000+09:00..2025-06-12T00:00:00.000+09:00']);
  });

  it('a range: every period intersecting it, up to MAX_JOB_PERIODS', () => {
    expect(local({ type: 'revenue', periodStart: '2025-01-30', periodEnd: '2025-02-02' }, 'UTC')).toHaveLength(3);
    expect(local({ type: 'revenue', periodStart: '2025-01-30T12:00:00Z', periodEnd: '2025-02-01T00:00:00.001Z' }, 'UTC')).toEqual([
      '2025-01-30T00:00:00.000Z..2025-01-31T00:00:00.000Z',
      '2025-01-31T00:00:00.000Z..2025-02-01T00:00:00.000Z',
      '2025-02-01T00:00:00.000Z..2025-02-02T00:00:00.000Z',
    ]);
    // 20,000 days from 1970-01-01 end on 2024-10-04 (day 20,000 is 2024-10-04).
    expect(local({ type: 'revenue', periodStart: '1970-01-01', periodEnd: '2024-10-04' }, 'UTC')).toHaveLength(MAX_JOB_PERIODS);
    const tooMany = () => local({ type: 'revenue', periodStart: '1970-01-01', periodEnd: '2024-10-05' }, 'UTC');
    expect(tooMany).toThrow(TooManyPeriodsError);
    expect(tooMany).toThrow(/^periodEnd: the range covers more than 20000 periods/);
  });

  it('rejects an empty range and unparsable boundaries, naming the field', () => {
    const empty = () => local({ type: 'revenue', periodStart: '2025-03-01', periodEnd: '2025-03-01' }, 'UTC');
    expect(empty).toThrow(InvalidPeriodError);
    expect(empty).toThrow('periodEnd: must be after periodStart (2025-03-01 .. 2025-03-01 is empty)');
    expect(() => local({ type: 'revenue', periodStart: 'soon' }, 'UTC')).toThrow(expect.objectContaining({ field: 'periodStart' }));
    expect(() => local({ type: 'revenue', periodEnd: 'soon' }, 'UTC')).toThrow(expect.objectContaining({ field: 'periodEnd' }));
    expect(() => local({ type: 'revenue', periodStart: '2025-01-01', periodEnd: 'soon' }, 'UTC')).toThrow(expect.objectContaining({ field: 'periodEnd' }));
    expect(() => local({ type: 'revenue', periodStart: 'soon', periodEnd: '2025-01-01' }, 'UTC')).toThrow(expect.objectContaining({ field: 'periodStart' }));
  });
});

describe('asOfOfJob', () => {
  it('the job asOf wins over the request time; both come out as UTC instants', () => {
    expect(asOfOfJob({ type: 'revenue' }, '2025-11-06T13:00:00+01:00')).toBe('2025-11-06T12:00:00.000Z');
    expect(asOfOfJob({ type: 'revenue', asOf: '2025-03-01T00:30:00+01:00' }, AS_OF)).toBe('2025-02-28T23:30:00.000Z');
  });

  it('names the field that does not parse', () => {
    expect(() => asOfOfJob({ type: 'revenue', asOf: 'later' }, AS_OF)).toThrow(expect.objectContaining({ field: 'asOf' }));
    expect(() => asOfOfJob({ type: 'revenue' }, 'later')).toThrow(expect.objectContaining({ field: 'requestedAt' }));
  });
});

describe('planTenantTypes', () => {
  it('all: revenue, cohorts, tournaments in that order, each with its statement inputs', () => {
    const plans = planTenantTypes({ type: 'all' }, 'America/New_York', AS_OF);
    expect(plans).toEqual([
      {
        type: 'revenue',
        periodType: 'day',
        periods: 1,
        input: { periodType: 'day', starts: ['2025-11-05T05:00:00.000Z'], ends: ['2025-11-06T05:00:00.000Z'] },
      },
      {
        type: 'cohorts',
        periodType: 'month',
        periods: 2,
        input: {
          cohortMonths: ['2025-10-01', '2025-11-01'],
          bounds: ['2025-10-01T04:00:00.000Z', '2025-11-01T04:00:00.000Z', '2025-12-01T05:00:00.000Z'],
          asOfIndex: 2,
        },
      },
      {
        type: 'tournaments',
        periodType: 'day',
        periods: 1,
        input: { periodType: 'day', starts: ['2025-11-05T05:00:00.000Z'], ends: ['2025-11-06T05:00:00.000Z'] },
      },
    ]);
  });

  it('one type, the job period type, a range in the tenant zone', () => {
    // Berlin weeks of 2025-10-20 and 2025-10-27: the first ends at 23:00Z (CET from Oct 26).
    expect(planTenantTypes({ type: 'tournaments', periodType: 'week', periodStart: '2025-10-22', periodEnd: '2025-10-28' }, 'Europe/Berlin', AS_OF)).toEqual([
      {
        type: 'tournaments',
        periodType: 'week',
        periods: 2,
        input: {
          periodType: 'week',
          starts: ['2025-10-19T22:00:00.000Z', '2025-10-26T23:00:00.000Z'],
          ends: ['2025-10-26T23:00:00.000Z', '2025-11-02T23:00:00.000Z'],
        },
      },
    ]);
  });

  it('cohorts take cohort months whatever the job period type, with month numbers up to as-of', () => {
    expect(planTenantTypes({ type: 'cohorts', periodType: 'day', periodStart: '2025-09-15' }, 'UTC', AS_OF)).toEqual([
      {
        type: 'cohorts',
        periodType: 'month',
        periods: 1,
        input: {
          cohortMonths: ['2025-09-01'],
          bounds: ['2025-09-01T00:00:00.000Z', '2025-10-01T00:00:00.000Z', '2025-11-01T00:00:00.000Z', '2025-12-01T00:00:00.000Z'],
          asOfIndex: 3,
        },
      },
    ]);
  });

  it('as-of is read in the tenant zone: 12:00Z is already November 7 in Kiritimati', () => {
    const [plan] = planTenantTypes({ type: 'revenue' }, 'Pacific/Kiritimati', AS_OF);
    expect(plan!.input).toEqual({ periodType: 'day', starts: ['2025-11-05T10:00:00.000Z'], ends: ['2025-11-06T10:00:00.000Z'] });
  });

  it('rejects a zone that is not IANA, an unknown period type and an unknown type, as InvalidInputError naming the field', () => {
    const zone = () => planTenantTypes({ type: 'revenue' }, 'Mars/Olympus', AS_OF);
    expect(zone).toThrow(InvalidInputError);
    expect(zone).toThrow('organizations.timezone: "Mars/Olympus" is not an IANA timezone');
    expect(zone).toThrow(expect.objectContaining({ field: 'organizations.timezone' }));
    const periodType = () => planTenantTypes({ type: 'revenue', periodType: 'fortnight' as PeriodType }, 'UTC', AS_OF);
    expect(periodType).toThrow(InvalidPeriodError);
    expect(periodType).toThrow('periodType: unknown period type "fortnight"');
    const type = () => planTenantTypes({ type: 'sales' as AggregationJobData['type'] }, 'UTC', AS_OF);
    expect(type).toThrow(InvalidInputError);
    expect(type).toThrow('type: expected one of revenue, cohorts, tournaments, all, got "sales"');
    expect(type).toThrow(expect.objectContaining({ field: 'type' }));
  });
});

describe('createPlanCache', () => {
  it('plans once per (zone, job without tenant, as-of) and returns the same plan', () => {
    const plan = createPlanCache(4);
    const a = plan({ type: 'revenue', tenantId: 'org_a' }, 'UTC', AS_OF);
    expect(a).toEqual(planTenantTypes({ type: 'revenue' }, 'UTC', AS_OF));
    // Another tenant of the same zone shares the plan; another zone or as-of does not.
    expect(plan({ type: 'revenue', tenantId: 'org_b' }, 'UTC', AS_OF)).toBe(a);
    expect(plan({ type: 'revenue' }, 'Asia/Tokyo', AS_OF)).not.toBe(a);
    expect(plan({ type: 'revenue' }, 'UTC', '2025-11-07T12:00:00.000Z')).not.toEqual(a);
    expect(plan({ type: 'revenue', periods: 2 }, 'UTC', AS_OF)).toHaveLength(1);
    expect(plan({ type: 'revenue', periods: 2 }, 'UTC', AS_OF)[0]!.periods).toBe(2);
  });

  it('remembers a bad-input failure and throws it again for every tenant of the zone', () => {
    const plan = createPlanCache();
    let first: unknown;
    try {
      plan({ type: 'revenue', tenantId: 'org_a' }, 'Nowhere/Land', AS_OF);
    } catch (err) {
      first = err;
    }
    expect(first).toBeInstanceOf(InvalidInputError);
    expect(() => plan({ type: 'revenue', tenantId: 'org_b' }, 'Nowhere/Land', AS_OF)).toThrow(first as Error);
    let again: unknown;
    try {
      plan({ type: 'revenue', tenantId: 'org_c' }, 'Nowhere/Land', AS_OF);
    } catch (err) {
      again = err;
    }
    expect(again).toBe(first);
  });

  it('evicts the least recently used entry beyond its capacity', () => {
    const plan = createPlanCache(2);
    const utc = plan({ type: 'revenue' }, 'UTC', AS_OF);
    const tokyo = plan({ type: 'revenue' }, 'Asia/Tokyo', AS_OF);
    // Touch UTC: Tokyo is now the least recently used and goes when Berlin arrives.
    expect(plan({ type: 'revenue' }, 'UTC', AS_OF)).toBe(utc);
    plan({ type: 'revenue' }, 'Europe/Berlin', AS_OF);
    expect(plan({ type: 'revenue' }, 'UTC', AS_OF)).toBe(utc);
    const tokyoAgain = plan({ type: 'revenue' }, 'Asia/Tokyo', AS_OF);
    expect(tokyoAgain).not.toBe(tokyo);
    expect(tokyoAgain).toEqual(tokyo);
    // Tokyo's return pushed out Berlin (UTC was used more recently).
    expect(plan({ type: 'revenue' }, 'UTC', AS_OF)).toBe(utc);
  });

  it('holds exactly `capacity` entries', () => {
    const plan = createPlanCache(2);
    const utc = plan({ type: 'revenue' }, 'UTC', AS_OF);
    const tokyo = plan({ type: 'revenue' }, 'Asia/Tokyo', AS_OF);
    expect(plan({ type: 'revenue' }, 'Asia/Tokyo', AS_OF)).toBe(tokyo);
    expect(plan({ type: 'revenue' }, 'UTC', AS_OF)).toBe(utc);
    const one = createPlanCache(1);
    const first = one({ type: 'revenue' }, 'UTC', AS_OF);
    one({ type: 'revenue' }, 'Asia/Tokyo', AS_OF);
    expect(one({ type: 'revenue' }, 'UTC', AS_OF)).not.toBe(first);
  });
});
