import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import { UnknownScheduleError } from '../errors/unknown-schedule-error';
import type { Logger } from '../logger';
import { scheduledTriggerWorkflow } from '../workflows/scheduled-trigger';
import { validateCronExpression } from './cron';
import { SCHEDULES, scheduleById, type ScheduleDefinition } from './definitions';

/**
 * Overlap: ALLOW_ALL. A run only enqueues one job whose id is derived from its nominal time, so
 * runs never interfere, and every nominal time is a different period that must not be dropped
 * (SKIP or BUFFER_ONE would drop fire times while an enqueue is retrying against a missing Redis).
 */
export const SCHEDULE_OVERLAP_POLICY = ScheduleOverlapPolicy.ALLOW_ALL;

/**
 * Catch-up window: fire times missed while the Temporal server was down are still taken if they
 * are at most this old. One day covers a restart or an outage overnight without flooding the
 * queue after a long one; older periods are recovered with an explicit backfill.
 */
export const SCHEDULE_CATCHUP_WINDOW = '1 day';

export interface SchedulerOptions {
  client: Client;
  /** Task queue the trigger workflows run on. */
  taskQueue: string;
  /** IANA timezone the cron expressions are read in. @defaultValue UTC */
  timezone?: string;
  logger?: Logger;
  /** Schedules to manage. @defaultValue SCHEDULES */
  definitions?: readonly ScheduleDefinition[];
  /** Earliest fire time (for tests of future calendars). @defaultValue none */
  startAt?: Date;
}

export interface ScheduleStatus {
  name: string;
  schedule: string;
  timezone: string;
  enabled: boolean;
  description: string;
  nextRunTimes: string[];
  lastRun: { scheduledAt: string; takenAt: string; workflowId: string } | null;
}

export type Scheduler = ReturnType<typeof createScheduler>;

export function createScheduler(options: SchedulerOptions) {
  const { client, taskQueue } = options;
  const timezone = options.timezone ?? 'UTC';
  const definitions = options.definitions ?? SCHEDULES;

  const definitionOf = (name: string): ScheduleDefinition => {
    const d = definitions.find((x) => x.id === name) ?? (options.definitions ? undefined : scheduleById(name));
    if (!d) throw new UnknownScheduleError(name);
    return d;
  };

  const spec = (d: ScheduleDefinition): ScheduleOptions['spec'] => ({
    cronExpressions: [d.cron],
    timezone,
    ...(options.startAt ? { startAt: options.startAt } : {}),
  });

  const action = (d: ScheduleDefinition) =>
    ({
      type: 'startWorkflow',
      workflowType: scheduledTriggerWorkflow,
      args: [{ scheduleId: d.id }],
      taskQueue,
      workflowId: `scheduled/${d.id}`,
    }) as const;

  const policies = { overlap: SCHEDULE_OVERLAP_POLICY, catchupWindow: SCHEDULE_CATCHUP_WINDOW, pauseOnFailure: false };

  const status = (d: ScheduleDescription): ScheduleStatus => {
    const last = d.info.recentActions.at(-1);
    return {
      name: d.scheduleId,
      schedule: definitionOf(d.scheduleId).cron,
      timezone: d.spec.timezone ?? 'UTC',
      enabled: !d.state.paused,
      description: definitionOf(d.scheduleId).description,
      nextRunTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      lastRun: last
        ? { scheduledAt: last.scheduledAt.toISOString(), takenAt: last.takenAt.toISOString(), workflowId: last.action.workflow.workflowId }
        : null,
    };
  };

  return {
    /** Creates the schedules, or updates existing ones to the current definition. Idempotent. */
    async initializeScheduler(): Promise<{ created: string[]; updated: string[] }> {
      const result = { created: [] as string[], updated: [] as string[] };
      for (const d of definitions) {
        const cron = validateCronExpression(d.cron);
        if (!cron.valid) throw new Error(`schedule ${d.id}: invalid cron "${d.cron}": ${cron.error}`);
        const handle = client.schedule.getHandle(d.id);
        try {
          await handle.update((previous) => ({ ...previous, spec: spec(d), action: action(d), policies }));
          result.updated.push(d.id);
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
          await client.schedule.create({ scheduleId: d.id, spec: spec(d), action: action(d), policies, memo: { description: d.description } });
          result.created.push(d.id);
        }
      }
      options.logger?.info(result, 'schedules installed');
      return result;
    },
    /** Unpauses every schedule (or one). */
    async startScheduler(name?: string): Promise<void> {
      for (const d of name ? [definitionOf(name)] : definitions) await client.schedule.getHandle(d.id).unpause('started by analytics');
    },
    /** Pauses every schedule (or one); running trigger workflows finish. */
    async stopScheduler(name?: string): Promise<void> {
      for (const d of name ? [definitionOf(name)] : definitions) await client.schedule.getHandle(d.id).pause('stopped by analytics');
    },
    /** Deletes the schedules. */
    async destroyScheduler(): Promise<void> {
      for (const d of definitions) {
        try {
          await client.schedule.getHandle(d.id).delete();
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        }
      }
    },
    async getSchedulerStatus(): Promise<ScheduleStatus[]> {
      return Promise.all(definitions.map(async (d) => status(await client.schedule.getHandle(d.id).describe())));
    },
    async describeTask(name: string): Promise<ScheduleStatus> {
      return status(await client.schedule.getHandle(definitionOf(name).id).describe());
    },
    /** Fires a schedule now (nominal time = now), as `temporal schedule trigger` does. */
    async triggerTask(name: string): Promise<void> {
      await client.schedule.getHandle(definitionOf(name).id).trigger(SCHEDULE_OVERLAP_POLICY);
    },
    /**
     * Takes every action the schedule would have taken in [from, to), each with its own nominal
     * time. `to` is exclusive, like every range here; Temporal's backfill end is inclusive.
     */
    async backfillTask(name: string, from: Date, to: Date): Promise<void> {
      if (!(to > from)) throw new RangeError(`backfill: --to (${to.toISOString()}) must be after --from (${from.toISOString()})`);
      const end = new Date(to.getTime() - 1);
      await client.schedule.getHandle(definitionOf(name).id).backfill({ start: from, end, overlap: SCHEDULE_OVERLAP_POLICY });
    },
    validateCronExpression,
  };
}
