import type { AggregationJobData } from '../contract/aggregation';
import { minimumPeriodCount, type JobName, type JobPayloads } from './schemas';

// Backfills and the jobs the schedules enqueue share the bridge and the Temporal workers, but
// not their capacity: a backfill holds a bridge slot and keeps tenant activities busy for
// minutes, and five of them must not make the hourly job wait. Backfills get a lane of their own:
// at most BRIDGE_CONCURRENCY of them at once, on their own task queue (`<task queue>-bulk`)
// served by their own worker slots; other jobs keep BRIDGE_RESERVED_SLOTS bridge slots and the
// main task queue for themselves.

/** An aggregation job over at least this many periods (of one type) is a backfill. */
export const BULK_MIN_PERIODS = 8;

/** The task queue backfill workflows run on, next to `taskQueue`. */
export function bulkTaskQueueOf(taskQueue: string): string {
  return `${taskQueue}-bulk`;
}

/**
 * Whether a job is a backfill: an aggregation whose range (or `periods` count) spans at least
 * {@link BULK_MIN_PERIODS} periods of its period type (cohort months for cohorts), counted from
 * the dates alone so the bridge decides without a database.
 */
export function isBulkJob<N extends JobName>(name: N, payload: JobPayloads[N]): boolean {
  if (name !== 'aggregation') return false;
  const job = payload as AggregationJobData;
  if (job.periodStart !== undefined && job.periodEnd !== undefined) {
    const periodType = job.type === 'cohorts' ? 'month' : (job.periodType ?? 'day');
    return minimumPeriodCount(job.periodStart, job.periodEnd, periodType) >= BULK_MIN_PERIODS;
  }
  // One boundary alone names one period (the planner ignores `periods` then).
  if (job.periodStart !== undefined || job.periodEnd !== undefined) return false;
  return (job.periods ?? 1) >= BULK_MIN_PERIODS;
}
