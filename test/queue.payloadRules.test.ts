import { describe, expect, it } from 'vitest';
import { QueueValidationError } from '../src/errors/queue-validation-error';
import { minimumPeriodCount, validateJob } from '../src/queue/schemas';

// The rules of the payload schemas one by one, at their edges: calendar dates, instants, tenant
// ids, empty ranges and the period limit. Counts are worked out on a calendar; the everyday
// messages are in test/queue.schemas.test.ts.

function message(name: string, data: unknown): string {
  try {
    validateJob(name, data);
  } catch (err) {
    expect(err).toBeInstanceOf(QueueValidationError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(data)}`);
}

const BOUNDARY = 'must be an ISO date (YYYY-MM-DD, tenant-local) or an ISO instant with offset (2025-11-01T00:00:00Z)';

describe('boundaries', () => {
  it('are real calendar dates', () => {
    for (const date of ['2024-02-29', '2025-12-31', '0099-01-01']) expect(validateJob('aggregation', { type: 'revenue', periodStart: date })).toMatchObject({ periodStart: date });
    for (const date of ['2025-02-29', '2025-04-31', '2025-13-05', '2025-00-10', '2025-01-00', '2025-01-32', '12025-01-01', 'x2025-01-01']) {
      expect(message('aggregation', { type: 'revenue', periodStart: date })).toBe(`invalid "aggregation" job: periodStart: ${BOUNDARY} (got ${JSON.stringify(date)})`);
    }
    // An instant on a day that does not exist is refused too.
    expect(message('aggregation', { type: 'revenue', periodEnd: '2025-02-30T00:00:00Z' })).toContain('periodEnd: must be an ISO date');
  });

  it('asOf is an instant with an offset, never a date', () => {
    for (const asOf of ['2025-11-06T05:30Z', '2025-11-06T05:30:00+0530', '2025-11-06T05:30:00.123456789-03:00']) {
      expect(validateJob('aggregation', { type: 'all', asOf })).toMatchObject({ asOf });
    }
    for (const asOf of ['2025-11-06', '2025-11-06T05:30:00', 'soon']) {
      expect(message('aggregation', { type: 'all', asOf })).toBe(`invalid "aggregation" job: asOf: must be an ISO instant with offset (2025-11-01T00:00:00Z) (got ${JSON.stringify(asOf)})`);
    }
  });
});

describe('tenant ids', () => {
  it('are trimmed, non-empty and at most 200 characters', () => {
    expect(validateJob('aggregation', { type: 'all', tenantId: '  org_1 ' })).toEqual({ type: 'all', tenantId: 'org_1' });
    expect(message('aggregation', { type: 'all', tenantId: '   ' })).toMatch(/^invalid "aggregation" job: tenantId: must be a non-empty string/);
    expect(validateJob('export', { type: 'all', tenantId: 'x'.repeat(200) })).toMatchObject({ tenantId: 'x'.repeat(200) });
    expect(message('export', { type: 'all', tenantId: 'x'.repeat(201) })).toMatch(/^invalid "export" job: tenantId: must be at most 200 characters \(got "x+\.\.\.\)$/);
  });
});

describe('ranges', () => {
  it('an empty range of two dates is refused (equal dates included)', () => {
    expect(message('aggregation', { type: 'revenue', periodStart: '2025-11-06', periodEnd: '2025-11-06' })).toBe(
      'invalid "aggregation" job: periodEnd: must be after periodStart "2025-11-06" (the end is exclusive) (got "2025-11-06")',
    );
    expect(message('export', { tenantId: 'o', type: 'revenue', periodStart: '2025-11-06', periodEnd: '2025-11-05' })).toContain('periodEnd: must be after periodStart');
    expect(validateJob('aggregation', { type: 'revenue', periodStart: '2025-11-05', periodEnd: '2025-11-06' })).toBeTruthy();
  });

  it('an instant end counts its last day at the earliest zone (UTC-12)', () => {
    // 2025-11-02T12:00Z is midnight of Nov 2 in UTC-12: Nov 1 is the last day there. 06:00Z is
    // still Nov 1, 18:00 there: again only Nov 1.
    expect(minimumPeriodCount('2025-11-01', '2025-11-02T12:00:00Z', 'day')).toBe(1);
    expect(minimumPeriodCount('2025-11-01', '2025-11-02T12:00:00.001Z', 'day')).toBe(2);
    expect(minimumPeriodCount('2025-11-01', '2025-11-02T06:00:00Z', 'day')).toBe(1);
  });

  it('quarters and months count across a year boundary', () => {
    expect(minimumPeriodCount('2024-10-01', '2025-04-01', 'quarter')).toBe(2);
    expect(minimumPeriodCount('2024-11-15', '2025-02-01', 'month')).toBe(3);
    expect(minimumPeriodCount('2023-06-01', '2025-06-02', 'year')).toBe(3);
  });

  it('cohorts are limited in cohort months only; other types in periods of their type only', () => {
    // 75 years: 27,394 days but 900 cohort months.
    expect(validateJob('aggregation', { type: 'cohorts', periodStart: '1950-01-01', periodEnd: '2025-01-01' })).toBeTruthy();
    expect(message('aggregation', { type: 'cohorts', periodStart: '0001-01-01', periodEnd: '2000-01-01' })).toBe(
      'invalid "aggregation" job: periodEnd: periodStart "0001-01-01" .. periodEnd "2000-01-01" spans 23988 cohort months, more than the limit of 20000 per job (got "2000-01-01")',
    );
    // A date and an instant: a lower bound, said so. 1970-01-01 .. 2024-10-05 (the last day at UTC-12) is 20,002 days.
    expect(message('aggregation', { type: 'revenue', periodStart: '1970-01-01', periodEnd: '2024-10-06T00:00:00Z' })).toBe(
      'invalid "aggregation" job: periodEnd: periodStart "1970-01-01" .. periodEnd "2024-10-06T00:00:00Z" spans at least 20002 day periods, more than the limit of 20000 per job (got "2024-10-06T00:00:00Z")',
    );
  });
});

describe('job names and payloads', () => {
  it('only a string names a job type', () => {
    expect(() => validateJob(['aggregation'] as unknown as string, { type: 'all' })).toThrow('name: unknown job type');
  });

  it('a missing payload is "not an object", not "required"', () => {
    expect(message('aggregation', undefined)).toBe('invalid "aggregation" job: (payload): must be an object');
  });
});
