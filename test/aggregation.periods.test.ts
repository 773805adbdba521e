import { describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import {
  assertPeriodType,
  assertZone,
  countPeriods,
  isPeriodType,
  listPeriods,
  parseBoundary,
  periodContaining,
  resolveRange,
  toInstant,
  type Period,
} from '../src/aggregation/periods';
import type { PeriodType } from '../src/contract/aggregation';
import { InvalidInputError, InvalidPeriodError, TooManyPeriodsError } from '../src/errors';

// Expected instants are worked out by hand from each zone's offsets:
// New York EST = UTC-5, EDT = UTC-4 (2025: EDT from Mar 9 02:00, back to EST Nov 2 02:00);
// Berlin CET = UTC+1, CEST = UTC+2 (2025: Mar 30 .. Oct 26); Sydney AEDT = UTC+11, AEST = UTC+10
// (2025: AEDT ends Apr 6 03:00); Kolkata = UTC+5:30 all year.

function range(zone: string, from: string, to: string, periodType: PeriodType): string[][] {
  const periods = listPeriods(parseBoundary(from, zone, 'from'), parseBoundary(to, zone, 'to'), periodType);
  return periods.map((p: Period) => [toInstant(p.start), toInstant(p.end)]);
}

const hours = ([start, end]: string[]) => (Date.parse(end!) - Date.parse(start!)) / 3_600_000;

describe('days in the tenant timezone', () => {
  it('America/New_York 2025-03-09 (spring forward) is 23 hours', () => {
    const days = range('America/New_York', '2025-03-08', '2025-03-11', 'day');
    expect(days).toEqual([
      ['2025-03-08T05:00:00.000Z', '2025-03-09T05:00:00.000Z'], // 00:00 EST .. 00:00 EST
      ['2025-03-09T05:00:00.000Z', '2025-03-10T04:00:00.000Z'], // 00:00 EST .. 00:00 EDT
      ['2025-03-10T04:00:00.000Z', '2025-03-11T04:00:00.000Z'],
    ]);
    expect(days.map(hours)).toEqual([24, 23, 24]);
  });

  it('America/New_York 2025-11-02 (fall back) is 25 hours', () => {
    const days = range('America/New_York', '2025-11-02', '2025-11-03', 'day');
    expect(days).toEqual([['2025-11-02T04:00:00.000Z', '2025-11-03T05:00:00.000Z']]);
    expect(days.map(hours)).toEqual([25]);
  });

  it('Europe/Berlin 2025-03-30 is 23 hours and Australia/Sydney 2025-04-06 is 25 hours', () => {
    expect(range('Europe/Berlin', '2025-03-30', '2025-03-31', 'day')).toEqual([['2025-03-29T23:00:00.000Z', '2025-03-30T22:00:00.000Z']]);
    expect(range('Australia/Sydney', '2025-04-06', '2025-04-07', 'day')).toEqual([['2025-04-05T13:00:00.000Z', '2025-04-06T14:00:00.000Z']]);
  });

  it('a day whose local midnight does not exist starts at the first local instant (Sao Paulo 2018-11-04)', () => {
    // Clocks went from 00:00 -03:00 straight to 01:00 -02:00.
    expect(range('America/Sao_Paulo', '2018-11-03', '2018-11-06', 'day')).toEqual([
      ['2018-11-03T03:00:00.000Z', '2018-11-04T03:00:00.000Z'],
      ['2018-11-04T03:00:00.000Z', '2018-11-05T02:00:00.000Z'],
      ['2018-11-05T02:00:00.000Z', '2018-11-06T02:00:00.000Z'],
    ]);
  });

  it('zones whose clocks change at local midnight: a skipped midnight starts the day at 01:00, a repeated one at the first 00:00', () => {
    // Havana: 2024-11-03 01:00 CDT (-4) goes back to 00:00 CST (-5), so 00:00 happens twice and the
    // day starts at the first (04:00Z); 2025-03-09 00:00 CST jumps to 01:00 CDT (05:00Z both).
    expect(range('America/Havana', '2024-11-02', '2024-11-04', 'day')).toEqual([
      ['2024-11-02T04:00:00.000Z', '2024-11-03T04:00:00.000Z'],
      ['2024-11-03T04:00:00.000Z', '2024-11-04T05:00:00.000Z'],
    ]);
    expect(range('America/Havana', '2025-03-08', '2025-03-10', 'day').map(hours)).toEqual([24, 23]);
    expect(range('America/Havana', '2025-03-09', '2025-03-10', 'day')).toEqual([['2025-03-09T05:00:00.000Z', '2025-03-10T04:00:00.000Z']]);
    // Santiago: 2024-09-08 00:00 (-4) jumps to 01:00 (-3); 2025-04-06 00:00 (-3) goes back to 23:00 (-4) on the 5th.
    expect(range('America/Santiago', '2024-09-07', '2024-09-09', 'day')).toEqual([
      ['2024-09-07T04:00:00.000Z', '2024-09-08T04:00:00.000Z'],
      ['2024-09-08T04:00:00.000Z', '2024-09-09T03:00:00.000Z'],
    ]);
    expect(range('America/Santiago', '2025-04-05', '2025-04-06', 'day')).toEqual([['2025-04-05T03:00:00.000Z', '2025-04-06T04:00:00.000Z']]);
    // Beirut: 2024-10-27 00:00 (+3) goes back to 23:00 (+2) on the 26th; 2025-03-30 00:00 (+2) jumps to 01:00 (+3).
    expect(range('Asia/Beirut', '2024-10-26', '2024-10-27', 'day')).toEqual([['2024-10-25T21:00:00.000Z', '2024-10-26T22:00:00.000Z']]);
    expect(range('Asia/Beirut', '2025-03-29', '2025-03-31', 'day')).toEqual([
      ['2025-03-28T22:00:00.000Z', '2025-03-29T22:00:00.000Z'],
      ['2025-03-29T22:00:00.000Z', '2025-03-30T21:00:00.000Z'],
    ]);
    // The week and the month around a skipped midnight start where their first day does.
    expect(range('America/Havana', '2025-03-10', '2025-03-11', 'week')).toEqual([['2025-03-10T04:00:00.000Z', '2025-03-17T04:00:00.000Z']]);
    expect(range('America/Santiago', '2024-09-10', '2024-09-11', 'month')).toEqual([['2024-09-01T04:00:00.000Z', '2024-10-01T03:00:00.000Z']]);
  });

  it('a half-hour offset zone (Asia/Kolkata)', () => {
    expect(range('Asia/Kolkata', '2025-01-01', '2025-01-02', 'day')).toEqual([['2024-12-31T18:30:00.000Z', '2025-01-01T18:30:00.000Z']]);
  });

  it('a whole year of daily periods is 365 periods, 2024 is 366', () => {
    expect(countPeriods(parseBoundary('2025-01-01', 'America/New_York', 'f'), parseBoundary('2026-01-01', 'America/New_York', 't'), 'day')).toBe(365);
    expect(countPeriods(parseBoundary('2024-01-01', 'UTC', 'f'), parseBoundary('2025-01-01', 'UTC', 't'), 'day')).toBe(366);
  });
});

describe('weeks, months, quarters, years', () => {
  it('ISO weeks start on Monday and cross the year boundary (2024-12-30 .. 2025-01-06 is 2025-W01)', () => {
    expect(range('UTC', '2024-12-23', '2025-01-13', 'week')).toEqual([
      ['2024-12-23T00:00:00.000Z', '2024-12-30T00:00:00.000Z'],
      ['2024-12-30T00:00:00.000Z', '2025-01-06T00:00:00.000Z'],
      ['2025-01-06T00:00:00.000Z', '2025-01-13T00:00:00.000Z'],
    ]);
    // Any day inside the week floors to its Monday: 2025-01-01 is a Wednesday.
    const week = periodContaining(parseBoundary('2025-01-01', 'UTC', 'f'), 'week');
    expect([toInstant(week.start), toInstant(week.end)]).toEqual(['2024-12-30T00:00:00.000Z', '2025-01-06T00:00:00.000Z']);
  });

  it('a week containing the spring-forward day is 167 hours', () => {
    const weeks = range('America/New_York', '2025-03-05', '2025-03-06', 'week');
    expect(weeks).toEqual([['2025-03-03T05:00:00.000Z', '2025-03-10T04:00:00.000Z']]);
    expect(weeks.map(hours)).toEqual([7 * 24 - 1]);
  });

  it('months, quarters and years use local boundaries', () => {
    expect(range('America/New_York', '2025-03-15', '2025-04-02', 'month')).toEqual([
      ['2025-03-01T05:00:00.000Z', '2025-04-01T04:00:00.000Z'],
      ['2025-04-01T04:00:00.000Z', '2025-05-01T04:00:00.000Z'],
    ]);
    expect(range('Asia/Kolkata', '2025-02-10', '2025-04-01', 'quarter')).toEqual([['2024-12-31T18:30:00.000Z', '2025-03-31T18:30:00.000Z']]);
    expect(range('Europe/Berlin', '2025-06-01', '2025-06-02', 'year')).toEqual([['2024-12-31T23:00:00.000Z', '2025-12-31T23:00:00.000Z']]);
  });
});

describe('range boundaries', () => {
  it('an ISO instant is converted to the tenant zone before flooring', () => {
    // 03:00Z on Mar 9 is 22:00 EST on Mar 8 in New York.
    expect(range('America/New_York', '2025-03-09T03:00:00Z', '2025-03-09T04:00:00Z', 'day')).toEqual([
      ['2025-03-08T05:00:00.000Z', '2025-03-09T05:00:00.000Z'],
    ]);
  });

  it('the end is exclusive; a period that only starts before the end is included', () => {
    expect(range('UTC', '2025-01-01', '2025-01-03', 'day')).toHaveLength(2);
    expect(range('UTC', '2025-01-01', '2025-01-03T00:00:00.001Z', 'day')).toHaveLength(3);
  });
});

describe('validation', () => {
  const resolve = (from: unknown, to: unknown, periodType: unknown, maxPeriods?: number) =>
    resolveRange({ from, to, periodType, zone: 'UTC', maxPeriods });

  it.each([
    ['2025-02-30', 'periodStart'],
    ['2025-3-1', 'periodStart'],
    ['2025-03-09T10:00', 'periodStart'], // no offset: ambiguous on DST days, rejected
    ['yesterday', 'periodStart'],
  ])('rejects the malformed date %s naming %s', (value, field) => {
    const attempt = () => resolve(value, '2025-04-01', 'day');
    expect(attempt).toThrow(InvalidPeriodError);
    expect(attempt).toThrow(new RegExp(`^${field}: `));
  });

  it('rejects an unknown period type', () => {
    expect(() => resolve('2025-01-01', '2025-01-02', 'fortnight')).toThrow(/^periodType: unknown period type "fortnight"/);
  });

  it('rejects an end not after the start', () => {
    expect(() => resolve('2025-01-02', '2025-01-02', 'day')).toThrow(InvalidPeriodError);
    expect(() => resolve('2025-01-02', '2025-01-01', 'day')).toThrow(/^periodEnd: must be after periodStart/);
  });

  it('enforces the maximum number of periods (default 1000)', () => {
    // 2025-01-01 + 1000 days = 2027-09-28 (365 + 365 + 270 days).
    expect(resolve('2025-01-01', '2027-09-28', 'day').periods).toHaveLength(1000);
    expect(() => resolve('2025-01-01', '2027-09-29', 'day')).toThrow(TooManyPeriodsError);
    expect(resolve('2025-01-01', '2025-01-11', 'day', 10).periods).toHaveLength(10);
    expect(() => resolve('2025-01-01', '2025-01-12', 'day', 10)).toThrow(/^periodEnd: the range covers more than 10 periods/);
  });
});

describe('the parts, with their messages', () => {
  it('isPeriodType / assertPeriodType name the field (periodType by default)', () => {
    expect(['day', 'week', 'month', 'quarter', 'year'].every(isPeriodType)).toBe(true);
    expect([isPeriodType('Day'), isPeriodType(undefined), isPeriodType(1)]).toEqual([false, false, false]);
    expect(assertPeriodType('week')).toBe('week');
    expect(() => assertPeriodType('hour')).toThrow('periodType: unknown period type "hour" (expected one of day, week, month, quarter, year)');
    expect(() => assertPeriodType(7, 'jobs[0].periodType')).toThrow(expect.objectContaining({ field: 'jobs[0].periodType' }));
  });

  it('assertZone accepts IANA zones and names the field (timezone by default)', () => {
    expect(assertZone('America/Havana')).toBe('America/Havana');
    const attempt = () => assertZone('Mars/Olympus');
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow('timezone: "Mars/Olympus" is not an IANA timezone');
    expect(() => assertZone('EST5EDTX', 'organizations.timezone')).toThrow(/^organizations\.timezone: "EST5EDTX"/);
  });

  it('parseBoundary says what is wrong with a boundary', () => {
    expect(() => parseBoundary(20250101, 'UTC', 'periodStart')).toThrow('periodStart: expected an ISO date or instant, got 20250101');
    for (const value of ['x2025-01-01', '12025-01-01', '2025-01-01x', 'x2025-01-01T00:00:00Z', '2025-01-01T00:00:00Zx', '2025-01-01T00:00:00+05:30x']) {
      expect(() => parseBoundary(value, 'UTC', 'periodEnd'), value).toThrow(
        `periodEnd: ${JSON.stringify(value)} is neither an ISO date (YYYY-MM-DD) nor an ISO instant with offset`,
      );
    }
    // A well-formed date that is no day: luxon's own explanation is shown.
    const explanation = DateTime.fromISO('2025-02-30', { zone: 'UTC' }).invalidExplanation!;
    expect(explanation.length).toBeGreaterThan(0);
    expect(() => parseBoundary('2025-02-30', 'UTC', 'periodStart')).toThrow(`periodStart: "2025-02-30" is not a valid date (${explanation})`);
  });

  it('parseBoundary reads instants with or without seconds and offsets with or without a colon', () => {
    const at = (v: string) => toInstant(parseBoundary(v, 'Asia/Kolkata', 'f'));
    expect(at('2025-01-01T10:00Z')).toBe('2025-01-01T10:00:00.000Z');
    expect(at('2025-01-01T10:00:00.5Z')).toBe('2025-01-01T10:00:00.500Z');
    expect(at('2025-01-01T10:00:00+0530')).toBe('2025-01-01T04:30:00.000Z');
    expect(at('2025-01-01T10:00:00-03:00')).toBe('2025-01-01T13:00:00.000Z');
    // The result is in the tenant zone whatever offset the instant carried.
    expect(parseBoundary('2025-01-01T10:00:00Z', 'Asia/Kolkata', 'f').zoneName).toBe('Asia/Kolkata');
  });

  it('listPeriods names periodEnd by default; countPeriods applies its own maximum', () => {
    const from = parseBoundary('2025-01-01', 'UTC', 'f');
    const to = parseBoundary('2025-01-08', 'UTC', 't');
    expect(() => listPeriods(from, to, 'day', { maxPeriods: 6 })).toThrow(/^periodEnd: the range covers more than 6 periods/);
    expect(() => listPeriods(from, to, 'day', { maxPeriods: 6, field: 'to' })).toThrow(/^to: /);
    expect(countPeriods(from, to, 'day', 7)).toBe(7);
    expect(() => countPeriods(from, to, 'day', 6)).toThrow(TooManyPeriodsError);
    expect(listPeriods(to, to, 'day')).toEqual([]);
  });
});
