import { describe, expect, it } from 'vitest';
import { BULK_MIN_PERIODS, bulkTaskQueueOf, isBulkJob } from '../src/queue/job-class';

// Which jobs take the backfill lane, decided from the payload alone: an aggregation spanning at
// least 8 periods of its type (cohort months for cohorts). Counts are worked out on a calendar.
// The lane itself under load: test/queue.backfillLane.test.ts.

describe('isBulkJob', () => {
  it('the threshold is 8 periods', () => {
    expect(BULK_MIN_PERIODS).toBe(8);
  });

  it('counts a range in periods of the job period type (day by default)', () => {
    expect(isBulkJob('aggregation', { type: 'revenue', periodStart: '2025-01-01', periodEnd: '2025-01-08' })).toBe(false); // 7 days
    expect(isBulkJob('aggregation', { type: 'revenue', periodStart: '2025-01-01', periodEnd: '2025-01-09' })).toBe(true); // 8 days
    // Weeks: 2025-01-06 is a Monday; to 2025-03-03 is 8 weeks, to 2025-02-24 is 7.
    expect(isBulkJob('aggregation', { type: 'tournaments', periodType: 'week', periodStart: '2025-01-06', periodEnd: '2025-03-03' })).toBe(true);
    expect(isBulkJob('aggregation', { type: 'tournaments', periodType: 'week', periodStart: '2025-01-06', periodEnd: '2025-02-24' })).toBe(false);
    // 2 years in months: 24 months; in years: 2.
    expect(isBulkJob('aggregation', { type: 'revenue', periodType: 'month', periodStart: '2024-01-01', periodEnd: '2026-01-01' })).toBe(true);
    expect(isBulkJob('aggregation', { type: 'revenue', periodType: 'year', periodStart: '2024-01-01', periodEnd: '2026-01-01' })).toBe(false);
  });

  it('cohorts count cohort months whatever the period type', () => {
    // 2025-01-01 .. 2025-09-01: 8 cohort months; .. 2025-08-01: 7. As days both ranges are far above 8.
    expect(isBulkJob('aggregation', { type: 'cohorts', periodType: 'day', periodStart: '2025-01-01', periodEnd: '2025-09-01' })).toBe(true);
    expect(isBulkJob('aggregation', { type: 'cohorts', periodType: 'day', periodStart: '2025-01-01', periodEnd: '2025-08-01' })).toBe(false);
    // And as years a 10-year cohort range is still 120 months.
    expect(isBulkJob('aggregation', { type: 'cohorts', periodType: 'year', periodStart: '2015-01-01', periodEnd: '2025-01-01' })).toBe(true);
  });

  it('without both boundaries: the `periods` count (default 1)', () => {
    expect(isBulkJob('aggregation', { type: 'revenue', periods: 7 })).toBe(false);
    expect(isBulkJob('aggregation', { type: 'revenue', periods: 8 })).toBe(true);
    expect(isBulkJob('aggregation', { type: 'all' })).toBe(false);
    // One boundary alone is not a range: one period.
    expect(isBulkJob('aggregation', { type: 'revenue', periodStart: '2025-01-01' })).toBe(false);
    expect(isBulkJob('aggregation', { type: 'revenue', periodEnd: '2026-01-01' })).toBe(false);
    // ...even with a `periods` count, which the planner ignores when a boundary is given.
    expect(isBulkJob('aggregation', { type: 'revenue', periodStart: '2025-01-01', periods: 30 })).toBe(false);
    expect(isBulkJob('aggregation', { type: 'revenue', periodEnd: '2025-01-01', periods: 30 })).toBe(false);
  });

  it('only aggregation jobs are ever backfills', () => {
    expect(isBulkJob('export', { tenantId: 'org_1', type: 'all', periodStart: '2020-01-01', periodEnd: '2025-01-01', format: 'csv' })).toBe(false);
    expect(isBulkJob('scheduled-report', {})).toBe(false);
  });
});

describe('bulkTaskQueueOf', () => {
  it('is the task queue with -bulk appended', () => {
    expect(bulkTaskQueueOf('analytics-aggregation')).toBe('analytics-aggregation-bulk');
  });
});
