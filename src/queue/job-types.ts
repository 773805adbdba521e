import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { startAggregationWorkflow } from '../temporal/start-aggregation';
import type { ExportWorkflowInput } from '../workflows/export';
import type { ScheduledReportWorkflowInput } from '../workflows/report';
import { jobWorkflowId } from '../contract/aggregation';
import type { AggregationRunOptions } from '../contract/aggregation';
import type { JobName, JobPayloads } from './schemas';

// Job type -> workflow. Workflow ids derive from the job id, so the same job (a duplicate add, a
// retried attempt, a stalled job picked up by another bridge) always reaches the same workflow.

export const WORKFLOW_TYPES: Record<JobName, string> = {
  aggregation: 'aggregationWorkflow',
  export: 'exportWorkflow',
  'scheduled-report': 'scheduledReportWorkflow',
};

/**
 * `aggregation/<jobId>`, `export/<jobId>`, `scheduled-report/<jobId>` for jobs of the default queue
 * (`analytics`); `aggregation/<queueName>:<jobId>` (and so on) for any other queue, so two queues in
 * one namespace never share a workflow. ':' and '/' are in neither job ids nor queue names.
 */
export function workflowIdFor(name: JobName, jobId: string, queueName: string): string {
  return jobWorkflowId(name, jobId, queueName);
}

export interface JobWorkflowStart<N extends JobName = JobName> {
  name: N;
  payload: JobPayloads[N];
  jobId: string;
  /** BullMQ queue of the job: part of the workflow id (see {@link workflowIdFor}). */
  queueName: string;
  /** ISO instant the job asked to run (enqueue time plus its delay); defaults are computed from it. */
  requestedAt: string;
  taskQueue: string;
  /** Fan-out of an aggregation workflow. @defaultValue the workflow's defaults */
  aggregationRunOptions?: AggregationRunOptions;
}

/**
 * Starts the job's workflow, or attaches to the run that holds its id: a running one (conflict
 * policy USE_EXISTING: no second run) or a completed one (reuse policy ALLOW_DUPLICATE_FAILED_ONLY:
 * its result). Only a failed, cancelled, terminated or timed-out run is replaced by a new one,
 * which is what a retried attempt wants.
 */
export async function startJobWorkflow(client: Client, start: JobWorkflowStart): Promise<WorkflowHandle> {
  if (start.name === 'aggregation') {
    const job = start.payload as JobPayloads['aggregation'];
    const options = start.aggregationRunOptions;
    return startAggregationWorkflow(client, { job, jobId: start.jobId, requestedAt: start.requestedAt, ...(options ? { options } : {}) }, { taskQueue: start.taskQueue, queueName: start.queueName });
  }
  const workflowId = workflowIdFor(start.name, start.jobId, start.queueName);
  const input: ExportWorkflowInput | ScheduledReportWorkflowInput =
    start.name === 'export'
      ? { job: start.payload as JobPayloads['export'], jobId: start.jobId, requestedAt: start.requestedAt }
      : { job: start.payload as JobPayloads['scheduled-report'], jobId: start.jobId, requestedAt: start.requestedAt };
  try {
    return await client.workflow.start(WORKFLOW_TYPES[start.name], {
      taskQueue: start.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      memo: { jobId: start.jobId, jobName: start.name },
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(workflowId);
    throw err;
  }
}
