import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Queue, type ConnectionOptions, type Job, type JobsOptions, type JobType } from 'bullmq';
import { QueueValidationError } from '../errors/queue-validation-error';
import { ServiceUnavailableError } from '../errors/service-unavailable-error';
import { createLogger, type Logger } from '../logger';
import { temporalConnectionOptions } from '../temporal/connection';
import { createBridgeWorker, type BridgeWorker } from './bridge';
import { DeadLetterQueue, deadLetterJobId, type DeadLetterEntry, type RetryOutcome } from './dead-letter';
import { countTaskQueuePollers, probePostgres, probeRedis, probeTemporal, reasonOf, REDIS_VARIABLES, TEMPORAL_VARIABLES, withTimeout, workerProblems, type HealthReport } from './health';
import { workflowIdFor } from './job-types';
import { getQueueMetrics, type QueueMetrics } from './metrics';
import { redisOptionsOf, resolveQueueOptions, type BridgeOptions, type QueueOptions, type QueueOptionsInput } from './options';
import { assertJobId, isJobName, validateJob, type JobData, type JobName } from './schemas';
import { CLEAN_STATES, LIST_STATES, type CleanState, type ListState } from './states';

export { CLEAN_STATES, LIST_STATES, type CleanState, type ListState };

/** A job for {@link AnalyticsQueue.addBulk}. */
export interface BulkJob<N extends JobName = JobName> {
  name: N;
  data: JobData[N];
  opts?: JobsOptions;
}

export interface CleanResult {
  /** Ids of the completed jobs removed. */
  completed: string[];
  /** Ids of the failed jobs removed. */
  failed: string[];
  /** Ids of the waiting (and prioritized) jobs removed, when asked for. */
  waiting?: string[];
  /** Ids of the delayed jobs removed, when asked for. */
  delayed?: string[];
  /** Ids of the paused jobs removed, when asked for. */
  paused?: string[];
}

export interface CleanOptions {
  /** @defaultValue ['completed', 'failed'] */
  states?: readonly CleanState[];
  /** At most this many jobs per state; 0 for all of them. @defaultValue 0 */
  limit?: number;
}

/** One job as `listJobs` returns it. */
export interface JobSummary {
  jobId: string;
  name: string;
  state: ListState;
  data: unknown;
  attemptsMade: number;
  /** ISO instants; null when it has not happened. */
  createdAt: string;
  processedAt: string | null;
  finishedAt: string | null;
  failedReason: string | null;
}

export interface CancelResult {
  jobId: string;
  /** The job's state when cancelled; `unknown` when there was no such job. */
  state: JobType | 'unknown';
  /** The job was removed from the queue (it had not started, or waited for a retry). */
  removed: boolean;
  /** Its workflow was running and has been asked to cancel (the bridge then fails an active job as cancelled). */
  workflowCancelled: boolean;
}

/**
 * The BullMQ-compatible facade over one queue: add jobs (validated, with the project's default
 * options), read metrics and health, clean, cancel, manage the dead-letter queue, and create the
 * bridge worker that runs each job as a Temporal workflow.
 */
export class AnalyticsQueue {
  readonly options: QueueOptions;
  readonly queue: Queue;
  readonly deadLetters: DeadLetterQueue;
  private readonly logger: Logger;
  private readonly connection: ConnectionOptions;
  private temporal: Promise<{ connection: Connection; client: Client }> | undefined;
  private readonly bridges = new Set<BridgeWorker>();
  private closing: Promise<void> | undefined;
  private readying: Promise<unknown> | undefined;
  /** The last Redis connection error seen, for the message when ready() gives up. */
  private lastRedisError: unknown;

