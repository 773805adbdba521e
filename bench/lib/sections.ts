// The tables, headline figures and notes of each benchmark, built from its measured data only, so
// `npm run bench -- --render FILE` can rebuild docs/BENCHMARKS.md from any results file.
import { rowCountNotes, type BackfillResult } from '../benchmarks/backfill';
import { SMALL_TENANT, WEEK, type CompareResult } from '../benchmarks/compare';
import type { LatencyResult } from '../benchmarks/latency';
import type { HourlyUnderLoad, StarvationResult } from '../benchmarks/starvation';
import type { Section, Table } from './report';
import { round, seconds } from './stats';

const s = (ms: number) => seconds(ms);
const x = (r: number) => `${r.toFixed(2)}x`;

export function backfillSection(r: BackfillResult): Section {
  const runs = r.samples.length;
  const sz = r.seed!.size;
  return {
    id: 'backfill',
    title: `1. 365-day daily backfill of all types against the SQL lower bound (${sz.tenants} tenants x ${sz.users} users, ${r.seed!.totalRows.toLocaleString('en-US')} raw rows)`,
    method:
      `\`analytics seed --tenants ${sz.tenants} --users ${sz.users} --days ${sz.days} --until ${sz.until} --seed 1\`; then, ${runs} times, alternating the order: ` +
      '`analytics aggregate --type all --period-type day --from 2025-01-01 --to 2026-01-01 --as-of 2026-01-01T00:00:00Z --json` queued (through `analytics workers --no-cron`), ' +
      'the same with `--local`, and the lower bound of bench/lib/lower-bound.ts (three hand-written INSERT … SELECT … GROUP BY, one GROUP BY per raw table in tenant-local days, into empty copies of the aggregate tables). ' +
      'Aggregate tables are emptied before each run, so every run inserts. "CLI" is the command\'s wall time (process start-up included, about a second); "job" is addJob to BullMQ finishedOn.',
    tables: [
      {
        header: ['', 'median s', 'runs (s)', '/ lower bound'],
        rows: [
          ['queued, job (addJob → finished)', s(r.medians.queuedJobMs), r.samples.map((v) => s(v.queuedJobMs)).join(', '), x(r.ratios.queuedJobOverLowerBound)],
          ['queued, CLI wall', s(r.medians.queuedCliMs), r.samples.map((v) => s(v.queuedCliMs)).join(', '), x(r.ratios.queuedCliOverLowerBound)],
          ['in-process (`--local`), CLI wall', s(r.medians.localCliMs), r.samples.map((v) => s(v.localCliMs)).join(', '), x(r.ratios.localOverLowerBound)],
          ['SQL lower bound', s(r.medians.lowerBoundMs), r.samples.map((v) => s(v.lowerBound.ms)).join(', '), x(1)],
        ],
      },
    ],
    headlines: [
      { key: 'backfill.queued/lower-bound', value: r.ratios.queuedJobOverLowerBound, label: `365-day backfill, ${sz.tenants} tenants: queued (job) / SQL lower bound (x)` },
      { key: 'backfill.queued-cli/lower-bound', value: r.ratios.queuedCliOverLowerBound, label: `365-day backfill, ${sz.tenants} tenants: queued (CLI wall) / SQL lower bound (x)` },
      { key: 'backfill.queued-cli/local', value: r.ratios.queuedCliOverLocal, label: `365-day backfill, ${sz.tenants} tenants: queued / in-process (x)` },
    ],
    notes: [
      `Rows written per run: ${Object.entries(r.samples[0]?.queuedRows ?? {}).map(([t, n]) => `${t} ${n}`).join(', ')}; queued and \`--local\` wrote identical rows: ${r.samples.every((v) => v.sameRows) ? 'yes, every run' : 'NO'}.`,
      `Lower bound per statement (median run): ${Object.entries(r.samples[0]?.lowerBound.statementsMs ?? {}).map(([k, v]) => `${k} ${v} ms`).join(', ')}.`,
      `Workers peak RSS (VmHWM): ${r.workersPeakMb} MB.`,
      ...rowCountNotes(r),
    ],
    data: r,
  };
}

