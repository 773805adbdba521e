import { setTimeout as sleep } from 'node:timers/promises';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  isGrpcServiceError,
  TerminatedFailure,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { JobCancelledError } from '../errors/job-cancelled-error';
import { QueueValidationError } from '../errors/queue-validation-error';
import { WorkflowJobError } from '../errors/workflow-job-error';
import type { Logger } from '../logger';
import type { AggregationProgress } from '../contract/aggregation';
import type { DeadLetterQueue } from './dead-letter';
import { bulkTaskQueueOf, isBulkJob } from './job-class';
import { startJobWorkflow, workflowIdFor } from './job-types';
import type { BridgeOptions } from './options';
import { validateJob, type JobName, type JobPayloads } from './schemas';

// The bridge: a BullMQ Worker whose processor starts (or re-attaches to) the job's Temporal
// workflow and follows it to the end, mirroring its progress into the job. The workflow does the
// work; the job is its handle in Redis.

export interface BridgeWorkerDeps {
  queueName: string;
  prefix: string;
  connection: ConnectionOptions;
  client: Client;
  /** Task queue the workflows are started on. */
  taskQueue: string;
  options: BridgeOptions;
  deadLetters: DeadLetterQueue;
  logger: Logger;
}

export interface BridgeWorker {
  readonly worker: Worker;
  /**
   * Stops taking jobs. Jobs being followed go back to `wait` at once (their workflows keep
   * running) and the next bridge re-attaches to them; then the worker's connections close.
   */
  close(): Promise<void>;
  /**
   * Graceful stop: takes no new jobs and lets the jobs being followed finish for up to
   * `graceMs`; what is still running then goes back to the queue (as with close()). Resolves
   * true when every active job finished within the grace period.
   */
  drain(graceMs: number): Promise<boolean>;
}

const NON_RETRYABLE = new Set<string>([...NON_RETRYABLE_ERROR_TYPES, 'QueueValidationError']);

/**
 * The last progress query, once the workflow has completed: a query on a closed workflow makes a
 * worker replay its whole history, which on a busy machine can take seconds or fail once. It
 * happens once per job, so a few patient tries are cheap and the job's final progress is right.
 */
