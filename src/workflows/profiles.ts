import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import type { AggregationRunOptions } from './types';

// Retry and timeout profiles of the aggregation workflows (STYLE.md: named `as const` objects with
// string durations). Bad input (the InvalidInputError family) is never retried.

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES] as string[];

/**
 * One aggregation call: one tenant, one type, up to `periodsPerActivity` periods. DESIGN.md
 * "Retries": 3 attempts, attempt 2 five seconds after attempt 1 fails, attempt 3 ten seconds after
 * attempt 2. The worker heartbeats on the activity's behalf (src/temporal/activity-interceptors.ts),
 * so a killed worker's calls are retried after `heartbeatTimeout`, not after `startToCloseTimeout`.
 */
export const AGGREGATION_ACTIVITY = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
} as const;

/** Planning and ledger calls: a few small queries for the whole job, so retried longer. */
export const PLANNING_ACTIVITY = {
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
} as const;

/** {@link AggregationRunOptions} with every default filled in. */
export type ResolvedRunOptions = Required<AggregationRunOptions>;

export const DEFAULT_RUN_OPTIONS: ResolvedRunOptions = {
  maxConcurrentActivities: 20,
  tenantsPerChild: 500,
  maxConcurrentChildren: 2,
  periodsPerActivity: 30,
  maxHistoryEvents: 5_000,
  activityHeartbeatTimeout: AGGREGATION_ACTIVITY.heartbeatTimeout,
  activityStartToCloseTimeout: AGGREGATION_ACTIVITY.startToCloseTimeout,
  maxOutcomesInResult: 2_000,
};

export function resolveRunOptions(options: AggregationRunOptions | undefined): ResolvedRunOptions {
  const resolved = { ...DEFAULT_RUN_OPTIONS };
  for (const [k, v] of Object.entries(options ?? {})) {
    if (v !== undefined && v !== null) (resolved as Record<string, unknown>)[k] = v;
  }
  return resolved;
}

/** The aggregation profile with a run's timeouts. */
export function aggregationActivityOptions(options: ResolvedRunOptions): ActivityOptions {
  return {
    ...AGGREGATION_ACTIVITY,
    retry: { ...AGGREGATION_ACTIVITY.retry },
    heartbeatTimeout: options.activityHeartbeatTimeout,
    startToCloseTimeout: options.activityStartToCloseTimeout,
  };
}
