import type { AggregationTypeOrAll, PeriodType } from '../activities/types';
import { QueueValidationError } from '../errors/queue-validation-error';
import type { AnalyticsQueue } from '../queue';
import type { AggregationJobData, AggregationWorkflowResult } from '../workflows/types';
import { followJob } from './follow';
import { printJson, printTable } from './output';
import { UsageError } from './program';

export interface QueuedAggregation {
  type: AggregationTypeOrAll;
  tenantId?: string;
  periodType: PeriodType;
  from?: string;
  to?: string;
  asOf?: string;
  jobId?: string;
}

/**
 * The production path: addJob('aggregation') -> BullMQ -> bridge -> Temporal workflow ->
 * activities -> Postgres. Waits for the job with a progress bar; needs `analytics workers` running.
 */
export async function runQueuedAggregation(
  queue: AnalyticsQueue,
  request: QueuedAggregation,
  options: { timeoutMs?: number; progress?: boolean } = {},
): Promise<AggregationWorkflowResult> {
  const data: AggregationJobData = {
    type: request.type,
    periodType: request.periodType,
    ...(request.tenantId !== undefined ? { tenantId: request.tenantId } : {}),
    ...(request.from !== undefined ? { periodStart: request.from } : {}),
    ...(request.to !== undefined ? { periodEnd: request.to } : {}),
    ...(request.asOf !== undefined ? { asOf: request.asOf } : {}),
  };
  let job;
  try {
    job = await queue.addJob('aggregation', data, request.jobId !== undefined ? { jobId: request.jobId } : undefined);
  } catch (err) {
    if (err instanceof QueueValidationError) throw new UsageError(err.message);
    throw err;
  }
  return followJob<AggregationWorkflowResult>(queue, job, options);
}

/** Per-tenant outcomes of a workflow result, as a table or JSON. */
export function printAggregationResult(result: AggregationWorkflowResult, json: boolean): void {
  if (json) return printJson(result);
  printTable(
    result.outcomes.map((o) => ({
      tenant: o.tenantId,
      type: o.type,
      status: o.status,
      periods: o.status === 'succeeded' ? o.periodsCovered : '-',
      rows: o.status === 'succeeded' ? o.rowsWritten : '-',
      attempts: o.attempts,
      error: o.status === 'failed' ? `${o.errorType}: ${o.message}` : '',
    })),
    ['tenant', 'type', 'status', 'periods', 'rows', 'attempts', 'error'],
  );
  const t = result.totals;
  const omitted = result.outcomesOmitted > 0 ? ` (${result.outcomesOmitted} outcomes not listed)` : '';
  console.log(`\n${t.tenants} tenant(s), ${t.succeeded}/${t.tasks} tasks succeeded, ${t.failed} failed, ${t.rowsWritten} rows written${omitted}`);
  console.log(`workflow ${result.workflowId}`);
}
