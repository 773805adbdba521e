// Benchmark 1 (and 4, growth with rows): a 365-day daily backfill of every type, queued
// (`aggregate --json` through BullMQ and Temporal) against the SQL lower bound and against
// in-process tenant after tenant (`aggregate --local`), on the same data, in this process run.
import { lastFinishedJob } from '../lib/jobs';
import { createLowerBoundTables, lowerBoundDifferences, runLowerBound, truncateLowerBoundTables, type LowerBoundRun } from '../lib/lower-bound';
import { BenchStack, type SeedSize } from '../lib/stack';
import { median, ratioOfMedians, round, seconds } from '../lib/stats';

export const BACKFILL_RANGE = { from: '2025-01-01', to: '2026-01-01', asOf: '2026-01-01T00:00:00Z' } as const;
/** 400 days of history before 2026-01-01: the whole backfill year, and some before it. */
export const BACKFILL_HISTORY = { days: 400, until: '2026-01-01' } as const;

export const AGGREGATE_ARGS = ['aggregate', '--type', 'all', '--period-type', 'day', '--from', BACKFILL_RANGE.from, '--to', BACKFILL_RANGE.to, '--as-of', BACKFILL_RANGE.asOf, '--json'];

export interface BackfillSample {
  run: number;
  /** `aggregate` (queued) wall time: process start to exit. */
  queuedCliMs: number;
  /** The queued job from addJob (job.timestamp) to BullMQ's finishedOn. */
  queuedJobMs: number;
  localCliMs: number;
  lowerBound: LowerBoundRun;
  queuedRows: Record<string, number>;
  localRows: Record<string, number>;
  /** Queued and local wrote identical rows (computed_at aside). */
  sameRows: boolean;
  /** Rows where the lower bound's output and the app's last run differ (MRR/ARR aside), per table. */
  lowerBoundDifferences: Record<string, number>;
  workersPeakMb: number | undefined;
}

export interface BackfillResult {
  name: string;
  seed: BenchStack['seeded'];
  samples: BackfillSample[];
  medians: { queuedCliMs: number; queuedJobMs: number; localCliMs: number; lowerBoundMs: number };
  ratios: { queuedJobOverLowerBound: number; queuedCliOverLowerBound: number; localOverLowerBound: number; queuedCliOverLocal: number };
  workersPeakMb: number | undefined;
}

export async function runBackfill(name: string, size: Omit<SeedSize, 'days' | 'until'>, runs: number, log: (line: string) => void): Promise<BackfillResult> {
  const stack = await BenchStack.create(name, { ...size, ...BACKFILL_HISTORY });
  try {
    log(`  ${name}: seeded ${stack.seeded!.totalRows} rows (${size.tenants} tenants x ${size.users} users, ${BACKFILL_HISTORY.days} days) in ${seconds(stack.seeded!.ms)} s`);
    await stack.startWorkers();
    await createLowerBoundTables(stack.pool);
    // Warm the buffer cache for all three on the same rows (the lower bound reads every raw table once).
    await runLowerBound(stack.pool, BACKFILL_RANGE);
    await truncateLowerBoundTables(stack.pool);
    const queue = await stack.queue();
    const samples: BackfillSample[] = [];
    for (let run = 1; run <= runs; run++) {
      // Alternate the order, so neither side always runs on a cache the other warmed.
      const order = run % 2 === 1 ? (['lower', 'queued', 'local'] as const) : (['local', 'queued', 'lower'] as const);
      const s: Partial<BackfillSample> = { run };
      const md5 = { queued: '', local: '' };
      for (const which of order) {
        if (which === 'lower') {
          await truncateLowerBoundTables(stack.pool);
          s.lowerBound = await runLowerBound(stack.pool, BACKFILL_RANGE);
        } else if (which === 'queued') {
          await stack.truncateAggregates();
          const cli = await stack.cli(AGGREGATE_ARGS);
          const job = await lastFinishedJob(queue);
          s.queuedCliMs = cli.ms;
          s.queuedJobMs = job ? job.finishedAt - job.addedAt : Number.NaN;
          const digest = await stack.aggregateDigest();
          s.queuedRows = digest.rows;
          md5.queued = digest.md5;
          s.workersPeakMb = stack.workersRss()?.peakMb;
        } else {
          await stack.truncateAggregates();
          const cli = await stack.cli(['aggregate', '--local', ...AGGREGATE_ARGS.slice(1)]);
          s.localCliMs = cli.ms;
          const digest = await stack.aggregateDigest();
          s.localRows = digest.rows;
          md5.local = digest.md5;
        }
      }
      s.sameRows = md5.queued === md5.local;
      s.lowerBoundDifferences = await lowerBoundDifferences(stack.pool);
      samples.push(s as BackfillSample);
      log(
        `  ${name} run ${run}/${runs}: queued ${seconds(s.queuedCliMs!)} s (job ${seconds(s.queuedJobMs!)} s), local ${seconds(s.localCliMs!)} s, ` +
          `lower bound ${seconds(s.lowerBound!.ms)} s; same rows: ${s.sameRows}; workers peak ${s.workersPeakMb} MB`,
      );
    }
    const m = {
      queuedCliMs: median(samples.map((x) => x.queuedCliMs)),
      queuedJobMs: median(samples.map((x) => x.queuedJobMs)),
      localCliMs: median(samples.map((x) => x.localCliMs)),
      lowerBoundMs: median(samples.map((x) => x.lowerBound.ms)),
    };
    const lb = samples.map((x) => x.lowerBound.ms);
    return {
      name,
      seed: stack.seeded,
      samples,
      medians: { queuedCliMs: round(m.queuedCliMs), queuedJobMs: round(m.queuedJobMs), localCliMs: round(m.localCliMs), lowerBoundMs: round(m.lowerBoundMs) },
      ratios: {
        queuedJobOverLowerBound: ratioOfMedians(samples.map((x) => x.queuedJobMs), lb),
        queuedCliOverLowerBound: ratioOfMedians(samples.map((x) => x.queuedCliMs), lb),
        localOverLowerBound: ratioOfMedians(samples.map((x) => x.localCliMs), lb),
        queuedCliOverLocal: ratioOfMedians(samples.map((x) => x.queuedCliMs), samples.map((x) => x.localCliMs)),
      },
      workersPeakMb: stack.workersRss()?.peakMb,
    };
  } finally {
    await stack.dispose();
  }
}

/** Rows the lower bound inserted against rows the pipeline wrote, per table, where they differ. */
export function rowCountNotes(r: BackfillResult): string[] {
  const s = r.samples[0];
  if (!s) return [];
  const notes: string[] = [];
  for (const [table, n] of Object.entries(s.queuedRows)) {
    const lb = s.lowerBound.rows[table];
    if (lb !== n) notes.push(`${r.name}: ${table} — the pipeline wrote ${n} rows, the lower bound inserted ${lb}.`);
  }
  if (r.samples.some((x) => !x.sameRows)) notes.push(`${r.name}: queued and --local did NOT write identical rows in every run.`);
  const differing = r.samples.flatMap((x) => Object.entries(x.lowerBoundDifferences).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n} (run ${x.run})`));
  notes.push(
    differing.length === 0
      ? `${r.name}: the lower bound's rows equal the pipeline's in every run (every column but MRR/ARR, which it does not compute).`
      : `${r.name}: the lower bound's rows differ from the pipeline's: ${differing.join(', ')}.`,
  );
  return notes;
}