const FINAL_PROGRESS_DEADLINE_MS = 5_000;
const FINAL_PROGRESS_ATTEMPTS = 3;

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export function createBridgeWorker(deps: BridgeWorkerDeps): BridgeWorker {
  const { client, options, logger } = deps;
  const closing = new AbortController();
  /** Backfills this bridge is following now (at most `options.concurrency`). */
  let bulkActive = 0;

  async function processJob(job: Job, token: string | undefined, signal?: AbortSignal): Promise<unknown> {
    const jobId = job.id!;
    let payload;
    try {
      payload = validateJob(job.name, job.data);
    } catch (err) {
      // Reached the queue without addJob: fail once, with addJob's own message.
      if (err instanceof QueueValidationError) throw new UnrecoverableError(err.message);
      throw err;
    }
    const name = job.name as JobName;
    const bulk = isBulkJob(name, payload);
    if (bulk && bulkActive >= options.concurrency) {
      // Every backfill slot is taken: give this one back for a moment, so the slots reserved for
      // other jobs stay free for them (the schedules' jobs must not wait behind backfills).
      await job.moveToDelayed(Date.now() + options.bulkRecheckMs, token);
      throw new DelayedError();
    }
    if (bulk) bulkActive += 1;
    try {
      return await run(job, token, name, payload, jobId, bulk, signal);
    } catch (err) {
      if (!isTemporalUnavailable(err) || closing.signal.aborted) throw err;
      // Temporal is unreachable: that is no failure of the job. Try again later without spending
      // one of its attempts, however long the outage; its workflow (if it started) keeps running
      // and is re-attached to then.
      logger.warn({ jobId, retryInMs: options.temporalRetryMs, err }, 'Temporal unreachable: job delayed, no attempt spent');
      await job.log(`Temporal unreachable (${(err as Error).message}); trying again in ${options.temporalRetryMs} ms`);
      await job.moveToDelayed(Date.now() + options.temporalRetryMs, token);
      throw new DelayedError();
    } finally {
      if (bulk) bulkActive -= 1;
    }
  }

  async function run(job: Job, token: string | undefined, name: JobName, payload: JobPayloads[JobName], jobId: string, bulk: boolean, signal?: AbortSignal): Promise<unknown> {
    const workflowId = workflowIdFor(name, jobId, deps.queueName);
    const requestedAt = new Date(job.timestamp + (job.opts.delay ?? 0)).toISOString();
    const handle = await startJobWorkflow(client, { name, payload, jobId, queueName: deps.queueName, requestedAt, taskQueue: bulk ? bulkTaskQueueOf(deps.taskQueue) : deps.taskQueue, aggregationRunOptions: options.aggregationRunOptions });
    const { runId } = await handle.describe();
    await job.log(`following workflow ${workflowId} (run ${runId}), attempt ${job.attemptsMade + 1}`);
    return follow(job, token, handle, workflowId, signal);
  }

  async function follow(job: Job, token: string | undefined, handle: WorkflowHandle, workflowId: string, signal?: AbortSignal): Promise<unknown> {
    const jobId = job.id!;
    let settled: Settled | undefined;
    const result = handle.result().then(
      (value): Settled => (settled = { ok: true, value }),
      (error: unknown): Settled => (settled = { ok: false, error }),
    );
    let lastProgress: string | undefined;
    let cancelReason: string | undefined;

    /** Queries the workflow's progress and copies it into the job when it changed; true when it answered. */
    const mirror = async (deadlineMs: number, interrupt?: Promise<unknown>): Promise<boolean> => {
      const progress = await queryProgress(handle, deadlineMs, interrupt);
      if (!progress) return false;
      const key = JSON.stringify(progress);
      if (key === lastProgress) return true;
      lastProgress = key;
      await job.updateProgress(progress as unknown as object);
      await job.log(describeProgress(progress));
      return true;
    };

    // A query on a closed workflow is answered by a worker replaying it, which can fail once on a
    // busy machine: a few tries, then the job keeps the last progress it had.
    const finalMirror = async () => {
      for (let attempt = 1; attempt <= FINAL_PROGRESS_ATTEMPTS; attempt++) {
        try {
          if (await mirror(FINAL_PROGRESS_DEADLINE_MS)) return;
        } catch (err) {
          logger.debug({ err, jobId, attempt }, 'final progress not mirrored');
        }
        await sleep(500 * attempt);
      }
    };

    // One listener per signal for the whole follow, removed at the end: the bridge's closing
    // signal is shared by every job, and a listener left behind per job would pile up.
    let wakeOnStop: () => void = () => {};
    const stop = new Promise<void>((resolve) => (wakeOnStop = resolve));
    const signals = [closing.signal, signal].filter((s): s is AbortSignal => s !== undefined);
    for (const s of signals) {
      if (s.aborted) wakeOnStop();
      else s.addEventListener('abort', wakeOnStop, { once: true });
    }
    try {
      return await loop();
    } finally {
      for (const s of signals) s.removeEventListener('abort', wakeOnStop);
    }

    async function loop(): Promise<unknown> {
      while (!settled) {
        const wake = [result, sleep(options.progressPollMs, undefined, { ref: false })];
        await Promise.race(cancelReason === undefined ? [...wake, stop] : wake);
        if (settled) break;
        if (cancelReason === undefined) {
          if (closing.signal.aborted) {
            // The workflow keeps running; hand the job back so the next bridge re-attaches at once.
            await job.log(`bridge shutting down; job returned to the queue while workflow ${workflowId} continues`);
            await job.moveToWait(token);
            throw new WaitingError();
          }
          if (signal?.aborted) cancelReason = `cancelled through the worker (${String(signal.reason ?? 'no reason given')})`;
          else if ((await job.getState()) === 'unknown') cancelReason = 'the job was removed from the queue';
          if (cancelReason !== undefined) {
            logger.info({ jobId, workflowId, reason: cancelReason }, 'cancelling the workflow of a cancelled job');
            await handle.cancel();
            continue;
          }
        }
        await mirror(Math.max(options.progressPollMs, 5_000), result).catch((err: unknown) => logger.debug({ err, jobId }, 'progress not mirrored'));
      }

      const outcome = settled as Settled;
      if (outcome.ok) {
        // One last look, so the job's progress shows the finished counts.
        await finalMirror();
        await job.log(`workflow ${workflowId} completed`);
        return outcome.value;
      }
      throw toJobError(outcome.error, jobId, workflowId, cancelReason);
    }
  }

  const worker = new Worker(deps.queueName, processJob, {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: options.concurrency + options.reservedSlots,
    limiter: { max: options.limiter.max, duration: options.limiter.durationMs },
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: options.maxStalledCount,
  });
  worker.on('error', (err) => logger.error({ err }, 'bridge worker error'));
  worker.on('failed', (job) => {
    deps.deadLetters.captureIfFinal(job).catch((err: unknown) => logger.error({ err, jobId: job?.id }, 'dead-lettering failed; the next sweep retries'));
  });

  const sweep = () =>
    deps.deadLetters.sweep().catch((err: unknown) => {
      logger.warn({ err }, 'dead-letter sweep failed');
      return 0;
    });
  let sweeping = sweep();
  const sweeper = setInterval(() => {
    sweeping = sweeping.then(sweep);
  }, options.deadLetterSweepMs);
  sweeper.unref();

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      clearInterval(sweeper);
      closing.abort();
      await worker.close();
      await sweeping;
    })();
    return closed;
  };
  return {
    worker,
    close,
    async drain(graceMs: number) {
      // pause(false) stops fetching and resolves once the active jobs have finished.
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        worker.pause(false).then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
      ]);
      clearTimeout(timer);
      await close();
      return finished;
    },
  };
}

