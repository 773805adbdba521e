import { QueueEvents, type Job } from 'bullmq';
import { JobWaitTimeoutError } from '../errors/job-wait-timeout-error';
import { NoBridgeError } from '../errors/no-bridge-error';
import type { AnalyticsQueue } from '../queue';
import { redisOptionsOf } from '../queue/options';
import type { AggregationProgress } from '../contract/aggregation';
import { startProgressBar } from './progress';

export interface FollowOptions {
  /** Give up waiting (the job and its workflow go on) after this long. @defaultValue 600000 */
  timeoutMs?: number;
  /** Draw a progress bar on stderr (on a terminal only). @defaultValue true */
  progress?: boolean;
  /**
   * Give up with a {@link NoBridgeError} once the job has been waiting this long while no bridge
   * worker is connected to its queue (BullMQ's `getWorkers()`); the job stays queued. @defaultValue 10000
   */
  noBridgeTimeoutMs?: number;
}

/** States in which a job waits for a bridge to take it. */
const WAITING_STATES = new Set(['waiting', 'wait', 'prioritized']);

/**
 * Waits for a job the bridge runs, drawing its workflow's progress (mirrored into the job by the
 * bridge) as a bar on stderr, and returns the job's result. A failed job throws its error; a job
 * nobody will take throws {@link NoBridgeError}.
 */
export async function followJob<T = unknown>(queue: AnalyticsQueue, job: Job, options: FollowOptions = {}): Promise<T> {
  const { redis, prefix } = queue.options;
  const events = new QueueEvents(queue.name, { connection: redisOptionsOf(redis), prefix });
  const bar =
    options.progress === false
      ? undefined
      : startProgressBar('{job} |{bar}| {value}/{total} tasks | {failed} failed | {period}', 1, { job: job.id, failed: 0, period: 'waiting for a bridge worker' });
  const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
    if (jobId !== job.id || !bar) return;
    const p = data as Partial<AggregationProgress>;
    if (typeof p.total !== 'number') return;
    bar.setTotal(Math.max(p.total, 1));
    bar.update((p.done ?? 0) + (p.failed ?? 0), { failed: p.failed ?? 0, period: p.currentPeriod ?? '' });
  };
  events.on('progress', onProgress);
  // Reconnects are BullMQ's; without a listener an 'error' event would crash the command.
  events.on('error', () => {});
  const watch = watchForBridge(queue, job, options.noBridgeTimeoutMs ?? 10_000);
  let timer: NodeJS.Timeout | undefined;
  try {
    await events.waitUntilReady();
    const timeoutMs = options.timeoutMs ?? 600_000;
    // No ttl for BullMQ: its timer would outlive a wait given up early (closing the queue does
    // not clear it) and keep the process for the full timeout. Ours is cleared below.
    const finished = job.waitUntilFinished(events);
    finished.catch(() => {}); // settled by the race below, or never
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new JobWaitTimeoutError(job.id!, timeoutMs)), timeoutMs);
    });
    const result = (await Promise.race([finished, watch.failed, timedOut])) as T;
    bar?.update(bar.getTotal(), { period: 'done' });
    return result;
  } finally {
    clearTimeout(timer);
    watch.stop();
    bar?.stop();
    events.off('progress', onProgress);
    await events.close();
  }
}

/**
 * Rejects once `job` has been waiting for `timeoutMs` with no bridge worker on its queue. Checked
 * every second (Redis' CLIENT LIST, as BullMQ's getWorkers() reads it); a bridge that connects,
 * or the job leaving `wait`, restarts the count.
 */
function watchForBridge(queue: AnalyticsQueue, job: Job, timeoutMs: number): { failed: Promise<never>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const failed = new Promise<never>((_, reject) => {
    let since = Date.now();
    const check = async () => {
      try {
        const waiting = WAITING_STATES.has(await job.getState());
        const bridges = waiting ? (await queue.queue.getWorkers()).length : 1;
        if (!waiting || bridges > 0) since = Date.now();
        else if (Date.now() - since >= timeoutMs) return reject(new NoBridgeError(queue.name, job.id!, Date.now() - since));
      } catch {
        // Redis hiccups are the waiting side's concern; look again next time.
      }
      if (!stopped) timer = setTimeout(() => void check(), Math.min(1_000, timeoutMs));
    };
    timer = setTimeout(() => void check(), Math.min(1_000, timeoutMs));
  });
  failed.catch(() => {});
  return {
    failed,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
