// The shapes shared by the queue, the workflows, the activities and the CLI: plain serialisable
// data only (they cross Temporal's payload boundary), importing nothing of those layers.
import type { Duration } from '@temporalio/common';

export const AGGREGATION_TYPES = ['revenue', 'cohorts', 'tournaments'] as const;
export type AggregationType = (typeof AGGREGATION_TYPES)[number];
/** What a job asks for: one type, or all three. */
export type AggregationTypeOrAll = AggregationType | 'all';

export const PERIOD_TYPES = ['day', 'week', 'month', 'quarter', 'year'] as const;
export type PeriodType = (typeof PERIOD_TYPES)[number];

/** The validated payload of an `aggregation` job. */
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
  /**
   * Fold in every pending change instead of computing a range (docs/incremental.md): only tenants
   * with pending changes run, and only the buckets those changes dirty are recomputed. Excludes
   * periodStart, periodEnd, periodType, periods and includeCurrent; `asOf` caps the newest bucket.
   * @defaultValue false
   */
  incremental?: boolean;
}

/** The types a job covers, in the order they are computed. */
export function typesOfJob(type: AggregationTypeOrAll): readonly AggregationType[] {
  return type === 'all' ? AGGREGATION_TYPES : [type];
}

/**
 * One tenant of one job: every type the job asks for, over the job's whole range in the tenant's
 * timezone, in one transaction. The activity resolves the periods itself (cached per timezone),
 * so the input stays a few hundred bytes whatever the range.
 */
export interface TenantAggregationInput {
  /** The job's workflow id: key of the outcome rows (the resume ledger). */
  jobKey: string;
  tenantId: string;
  job: AggregationJobData;
  /** ISO instant defaults and cohort month numbers are computed as of (the job's asOf, else its request time). */
  asOf: string;
  /** Set when the tenant's range is split (src/aggregation/split.ts): which slice of its periods this activity covers. */
  part?: TenantPart;
}

/**
 * One part of a tenant whose range is split: a contiguous slice of its periods. The parts run one
 * after another; the last writes the tenant's outcome rows, with the rows the earlier parts wrote.
 */
export interface TenantPart {
  /** 0-based. */
  index: number;
  of: number;
  /** Rows written per type by the parts before this one. */
  carried?: RowsByType;
}

export type RowsByType = Partial<Record<AggregationType, number>>;

export interface TenantAggregationResult {
  tenantId: string;
  /** `resumed`: an earlier run of the same job had already succeeded for every type; nothing ran. */
  status: 'succeeded' | 'resumed';
  /** Aggregate rows inserted or updated, over all types (of this part only, for a part). */
  rowsWritten: number;
  /** For a part: rows per type, carried into the next part. */
  rowsByType?: RowsByType;
  /** The attempt that produced this result (added by the worker's attempt-reporting interceptor). */
  attempt?: number;
}

/** A bounded slice of the job's tenants in id order (`COLLATE "C"`): (afterTenantId, lastTenantId]. */
export interface TenantPage {
  /** Exclusive lower bound; null for the first page. */
  afterTenantId: string | null;
  /** Inclusive upper bound. */
  lastTenantId: string;
  tenants: number;
}

/** Input of `aggregationWorkflow`. Started with workflow id `aggregation/<jobId>` (`aggregation/<queue>:<jobId>` off the default queue). */
export interface AggregationWorkflowInput {
  job: AggregationJobData;
  /** The BullMQ job id (or another business key) this run belongs to; kept in the memo. */
  jobId: string;
  /** Instant the job was enqueued / the schedule's nominal time; defaults are computed from it, never from the wall clock. */
  requestedAt: string;
  /** How the run fans out; every field has a default (see {@link AggregationRunOptions}). */
  options?: AggregationRunOptions;
  /** Carried across continue-as-new; absent on the first run. */
  state?: AggregationRunState;
}

/** What the parent carries into its next run when it continues as new. */
export interface AggregationRunState {
  /** Instant the periods are computed as of, fixed by the first run. */
  asOf: string;
  tenantCount: number;
  /** Last tenant id of the last page handed out; null before the first. */
  cursor: string | null;
  /** Every page has been handed out. */
  exhausted: boolean;
  /** Children started so far (the next child is `chunk-<childrenStarted + 1>`). */
  childrenStarted: number;
  totals: AggregationTotals;
  failedTenants: FailedTenant[];
  /** Some failure was retryable (a later attempt of the job may succeed). */
  anyRetryableFailure: boolean;
  runs: number;
  /** Tenants settled so far: done (succeeded or resumed) and failed. */
  tenantsDone: number;
  tenantsFailed: number;
  /** Types per tenant (3 for `all`). */
  typesPerTenant: number;
}

