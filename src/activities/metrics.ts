import type { AggregationType, PeriodType } from '../contract/aggregation';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';

/**
 * What the aggregation activity reports about each tenant it settles, for the workers process's
 * Prometheus endpoint (src/metrics/). An interface, so activities stay free of the metrics
 * library and tests can pass their own.
 */
export interface AggregationRecorder {
  /** The tenant's statement ran: rows written per type and period type, and how long the activity took. */
  tenantAggregated(rows: readonly { type: AggregationType; periodType: PeriodType; rowsWritten: number }[], durationMs: number): void;
  /** An earlier run of the same job had done every type; nothing ran. */
  tenantResumed(types: readonly AggregationType[]): void;
  /**
   * One attempt failed. `final`: no attempt follows (bad input or data, or the retry policy's
   * last attempt), so the tenant counts as failed for this run.
   */
  tenantFailed(types: readonly AggregationType[], errorType: string, final: boolean, durationMs: number): void;
}

const NON_RETRYABLE = new Set<string>(NON_RETRYABLE_ERROR_TYPES);

/** Whether a failed attempt is the tenant's last: a non-retryable error, or the policy's last attempt (0 = unlimited). */
export function isFinalAttempt(errorType: string, attempt: number, maximumAttempts: number | undefined): boolean {
  if (NON_RETRYABLE.has(errorType)) return true;
  return maximumAttempts !== undefined && maximumAttempts > 0 && attempt >= maximumAttempts;
}
