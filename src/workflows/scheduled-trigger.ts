import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { patched, proxyActivities, setCurrentDetails, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { createEnqueueActivities } from '../activities/enqueue';
import { jobWorkflowId } from '../contract/aggregation';

/** Set by the Temporal server on every scheduled, triggered or backfilled run. */
const TemporalScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * Enqueueing is one Redis round trip. It is retried (no attempt limit) until it succeeds, for as long as the
 * schedules' catch-up window: a fire time whose enqueue gave up would never be taken again (the
 * schedule counts it as taken), so a Redis outage of hours must not lose it.
 */
export const ENQUEUE_ACTIVITY = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes: ['UnknownScheduleError'] as string[] },
} as const;

const { enqueueScheduledJob } = proxyActivities<ReturnType<typeof createEnqueueActivities>>(ENQUEUE_ACTIVITY);

export interface ScheduledTriggerInput {
  scheduleId: string;
  /** ISO instant; only for runs started by hand outside a schedule. */
  nominalTime?: string;
  /**
   * BullMQ queue the job goes to, and the job's name: with them the run links to the workflow
   * its job starts (memo `jobWorkflowId`, details). Set by the scheduler. @defaultValue none (no workflow link)
   */
  queue?: string;
  /** @defaultValue aggregation */
  jobName?: string;
}

/**
 * Fired by a Temporal Schedule: takes the period from the schedule's nominal fire time (never the
 * wall clock) and enqueues the BullMQ job through the facade with a job id derived from
 * schedule id + nominal time.
 */
export async function scheduledTriggerWorkflow(input: ScheduledTriggerInput): Promise<{ jobId: string; created: boolean; nominalTime: string }> {
  const scheduled = workflowInfo().typedSearchAttributes.get(TemporalScheduledStartTime);
  const nominalTime = input.nominalTime ?? (scheduled ?? new Date(workflowInfo().startTime)).toISOString();
  const result = await enqueueScheduledJob({ scheduleId: input.scheduleId, nominalTime });
  // Runs recorded before the link existed replay without it.
  if (patched('trigger-links-job')) {
    // The bridge starts the job's workflow under this id (src/contract/aggregation.ts, jobWorkflowId).
    const workflowId = input.queue !== undefined ? jobWorkflowId(input.jobName ?? 'aggregation', result.jobId, input.queue) : undefined;
    upsertMemo({ jobId: result.jobId, ...(input.queue !== undefined ? { queue: input.queue } : {}), ...(workflowId ? { jobWorkflowId: workflowId } : {}) });
    setCurrentDetails(
      `${result.created ? 'enqueued' : 'found already enqueued'} job **${result.jobId}**${input.queue !== undefined ? ` in queue ${input.queue}` : ''} for ${nominalTime}` +
        (workflowId ? `; its workflow: **${workflowId}**` : ''),
    );
  }
  return result;
}
