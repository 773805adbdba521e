import cliProgress from 'cli-progress';
import { QueueEvents, type Job } from 'bullmq';
import type { AnalyticsQueue } from '../queue';
import { redisOptionsOf } from '../queue/options';
import type { AggregationProgress } from '../workflows/types';

export interface FollowOptions {
  /** Give up waiting (the job and its workflow go on) after this long. @defaultValue 600000 */
  timeoutMs?: number;
  /** Draw a progress bar on stderr. @defaultValue true */
  progress?: boolean;
}

/**
 * Waits for a job the bridge runs, drawing its workflow's progress (mirrored into the job by the
 * bridge) as a bar on stderr, and returns the job's result. A failed job throws its error.
 */
export async function followJob<T = unknown>(queue: AnalyticsQueue, job: Job, options: FollowOptions = {}): Promise<T> {
  const { redis, prefix } = queue.options;
  const events = new QueueEvents(queue.name, { connection: redisOptionsOf(redis), prefix });
  const bar =
    options.progress === false
      ? undefined
      : new cliProgress.SingleBar(
          { stream: process.stderr, format: '{job} |{bar}| {value}/{total} tasks | {failed} failed | {period}', hideCursor: true, noTTYOutput: false },
          cliProgress.Presets.shades_classic,
        );
  bar?.start(1, 0, { job: job.id, failed: 0, period: 'waiting for a bridge worker' });
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
  try {
    await events.waitUntilReady();
    const result = (await job.waitUntilFinished(events, options.timeoutMs ?? 600_000)) as T;
    bar?.update(bar.getTotal(), { period: 'done' });
    return result;
  } finally {
    bar?.stop();
    events.off('progress', onProgress);
    await events.close();
  }
}
