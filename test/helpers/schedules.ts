import type { Client } from '@temporalio/client';

/**
 * How many workflow runs the schedule `scheduleId` started for nominal times in [from, to)
 * (triggers, backfills, its own fires) have completed, by Temporal's visibility (eventually
 * consistent: poll it). A test that must show that a doubled trigger enqueued nothing new waits
 * for this count instead of sleeping.
 */
export async function completedScheduledRuns(client: Client, scheduleId: string, from: Date, to: Date): Promise<number> {
  const query = [
    `TemporalScheduledById = '${scheduleId}'`,
    `TemporalScheduledStartTime >= '${from.toISOString()}'`,
    `TemporalScheduledStartTime < '${to.toISOString()}'`,
    `ExecutionStatus = 'Completed'`,
  ].join(' AND ');
  return (await client.workflow.count(query)).count;
}
