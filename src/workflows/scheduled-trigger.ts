import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createEnqueueActivities } from '../activities/enqueue';

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
}

/**
 * Fired by a Temporal Schedule: takes the period from the schedule's nominal fire time (never the
 * wall clock) and enqueues the BullMQ job through the facade with a job id derived from
 * schedule id + nominal time.
 */
export async function scheduledTriggerWorkflow(input: ScheduledTriggerInput): Promise<{ jobId: string; created: boolean; nominalTime: string }> {
  const scheduled = workflowInfo().typedSearchAttributes.get(TemporalScheduledStartTime);
  const nominalTime = input.nominalTime ?? (scheduled ?? new Date(workflowInfo().startTime)).toISOString();
  return enqueueScheduledJob({ scheduleId: input.scheduleId, nominalTime });
}
