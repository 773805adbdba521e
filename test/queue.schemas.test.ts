import { describe, expect, it } from 'vitest';
import { QueueValidationError } from '../src/errors/queue-validation-error';
import { validateJob } from '../src/queue/schemas';

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
});
