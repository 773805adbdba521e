// Benchmark 3: addJob -> workflow started -> job completed, at a steady rate of one-tenant
// one-day jobs (all types). Added: BullMQ job.timestamp; started: the workflow's start time from
// the Temporal server (describe()); completed: BullMQ job.finishedOn.
import { timeJob, type JobTiming } from '../lib/jobs';
import { BenchStack } from '../lib/stack';
import { percentile, round, seconds } from '../lib/stats';
import { SMALL_TENANT } from './compare';

export interface LatencyStats {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  ratePerSecond: number;
  seconds: number;
  tenants: number;
  jobs: number;
  failed: number;
  /** Jobs added per second, as achieved. */
  achievedRate: number;
  addToStartMs: LatencyStats;
  startToFinishMs: LatencyStats;
  addToFinishMs: LatencyStats;
  workersPeakMb: number | undefined;
  timings: JobTiming[];
}

function stats(xs: number[]): LatencyStats {
  return { p50: round(percentile(xs, 50)), p95: round(percentile(xs, 95)), p99: round(percentile(xs, 99)), max: round(Math.max(...xs)) };
}

export async function runLatency(opts: { ratePerSecond: number; seconds: number; tenants: number }, log: (line: string) => void): Promise<LatencyResult> {
  const stack = await BenchStack.create('latency', { tenants: opts.tenants, ...SMALL_TENANT });
  try {
    await stack.startWorkers();
    const queue = await stack.queue();
    const days = ['2025-05-26', '2025-05-27', '2025-05-28', '2025-05-29', '2025-05-30', '2025-05-31', '2025-06-01'];
    // Active tenants only: a job for a suspended one (every seventh) fails as bad input.
    const { rows } = await stack.pool.query<{ id: string }>("SELECT id FROM organizations WHERE status = 'active' ORDER BY id");
    const active = rows.map((r) => r.id);
    const jobFor = (n: number) => ({
      tenantId: active[n % active.length]!,
      type: 'all' as const,
      periodType: 'day' as const,
      periodStart: days[Math.floor(n / active.length) % days.length]!,
    });
    // Warm-up (not measured): the first workflows pay for caches and connections.
    for (let n = 0; n < 3; n++) await timeJob(queue, 'aggregation', (await queue.addJob('aggregation', jobFor(n))).id!);

    const total = Math.max(1, Math.round(opts.ratePerSecond * opts.seconds));
    const intervalMs = 1000 / opts.ratePerSecond;
    const ids: string[] = [];
    const t0 = performance.now();
    for (let n = 0; n < total; n++) {
      // A fixed schedule (not "sleep after each add"), so a slow add does not lower the rate.
      const wait = t0 + n * intervalMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      ids.push((await queue.addJob('aggregation', jobFor(n + 3))).id!);
    }
    const addedFor = performance.now() - t0;
    log(`  added ${total} jobs in ${seconds(addedFor)} s; waiting for them`);
    const timings: JobTiming[] = [];
    for (const id of ids) timings.push(await timeJob(queue, 'aggregation', id));
    const ok = timings.filter((t) => t.state === 'completed');
    return {
      ratePerSecond: opts.ratePerSecond,
      seconds: opts.seconds,
      tenants: opts.tenants,
      jobs: total,
      failed: timings.length - ok.length,
      achievedRate: round(total / ((addedFor + intervalMs) / 1000), 2),
      addToStartMs: stats(ok.map((t) => t.workflowStartedAt - t.addedAt)),
      startToFinishMs: stats(ok.map((t) => t.finishedAt - t.workflowStartedAt)),
      addToFinishMs: stats(ok.map((t) => t.finishedAt - t.addedAt)),
      workersPeakMb: stack.workersRss()?.peakMb,
      timings,
    };
  } finally {
    await stack.dispose();
  }
}
