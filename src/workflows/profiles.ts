import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import type { AggregationRunOptions } from '../contract/aggregation';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';

// Retry and timeout profiles of the aggregation workflows (named `as const` objects with string
// durations). Bad input and bad data (the InvalidInputError family, InvalidDataError) are never
// retried.

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES] as string[];

/**
 * One tenant of one job. 3 attempts: attempt 2 five seconds after attempt 1 fails, attempt 3 ten
 * seconds after attempt 2; the third failure is final.
 */
export const AGGREGATION_ACTIVITY = {
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
} as const;

/**
 * As a local activity, a backoff of a second or more waits on a durable workflow timer rather
 * than in the worker's memory: a worker that dies between attempts loses nothing, and the
 * time-skipping test server can skip the wait.
 */
export const LOCAL_RETRY_THRESHOLD = '1 second';

/**
 * The tenant activity's backoff (5 s, then 10 s) waits in the worker instead. A chunk child runs
 * many tenant activities at once and signals its progress as they settle; on replay the SDK
 * resolves local activities grouped differently from the live run, so a backoff timer and a
 * progress signal issued in reaction to two tenants come out in the other order: a
 * nondeterminism error (TMPRL1100) for any chunk replayed with a retry pending. Past the longest
 * backoff, no timer is ever issued; a worker that dies between attempts restarts the tenant.
 */
export const AGGREGATION_LOCAL_RETRY_THRESHOLD = '1 minute';

/**
 * As a regular activity, the worker heartbeats on its behalf (src/temporal/activity-interceptors.ts),
 * so the call of a worker that died is retried after this, not after the start-to-close timeout.
 */
export const AGGREGATION_HEARTBEAT_TIMEOUT = '15 seconds';

/** Planning and purge calls: a few small queries for the whole job, so retried longer. */
export const PLANNING_ACTIVITY = {
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 5, initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
} as const;

/** Local planning calls (pages, pending tenants) share the profile, with durable backoff. */
export const LOCAL_PLANNING_ACTIVITY: LocalActivityOptions = { ...PLANNING_ACTIVITY, localRetryThreshold: LOCAL_RETRY_THRESHOLD };

/** {@link AggregationRunOptions} with every default filled in. */
export type ResolvedRunOptions = Required<AggregationRunOptions>;

export const DEFAULT_RUN_OPTIONS: ResolvedRunOptions = {
  maxConcurrentActivities: 20,
  tenantsPerChild: 500,
  maxConcurrentChildren: 2,
  activityKind: 'local',
  maxHistoryEvents: 5_000,
  activityStartToCloseTimeout: AGGREGATION_ACTIVITY.startToCloseTimeout,
  activityHeartbeatTimeout: AGGREGATION_HEARTBEAT_TIMEOUT,
  maxFailedListed: 20,
  outcomeRetentionMs: 7 * 24 * 3_600_000,
  splitRowsPerActivity: 2_000_000,
  maxPartsPerTenant: 24,
};

export function resolveRunOptions(options: AggregationRunOptions | undefined): ResolvedRunOptions {
  const resolved = { ...DEFAULT_RUN_OPTIONS };
  for (const [k, v] of Object.entries(options ?? {})) {
    if (v !== undefined && v !== null) (resolved as Record<string, unknown>)[k] = v;
  }
  return resolved;
}

/** The tenant profile as a local activity, with a run's timeout. */
export function localAggregationOptions(options: ResolvedRunOptions): LocalActivityOptions {
  return { ...AGGREGATION_ACTIVITY, retry: { ...AGGREGATION_ACTIVITY.retry }, startToCloseTimeout: options.activityStartToCloseTimeout, localRetryThreshold: AGGREGATION_LOCAL_RETRY_THRESHOLD };
}

/** The tenant profile as a regular activity, with a run's timeouts. */
export function regularAggregationOptions(options: ResolvedRunOptions): ActivityOptions {
  return {
    ...AGGREGATION_ACTIVITY,
    retry: { ...AGGREGATION_ACTIVITY.retry },
    startToCloseTimeout: options.activityStartToCloseTimeout,
    heartbeatTimeout: options.activityHeartbeatTimeout,
  };
}