export function compareSection(results: CompareResult[]): Section {
  return {
    id: 'compare',
    title: '2. Queued against in-process tenant after tenant (one week, `all`, daily, small tenants)',
    method:
      `Per tenant count N, its own schema: \`analytics seed --tenants N --users ${SMALL_TENANT.users} --days ${SMALL_TENANT.days} --until ${SMALL_TENANT.until}\`; then, alternating the order, ` +
      `\`analytics aggregate --type all --period-type day --from ${WEEK.from} --to ${WEEK.to} --as-of ${WEEK.asOf} --json\` queued and with \`--local\` (the baseline: one process, tenant after tenant). ` +
      'Medians of the runs shown; "job" is addJob to BullMQ finishedOn. Peak RSS is the workers subprocess\'s VmHWM at the end of that size\'s runs. ' +
      'Time per tenant shows how time grows with tenants.',
    tables: [
      {
        header: ['tenants', 'runs', 'queued CLI s', 'queued job s', 'local s', 'queued / local', 'queued ms per tenant', 'local ms per tenant', 'workers peak MB', 'same rows'],
        rows: results.map((r) => [
          r.tenants.toLocaleString('en-US'),
          r.runs,
          s(r.medians.queuedCliMs),
          s(r.medians.queuedJobMs),
          s(r.medians.localCliMs),
          x(r.ratios.queuedCliOverLocal),
          round(r.medians.queuedCliMs / r.tenants, 1),
          round(r.medians.localCliMs / r.tenants, 1),
          r.workersPeakMb ?? '–',
          r.samples.every((v) => v.sameRows) ? 'yes' : 'NO',
        ]),
      },
    ],
    headlines: results.flatMap((r) => [
      { key: `compare.${r.tenants}.queued/local`, value: r.ratios.queuedCliOverLocal, label: `${r.tenants} small tenants, one week: queued / in-process (x)` },
      ...(r.tenants >= 1000 ? [{ key: `compare.${r.tenants}.queued-s`, value: round(r.medians.queuedCliMs / 1000, 1), label: `${r.tenants} small tenants, one week: queued (s, median of ${r.runs})` }] : []),
      ...(r.workersPeakMb !== undefined && r.tenants >= 1000 ? [{ key: `compare.${r.tenants}.rss`, value: r.workersPeakMb, label: `${r.tenants} small tenants: workers peak RSS (MB)` }] : []),
    ]),
    notes: results.filter((r) => r.runs < 3).map((r) => `${r.tenants} tenants: ${r.runs} run${r.runs === 1 ? '' : 's'} only (not a median of 3).`),
    data: results,
  };
}

export function latencySection(r: LatencyResult): Section {
  const row = (name: string, st: typeof r.addToStartMs) => [name, s(st.p50), s(st.p95), s(st.p99), s(st.max)];
  return {
    id: 'latency',
    title: `3. Latency at a steady rate (${r.ratePerSecond} jobs/s for ${r.seconds} s; one tenant, one day, all types)`,
    method:
      `${r.jobs} \`aggregation\` jobs \`{ tenantId, type: 'all', periodType: 'day', periodStart }\` (tenants and days cycling over the active ones of ${r.tenants} small tenants and one week) added through the facade on a fixed schedule, after 3 warm-up jobs. ` +
      'Added: BullMQ job.timestamp; workflow started: `describe().startTime` of `workflowIdFor(\'aggregation\', jobId, queueName)` (its first run); completed: BullMQ job.finishedOn. Nearest-rank percentiles; same host clock for all three.',
    tables: [{ header: ['interval', 'p50 s', 'p95 s', 'p99 s', 'max s'], rows: [row('added → workflow started', r.addToStartMs), row('workflow started → completed', r.startToFinishMs), row('added → completed', r.addToFinishMs)] }],
    headlines: [
      { key: 'latency.add-to-finish.p50', value: round(r.addToFinishMs.p50 / 1000, 2), label: `latency at ${r.ratePerSecond} jobs/s: added → completed p50 (s)` },
      { key: 'latency.add-to-finish.p99', value: round(r.addToFinishMs.p99 / 1000, 2), label: `latency at ${r.ratePerSecond} jobs/s: added → completed p99 (s)` },
    ],
    notes: [`Achieved add rate ${r.achievedRate} jobs/s; ${r.failed} failed; workers peak RSS ${r.workersPeakMb} MB.`],
    data: r,
  };
}

export function growthSection(all: BackfillResult[]): Section {
  const tenants = all[0]?.seed?.size.tenants ?? 0;
  const first = all[0]!;
  return {
    id: 'growth',
    title: `4. Time against rows (${tenants} tenants, 365-day daily backfill of all types, users per tenant varied)`,
    method:
      'The backfill of benchmark 1 (queued, `--local` and the lower bound, same commands, medians of the runs) at several data sizes; each size its own schema and workers. ' +
      '"x rows" and "x time" are relative to the smallest size. How time grows with tenants is in benchmark 2 (ms per tenant).',
    tables: [
      {
        header: ['users/tenant', 'raw rows', 'x rows', 'queued s', 'x time', 'local s', 'x time', 'lower bound s', 'x time', 'queued / lower bound', 'workers peak MB'],
        rows: all.map((r) => [
          r.seed!.size.users,
          r.seed!.totalRows.toLocaleString('en-US'),
          x(r.seed!.totalRows / first.seed!.totalRows),
          s(r.medians.queuedCliMs),
          x(r.medians.queuedCliMs / first.medians.queuedCliMs),
          s(r.medians.localCliMs),
          x(r.medians.localCliMs / first.medians.localCliMs),
          s(r.medians.lowerBoundMs),
          x(r.medians.lowerBoundMs / first.medians.lowerBoundMs),
          x(r.ratios.queuedJobOverLowerBound),
          r.workersPeakMb ?? '–',
        ]),
      },
    ],
    headlines: [],
    notes: all.flatMap(rowCountNotes),
    data: all,
  };
}