/** gRPC status codes of a server that cannot be reached or did not answer in time. */
const UNAVAILABLE_CODES = new Set<number>([14 /* UNAVAILABLE */, 4 /* DEADLINE_EXCEEDED */]);

/** Whether an error says Temporal could not be reached (as opposed to a workflow failing). */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    // A workflow that ran and failed is the job's failure, whatever its message says (a tenant's
    // "database unavailable" is no Temporal outage).
    if (e instanceof WorkflowFailedError || e instanceof WorkflowJobError || e instanceof UnrecoverableError) return false;
    if (isGrpcServiceError(e) && UNAVAILABLE_CODES.has(e.code)) return true;
  }
  return false;
}

/**
 * The workflow's `progress` query, or undefined when it does not answer within `deadlineMs` (no
 * worker polling yet) or before `interrupt` settles (the workflow finished meanwhile).
 */
async function queryProgress(handle: WorkflowHandle, deadlineMs: number, interrupt?: Promise<unknown>): Promise<AggregationProgress | undefined> {
  const query = handle.client.withDeadline(Date.now() + deadlineMs, () => handle.query<AggregationProgress>('progress'));
  query.catch(() => {});
  const answer = await (interrupt ? Promise.race([query, interrupt.then(() => undefined)]) : query);
  return isProgress(answer) ? answer : undefined;
}

function isProgress(value: unknown): value is AggregationProgress {
  const p = value as Partial<AggregationProgress> | undefined;
  return typeof p?.total === 'number' && typeof p.done === 'number' && typeof p.failed === 'number';
}

function describeProgress(p: AggregationProgress): string {
  const now = p.currentPeriod ? `; now ${p.currentPeriod}` : '';
  return `progress: ${p.done + p.failed}/${p.total} settled (${p.done} done, ${p.failed} failed)${now}`;
}

/** The failure that explains a workflow failure: through activity and child wrappers to their cause. */
function explaining(err: WorkflowFailedError): Error | undefined {
  let f: Error | undefined = err.cause;
  while ((f instanceof ActivityFailure || f instanceof ChildWorkflowFailure) && f.cause) f = f.cause;
  return f;
}

/**
 * Maps how a workflow ended to how the job fails: cancellation, termination and bad input are
 * unrecoverable (BullMQ does not retry them); any other workflow failure, or trouble reaching
 * Temporal, is an ordinary failure that BullMQ retries per the job's attempts and backoff.
 */
export function toJobError(err: unknown, jobId: string, workflowId: string, cancelReason?: string): Error {
  if (!(err instanceof WorkflowFailedError)) return err instanceof Error ? err : new Error(String(err));
  const cause = explaining(err);
  if (cause instanceof CancelledFailure) {
    return new UnrecoverableError(new JobCancelledError(jobId, workflowId, cancelReason ?? 'the workflow was cancelled').message);
  }
  if (cause instanceof TerminatedFailure) {
    return new UnrecoverableError(new WorkflowJobError(workflowId, 'Terminated', cause.message || 'the workflow was terminated').message);
  }
  const type = cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : (cause?.name ?? 'Error');
  const failure = new WorkflowJobError(workflowId, type, cause?.message ?? err.message, { cause: err });
  const permanent = (cause instanceof ApplicationFailure && cause.nonRetryable) || NON_RETRYABLE.has(type);
  return permanent ? new UnrecoverableError(failure.message) : failure;
}
