import type { Command } from 'commander';
import type { JobsOptions } from 'bullmq';
import type { Config } from '../config';
import { QueueValidationError } from '../errors/queue-validation-error';
import { ServiceUnavailableError } from '../errors/service-unavailable-error';
import { createLogger } from '../logger';
import type { AnalyticsQueue } from '../queue';
import { LIST_STATES } from '../queue/states';
import { DEFAULT_QUEUE_NAME } from '../queue/options';
import { assertJobId, JOB_ID_RULE, JOB_NAMES, QUEUE_NAME_RULE, queueNameProblem, validateJob, type JobName } from '../queue/schemas';
import { choiceOption, intOption } from './options';
import { printJson, printTable } from './output';
import { configFromEnv, UsageError } from './program';

export interface QueueFlags {
  /** Default: QUEUE_NAME. */
  queue?: string;
  json?: boolean;
}

/**
 * Opens the queue named by --queue for one command and always closes it. Redis is asked first,
 * once, within CONNECT_TIMEOUT_MS: BullMQ would otherwise wait for ever for an absent Redis (or
 * one that refuses the password), retrying and logging.
 */
export async function withQueue<T>(flags: QueueFlags, fn: (queue: AnalyticsQueue) => Promise<T>): Promise<T> {
  const config = configFromEnv();
  const queueName = queueNameOf(flags, config);
  // Loaded on use: BullMQ and the Temporal client would slow every command's start-up (and --help).
  const [{ AnalyticsQueue }, { probeRedis, REDIS_VARIABLES }] = await Promise.all([import('../queue/facade'), import('../queue/health')]);
  const redis = await probeRedis(config.redis, config.connectTimeoutMs);
  if (!redis.healthy) {
    throw new ServiceUnavailableError('Redis', `${config.redis.host}:${config.redis.port}`, REDIS_VARIABLES, redis.reason, config.connectTimeoutMs);
  }
  // A command prints its own result; the facade's info lines would only repeat it (as JSON when
  // piped). Warnings always show; LOG_LEVEL=debug or trace shows everything.
  const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
  const queue = new AnalyticsQueue({ config, queueName, logger: createLogger(level, { service: 'analytics-cli' }, { format: config.logFormat }) });
  try {
    await queue.ready();
    return await fn(queue);
  } finally {
    await queue.close();
  }
}

/** The queue a command works on: --queue (checked against the queue name rule), else QUEUE_NAME. */
export function queueNameOf(flags: QueueFlags, config?: Config): string {
  if (flags.queue === undefined) return (config ?? configFromEnv()).queueName;
  const problem = queueNameProblem(flags.queue);
  if (problem !== undefined) throw new UsageError(`--queue ${JSON.stringify(flags.queue.slice(0, 130))} ${problem}`);
  return flags.queue;
}

/** The common --queue flag. */
export function queueOption(command: Command): Command {
  return command.option('--queue <name>', `BullMQ queue name, ${QUEUE_NAME_RULE} (default: QUEUE_NAME, else ${DEFAULT_QUEUE_NAME})`);
}

interface AddFlags extends QueueFlags {
  data: string;
  jobId?: string;
  delay?: string;
  priority?: string;
  attempts?: string;
  ifAbsent?: boolean;
}

interface ListFlags extends QueueFlags {
  state?: string;
  limit: string;
}