export function starvationSection(r: StarvationResult): Section {
  const runs = r.alone.length;
  return {
    id: 'starvation',
    title: `Backfills do not starve the schedules (${r.tenants} tenants x ${r.users} users)`,
    method:
      (r.variant === 'full'
        ? 'The full hourly recompute (`{ type: \'all\', periodType: \'day\', includeCurrent: true }`, nominal time 2025-12-31T12:00Z: all types, all active tenants, the current and the previous day, two cohort months: what the `hourly-aggregation` schedule sent before incremental refresh, and the heavier job) is run alone '
        : 'The job the `hourly-aggregation` schedule enqueues (its payload taken from src/scheduler/definitions.ts at run time, nominal time 2025-12-31T12:00Z: all types, all active tenants, the current and the previous day, two cohort months) is run alone ') +
      `${runs} times, then ${runs} times while five 365-day backfills run (\`{ type: 'all', periodType: 'day' }\`, every tenant, the years 2020 … 2024, added at once through the facade; the hourly job is added once all five workflows have started). ` +
      'Time to start: added → workflow started; duration: workflow started → completed. Medians; the ratio is loaded / alone.' +
      (r.scheduled
        ? ' The second table is the same measurement of the job the schedule enqueues now (its payload from src/scheduler/definitions.ts: `{ type: \'all\', incremental: true }`); the backfills\' seeding left no pending changes, so it folds in nothing and is almost all fixed cost.'
        : ''),
    tables: [hourlyTable(r), ...(r.scheduled ? [hourlyTable(r.scheduled)] : [])],
    headlines: [
      { key: 'starvation.to-start.median', value: round(r.medians.loadedToStartMs / 1000, 2), label: 'hourly job under five backfills: median time to start (s)' },
      { key: 'starvation.to-start.max', value: round(r.maxLoadedToStartMs / 1000, 2), label: 'hourly job under five backfills: longest time to start (s)' },
      { key: 'starvation.duration.loaded/alone', value: r.ratios.durationLoadedOverAlone, label: `${r.variant === 'full' ? 'full hourly recompute' : 'hourly job'} under five backfills: duration loaded / alone (x)` },
      ...(r.scheduled
        ? [
            { key: 'starvation.scheduled.to-start.max', value: round(r.scheduled.maxLoadedToStartMs / 1000, 2), label: 'incremental hourly job under five backfills: longest time to start (s)' },
            { key: 'starvation.scheduled.duration.loaded/alone', value: r.scheduled.ratios.durationLoadedOverAlone, label: 'incremental hourly job under five backfills: duration loaded / alone (x)' },
          ]
        : []),
    ],
    notes: [
      ...(r.loaded.every((l) => l.backfillsRunningAtHourlyFinish === 0)
        ? ['The hourly job started only once the backfills had finished (no bridge slot was free until then), so its duration was not measured under load: the time to start is the figure here.']
        : []),
      `Longest time to start under load: ${s(r.maxLoadedToStartMs)} s. Backfills still running when the hourly job finished: ${r.loaded.map((l) => `${l.backfillsRunningAtHourlyFinish}/5`).join(', ')}. A backfill took ${s(r.medians.backfillMs)} s (median, added → completed). Workers peak RSS ${r.workersPeakMb} MB.`,
    ],
    data: r,
  };
}

function hourlyTable(r: HourlyUnderLoad): Table {
  return {
    header: ['hourly job', 'time to start s (median)', 'duration s (median)', 'added → completed s'],
    rows: [
      ['alone', s(r.medians.aloneToStartMs), s(r.medians.aloneDurationMs), r.alone.map((t) => s(t.finishedAt - t.addedAt)).join(', ')],
      ['with five backfills running', s(r.medians.loadedToStartMs), s(r.medians.loadedDurationMs), r.loaded.map((l) => s(l.hourly.finishedAt - l.hourly.addedAt)).join(', ')],
      ['loaded / alone', '', x(r.ratios.durationLoadedOverAlone), x(r.ratios.addToFinishLoadedOverAlone)],
    ],
  };
}

/** The section of a results file rebuilt from its data with this code's tables and notes. */
export function rebuildSection(section: Section): Section {
  switch (section.id) {
    case 'backfill':
      return backfillSection(section.data as BackfillResult);
    case 'compare':
      return compareSection(section.data as CompareResult[]);
    case 'latency':
      return latencySection(section.data as LatencyResult);
    case 'growth':
      return growthSection(section.data as BackfillResult[]);
    case 'starvation':
      return starvationSection(section.data as StarvationResult);
    default:
      return section;
  }
}
