import { ApplicationFailure, ActivityFailure, isCancellation, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ReportActivities, ReportPeriodType } from '../activities/report';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { progressQuery } from './definitions';
import type { AggregationProgress } from '../contract/aggregation';

/** The validated payload of a `scheduled-report` job (docs/queue.md). */
export interface ScheduledReportJobData {
  /** Absent: every active organization. */
  tenantId?: string;
  /** @defaultValue day */
  periodType?: ReportPeriodType;
  /**
   * ISO instant the report is as of, instead of the time the job was requested: the schedule
   * sets its nominal fire time, so a late or retried run reports on the periods it was meant to.
   */
  asOf?: string;
}

/** Input of `scheduledReportWorkflow`. Started with workflow id `scheduled-report/<jobId>`. */
export interface ScheduledReportWorkflowInput {
  job: ScheduledReportJobData;
  jobId: string;
  /** Instant the job was enqueued: the report covers what had ended by then. */
  requestedAt: string;
}

export type ReportOutcome =
  | { tenantId: string; status: 'succeeded'; textPath: string; htmlPath: string }
  | { tenantId: string; status: 'failed'; errorType: string; message: string };

export interface ScheduledReportWorkflowResult {
  workflowId: string;
  jobId: string;
  totals: { tenants: number; succeeded: number; failed: number };
  /** One per tenant, in tenant id order. */
  outcomes: ReportOutcome[];
}

const nonRetryableErrorTypes = [...NON_RETRYABLE_ERROR_TYPES] as string[];

/** Computing a tenant's missing aggregates (as long as a tenant aggregation may take), reading them and writing two small files. */
export const REPORT_ACTIVITY = {
  startToCloseTimeout: '10 minutes',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
} as const;

const { listReportTenants, writeTenantReport } = proxyActivities<ReportActivities>(REPORT_ACTIVITY);

/** Tenants reported on at once. */
const REPORTS_AT_ONCE = 10;

/**
 * A `scheduled-report` job: one activity per tenant that computes the aggregates its report shows
 * where they are missing (the tenant aggregator, outcome key `<workflowId>/ensure:…`), then
 * writes its text and HTML summary. One activity per tenant keeps the history as small as an
 * aggregation job's. One tenant's failure is an outcome, never a stop for the others.
 */
export async function scheduledReportWorkflow(input: ScheduledReportWorkflowInput): Promise<ScheduledReportWorkflowResult> {
  const { workflowId } = workflowInfo();
  const progress: AggregationProgress = { total: 0, done: 0, failed: 0, currentPeriod: null };
  setHandler(progressQuery, () => progress);

  const asOf = input.job.asOf ?? input.requestedAt;
  const tenants = await listReportTenants(input.job.tenantId !== undefined ? { tenantId: input.job.tenantId } : {});
  progress.total = tenants.length;
  progress.currentPeriod = `latest ${input.job.periodType ?? 'day'} as of ${asOf}`;

  const outcomes: ReportOutcome[] = new Array(tenants.length);
  let next = 0;
  async function lane(): Promise<void> {
    while (next < tenants.length) {
      const index = next++;
      const tenantId = tenants[index]!;
      try {
        const report = await writeTenantReport({ tenantId, periodType: input.job.periodType, asOf, fileStem: input.jobId, ensureAggregatesKey: workflowId });
        outcomes[index] = { tenantId, status: 'succeeded', textPath: report.textPath, htmlPath: report.htmlPath };
        progress.done += 1;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const cause = err instanceof ActivityFailure ? err.cause : err;
        outcomes[index] = {
          tenantId,
          status: 'failed',
          errorType: cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : ((cause as Error | undefined)?.name ?? 'Error'),
          message: (cause as Error | undefined)?.message ?? String(err),
        };
        progress.failed += 1;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(REPORTS_AT_ONCE, tenants.length) }, lane));
  progress.currentPeriod = null;
  return {
    workflowId,
    jobId: input.jobId,
    totals: { tenants: tenants.length, succeeded: progress.done, failed: progress.failed },
    outcomes,
  };
}
