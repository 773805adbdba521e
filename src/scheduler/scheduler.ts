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

/**
 * The deployment a schedule belongs to, recorded in its memo (and its action's memo) when it is
 * created: the BullMQ queue its jobs go to and the task queue its trigger workflows run on.
 */
export interface ScheduleOwner {
  queue: string;
  taskQueue: string;
}

/** A schedule another deployment owns: installing left it alone. */
export interface SkippedSchedule {
  scheduleId: string;
  owner: Partial<ScheduleOwner>;
}

export interface SchedulerOptions {
  client: Client;
  /** Task queue the trigger workflows run on. */
  taskQueue: string;
  /**
   * Prepended to every schedule id (and trigger workflow id), so deployments in one namespace own
   * separate schedules: `<idPrefix>daily-revenue`. @defaultValue '' (SCHEDULE_ID_PREFIX in the CLI)
   */
  idPrefix?: string;
  /**
   * This deployment. With it, schedules record their owner, and initializeScheduler() never
   * re-points (nor destroyScheduler() deletes) a schedule another owner recorded; a schedule with
   * no recorded owner belongs to whoever serves its trigger task queue. @defaultValue none: no check
   */
  owner?: ScheduleOwner;
  /** IANA timezone the cron expressions are read in. @defaultValue UTC */
  timezone?: string;
  logger?: Logger;
  /** Schedules to manage. @defaultValue SCHEDULES */
  definitions?: readonly ScheduleDefinition[];
  /** Earliest fire time (for tests of future calendars). @defaultValue none */
  startAt?: Date;
}

export interface ScheduleStatus {
  /** The definition's name (`daily-revenue`), without the deployment's prefix. */
  name: string;
  /** Its id in Temporal: `<idPrefix><name>`. */
  scheduleId: string;
  /** The deployment recorded as its owner; null when none was (created before owners were recorded). */
  owner: Partial<ScheduleOwner> | null;
  schedule: string;
  timezone: string;
  enabled: boolean;
  description: string;
  nextRunTimes: string[];
  lastRun: { scheduledAt: string; takenAt: string; workflowId: string } | null;
}

export type Scheduler = ReturnType<typeof createScheduler>;

/** Thrown inside a schedule update to abandon it: the schedule belongs to another deployment. */
const NOT_OURS = new Error('schedule owned by another deployment');