function parseData(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--data must be JSON (${(err as Error).message})`);
  }
}

export function registerJobCommands(program: Command): void {
  const job = program.command('job').description('add, inspect and cancel jobs on the BullMQ queue (the bridge worker runs them as workflows)');

  queueOption(
    job
      .command('add')
      .description(`validate and enqueue a job: ${JOB_NAMES.join(', ')}`)
      .argument('<name>', `job type: ${JOB_NAMES.join(', ')}`)
      .requiredOption('--data <json>', 'the payload, e.g. \'{"type":"revenue","tenantId":"org_123"}\'')
      .option('--job-id <id>', `job id: ${JOB_ID_RULE} (default: a random UUID); an id that exists is an error (exit 1): the queue keeps that job and its payload`)
      .option('--if-absent', 'an id that exists is not an error: say so and exit 0 (nothing is added)')
      .option('--delay <ms>', 'run no earlier than this many milliseconds from now')
      .option('--priority <n>', 'BullMQ priority, 1 (highest) to 2097152')
      .option('--attempts <n>', 'attempts of the job as a whole (default 3)')
      .option('--json', 'print the job as JSON'),
  ).action(async (name: string, flags: AddFlags) => {
    if (!(JOB_NAMES as string[]).includes(name)) throw new UsageError(`unknown job type ${JSON.stringify(name)} (expected one of ${JOB_NAMES.join(', ')})`);
    const data = parseData(flags.data);
    const opts: JobsOptions = {};
    if (flags.jobId !== undefined) opts.jobId = flags.jobId;
    if (flags.delay !== undefined) opts.delay = intOption('--delay', flags.delay);
    if (flags.priority !== undefined) opts.priority = intOption('--priority', flags.priority, { min: 1, max: 2_097_152 });
    if (flags.attempts !== undefined) opts.attempts = intOption('--attempts', flags.attempts, { min: 1, max: 100 });
    // Checked before connecting: a bad payload or id is a usage error even with Redis away.
    try {
      validateJob(name, data);
      if (opts.jobId !== undefined) assertJobId(name, opts.jobId);
    } catch (err) {
      if (err instanceof QueueValidationError) throw new UsageError(err.message);
      throw err;
    }
    const added = await withQueue(flags, async (queue) => {
      try {
        if (opts.jobId === undefined) {
          const j = await queue.addJob(name as JobName, data as never, opts);
          return { created: true, jobId: j.id!, name, queue: queue.name, state: await j.getState(), data: j.data as unknown, opts: j.opts };
        }
        // BullMQ would return the existing job as if it were new: tell the two apart.
        const { job: j, created } = await queue.addJobOnce(name as JobName, data as never, opts.jobId, opts);
        return { created, jobId: j.id!, name: j.name, queue: queue.name, state: await j.getState(), data: j.data as unknown, opts: j.opts };
      } catch (err) {
        if (err instanceof QueueValidationError) throw new UsageError(err.message);
        throw err;
      }
    });
    if (!added.created) {
      if (!flags.ifAbsent) process.exitCode = 1;
      if (flags.json) printJson(added);
      else {
        console.log(`job ${added.jobId} already exists in queue ${added.queue}: nothing was added`);
        console.log(`  name   ${added.name}\n  state  ${added.state}\n  data   ${JSON.stringify(added.data)}`);
      }
      if (!flags.ifAbsent) console.error(`error: job ${added.jobId} already exists in queue ${added.queue} (${added.state}); it keeps its payload (--if-absent makes this exit 0)`);
      return;
    }
    if (flags.json) printJson(added);
    else console.log(`added ${name} job ${added.jobId} to queue ${added.queue}`);
  });

  queueOption(
    job
      .command('list')
      .description(`jobs in the queue, newest first within each state (${LIST_STATES.join(', ')})`)
      .option('--state <state>', `only jobs in this state: ${LIST_STATES.join(', ')} (default: every state)`)
      .option('--limit <n>', 'show at most this many', '100')
      .option('--json', 'print the jobs as JSON'),
  ).action(async (flags: ListFlags) => {
    const state = flags.state === undefined ? undefined : choiceOption('--state', flags.state, LIST_STATES);
    const limit = intOption('--limit', flags.limit, { min: 1, max: 100_000 });
    const jobs = await withQueue(flags, (queue) => queue.listJobs({ ...(state ? { states: [state] } : {}), limit }));
    if (flags.json) return printJson(jobs);
    printTable(
      jobs.map((j) => ({ job: j.jobId, name: j.name, state: j.state, attempts: j.attemptsMade, created: j.createdAt, finished: j.finishedAt, error: j.failedReason })),
      ['job', 'name', 'state', 'attempts', 'created', 'finished', 'error'],
    );
  });

  queueOption(
    job
      .command('show')
      .description('a job\'s state, progress, result or error, and its log')
      .argument('<jobId>', 'job id')
      .option('--json', 'print JSON'),
  ).action(async (jobId: string, flags: QueueFlags) => {
    const shown = await withQueue(flags, async (queue) => {
      const j = await queue.getJob(jobId);
      if (!j) return undefined;
      const { logs } = await queue.queue.getJobLogs(jobId);
      return {
        jobId,
        name: j.name,
        state: await j.getState(),
        data: j.data as unknown,
        progress: j.progress,
        attemptsMade: j.attemptsMade,
        returnvalue: j.returnvalue as unknown,
        failedReason: j.failedReason ?? null,
        logs,
      };
    });
    if (!shown) {
      process.exitCode = 1;
      console.error(`no job ${jobId} in queue ${queueNameOf(flags)}`);
      return;
    }
    if (flags.json) return printJson(shown);
    console.log(
      [
        `job        ${shown.jobId} (${shown.name})`,
        `state      ${shown.state}, ${shown.attemptsMade} attempt(s) made`,
        `data       ${JSON.stringify(shown.data)}`,
        `progress   ${JSON.stringify(shown.progress)}`,
        shown.failedReason ? `error      ${shown.failedReason}` : `result     ${JSON.stringify(shown.returnvalue)}`,
        'log',
        ...shown.logs.map((l) => `  ${l}`),
      ].join('\n'),
    );
  });

  queueOption(
    job
      .command('cancel')
      .description('remove a job that has not started, or cancel the workflow of a running one (the job then fails as cancelled, no retries)')
      .argument('<jobId>', 'job id')
      .option('--json', 'print JSON'),
  ).action(async (jobId: string, flags: QueueFlags) => {
    const r = await withQueue(flags, (queue) => queue.cancelJob(jobId));
    if (flags.json) return printJson(r);
    if (r.state === 'unknown') {
      process.exitCode = 1;
      console.error(`no job ${jobId} in queue ${queueNameOf(flags)}`);
      return;
    }
    const did = [r.removed ? 'removed from the queue' : '', r.workflowCancelled ? 'workflow cancelled' : ''].filter(Boolean).join(', ');
    console.log(`job ${jobId} (${r.state}): ${did || 'nothing to cancel'}`);
  });

  queueOption(
    job
      .command('retry')
      .description(
        'run a failed or cancelled job again under the same id, with fresh attempts and its original time; ' +
          'a cancelled aggregation backfill resumes, skipping the chunks already done',
      )
      .argument('<jobId>', 'job id')
      .option('--json', 'print JSON'),
  ).action(async (jobId: string, flags: QueueFlags) => {
    const r = await withQueue(flags, (queue) => queue.retryJob(jobId));
    if (flags.json) printJson(r);
    else if (r.retried) console.log(`job ${jobId} is waiting again`);
    else console.error(r.state === 'unknown' ? `no job ${jobId} in queue ${queueNameOf(flags)}` : `job ${jobId} is ${r.state}, not failed: nothing to retry`);
    if (!r.retried) process.exitCode = 1;
  });
}
