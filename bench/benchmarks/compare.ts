// Benchmark 2 (and 4, growth with tenants): one week of `all`, daily, over N small tenants,
// queued (`aggregate --json`: addJob -> BullMQ -> bridge -> Temporal) against in-process tenant
// after tenant (`aggregate --local`, the baseline), on the same data, in this process run.
import { lastFinishedJob } from '../lib/jobs';
import { BenchStack } from '../lib/stack';
import { median, ratioOfMedians, round, seconds } from '../lib/stats';

/** Small tenants: 5 users, 14 days of history up to Monday 2025-06-02. */
export const SMALL_TENANT = { users: 5, days: 14, until: '2025-06-02' } as const;
/** One ISO week (Monday to Monday), daily periods, every type. */
export const WEEK = { from: '2025-05-26', to: '2025-06-02', asOf: '2025-06-02T00:00:00Z' } as const;
const ARGS = ['--type', 'all', '--period-type', 'day', '--from', WEEK.from, '--to', WEEK.to, '--as-of', WEEK.asOf, '--json'];

export interface CompareSample {
  run: number;
  queuedCliMs: number;
  queuedJobMs: number;
  localCliMs: number;
  sameRows: boolean;
  rows: Record<string, number>;
}

export interface CompareResult {
  tenants: number;
  runs: number;
  seed: BenchStack['seeded'];
  samples: CompareSample[];
  medians: { queuedCliMs: number; queuedJobMs: number; localCliMs: number };
  ratios: { queuedCliOverLocal: number; queuedJobOverLocal: number };
  workersPeakMb: number | undefined;
}

export async function runCompare(tenants: number, runs: number, log: (line: string) => void): Promise<CompareResult> {
  const stack = await BenchStack.create(`cmp${tenants}`, { tenants, ...SMALL_TENANT });
  try {
    log(`  ${tenants} tenants: seeded ${stack.seeded!.totalRows} rows in ${seconds(stack.seeded!.ms)} s`);
    await stack.startWorkers();
    const queue = await stack.queue();
    const timeoutSeconds = String(Math.max(600, tenants)); // the CLI's wait, not a limit on the job
    const samples: CompareSample[] = [];
    for (let run = 1; run <= runs; run++) {
      const order = run % 2 === 1 ? (['queued', 'local'] as const) : (['local', 'queued'] as const);
      const s: Partial<CompareSample> = { run };
      const md5 = { queued: '', local: '' };
      for (const which of order) {
        await stack.truncateAggregates();
        if (which === 'queued') {
          const cli = await stack.cli(['aggregate', '--timeout', timeoutSeconds, ...ARGS], { timeoutMs: Number(timeoutSeconds) * 1000 + 60_000 });
          const job = await lastFinishedJob(queue);
          s.queuedCliMs = cli.ms;
          s.queuedJobMs = job ? job.finishedAt - job.addedAt : Number.NaN;
          const d = await stack.aggregateDigest();
          md5.queued = d.md5;
          s.rows = d.rows;
        } else {
          const cli = await stack.cli(['aggregate', '--local', ...ARGS]);
          s.localCliMs = cli.ms;
          md5.local = (await stack.aggregateDigest()).md5;
        }
      }
      s.sameRows = md5.queued === md5.local;
      samples.push(s as CompareSample);
      log(`  ${tenants} tenants run ${run}/${runs}: queued ${seconds(s.queuedCliMs!)} s (job ${seconds(s.queuedJobMs!)} s), local ${seconds(s.localCliMs!)} s; same rows: ${s.sameRows}`);
    }
    const pick = (k: 'queuedCliMs' | 'queuedJobMs' | 'localCliMs') => samples.map((x) => x[k]);
    return {
      tenants,
      runs,
      seed: stack.seeded,
      samples,
      medians: { queuedCliMs: round(median(pick('queuedCliMs'))), queuedJobMs: round(median(pick('queuedJobMs'))), localCliMs: round(median(pick('localCliMs'))) },
      ratios: { queuedCliOverLocal: ratioOfMedians(pick('queuedCliMs'), pick('localCliMs')), queuedJobOverLocal: ratioOfMedians(pick('queuedJobMs'), pick('localCliMs')) },
      workersPeakMb: stack.workersRss()?.peakMb,
    };
  } finally {
    await stack.dispose();
  }
}