export function createScheduler(options: SchedulerOptions) {
  const { client, taskQueue } = options;
  const timezone = options.timezone ?? 'UTC';
  const definitions = options.definitions ?? SCHEDULES;
  const prefix = options.idPrefix ?? '';
  const idOf = (d: ScheduleDefinition) => `${prefix}${d.id}`;

  /** A definition by its name, or by its prefixed schedule id. */
  const definitionOf = (name: string): ScheduleDefinition => {
    const find = (n: string) => definitions.find((x) => x.id === n) ?? (options.definitions ? undefined : scheduleById(n));
    const d = find(name) ?? (prefix !== '' && name.startsWith(prefix) ? find(name.slice(prefix.length)) : undefined);
    if (!d) throw new UnknownScheduleError(name);
    return d;
  };

  /** The owner a schedule recorded: its memo, else its action's memo; null when neither has one. */
  const recordedOwner = (d: ScheduleDescription): Partial<ScheduleOwner> | null => {
    const fromMemo = (memo: Record<string, unknown> | undefined) => {
      const o = memo?.owner as Partial<ScheduleOwner> | undefined;
      return o && typeof o === 'object' ? { ...(typeof o.queue === 'string' ? { queue: o.queue } : {}), ...(typeof o.taskQueue === 'string' ? { taskQueue: o.taskQueue } : {}) } : null;
    };
    return fromMemo(d.memo) ?? fromMemo(d.action.type === 'startWorkflow' ? d.action.memo : undefined);
  };

  /** Whether this deployment may change the schedule: no owner configured, the same owner, or (none recorded) its trigger task queue is ours. */
  const owns = (d: ScheduleDescription): boolean => {
    const me = options.owner;
    if (!me) return true;
    const recorded = recordedOwner(d);
    if (recorded) return recorded.queue === me.queue && recorded.taskQueue === me.taskQueue;
    return d.action.type === 'startWorkflow' && d.action.taskQueue === me.taskQueue;
  };
  const ownerMemo = options.owner ? { owner: { queue: options.owner.queue, taskQueue: options.owner.taskQueue } } : {};

  const spec = (d: ScheduleDefinition): ScheduleOptions['spec'] => ({
    cronExpressions: [d.cron],
    timezone,
    ...(options.startAt ? { startAt: options.startAt } : {}),
  });

  const action = (d: ScheduleDefinition) =>
    ({
      type: 'startWorkflow',
      workflowType: scheduledTriggerWorkflow,
      args: [{ scheduleId: d.id, ...(options.owner ? { queue: options.owner.queue, jobName: d.jobName ?? 'aggregation' } : {}) }],
      taskQueue,
      workflowId: `scheduled/${idOf(d)}`,
      memo: { scheduleId: idOf(d), ...ownerMemo },
    }) as const;

  const policies = { overlap: SCHEDULE_OVERLAP_POLICY, catchupWindow: SCHEDULE_CATCHUP_WINDOW, pauseOnFailure: false };

  const status = (d: ScheduleDescription): ScheduleStatus => {
    const last = d.info.recentActions.at(-1);
    const definition = definitionOf(d.scheduleId);
    return {
      name: definition.id,
      scheduleId: d.scheduleId,
      owner: recordedOwner(d),
      schedule: definition.cron,
      timezone: d.spec.timezone ?? 'UTC',
      enabled: !d.state.paused,
      description: definition.description,
      nextRunTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      lastRun: last
        ? { scheduledAt: last.scheduledAt.toISOString(), takenAt: last.takenAt.toISOString(), workflowId: last.action.workflow.workflowId }
        : null,
    };
  };

  return {
    /**
     * Creates the schedules, or updates existing ones to the current definition. Idempotent. A
     * schedule another deployment owns (see {@link SchedulerOptions.owner}) is left as it is and
     * reported in `skipped`, with a warning.
     */
    async initializeScheduler(): Promise<{ created: string[]; updated: string[]; skipped: SkippedSchedule[] }> {
      const result = { created: [] as string[], updated: [] as string[], skipped: [] as SkippedSchedule[] };
      for (const d of definitions) {
        const cron = validateCronExpression(d.cron);
        if (!cron.valid) throw new Error(`schedule ${d.id}: invalid cron "${d.cron}": ${cron.error}`);
        const scheduleId = idOf(d);
        const handle = client.schedule.getHandle(scheduleId);
        let foreign: SkippedSchedule | undefined;
        try {
          await handle.update((previous) => {
            if (owns(previous)) return { ...previous, spec: spec(d), action: action(d), policies };
            foreign = { scheduleId, owner: recordedOwner(previous) ?? { ...(previous.action.type === 'startWorkflow' ? { taskQueue: previous.action.taskQueue } : {}) } };
            // Not ours: throwing here sends no update at all.
            throw NOT_OURS;
          });
          result.updated.push(scheduleId);
        } catch (err) {
          if (err === NOT_OURS && foreign) {
            result.skipped.push(foreign);
            continue;
          }
          if (!(err instanceof ScheduleNotFoundError)) throw err;
          await client.schedule.create({ scheduleId, spec: spec(d), action: action(d), policies, memo: { description: d.description, ...ownerMemo } });
          result.created.push(scheduleId);
        }
      }
      for (const s of result.skipped) {
        options.logger?.warn(
          { scheduleId: s.scheduleId, owner: s.owner, us: options.owner },
          `schedule ${s.scheduleId} belongs to another deployment (queue ${s.owner.queue ?? '?'}, task queue ${s.owner.taskQueue ?? '?'}): left as it is; set SCHEDULE_ID_PREFIX to give this deployment schedules of its own`,
        );
      }
      options.logger?.info(result, 'schedules installed');
      return result;
    },
    /** Unpauses every schedule (or one). */
    async startScheduler(name?: string): Promise<void> {
      for (const d of name ? [definitionOf(name)] : definitions) await client.schedule.getHandle(idOf(d)).unpause('started by analytics');
    },
    /** Pauses every schedule (or one); running trigger workflows finish. */
    async stopScheduler(name?: string): Promise<void> {
      for (const d of name ? [definitionOf(name)] : definitions) await client.schedule.getHandle(idOf(d)).pause('stopped by analytics');
    },
    /** Deletes the schedules (those of this deployment: another owner's are left). */
    async destroyScheduler(): Promise<void> {
      for (const d of definitions) {
        try {
          const handle = client.schedule.getHandle(idOf(d));
          if (options.owner && !owns(await handle.describe())) {
            options.logger?.warn({ scheduleId: idOf(d) }, 'schedule belongs to another deployment: not deleted');
            continue;
          }
          await handle.delete();
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        }
      }
    },
    async getSchedulerStatus(): Promise<ScheduleStatus[]> {
      return Promise.all(definitions.map(async (d) => status(await client.schedule.getHandle(idOf(d)).describe())));
    },
    async describeTask(name: string): Promise<ScheduleStatus> {
      return status(await client.schedule.getHandle(idOf(definitionOf(name))).describe());
    },
    /** Fires a schedule now (nominal time = now), as `temporal schedule trigger` does. */
    async triggerTask(name: string): Promise<void> {
      await client.schedule.getHandle(idOf(definitionOf(name))).trigger(SCHEDULE_OVERLAP_POLICY);
    },
    /**
     * Takes every action the schedule would have taken in [from, to), each with its own nominal
     * time. `to` is exclusive, like every range here; Temporal's backfill end is inclusive.
     */
    async backfillTask(name: string, from: Date, to: Date): Promise<void> {
      if (!(to > from)) throw new RangeError(`backfill: --to (${to.toISOString()}) must be after --from (${from.toISOString()})`);
      const end = new Date(to.getTime() - 1);
      await client.schedule.getHandle(idOf(definitionOf(name))).backfill({ start: from, end, overlap: SCHEDULE_OVERLAP_POLICY });
    },
    /** The Temporal id of a schedule of this deployment. */
    scheduleIdOf: (name: string) => idOf(definitionOf(name)),
    validateCronExpression,
  };
}