/**
 * Tuning of one aggregation run. The defaults suit production; tests shrink them to exercise
 * paging and continue-as-new with fewer tenants.
 */
export interface AggregationRunOptions {
  /** Tenant activities one job keeps in flight, over all its children. @defaultValue 20 */
  maxConcurrentActivities?: number;
  /** Tenants per chunk child workflow (`<workflowId>/chunk-<n>`). @defaultValue 500 */
  tenantsPerChild?: number;
  /** Chunk children running at once (a sliding window); they share `maxConcurrentActivities`. @defaultValue 2 */
  maxConcurrentChildren?: number;
  /**
   * `local`: the tenant activities run as local activities in the workflow's worker (one history
   * event each, no task-queue round trip); `regular`: as ordinary activities.
   * @defaultValue 'local'
   */
  activityKind?: 'local' | 'regular';
  /** A workflow (parent or child) continues as new once its history has this many events (or the server suggests it). @defaultValue 5000 */
  maxHistoryEvents?: number;
  /** Longest one attempt of a tenant activity may run. @defaultValue '10 minutes' */
  activityStartToCloseTimeout?: Duration;
  /** Heartbeat timeout of a regular tenant activity: how soon the work of a dead worker is retried elsewhere. @defaultValue '15 seconds' */
  activityHeartbeatTimeout?: Duration;
  /** Failed tenants listed in the result at most (the totals count every one). @defaultValue 20 */
  maxFailedListed?: number;
  /** Outcome rows older than this are purged at the end of the run. @defaultValue 7 days (604800000) */
  outcomeRetentionMs?: number;
  /**
   * A backfill's tenant whose estimated raw rows in the range pass this is split into parts of
   * about this many rows, run one after another (src/aggregation/split.ts). @defaultValue 2000000
   */
  splitRowsPerActivity?: number;
  /** Parts per tenant at most. @defaultValue 24 */
  maxPartsPerTenant?: number;
}

/** Counts over (tenant, type) tasks, except `tenants`. */
export interface AggregationTotals {
  tenants: number;
  tasks: number;
  succeeded: number;
  failed: number;
  /** Tasks an earlier run of the same job had completed: not run again. */
  resumed: number;
  rowsWritten: number;
}

export interface FailedTenant {
  tenantId: string;
  errorType: string;
  message: string;
  attempts: number;
}

export interface AggregationWorkflowResult {
  workflowId: string;
  jobId: string;
  totals: AggregationTotals;
  /** The first failed tenants (at most `maxFailedListed`); every outcome is in `aggregation_outcomes`. */
  failedTenants: FailedTenant[];
  /** Failed tenants not listed because of that cap. */
  failedTenantsOmitted: number;
  /** Chunk children the run started. */
  children: number;
  /** Runs of the parent, continue-as-new included. */
  runs: number;
}

/**
 * Answer of the `progress` query, counted in tenants: `failed` are tenants whose activity failed
 * for good; resumed tenants count as done.
 */
export interface AggregationProgress {
  total: number;
  done: number;
  failed: number;
  /** Human-readable description of what is being computed, e.g. "chunk 3/20". */
  currentPeriod: string | null;
}

/** The BullMQ queue whose jobs keep the plain workflow ids (`aggregation/<jobId>`). */
export const DEFAULT_QUEUE_NAME = 'analytics';

/**
 * Workflow id of a job of kind `kind` (`aggregation`, `export`, `scheduled-report`): deterministic,
 * so a duplicate start attaches instead of starting a second run. `<kind>/<jobId>` for the default
 * queue, `<kind>/<queueName>:<jobId>` for any other, so two queues in one namespace never share a
 * workflow. Job ids and queue names contain neither ':' nor '/', so no queue's id equals another's,
 * and no job's id equals another job's chunk child (`<workflowId>/chunk-<n>`).
 */
export function jobWorkflowId(kind: string, jobId: string, queueName: string): string {
  return queueName === DEFAULT_QUEUE_NAME ? `${kind}/${jobId}` : `${kind}/${queueName}:${jobId}`;
}

/** Workflow id of an aggregation job (see {@link jobWorkflowId}). */
export function aggregationWorkflowId(jobId: string, queueName: string): string {
  return jobWorkflowId('aggregation', jobId, queueName);
}

/** What the aggregation service reports for one (tenant, type) over a range. */
export interface AggregateSummary {
  tenantId: string;
  type: AggregationType;
  periodType: PeriodType;
  /** Rows inserted or updated. */
  rowsWritten: number;
  /** Periods (or cohort months) covered by the range. */
  periodsCovered: number;
  /** First period start and last period end as ISO instants. */
  rangeStart: string;
  rangeEnd: string;
  durationMs: number;
}
