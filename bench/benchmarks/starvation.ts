// Backfills do not starve the schedules: five 365-day backfills (all types, daily, every tenant;
// five different years, so they write different rows from each other and from the hourly job)
// are added at once; once their workflows run, an hourly job is added through the facade. Its
// time to start (added -> workflow started) and its duration (workflow started -> finished) are
// compared with the same job run alone, same process. Two hourly jobs are measured: the full
// recompute (today so far and yesterday, two cohort months: the heavier one, which the hourly
// schedule sent before incremental refresh) and the job the schedule enqueues now (its payload
// from src/scheduler/definitions.ts, read at run time: incremental).
import type { AggregationJobData } from '../../src/contract/aggregation';
import { scheduleById } from '../../src/scheduler/definitions';
import { timeJob, waitForJob, waitForWorkflowStart, type JobTiming } from '../lib/jobs';
import { BenchStack } from '../lib/stack';
import { median, ratioOfMedians, round, seconds } from '../lib/stats';

/** Five years before the hourly job's days and cohort months: no backfill writes a row it writes. */
const YEARS = [2020, 2021, 2022, 2023, 2024] as const;
/** History covering the five backfill years and the hourly job's days (2020-01-01 … 2025-12-31, and a week before). */
const HISTORY = { days: 2200, until: '2026-01-01' } as const;
/** The hourly schedule's nominal fire time: the current day so far and the previous day. */
const NOMINAL = new Date('2025-12-31T12:00:00Z');

export interface StarvationRound {
  round: number;
  hourly: JobTiming;
  /** Backfills not yet finished when the hourly job finished (5 = it ran entirely under load). */
  backfillsRunningAtHourlyFinish: number;
  backfills: JobTiming[];
}

/** What one hourly job measured alone and under the backfills. */
export interface HourlyUnderLoad {
  alone: JobTiming[];
  loaded: StarvationRound[];
  medians: { aloneToStartMs: number; aloneDurationMs: number; loadedToStartMs: number; loadedDurationMs: number; backfillMs: number };
  ratios: { durationLoadedOverAlone: number; addToFinishLoadedOverAlone: number };
  maxLoadedToStartMs: number;
}

export interface StarvationResult {
  tenants: number;
  users: number;
  /** Which hourly job the main figures are of: `full` (explicit full recompute); absent in older results: the schedule's payload of the day. */
  variant?: 'full';
  /** The job the hourly schedule enqueues now (incremental), measured the same way. */
  scheduled?: HourlyUnderLoad;
  alone: JobTiming[];
  loaded: StarvationRound[];
  medians: { aloneToStartMs: number; aloneDurationMs: number; loadedToStartMs: number; loadedDurationMs: number; backfillMs: number };
  ratios: { durationLoadedOverAlone: number; addToFinishLoadedOverAlone: number };
  maxLoadedToStartMs: number;
  workersPeakMb: number | undefined;
}

export async function runStarvation(opts: { tenants: number; users: number; rounds: number }, log: (line: string) => void): Promise<StarvationResult> {
  const stack = await BenchStack.create('starve', { tenants: opts.tenants, users: opts.users, ...HISTORY });
  try {
    log(`  seeded ${stack.seeded!.totalRows} rows (${opts.tenants} tenants x ${opts.users} users, ${HISTORY.days} days)`);
    await stack.startWorkers();
    const queue = await stack.queue();
    const hourly = scheduleById('hourly-aggregation');
    if (!hourly) throw new Error('no hourly-aggregation schedule in src/scheduler/definitions.ts');
    const full = await measure(queue, () => ({ type: 'all', periodType: 'day', includeCurrent: true, asOf: NOMINAL.toISOString() }), opts.rounds, (line) => log(`  full recompute: ${line}`));
    const scheduled = await measure(queue, () => hourly.job(NOMINAL), opts.rounds, (line) => log(`  as scheduled: ${line}`));
    return { tenants: opts.tenants, users: opts.users, variant: 'full', ...full, scheduled, workersPeakMb: stack.workersRss()?.peakMb };
  } finally {
    await stack.dispose();
  }
}

type Queue = Awaited<ReturnType<BenchStack['queue']>>;

/** One hourly job: alone `rounds` times (after a warm-up), then `rounds` times under five backfills. */
async function measure(queue: Queue, hourlyJob: () => AggregationJobData, rounds: number, log: (line: string) => void): Promise<HourlyUnderLoad> {
  // Warm-up, not measured.
  await timeJob(queue, 'aggregation', (await queue.addJob('aggregation', hourlyJob())).id!);
  const alone: JobTiming[] = [];
  for (let i = 0; i < rounds; i++) alone.push(await timeJob(queue, 'aggregation', (await queue.addJob('aggregation', hourlyJob())).id!));
  log(`alone: to start ${alone.map((t) => seconds(t.workflowStartedAt - t.addedAt)).join(', ')} s; duration ${alone.map((t) => seconds(t.finishedAt - t.workflowStartedAt)).join(', ')} s`);

  const loaded: StarvationRound[] = [];
  for (let round = 1; round <= rounds; round++) {
    const backfillIds: string[] = [];
    for (const y of YEARS) {
      const job = await queue.addJob('aggregation', { type: 'all', periodType: 'day', periodStart: `${y}-01-01`, periodEnd: `${y + 1}-01-01` });
      backfillIds.push(job.id!);
    }
    // "While they run": every backfill's workflow has started (or 60 s have passed).
    await Promise.race([Promise.all(backfillIds.map((id) => waitForWorkflowStart(queue, 'aggregation', id))), new Promise((r) => setTimeout(r, 60_000))]);
    const h = await timeJob(queue, 'aggregation', (await queue.addJob('aggregation', hourlyJob())).id!);
    let running = 0;
    for (const id of backfillIds) {
      const j = await queue.getJob(id);
      if (!j?.finishedOn || j.finishedOn > h.finishedAt) running++;
    }
    const backfills: JobTiming[] = [];
    for (const id of backfillIds) {
      await waitForJob(queue, id);
      backfills.push(await timeJob(queue, 'aggregation', id));
    }
    loaded.push({ round, hourly: h, backfillsRunningAtHourlyFinish: running, backfills });
    log(
      `loaded round ${round}/${rounds}: hourly to start ${seconds(h.workflowStartedAt - h.addedAt)} s, duration ${seconds(h.finishedAt - h.workflowStartedAt)} s; ` +
        `${running}/5 backfills still running at its finish; backfills took ${backfills.map((b) => seconds(b.finishedAt - b.addedAt)).join(', ')} s`,
    );
  }
  const toStart = (t: JobTiming) => t.workflowStartedAt - t.addedAt;
  const duration = (t: JobTiming) => t.finishedAt - t.workflowStartedAt;
  const e2e = (t: JobTiming) => t.finishedAt - t.addedAt;
  const hourlies = loaded.map((r) => r.hourly);
  return {
    alone,
    loaded,
    medians: {
      aloneToStartMs: round(median(alone.map(toStart))),
      aloneDurationMs: round(median(alone.map(duration))),
      loadedToStartMs: round(median(hourlies.map(toStart))),
      loadedDurationMs: round(median(hourlies.map(duration))),
      backfillMs: round(median(loaded.flatMap((r) => r.backfills.map(e2e)))),
    },
    ratios: { durationLoadedOverAlone: ratioOfMedians(hourlies.map(duration), alone.map(duration)), addToFinishLoadedOverAlone: ratioOfMedians(hourlies.map(e2e), alone.map(e2e)) },
    maxLoadedToStartMs: Math.max(...hourlies.map(toStart)),
  };
}