  constructor(input: QueueOptionsInput) {
    this.options = resolveQueueOptions(input);
    this.logger = (this.options.logger ?? createLogger('silent')).child({ component: 'queue', queue: this.options.queueName });
    const { redis, prefix } = this.options;
    this.connection = redisOptionsOf(redis);
    this.queue = new Queue(this.options.queueName, { connection: this.connection, prefix });
    // Without a listener a connection error would be thrown as an unhandled 'error' event.
    this.queue.on('error', (err) => {
      this.lastRedisError = err;
      this.logger.warn({ err }, 'queue connection error');
    });
    this.deadLetters = new DeadLetterQueue(this.queue, this.connection, prefix, this.logger);
    this.deadLetters.queue.on('error', (err) => (this.lastRedisError = err));
  }

  get name(): string {
    return this.options.queueName;
  }

  /**
   * Resolves once the Redis connections of the queue and its dead-letter queue are up; rejects
   * with a {@link ServiceUnavailableError} naming Redis when they are not within `connectTimeoutMs`
   * (BullMQ itself would wait for ever). The connections keep trying until close().
   */
  async ready(): Promise<this> {
    this.readying ??= Promise.all([this.queue.waitUntilReady(), this.deadLetters.queue.waitUntilReady()]);
    const { redis, connectTimeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const reason = this.lastRedisError === undefined ? `no answer within ${connectTimeoutMs} ms` : reasonOf(this.lastRedisError);
        reject(new ServiceUnavailableError('Redis', `${redis.host}:${redis.port}`, REDIS_VARIABLES, reason, connectTimeoutMs));
      }, connectTimeoutMs);
    });
    try {
      await Promise.race([this.readying, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this;
  }

  /**
   * Merges the job's options over the defaults and gives it an id when it has none; a `jobId`
   * that breaks the job id rule is refused ({@link QueueValidationError} naming `field`).
   */
  private jobOptions(name: string, opts: JobsOptions | undefined, field = 'jobId'): JobsOptions {
    if (opts?.jobId !== undefined) assertJobId(name, opts.jobId, field);
    const d = this.options.jobDefaults;
    return {
      attempts: d.attempts,
      backoff: d.backoff,
      removeOnComplete: d.removeOnComplete,
      removeOnFail: d.removeOnFail,
      keepLogs: d.keepLogs,
      ...opts,
      // A random id, not BullMQ's counter: workflow ids derive from job ids, and a counter starts
      // again at 1 when a queue is obliterated, which would attach new jobs to old workflows.
      jobId: opts?.jobId ?? randomUUID(),
    };
  }

  /**
   * Validates the payload against its job type's schema and enqueues it. Throws
   * {@link QueueValidationError} (naming the field and the value) before anything is enqueued.
   * A `jobId` already in the queue returns that job and starts nothing new.
   */
  async addJob<N extends JobName>(name: N, data: JobData[N], opts?: JobsOptions): Promise<Job> {
    const payload = validateJob(name, data);
    const job = await this.queue.add(name, payload, this.jobOptions(name, opts));
    this.logger.debug({ jobId: job.id, name }, 'job added');
    return job;
  }

  /** Validates every job first; one bad payload or job id rejects the batch and nothing is enqueued. */
  async addBulk(jobs: BulkJob[]): Promise<Job[]> {
    const validated = jobs.map((job, index) => {
      try {
        const payload = validateJob(job.name, job.data);
        return { payload, opts: this.jobOptions(job.name, job.opts, `jobs[${index}].opts.jobId`) };
      } catch (err) {
        if (!(err instanceof QueueValidationError)) throw err;
        throw new QueueValidationError(
          err.jobName,
          err.issues.map((i) => ({ ...i, field: i.field.startsWith('jobs[') ? i.field : `jobs[${index}].${i.field}` })),
          { cause: err },
        );
      }
    });
    return this.queue.addBulk(jobs.map((job, i) => ({ name: job.name, data: validated[i]!.payload, opts: validated[i]!.opts })));
  }

  /**
   * Adds a job under `jobId` unless a job with that id exists; tells which. The schedules use it,
   * so a doubled trigger enqueues nothing new.
   */
  async addJobOnce<N extends JobName>(name: N, data: JobData[N], jobId: string, opts?: JobsOptions): Promise<{ job: Job; created: boolean }> {
    assertJobId(name, jobId);
    const existing = await this.queue.getJob(jobId);
    if (existing) return { job: existing, created: false };
    const job = await this.addJob(name, data, { ...opts, jobId });
    // A concurrent add of the same id may have won since the check: BullMQ then kept its job,
    // whose timestamp is not ours (unless both were created in the same millisecond).
    const stored = await this.queue.getJob(jobId);
    return { job, created: stored === undefined || stored.timestamp === job.timestamp };
  }

  async getJob(jobId: string): Promise<Job | undefined> {
    return this.queue.getJob(jobId);
  }

  async getQueueMetrics(): Promise<QueueMetrics> {
    return getQueueMetrics(this.queue);
  }

  /** Probes Redis, Temporal and Postgres (each within `healthTimeoutMs`) and reads the metrics. */
  async healthCheck(): Promise<HealthReport> {
    const { redis, temporal, databaseUrl, healthTimeoutMs } = this.options;
    const [r, t, p] = await Promise.all([
      probeRedis(redis, healthTimeoutMs),
      probeTemporal(temporal, healthTimeoutMs),
      probePostgres(databaseUrl, healthTimeoutMs),
    ]);
    const [metrics, bridges, pollers] = await Promise.all([
      r.healthy ? withTimeout('queue metrics', healthTimeoutMs, () => this.getQueueMetrics()).catch(() => null) : null,
      r.healthy ? withTimeout('queue workers', healthTimeoutMs, () => this.bridgeCount()).catch(() => null) : null,
      t.healthy ? countTaskQueuePollers(temporal, temporal.taskQueue, healthTimeoutMs).catch(() => null) : null,
    ]);
    const workers = { taskQueue: temporal.taskQueue, pollers, bridges };
    return {
      healthy: r.healthy && t.healthy && p.healthy,
      checkedAt: new Date().toISOString(),
      metrics,
      redis: r,
      temporal: t,
      postgres: p,
      workers,
      problems: workerProblems(workers, this.options.queueName, metrics?.waiting ?? null),
    };
  }

  /**
   * Removes completed and failed jobs that finished more than `graceMs` ago (or, with
   * `options.states`, waiting, delayed or paused jobs created that long ago). Active jobs,
   * younger jobs and the dead-letter queue are left alone.
   */
  async cleanQueue(graceMs: number, options: CleanOptions = {}): Promise<CleanResult> {
    if (!Number.isFinite(graceMs) || graceMs < 0) throw new RangeError(`cleanQueue: graceMs must be a non-negative number, got ${graceMs}`);
    const limit = options.limit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`cleanQueue: limit must be a whole number >= 0, got ${limit}`);
    const states = options.states ?? ['completed', 'failed'];
    const result: CleanResult = { completed: [], failed: [] };
    for (const state of CLEAN_STATES.filter((s) => states.includes(s))) {
      // BullMQ keeps prioritized jobs apart from `wait`; both are what "waiting" means here.
      const removed =
        state === 'waiting'
          ? [...(await this.queue.clean(graceMs, limit, 'wait')), ...(await this.queue.clean(graceMs, limit, 'prioritized'))].slice(0, limit || undefined)
          : await this.queue.clean(graceMs, limit, state);
      result[state] = removed;
    }
    this.logger.info({ graceMs, ...Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.length])) }, 'queue cleaned');
    return result;
  }

  /**
   * Jobs in the given states (default: all of them, in the order of {@link LIST_STATES}), newest
   * first within a state, at most `limit` in all.
   */
  async listJobs(options: { states?: readonly ListState[]; limit?: number } = {}): Promise<JobSummary[]> {
    const limit = options.limit ?? 100;
    const states = options.states ?? LIST_STATES;
    const paused = await this.queue.isPaused();
    const out: JobSummary[] = [];
    for (const state of LIST_STATES.filter((s) => states.includes(s))) {
      if (out.length >= limit) break;
      // The BullMQ types behind each state, as getQueueMetrics() counts them.
      const types: JobType[] =
        state === 'waiting' ? (paused ? ['wait'] : ['wait', 'prioritized']) : state === 'paused' ? (paused ? ['paused', 'prioritized'] : ['paused']) : [state];
      const jobs = await this.queue.getJobs(types, 0, limit - out.length - 1);
      for (const j of jobs.slice(0, limit - out.length)) {
        out.push({
          jobId: j.id!,
          name: j.name,
          state,
          data: j.data as unknown,
          attemptsMade: j.attemptsMade,
          createdAt: new Date(j.timestamp).toISOString(),
          processedAt: j.processedOn ? new Date(j.processedOn).toISOString() : null,
          finishedAt: j.finishedOn ? new Date(j.finishedOn).toISOString() : null,
          failedReason: j.failedReason || null,
        });
      }
    }
    return out;
  }

  /** Pauses the queue: bridges take no new jobs (active ones go on); waiting jobs count as paused. */
  async pause(): Promise<void> {
    await this.queue.pause();
    this.logger.info('queue paused');
  }

  /** Resumes a paused queue. */
  async resume(): Promise<void> {
    await this.queue.resume();
    this.logger.info('queue resumed');
  }

  isPaused(): Promise<boolean> {
    return this.queue.isPaused();
  }

  /** Bridge workers connected to this queue now (Redis' CLIENT LIST, as BullMQ's getWorkers() reads it). */
  async bridgeCount(): Promise<number> {
    return (await this.queue.getWorkers()).length;
  }

  /**
   * Cancels a job: removes it if it has not started (or waits for a retry) and cancels its
   * workflow if one is running. An active job's bridge then fails it as cancelled, without retries.
   */
  async cancelJob(jobId: string): Promise<CancelResult> {
    const job = await this.queue.getJob(jobId);
    const state = job ? ((await job.getState()) as JobType | 'unknown') : 'unknown';
    let removed = false;
    if (job && state !== 'active' && state !== 'completed' && state !== 'failed') {
      try {
        await job.remove();
        removed = true;
      } catch (err) {
        // A bridge took it meanwhile: cancelling the workflow below is what stops it.
        this.logger.debug({ err, jobId }, 'job not removed');
      }
    }
    let workflowCancelled = false;
    if (job && isJobName(job.name) && state !== 'completed' && state !== 'failed') {
      const client = await this.temporalClient();
      const handle = client.workflow.getHandle(workflowIdFor(job.name, jobId, this.options.queueName));
      try {
        if ((await handle.describe()).status.name === 'RUNNING') {
          await handle.cancel();
          workflowCancelled = true;
        }
      } catch (err) {
        if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
      }
    }
    return { jobId, state, removed, workflowCancelled };
  }

  /**
   * Runs a failed or cancelled job again under the same id, with fresh attempts and its original
   * time (so default periods stay the same). Its workflow starts a new run with the same id; an
   * aggregation backfill skips the chunks the earlier, cancelled run completed. Its dead-letter
   * entry, if any, is removed.
   */
  async retryJob(jobId: string): Promise<{ jobId: string; state: JobType | 'unknown'; retried: boolean }> {
    const job = await this.queue.getJob(jobId);
    const state = job ? ((await job.getState()) as JobType | 'unknown') : 'unknown';
    if (!job || state !== 'failed') return { jobId, state, retried: false };
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    await (await this.deadLetters.queue.getJob(deadLetterJobId(jobId)))?.remove();
    this.logger.info({ jobId }, 'failed job retried');
    return { jobId, state, retried: true };
  }

  /** Dead-letter entries, oldest first. */
  listDeadLetters(start = 0, end = -1): Promise<DeadLetterEntry[]> {
    return this.deadLetters.list(start, end);
  }

  /** Enqueues dead-lettered jobs again (same id, payload and options; fresh attempts). */
  async retryDeadLetters(jobIds: string[] | 'all'): Promise<RetryOutcome[]> {
    const ids = jobIds === 'all' ? (await this.deadLetters.list()).map((e) => e.jobId) : jobIds;
    const requeue = {
      validate: (name: string, data: unknown) => void validateJob(name, data),
      add: (name: string, data: unknown, opts: JobsOptions) => this.addJob(name as JobName, data as never, opts),
    };
    const outcomes: RetryOutcome[] = [];
    for (const jobId of ids) outcomes.push(await this.deadLetters.retry(jobId, requeue));
    return outcomes;
  }

  /** Removes dead-letter entries (and the failed jobs they came from). Returns the ids removed. */
  purgeDeadLetters(jobIds: string[] | 'all'): Promise<string[]> {
    return this.deadLetters.purge(jobIds);
  }

  /** The Temporal client the bridge and cancellations use, connected on first use. */
  temporalClient(): Promise<Client> {
    this.temporal ??= (async () => {
      const { temporal, connectTimeoutMs } = this.options;
      const options = temporalConnectionOptions(temporal, { connectTimeoutMs }).client;
      let connection: Connection;
      try {
        connection = await Connection.connect(options);
      } catch (err) {
        throw new ServiceUnavailableError('Temporal', temporal.address, TEMPORAL_VARIABLES, reasonOf(err), connectTimeoutMs, { cause: err });
      }
      return { connection, client: new Client({ connection, namespace: this.options.temporal.namespace }) };
    })();
    const pending = this.temporal;
    pending.catch(() => {
      // A failed connect is not cached: the next call tries again.
      if (this.temporal === pending) this.temporal = undefined;
    });
    return pending.then((t) => t.client);
  }

  /**
   * Creates a bridge worker: a BullMQ Worker on this queue that runs each job as its Temporal
   * workflow. It starts at once; close it (or closeQueue()) to stop it.
   */
  async createWorker(overrides: Partial<BridgeOptions> = {}): Promise<BridgeWorker> {
    const client = await this.temporalClient();
    const options = { ...this.options.bridge, ...overrides, limiter: { ...this.options.bridge.limiter, ...overrides.limiter } };
    const bridge = createBridgeWorker({
      queueName: this.options.queueName,
      prefix: this.options.prefix,
      connection: this.connection,
      client,
      taskQueue: this.options.temporal.taskQueue,
      options,
      deadLetters: this.deadLetters,
      logger: this.logger.child({ component: 'bridge' }),
    });
    this.bridges.add(bridge);
    await bridge.worker.waitUntilReady();
    return {
      worker: bridge.worker,
      close: async () => {
        this.bridges.delete(bridge);
        await bridge.close();
      },
      drain: async (graceMs: number) => {
        const finished = await bridge.drain(graceMs);
        this.bridges.delete(bridge);
        return finished;
      },
    };
  }

  /** Closes, in order: bridge workers (their jobs go back to wait), the queues, the Temporal connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // BullMQ cannot close a connection that is still being set up (its failed set-up is then
      // reported as an 'error' event nobody listens to any more): let them finish first.
      await Promise.race([this.ready().catch(() => {}), new Promise((r) => setTimeout(r, 5_000).unref())]);
      await Promise.all([...this.bridges].map((b) => b.close()));
      this.bridges.clear();
      await this.deadLetters.close();
      await this.queue.close();
      const temporal = await this.temporal?.catch(() => undefined);
      await temporal?.connection.close();
    })();
    return this.closing;
  }
}

/** A facade over the queue `options` describe (defaults filled in); wait for {@link AnalyticsQueue.ready} before timing-sensitive use. */
export function createQueue(input: QueueOptionsInput): AnalyticsQueue {
  return new AnalyticsQueue(input);
}
