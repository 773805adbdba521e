// The contract between the workflows and their callers (the BullMQ bridge, the CLI, schedules).
// Types only: this file is imported by workflow code and by Node code alike.
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
}

/** Input of `aggregationWorkflow`. Started with workflow id `aggregation/<jobId>`. */
export interface AggregationWorkflowInput {
  job: AggregationJobData;
  /** The BullMQ job id (or another business key) this run belongs to; kept in the memo. */
  jobId: string;
  /** Instant the job was enqueued / the schedule's nominal time; defaults are computed from it, never from the wall clock. */
  requestedAt: string;
}

export type TenantOutcome =
  | { tenantId: string; type: AggregationType; status: 'succeeded'; rowsWritten: number; periodsCovered: number; attempts: number }
  | { tenantId: string; type: AggregationType; status: 'failed'; errorType: string; message: string; attempts: number };

export interface AggregationWorkflowResult {
  workflowId: string;
  jobId: string;
  totals: { tenants: number; tasks: number; succeeded: number; failed: number; rowsWritten: number };
  outcomes: TenantOutcome[];
}

/** Answer of the `progress` query. */
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
