// The contract between the workflows and their callers (the BullMQ bridge, the CLI, schedules).
// Types only: this file is imported by workflow code and by Node code alike.
import type { Duration } from '@temporalio/common';
import type { AggregationType, AggregationTypeOrAll, PeriodType } from '../activities/types';

/** The validated payload of an `aggregation` job (DESIGN.md, "Jobs"). */
export interface AggregationJobData {
  /** Absent: every active organization. */
  tenantId?: string;
  type: AggregationTypeOrAll;
  /** ISO date (tenant-local) or ISO instant. */
  periodStart?: string;
  /** Exclusive. */
  periodEnd?: string;
  periodType?: PeriodType;
  /**
   * ISO instant the defaults are computed from instead of the time the job was requested.
   * Schedules set it to their nominal fire time, so a late, retried or backfilled run computes
   * the periods it was meant to.
   */
  asOf?: string;
  /**
   * With no periodStart: how many complete periods of `periodType`, ending with the last complete
   * one before `asOf`, to aggregate. For cohorts: how many cohort months, ending with the month
   * that contains `asOf`. @defaultValue 1 (cohorts: 2, the current and the previous month)
   */
  periods?: number;
  /** With no periodStart: also aggregate the period that contains `asOf`, so far. @defaultValue false */
  includeCurrent?: boolean;
}

/** Input of `aggregationWorkflow`. Started with workflow id `aggregation/<jobId>`. */
export interface AggregationWorkflowInput {
  job: AggregationJobData;
  /** The BullMQ job id (or another business key) this run belongs to; kept in the memo. */
  jobId: string;
  /** Instant the job was enqueued / the schedule's nominal time; defaults are computed from it, never from the wall clock. */
  requestedAt: string;
  /** How the run fans out; every field has a default (see {@link AggregationRunOptions}). */
  options?: AggregationRunOptions;
}

/**
 * Tuning of one aggregation run. The defaults suit production; tests shrink them to exercise
 * chunking and continue-as-new with fewer tenants.
 */
export interface AggregationRunOptions {
  /** Aggregation activities in flight at once, over all chunk children of the run. @defaultValue 20 */
  maxConcurrentActivities?: number;
  /** Tenants per chunk child workflow (`<workflowId>/chunk-<n>`). @defaultValue 500 */
  tenantsPerChild?: number;
  /** Chunk children running at once; they share `maxConcurrentActivities`. @defaultValue 2 */
  maxConcurrentChildren?: number;
  /** Periods one activity call computes in a backfill (a range is split into calls of this many). @defaultValue 30 */
  periodsPerActivity?: number;
  /** A chunk child continues as new once its history has this many events (or the server suggests it). @defaultValue 5000 */
  maxHistoryEvents?: number;
  /** Heartbeat timeout of an aggregation activity: how soon the work of a dead worker is retried elsewhere. @defaultValue '1 minute' */
  activityHeartbeatTimeout?: Duration;
  /** Longest one attempt of an aggregation activity may run. @defaultValue '10 minutes' */
  activityStartToCloseTimeout?: Duration;
  /** Outcomes listed in the result at most, failures first (the totals always count every task). @defaultValue 2000 */
  maxOutcomesInResult?: number;
}

export type TenantOutcome =
  | { tenantId: string; type: AggregationType; status: 'succeeded'; rowsWritten: number; periodsCovered: number; attempts: number }
  | { tenantId: string; type: AggregationType; status: 'failed'; errorType: string; message: string; attempts: number };

export interface AggregationWorkflowResult {
  workflowId: string;
  jobId: string;
  /** Tasks are (tenant, type) pairs; a task fails when any of its activity calls fails for good. */
  totals: { tenants: number; tasks: number; succeeded: number; failed: number; rowsWritten: number };
  /** One per task, failures first, at most `maxOutcomesInResult` (a result must stay far below Temporal's 2 MB payload limit). */
  outcomes: TenantOutcome[];
  /** Outcomes left out of `outcomes` because of that cap. */
  outcomesOmitted: number;
  /**
   * Activity calls (tenant × type × chunk of periods): `resumed` ones were completed by an earlier,
   * cancelled run with the same job id and were skipped; `skipped` ones were not run because an
   * earlier chunk of the same task had failed for good.
   */
  chunks: { total: number; done: number; failed: number; skipped: number; resumed: number };
  /** Chunk children that did not complete (they failed or were terminated); their tasks are counted as failed. */
  childFailures: { workflowId: string; errorType: string; message: string }[];
}

/**
 * Answer of the `progress` query. Counts are activity calls (tenant × type × chunk of periods),
 * so a long backfill moves steadily; `failed` includes calls skipped after their task failed.
 */
export interface AggregationProgress {
  total: number;
  done: number;
  failed: number;
  /** Human-readable description of the period(s) being computed now, e.g. "day 2025-11-01..2025-11-06". */
  currentPeriod: string | null;
}

/** Workflow id for a job: deterministic, so a duplicate start attaches instead of starting a second run. */
export function aggregationWorkflowId(jobId: string): string {
  return `aggregation/${jobId}`;
}
