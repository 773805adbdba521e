import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { aggregationWorkflow } from '../workflows/aggregation';
import { describeJob } from '../workflows/describe';
import { jobSearchAttributes } from '../workflows/search-attributes';
import { DEFAULT_QUEUE_NAME, aggregationWorkflowId, type AggregationWorkflowInput } from '../contract/aggregation';

export interface StartAggregationOptions {
  taskQueue: string;
  /**
   * BullMQ queue the job came from; part of the workflow id off the default queue.
   * @defaultValue `'analytics'` (workflows started without a queue keep `aggregation/<jobId>`)
   */
  queueName?: string;
}

/**
 * Starts `aggregationWorkflow` for a job, or attaches to the run that already has its id
 * (`aggregation/<jobId>`, or `aggregation/<queue>:<jobId>` off the default queue): a running one (conflict policy USE_EXISTING: no second run, the same
 * run id) or a completed one (reuse policy ALLOW_DUPLICATE_FAILED_ONLY: its result). A failed,
 * cancelled or terminated run is replaced by a new one, which skips the chunks the cancelled run
 * recorded as done. Sets the memo (`jobId`), the search attributes and the one-line summary the
 * Web UI shows.
 */
export async function startAggregationWorkflow(
  client: Client,
  input: AggregationWorkflowInput,
  options: StartAggregationOptions,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof aggregationWorkflow>> {
  const workflowId = aggregationWorkflowId(input.jobId, options.queueName ?? DEFAULT_QUEUE_NAME);
  try {
    return await client.workflow.start<typeof aggregationWorkflow>('aggregationWorkflow', {
      taskQueue: options.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      memo: { jobId: input.jobId },
      typedSearchAttributes: jobSearchAttributes(input.job, input.jobId),
      staticSummary: describeJob(input.job),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Only a completed run holds the id now: attach to it.
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    return Object.assign(client.workflow.getHandle<typeof aggregationWorkflow>(workflowId, runId, { firstExecutionRunId: runId }), { firstExecutionRunId: runId });
  }
}
