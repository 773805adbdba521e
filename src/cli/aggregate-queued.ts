import pg from 'pg';
import type { AggregationJobData, AggregationTypeOrAll, AggregationWorkflowResult, PeriodType } from '../contract/aggregation';
import { pgConfigOf } from '../db/client';
import { readJobOutcomes } from '../db/outcomes';
import { QueueValidationError } from '../errors/queue-validation-error';
import type { AnalyticsQueue } from '../queue';
import { withQueue, type QueueFlags } from './job';
import { intOption } from './options';
import { configFromEnv, UsageError } from './program';
import { workflowIdFor } from '../queue/job-types';
import { OUTCOMES_LISTED, type AggregationReport } from './aggregate-report';
import { followJob } from './follow';
import { printJson, printTable } from './output';

export interface QueuedAggregation {
  type: AggregationTypeOrAll;
  tenantId?: string;
  /** Required unless `incremental`. */
  periodType?: PeriodType;
  incremental?: boolean;
  from?: string;
  to?: string;
  asOf?: string;
  jobId?: string;
}

/** What a queued aggregation reports: the {@link AggregationReport} shape, with its job and workflow. */
export interface QueuedAggregationReport extends AggregationReport {
  jobId: string;
  workflowId: string;
}

export { OUTCOMES_LISTED };

/**
 * The production path: addJob('aggregation') -> BullMQ -> bridge -> Temporal workflow ->
 * activities -> Postgres. Waits for the job with a progress bar (needs `analytics workers`
 * running), then reads the per-tenant outcomes the activities recorded.
 */
export async function runQueuedAggregation(
  queue: AnalyticsQueue,
  request: QueuedAggregation,
  options: { timeoutMs?: number; progress?: boolean; noBridgeTimeoutMs?: number; databaseUrl: string },
): Promise<QueuedAggregationReport> {
  const data: AggregationJobData = {
    type: request.type,
    ...(request.incremental ? { incremental: true } : {}),
    ...(request.periodType !== undefined ? { periodType: request.periodType } : {}),
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
  const jobId = job.id!;
  const workflowId = workflowIdFor('aggregation', jobId, queue.name);
  let error: string | undefined;
  let result: AggregationWorkflowResult | undefined;
  try {
    result = await followJob<AggregationWorkflowResult>(queue, job, options);
  } catch (err) {
    // A job that ran and failed (tenants failed, bad input) still has outcomes to show; a timeout does not.
    if (!(await job.isFailed())) throw err;
    error = (err as Error).message;
  }
  const pool = new pg.Pool({ ...pgConfigOf(options.databaseUrl), max: 2 });
  try {
    const outcomes = await readJobOutcomes(pool, workflowId, OUTCOMES_LISTED);
    const tasks = outcomes.succeeded + outcomes.failed;
    return {
      jobId,
      workflowId,
      status: error === undefined ? 'completed' : 'failed',
      ...(error !== undefined ? { error } : {}),
      totals: {
        tenants: result?.totals.tenants ?? outcomes.tenants,
        tasks: result?.totals.tasks ?? tasks,
        succeeded: result ? result.totals.succeeded + result.totals.resumed : outcomes.succeeded,
        failed: result?.totals.failed ?? outcomes.failed,
        rowsWritten: outcomes.rowsWritten,
      },
      outcomes: outcomes.rows,
      outcomesOmitted: Math.max(0, tasks - outcomes.rows.length),
    };
  } finally {
    await pool.end();
  }
}

/** Per-tenant outcomes of a queued aggregation, as a table or JSON. */
export function printAggregationResult(report: QueuedAggregationReport, json: boolean): void {
  if (json) return printJson(report);
  printTable(
    report.outcomes.map((o) => ({
      tenant: o.tenantId,
      type: o.type,
      status: o.status,
      periods: o.status === 'succeeded' ? o.periods : '-',
      rows: o.status === 'succeeded' ? o.rowsWritten : '-',
      attempts: o.attempts,
      error: o.status === 'failed' ? `${o.errorType ?? 'Error'}: ${o.message ?? ''}` : '',
    })),
    ['tenant', 'type', 'status', 'periods', 'rows', 'attempts', 'error'],
  );
  const t = report.totals;
  const omitted = report.outcomesOmitted > 0 ? ` (${report.outcomesOmitted} outcomes not listed)` : '';
  console.log(`\n${t.tenants} tenant(s), ${t.succeeded}/${t.tasks} tasks succeeded, ${t.failed} failed, ${t.rowsWritten} rows written${omitted}`);
  if (report.error !== undefined) console.log(`job ${report.jobId} failed: ${report.error}`);
  console.log(`workflow ${report.workflowId}`);
}

/** `aggregate` without `--local`: runs the job through the queue, prints the report, exits 1 when it failed or any tenant did. */
export async function runQueuedFromCli(flags: QueueFlags & { json?: boolean; timeout?: string; bridgeTimeout: string }, request: QueuedAggregation): Promise<void> {
  const result = await withQueue(flags, (queue) =>
    runQueuedAggregation(queue, request, {
      timeoutMs: flags.timeout !== undefined ? intOption('--timeout', flags.timeout, { min: 1 }) * 1000 : undefined,
      noBridgeTimeoutMs: intOption('--bridge-timeout', flags.bridgeTimeout, { min: 1, max: 86_400 }) * 1000,
      progress: !flags.json,
      databaseUrl: configFromEnv().databaseUrl,
    }),
  );
  printAggregationResult(result, flags.json ?? false);
  if (result.status === 'failed' || result.totals.failed > 0) process.exitCode = 1;
}
