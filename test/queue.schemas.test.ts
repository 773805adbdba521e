import { describe, expect, it } from 'vitest';
import { QueueValidationError } from '../src/errors/queue-validation-error';
import { MAX_JOB_PERIODS, minimumPeriodCount, validateJob } from '../src/queue/schemas';

/** The message validateJob throws for `data` (fails the test when it accepts it). */
function rejection(name: string, data: unknown): QueueValidationError {
  try {
    validateJob(name, data);
  } catch (err) {
    expect(err).toBeInstanceOf(QueueValidationError);
    return err as QueueValidationError;
  }
  throw new Error(`accepted ${JSON.stringify(data)}`);
}

describe('job payload schemas', () => {
  it('accept the calls of the original README unchanged', () => {
    const examples = [
      { tenantId: 'org_123', type: 'revenue', periodStart: '2025-11-01', periodEnd: '2025-11-06', periodType: 'day' },
      { type: 'all' },
      { type: 'cohorts', periodStart: '2025-10-01' },
    ];
    for (const data of examples) expect(validateJob('aggregation', data)).toEqual(data);
  });

  it('accept what the schedules send (asOf, periods, includeCurrent) and ISO instants', () => {
    const data = { type: 'all', periodType: 'day', asOf: '2025-11-06T00:00:00.000Z', periods: 1, includeCurrent: true };
    expect(validateJob('aggregation', data)).toEqual(data);
    expect(validateJob('aggregation', { type: 'revenue', periodStart: '2025-11-01T00:00:00+01:00', periodEnd: '2025-11-02T00:00:00Z' })).toBeTruthy();
  });

  it('fill in the export format (csv) and accept every export and report field', () => {
    expect(validateJob('export', { tenantId: 'org_1', type: 'cohorts' })).toEqual({ tenantId: 'org_1', type: 'cohorts', format: 'csv' });
    const full = { tenantId: 'org_1', type: 'all', periodType: 'week', periodStart: '2025-11-03', periodEnd: '2025-12-01', format: 'json' };
    expect(validateJob('export', full)).toEqual(full);
    expect(validateJob('scheduled-report', {})).toEqual({});
    expect(validateJob('scheduled-report', { tenantId: 'org_1', periodType: 'month' })).toEqual({ tenantId: 'org_1', periodType: 'month' });
  });

  it('name the field and the value in every message', () => {
    const cases: [string, unknown, string][] = [
      ['aggregation', { type: 'revnue' }, 'type: must be one of revenue, cohorts, tournaments, all (got "revnue")'],
      ['aggregation', {}, 'type: is required'],
      ['aggregation', { type: 'all', tenant: 'org_1' }, 'tenant: unknown field (got "org_1")'],
      ['aggregation', { type: 'all', periodType: 'fortnight' }, 'periodType: must be one of day, week, month, quarter, year (got "fortnight")'],
      [
        'aggregation',
        { type: 'revenue', periodStart: '2025-02-30' },
        'periodStart: must be an ISO date (YYYY-MM-DD, tenant-local) or an ISO instant with offset (2025-11-01T00:00:00Z) (got "2025-02-30")',
      ],
      [
        'aggregation',
        { type: 'revenue', periodStart: '2025-11-01T00:00:00' },
        'periodStart: must be an ISO date (YYYY-MM-DD, tenant-local) or an ISO instant with offset (2025-11-01T00:00:00Z) (got "2025-11-01T00:00:00")',
      ],
      ['aggregation', { type: 'revenue', periodStart: '2025-11-06', periodEnd: '2025-11-01' }, 'periodEnd: must be after periodStart "2025-11-06" (the end is exclusive) (got "2025-11-01")'],
      // A date and an instant: empty in every timezone (Nov 6 starts at the earliest at Nov 5 10:00Z, UTC+14).
      ['aggregation', { type: 'revenue', periodStart: '2025-11-06', periodEnd: '2025-11-05T10:00:00Z' }, 'periodEnd: must be after periodStart "2025-11-06" (the end is exclusive) (got "2025-11-05T10:00:00Z")'],
      // ... and the other way round: Nov 6 ends its midnight at the latest at Nov 6 12:00Z (UTC-12).
      ['aggregation', { type: 'revenue', periodStart: '2025-11-06T12:00:00Z', periodEnd: '2025-11-06' }, 'periodEnd: must be after periodStart "2025-11-06T12:00:00Z" (the end is exclusive) (got "2025-11-06")'],
      ['aggregation', { type: 'revenue', tenantId: '' }, 'tenantId: must be a non-empty string (got "")'],
      ['aggregation', { type: 'revenue', tenantId: 42 }, 'tenantId: must be a string (got 42)'],
      ['aggregation', { type: 'revenue', periods: 0 }, 'periods: must be at least 1 (got 0)'],
      ['aggregation', { type: 'revenue', periods: 1.5 }, 'periods: must be a whole number (got 1.5)'],
      ['aggregation', { type: 'revenue', includeCurrent: 'yes' }, 'includeCurrent: must be a boolean (got "yes")'],
      ['aggregation', null, '(payload): must be an object (got null)'],
      ['aggregation', ['revenue'], '(payload): must be an object (got ["revenue"])'],
      ['export', { type: 'revenue' }, 'tenantId: is required'],
      ['export', { tenantId: 'org_1', type: 'revenue', format: 'xml' }, 'format: must be one of csv, json (got "xml")'],
      ['scheduled-report', { periodType: 'year' }, 'periodType: must be one of day, week, month (got "year")'],
    ];
    for (const [name, data, message] of cases) {
      expect(rejection(name, data).message, JSON.stringify(data)).toBe(`invalid "${name}" job: ${message}`);
    }
  });

  it('report every problem at once, with the fields in the error', () => {
    const err = rejection('aggregation', { type: 'x', periodType: 'y', extra: true });
    expect(err.jobName).toBe('aggregation');
    expect(err.issues.map((i) => [i.field, i.value])).toEqual([
      ['type', 'x'],
      ['periodType', 'y'],
      ['extra', true],
    ]);
    expect(err.field).toBe('type');
    expect(err.name).toBe('QueueValidationError');
  });

  it('leave a date-and-instant range that is non-empty in some timezone to the tenant\'s own check', () => {
    // Nov 6 00:00 in UTC+14 is Nov 5 10:00Z: the range is one hour long there.
    expect(() => validateJob('aggregation', { type: 'revenue', periodStart: '2025-11-06', periodEnd: '2025-11-05T11:00:00Z' })).not.toThrow();
    expect(() => validateJob('aggregation', { type: 'revenue', periodStart: '2025-11-06T11:00:00Z', periodEnd: '2025-11-06' })).not.toThrow();
  });

  it('reject an unknown job type', () => {
    expect(rejection('aggregate', { type: 'all' }).message).toBe(
      'invalid "aggregate" job: name: unknown job type (expected one of aggregation, export, scheduled-report) (got "aggregate")',
    );
  });

  it('reject tenant ids with control characters (NUL first of all: Postgres text cannot hold it)', () => {
    for (const [tenantId, shown] of [['org\u0000x', '"org\\u0000x"'], ['org\nx', '"org\\nx"'], ['a\u007fb', '"a\u007fb"']] as const) {
      for (const [name, data] of [['aggregation', { type: 'all', tenantId }], ['export', { type: 'all', tenantId }], ['scheduled-report', { tenantId }]] as const) {
        expect(rejection(name, data).message).toBe(`invalid "${name}" job: tenantId: must not contain control characters (NUL, tab, newline, ...) (got ${shown})`);
      }
    }
  });

  it('count a range\'s periods from its dates: exact for dates, at least for instants (any zone)', () => {
    // Hand-counted: 1900..2100 has 200 years, 49 of them leap years (1904..2096; 1900 is not, 2000 is).
    expect(minimumPeriodCount('1900-01-01', '2100-01-01', 'day')).toBe(200 * 365 + 49);
    // 2025-01-01 is a Wednesday: Jan 5 (Sunday) is in the week of Dec 30, Jan 6 starts the next.
    expect(minimumPeriodCount('2025-01-01', '2025-01-02', 'week')).toBe(1);
    expect(minimumPeriodCount('2025-01-05', '2025-01-07', 'week')).toBe(2);
    expect(minimumPeriodCount('2025-01-01', '2026-01-01', 'month')).toBe(12);
    expect(minimumPeriodCount('2025-02-15', '2025-03-02', 'month')).toBe(2);
    expect(minimumPeriodCount('2025-03-31', '2025-04-01', 'quarter')).toBe(1);
    expect(minimumPeriodCount('2025-03-31', '2025-04-02', 'quarter')).toBe(2);
    expect(minimumPeriodCount('2024-12-31', '2025-01-02', 'year')).toBe(2);
    // One UTC day: one day in UTC, two in UTC+14 and in UTC-12; at least 1.
    expect(minimumPeriodCount('2025-11-01T00:00:00Z', '2025-11-02T00:00:00Z', 'day')).toBe(1);
    // An hour that is one day everywhere but which one depends on the zone: the bound is 0.
    expect(minimumPeriodCount('2025-11-01T12:00:00Z', '2025-11-01T13:00:00Z', 'day')).toBe(0);
  });

  it(`refuse a range of more than ${MAX_JOB_PERIODS} periods at addJob, with the count and the limit`, () => {
    // 1970-01-01 + 20,000 days = 2024-10-04 (2024-01-01 is day 19,723: 54 × 365 + 13 leap days; + 277 days).
    expect(() => validateJob('aggregation', { type: 'revenue', periodStart: '1970-01-01', periodEnd: '2024-10-04' })).not.toThrow();
    expect(rejection('aggregation', { type: 'revenue', periodStart: '1970-01-01', periodEnd: '2024-10-05' }).message).toBe(
      'invalid "aggregation" job: periodEnd: periodStart "1970-01-01" .. periodEnd "2024-10-05" spans 20001 day periods, more than the limit of 20000 per job (got "2024-10-05")',
    );
    expect(rejection('aggregation', { type: 'all', periodStart: '1900-01-01', periodEnd: '2100-01-01' }).message).toBe(
      'invalid "aggregation" job: periodEnd: periodStart "1900-01-01" .. periodEnd "2100-01-01" spans 73049 day periods, more than the limit of 20000 per job (got "2100-01-01")',
    );
    // Instants: the UTC count (20,001 days) is the smallest in any zone.
    expect(rejection('aggregation', { type: 'tournaments', periodStart: '1970-01-01T00:00:00Z', periodEnd: '2024-10-05T00:00:00Z' }).message).toBe(
      'invalid "aggregation" job: periodEnd: periodStart "1970-01-01T00:00:00Z" .. periodEnd "2024-10-05T00:00:00Z" spans at least 20001 day periods, more than the limit of 20000 per job (got "2024-10-05T00:00:00Z")',
    );
    // Cohorts are planned in months whatever the period type: 1999 years are 23,988 cohort months.
    expect(() => validateJob('aggregation', { type: 'revenue', periodType: 'year', periodStart: '0001-01-01', periodEnd: '2000-01-01' })).not.toThrow();
    expect(rejection('aggregation', { type: 'all', periodType: 'year', periodStart: '0001-01-01', periodEnd: '2000-01-01' }).message).toBe(
      'invalid "aggregation" job: periodEnd: periodStart "0001-01-01" .. periodEnd "2000-01-01" spans 23988 cohort months, more than the limit of 20000 per job (got "2000-01-01")',
    );
    expect(rejection('aggregation', { type: 'revenue', periods: 20_001 }).message).toBe('invalid "aggregation" job: periods: must be at most 20000 (got 20001)');
  });
});
