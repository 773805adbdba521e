import { Queue, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import { JobCancelledError } from '../errors/job-cancelled-error';
import type { Logger } from '../logger';
import { deadLetterQueueName } from './options';

/** A job that failed its last attempt, as kept in the dead-letter queue. */
export interface DeadLetterEntry {
  /** The original job's id (the dead-letter job itself is `dl-<jobId>`). */
  jobId: string;
  /** The original job's name (its job type). */
  name: string;
  /** The payload exactly as it was enqueued. */
  data: unknown;
  /**
   * The options to enqueue it with again (attempts, backoff, priority, retention), and its
   * original `timestamp` (plus any delay): the workflow computes default periods from it, so a
   * retried job covers the periods the failed one was meant to, not those of the retry's day.
   */
  opts: Pick<JobsOptions, 'attempts' | 'backoff' | 'priority' | 'removeOnComplete' | 'removeOnFail' | 'timestamp'>;
  /** The last attempt's error message. */
  failedReason: string;
  stacktrace: string[];
  attemptsMade: number;
  /** ISO instant the job failed for good. */
  failedAt: string;
  /** ISO instant it was added here. */
  deadLetteredAt: string;
}

export interface RetryOutcome {
  jobId: string;
  /** True when the job was enqueued again (and its dead-letter entry removed). */
  requeued: boolean;
  /** Why it was not: the entry is missing, the payload is now invalid, … */
  error?: string;
}

/** How the facade enqueues a job again: `validate` throws on a payload that is invalid now; `add` applies the defaults. */
export interface Requeue {
  validate(name: string, data: unknown): void;
  add(name: string, data: unknown, opts: JobsOptions): Promise<unknown>;
}

export function deadLetterJobId(jobId: string): string {
  return `dl-${jobId}`;
}

/**
 * The dead-letter queue of a queue: a second BullMQ queue, `<queue>-dead-letter`, that no worker
 * consumes. A job lands here when it fails its last attempt (or fails unrecoverably), except
 * cancellations. Entries are keyed by the original job id, so capturing twice keeps one entry;
 * `retry` and `purge` also remove the original failed job, so a later sweep does not bring the
 * entry back.
 */
export class DeadLetterQueue {
  readonly queue: Queue;
  private lastSweepAt: number | undefined;

  constructor(
    private readonly main: Queue,
    connection: ConnectionOptions,
    prefix: string,
    private readonly logger: Logger,
  ) {
    this.queue = new Queue(deadLetterQueueName(main.name), { connection, prefix });
    this.queue.on('error', (err) => this.logger.warn({ err }, 'dead-letter queue connection error'));
  }

  /** Adds the failed job's entry unless it is there already. Returns whether it was added. */
  async capture(job: Job): Promise<boolean> {
    const jobId = job.id!;
    if (isCancellation(job.failedReason)) return false;
    const id = deadLetterJobId(jobId);
    if ((await this.queue.getJobState(id)) !== 'unknown') return false;
    const entry: DeadLetterEntry = {
      jobId,
      name: job.name,
      data: job.data,
      opts: { ...pick(job.opts), timestamp: job.timestamp + (job.opts.delay ?? 0) },
      failedReason: job.failedReason ?? '',
      stacktrace: job.stacktrace ?? [],
      attemptsMade: job.attemptsMade,
      failedAt: new Date(job.finishedOn ?? Date.now()).toISOString(),
      deadLetteredAt: new Date().toISOString(),
    };
    await this.queue.add(job.name, entry, { jobId: id, attempts: 1, removeOnComplete: false, removeOnFail: false });
    this.logger.warn({ jobId, name: job.name, failedReason: entry.failedReason, attemptsMade: entry.attemptsMade }, 'job dead-lettered');
    return true;
  }

  /**
   * Called on a worker's `failed` event: captures the job when that failure was its last
   * (BullMQ moved it to `failed` rather than back to `delayed`/`wait` for another attempt).
   */
  async captureIfFinal(job: Job | undefined): Promise<boolean> {
    if (!job?.id) return false;
    const state = await this.main.getJobState(job.id);
    if (state !== 'failed') return false;
    const stored = await this.main.getJob(job.id);
    return stored ? this.capture(stored) : false;
  }

  /**
   * Captures failed jobs of the main queue that have no entry yet: those that failed while no
   * bridge was listening, failed by exceeding the stall limit (no worker event), or whose bridge
   * died between failing them and capturing them. First call: every failed job; later calls: the
   * ones that failed since the previous sweep (with a margin).
   */
  async sweep(): Promise<number> {
    const startedAt = Date.now();
    const since = this.lastSweepAt === undefined ? 0 : this.lastSweepAt - 60_000;
    let captured = 0;
    const page = 200;
    for (let offset = 0; ; offset += page) {
      const jobs = await this.main.getJobs(['failed'], offset, offset + page - 1, false);
      for (const job of jobs) {
        if (job && (job.finishedOn ?? 0) >= since && (await this.capture(job))) captured += 1;
      }
      const oldest = jobs[jobs.length - 1]?.finishedOn ?? 0;
      if (jobs.length < page || oldest < since) break;
    }
    this.lastSweepAt = startedAt;
    return captured;
  }

  /** Entries, oldest first. */
  async list(start = 0, end = -1): Promise<DeadLetterEntry[]> {
    const jobs = await this.queue.getJobs(['waiting', 'paused'], start, end, true);
    return jobs.filter((j): j is Job => Boolean(j)).map((j) => j.data as DeadLetterEntry);
  }

  async count(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'paused');
    return (counts.waiting ?? 0) + (counts.paused ?? 0);
  }

  async get(jobId: string): Promise<DeadLetterEntry | undefined> {
    const job = await this.queue.getJob(deadLetterJobId(jobId));
    return job ? (job.data as DeadLetterEntry) : undefined;
  }

  /**
   * Enqueues an entry's job again with the same id, name, payload and options (fresh attempts),
   * then removes the entry. The original failed job is removed first, as BullMQ keeps one job per
   * id. A crash between the steps is safe to retry: an already re-enqueued job is left alone.
   */
  async retry(jobId: string, requeue: Requeue): Promise<RetryOutcome> {
    const entry = await this.get(jobId);
    if (!entry) return { jobId, requeued: false, error: 'no such dead-letter entry' };
    const state = await this.main.getJobState(jobId);
    const removeEntry = async () => (await this.queue.getJob(deadLetterJobId(jobId)))?.remove();
    if (state === 'completed') {
      await removeEntry();
      return { jobId, requeued: false, error: 'the job has completed since it was dead-lettered; entry removed' };
    }
    if (state === 'failed' || state === 'unknown') {
      try {
        // Validate before touching anything: a payload that is invalid now stays dead-lettered.
        requeue.validate(entry.name, entry.data);
        if (state === 'failed') await (await this.main.getJob(jobId))?.remove();
        await requeue.add(entry.name, entry.data, { ...entry.opts, jobId });
      } catch (err) {
        return { jobId, requeued: false, error: (err as Error).message };
      }
    }
    // Any other state: an earlier retry enqueued it already and stopped before removing the entry.
    await removeEntry();
    this.logger.info({ jobId, name: entry.name }, 'dead-lettered job enqueued again');
    return { jobId, requeued: true };
  }

  /** Removes entries (and their original failed jobs). Returns the ids removed. */
  async purge(jobIds: string[] | 'all'): Promise<string[]> {
    const ids = jobIds === 'all' ? (await this.list()).map((e) => e.jobId) : jobIds;
    const removed: string[] = [];
    for (const jobId of ids) {
      const entry = await this.queue.getJob(deadLetterJobId(jobId));
      if (!entry) continue;
      if ((await this.main.getJobState(jobId)) === 'failed') await (await this.main.getJob(jobId))?.remove();
      await entry.remove();
      removed.push(jobId);
    }
    return removed;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

function isCancellation(failedReason: string | undefined): boolean {
  return failedReason?.startsWith(JobCancelledError.PREFIX) ?? false;
}

function pick(opts: JobsOptions): DeadLetterEntry['opts'] {
  const out: DeadLetterEntry['opts'] = {};
  if (opts.attempts !== undefined) out.attempts = opts.attempts;
  if (opts.backoff !== undefined) out.backoff = opts.backoff;
  if (opts.priority !== undefined) out.priority = opts.priority;
  if (opts.removeOnComplete !== undefined) out.removeOnComplete = opts.removeOnComplete;
  if (opts.removeOnFail !== undefined) out.removeOnFail = opts.removeOnFail;
  return out;
}
