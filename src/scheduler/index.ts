import { Client, Connection } from '@temporalio/client';
import { loadConfig, type Config } from '../config';
import { SchedulerNotInitializedError } from '../errors/scheduler-not-initialized-error';
import type { Logger } from '../logger';
import { temporalConnectionOptions } from '../temporal/connection';
import { validateCronExpression as checkCron } from './cron';
import { scheduleDefinitions, type ScheduleDefinition } from './definitions';
import { createScheduler, type Scheduler, type ScheduleStatus, type SkippedSchedule } from './scheduler';

// The module-level API the original system's callers use (`initializeScheduler()`,
// `await triggerTask('hourly-aggregation')`), over one process-wide scheduler, as src/queue does
// for the queue. The schedules themselves live in the Temporal server, not in this process: they
// keep firing after the process exits, for whichever `analytics workers` serve their task queue.
// Code that manages several namespaces or task queues uses `createScheduler()` directly.

export { validateCronExpression as checkCronExpression, type CronValidation } from './cron';
export {
  SCHEDULE_IDS,
  SCHEDULES,
  reportSchedule,
  scheduleById,
  scheduleDefinitions,
  scheduledJobId,
  type ReportScheduleOptions,
  type ScheduleDefinition,
  type ScheduleId,
} from './definitions';
export {
  createScheduler,
  SCHEDULE_CATCHUP_WINDOW,
  SCHEDULE_OVERLAP_POLICY,
  type Scheduler,
  type SchedulerOptions,
  type ScheduleOwner,
  type ScheduleStatus,
  type SkippedSchedule,
} from './scheduler';

export interface InitializeSchedulerOptions {
  /**
   * Where the schedules go: `temporal` (address, TLS, namespace, `scheduleTaskQueue`) and `tz`.
   * @defaultValue loadConfig() — TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, TZ
   */
  config?: Config;
  /** A Temporal client of your own (its namespace is used); its connection stays yours: closeScheduler() leaves it open. @defaultValue one connected from `config` */
  client?: Client;
  logger?: Logger;
  /** Schedules to manage. @defaultValue the five of the README, `scheduled-report` as configured (SCHEDULED_REPORT_CRON, SCHEDULED_REPORT_PERIOD) */
  definitions?: readonly ScheduleDefinition[];
}

export interface SchedulerInstallation {
  /** Schedule ids created by initializeScheduler(). */
  created: string[];
  /** Schedule ids that existed and were updated to the current definition (their paused state kept). */
  updated: string[];
  /** Schedules another deployment owns (another queue or task queue in their memo): left as they are. */
  skipped: SkippedSchedule[];
}

interface Current {
  scheduler: Scheduler;
  installation: SchedulerInstallation;
  /** Closed by closeScheduler() / destroyScheduler(); undefined when the caller passed a client. */
  connection: Connection | undefined;
}

let current: Promise<Current> | undefined;

async function open(options: InitializeSchedulerOptions): Promise<Current> {
  const config = options.config ?? loadConfig();
  let connection: Connection | undefined;
  let client = options.client;
  if (!client) {
    const { temporal } = config;
    try {
      connection = await Connection.connect(temporalConnectionOptions(temporal, { connectTimeoutMs: 5_000 }).client);
    } catch (err) {
      throw new Error(`initializeScheduler: cannot reach Temporal at ${temporal.address} (TEMPORAL_ADDRESS): ${(err as Error).message}`, { cause: err });
    }
    client = new Client({ connection, namespace: temporal.namespace });
  }
  try {
    const scheduler = createScheduler({
      client,
      taskQueue: config.temporal.scheduleTaskQueue,
      timezone: config.tz,
      idPrefix: config.scheduleIdPrefix,
      owner: { queue: config.queueName, taskQueue: config.temporal.scheduleTaskQueue },
      ...(options.logger ? { logger: options.logger } : {}),
      definitions: options.definitions ?? scheduleDefinitions({ cron: config.scheduledReportCron, periodType: config.scheduledReportPeriodType }),
    });
    return { scheduler, installation: await scheduler.initializeScheduler(), connection };
  } catch (err) {
    await connection?.close().catch(() => {});
    throw err;
  }
}

async function instance(what: string): Promise<Scheduler> {
  if (!current) throw new SchedulerNotInitializedError(what);
  return (await current).scheduler;
}

/**
 * Connects to Temporal and installs the schedules: creates the missing ones and updates existing
 * ones to the current definition (cron, timezone, action, policies), as `analytics workers` and
 * `analytics schedule install` do. Newly created schedules are running; updated ones keep their
 * paused state. Calling it again returns the first installation without doing anything.
 */
export async function initializeScheduler(options: InitializeSchedulerOptions = {}): Promise<SchedulerInstallation> {
  if (!current) {
    const opening = open(options);
    current = opening;
    opening.catch(() => {
      if (current === opening) current = undefined;
    });
  }
  return (await current).installation;
}

/** Unpauses every schedule, or only `name` (one of SCHEDULE_IDS). */
export async function startScheduler(name?: string): Promise<void> {
  return (await instance('startScheduler')).startScheduler(name);
}

/** Pauses every schedule, or only `name`; trigger workflows already running finish. */
export async function stopScheduler(name?: string): Promise<void> {
  return (await instance('stopScheduler')).stopScheduler(name);
}

/**
 * Every schedule as the Temporal server describes it now: `name`, `schedule` (cron), `enabled`
 * (not paused), `timezone`, `description`, the next fire times and the last run.
 */
export async function getSchedulerStatus(): Promise<ScheduleStatus[]> {
  return (await instance('getSchedulerStatus')).getSchedulerStatus();
}

/** One schedule's status (see {@link getSchedulerStatus}). */
export async function describeTask(name: string): Promise<ScheduleStatus> {
  return (await instance('describeTask')).describeTask(name);
}

/**
 * Fires a schedule now (nominal time: now), as `analytics schedule trigger` and `temporal schedule
 * trigger` do; its trigger workflow enqueues the job. Resolves to `true` once Temporal has taken
 * the trigger; an unknown name rejects with UnknownScheduleError.
 */
export async function triggerTask(name: string): Promise<true> {
  await (await instance('triggerTask')).triggerTask(name);
  return true;
}

/** Takes every action the schedule would have taken in [from, to) (`to` exclusive). */
export async function backfillTask(name: string, from: Date, to: Date): Promise<void> {
  return (await instance('backfillTask')).backfillTask(name, from, to);
}

/** Deletes the schedules from Temporal, then closes the connection; initializeScheduler() may install them again. */
export async function destroyScheduler(): Promise<void> {
  const scheduler = await instance('destroyScheduler');
  await scheduler.destroyScheduler();
  await closeScheduler();
}

/** Closes the connection (the schedules keep running in Temporal); initializeScheduler() may open it again. */
export async function closeScheduler(): Promise<void> {
  const closing = current;
  current = undefined;
  const state = await closing?.catch(() => undefined);
  await state?.connection?.close();
}

/**
 * True when `expression` is a five-field cron expression that Temporal Schedules and node-cron
 * read alike (minute hour day-of-month month day-of-week), as the original `validateCronExpression`
 * answered. {@link checkCronExpression} also says why one is refused.
 */
export function validateCronExpression(expression: string): boolean {
  return checkCron(expression).valid;
}
