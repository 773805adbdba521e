import { patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ExportActivities, ExportedFile, ExportFormat } from '../activities/export';
import type { AggregationType, AggregationTypeOrAll, PeriodType } from '../contract/aggregation';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { progressQuery } from './definitions';
import type { AggregationProgress } from '../contract/aggregation';
import { DEFAULT_RUN_OPTIONS, regularAggregationOptions } from './profiles';

/** The validated payload of an `export` job (docs/queue.md). */
export interface ExportJobData {
  tenantId: string;
  type: AggregationTypeOrAll;
  periodType?: PeriodType;
  periodStart?: string;
  periodEnd?: string;
  /** @defaultValue csv */
  format?: ExportFormat;
}

/** Input of `exportWorkflow`. Started with workflow id `export/<jobId>`. */
export interface ExportWorkflowInput {
  job: ExportJobData;
  jobId: string;
  /** Instant the job was enqueued; the default range is computed from it. */
  requestedAt: string;
}

export interface ExportWorkflowResult {
  workflowId: string;
  jobId: string;
  tenantId: string;
  format: ExportFormat;
  /** One file per aggregate type, in the order revenue, cohorts, tournaments. */
  files: ExportedFile[];
  totals: { files: number; rows: number; bytes: number };
}

/** Reading a tenant's rows and writing a file; bad input (unknown tenant, bad period) is never retried. */
export const EXPORT_ACTIVITY = {
  startToCloseTimeout: '10 minutes',
  retry: {
    maximumAttempts: 3,
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] as string[],
  },
} as const;

const { exportAggregates, planExportAggregates } = proxyActivities<ExportActivities>(EXPORT_ACTIVITY);
/** Missing rows are computed by the same per-tenant activity, with the same profile, as an aggregation job's. */
const { aggregateTenant } = proxyActivities<Activities>(regularAggregationOptions(DEFAULT_RUN_OPTIONS));

/** Marks the runs that compute missing aggregates before exporting (histories recorded before it replay unchanged). */
export const EXPORT_ENSURES_AGGREGATES_PATCH = 'export-ensures-aggregates';

const TYPES: readonly AggregationType[] = ['revenue', 'cohorts', 'tournaments'];

/**
 * An `export` job: first the rows of its range that are missing are computed (planExportAggregates,
 * then `aggregateTenant` with outcome key `<workflowId>/ensure:…`), then one file per aggregate
 * type the job asks for, each streamed by an activity.
 */
export async function exportWorkflow(input: ExportWorkflowInput): Promise<ExportWorkflowResult> {
  const { workflowId } = workflowInfo();
  const format = input.job.format ?? 'csv';
  const types = input.job.type === 'all' ? TYPES : [input.job.type];
  const progress: AggregationProgress = { total: types.length, done: 0, failed: 0, currentPeriod: null };
  setHandler(progressQuery, () => progress);

  if (patched(EXPORT_ENSURES_AGGREGATES_PATCH)) {
    progress.currentPeriod = `missing aggregates for tenant ${input.job.tenantId}`;
    const range = { tenantId: input.job.tenantId, periodType: input.job.periodType, periodStart: input.job.periodStart, periodEnd: input.job.periodEnd, asOf: input.requestedAt };
    const missing = await planExportAggregates({ ...range, type: input.job.type });
    for (const m of missing) await aggregateTenant({ jobKey: `${workflowId}/${m.key}`, tenantId: input.job.tenantId, job: m.job, asOf: input.requestedAt });
  }

  const files: ExportedFile[] = [];
  for (const type of types) {
    progress.currentPeriod = `${type} for tenant ${input.job.tenantId}`;
    try {
      files.push(
        await exportAggregates({
          tenantId: input.job.tenantId,
          type,
          periodType: input.job.periodType,
          periodStart: input.job.periodStart,
          periodEnd: input.job.periodEnd,
          format,
          asOf: input.requestedAt,
          fileStem: input.jobId,
        }),
      );
      progress.done += 1;
    } catch (err) {
      progress.failed += 1;
      throw err;
    }
  }
  progress.currentPeriod = null;
  return {
    workflowId,
    jobId: input.jobId,
    tenantId: input.job.tenantId,
    format,
    files,
    totals: {
      files: files.length,
      rows: files.reduce((n, f) => n + f.rows, 0),
      bytes: files.reduce((n, f) => n + f.bytes, 0),
    },
  };
}
