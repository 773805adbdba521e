// `npm run bench [-- options]`: every benchmark of docs/BENCHMARKS.md, each against its baseline
// in this one process run, on its own schema, queue, task queue and `analytics workers --no-cron`
// subprocess. Writes bench/results/<YYYY-MM-DD>[-label].json and the tables of docs/BENCHMARKS.md.
// Only public surfaces are driven: the `analytics` CLI (seed, db migrate, workers, aggregate) and
// the queue facade (addJob, getJob), so the pipeline's internals may change freely.
import { parseArgs } from 'node:util';
import { runBackfill, rowCountNotes, type BackfillResult } from './benchmarks/backfill';
import { runCompare, SMALL_TENANT, WEEK, type CompareResult } from './benchmarks/compare';
import { runLatency } from './benchmarks/latency';
import { runStarvation } from './benchmarks/starvation';
import { describeMachine } from './lib/machine';
import { updateDoc, writeResults, type BenchResults, type Section } from './lib/report';
import { disposeAll } from './lib/stack';
import { round, seconds } from './lib/stats';

const BENCHMARKS = ['backfill', 'compare', 'latency', 'growth', 'starvation'] as const;
type Benchmark = (typeof BENCHMARKS)[number];

const USAGE = `usage: npm run bench -- [options]
  --quick                  small sizes, a few minutes in all
  --only LIST              comma-separated: ${BENCHMARKS.join(',')} (default: all)
  --runs N                 timed runs per comparison, medians reported (default 3)
  --tenants N|LIST         queued vs in-process tenant counts: N gives 1, 100, 1000, 10000 up to N, and N;
                           a comma list is taken as is (default 1000; --quick 100)
  --with-10k               add 10,000 tenants to the tenant counts (1 run unless --runs-10k)
  --runs-10k N             runs at 10,000 tenants or more (default 1)
  --backfill-tenants N     365-day backfill vs the SQL lower bound: tenants (default 150; --quick 20)
  --backfill-users N       ... users per tenant (default 200; --quick 50)
  --growth-tenants N       time against rows: tenants (default 10; --quick 5)
  --growth-users LIST      ... users per tenant, one size each (default 50,100,200; --quick 25,50,100)
  --latency-rate N         jobs per second (default 2)
  --latency-seconds N      seconds of adding jobs (default 30; --quick 10)
  --starvation-tenants N   tenants of the five backfills and the hourly job (default 20; --quick 5)
  --starvation-users N     users per tenant (default 50; --quick 20)
  --label TEXT             suffix of the results file (e.g. before, after)
  --no-doc                 do not rewrite docs/BENCHMARKS.md`;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    tenants: { type: 'string' },
    'with-10k': { type: 'boolean', default: false },
    'runs-10k': { type: 'string' },
    'backfill-tenants': { type: 'string' },
    'backfill-users': { type: 'string' },
    'growth-tenants': { type: 'string' },
    'growth-users': { type: 'string' },
    'latency-rate': { type: 'string' },
    'latency-seconds': { type: 'string' },
    'starvation-tenants': { type: 'string' },
    'starvation-users': { type: 'string' },
    label: { type: 'string' },
    'no-doc': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

function int(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`--${name} must be a whole number ≥ ${min} (got ${JSON.stringify(value)})\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function intList(name: string, value: string, min = 1): number[] {
  return value.split(',').map((v) => int(name, v.trim(), 0, min));
}

const quick = flags.quick;
const only = flags.only === undefined ? [...BENCHMARKS] : (flags.only.split(',').map((s) => s.trim()) as Benchmark[]);
for (const b of only) {
  if (!BENCHMARKS.includes(b)) {
    console.error(`--only: unknown benchmark ${JSON.stringify(b)}\n\n${USAGE}`);
    process.exit(2);
  }
}
if (flags.label !== undefined && !/^[\w.-]+$/.test(flags.label)) {
  console.error('--label may use letters, digits, ".", "_" and "-" only');
  process.exit(2);
}

function tenantCounts(): number[] {
  let counts: number[];
  if (flags.tenants?.includes(',')) counts = intList('tenants', flags.tenants);
  else {
    const max = int('tenants', flags.tenants, quick ? 100 : 1000);
    counts = [...[1, 100, 1000, 10_000].filter((n) => n < max), max];
  }
  if (flags['with-10k'] && !counts.includes(10_000)) counts.push(10_000);
  return [...new Set(counts)].sort((a, b) => a - b);
}

const options = {
  quick,
  only,
  runs: int('runs', flags.runs, 3),
  runs10k: int('runs-10k', flags['runs-10k'], 1),
  tenants: tenantCounts(),
  backfill: { tenants: int('backfill-tenants', flags['backfill-tenants'], quick ? 20 : 150), users: int('backfill-users', flags['backfill-users'], quick ? 50 : 200) },
  growth: {
    tenants: int('growth-tenants', flags['growth-tenants'], quick ? 5 : 10),
    users: flags['growth-users'] !== undefined ? intList('growth-users', flags['growth-users']) : quick ? [25, 50, 100] : [50, 100, 200],
  },
  latency: { ratePerSecond: int('latency-rate', flags['latency-rate'], 2), seconds: int('latency-seconds', flags['latency-seconds'], quick ? 10 : 30), tenants: 20 },
  starvation: { tenants: int('starvation-tenants', flags['starvation-tenants'], quick ? 5 : 20), users: int('starvation-users', flags['starvation-users'], quick ? 20 : 50) },
};

const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

process.once('SIGINT', () => {
  log('interrupted: cleaning up (workers, queues, schemas)');
  void disposeAll().finally(() => process.exit(130));
});

const s = (ms: number) => seconds(ms);
const x = (r: number) => `${r.toFixed(2)}x`;

function backfillSection(r: BackfillResult, runs: number): Section {
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

function compareSection(results: CompareResult[]): Section {
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

const results: BenchResults = {
  startedAt: new Date().toISOString(),
  finishedAt: '',
  label: flags.label,
  command,
  machine: await describeMachine(),
  options,
  sections: [],
  errors: [],
};
log(`${command}: ${JSON.stringify(options)}`);

async function attempt(name: string, fn: () => Promise<void>): Promise<void> {
  if (!only.includes(name as Benchmark)) return;
  log(`${name}: start`);
  try {
    await fn();
  } catch (err) {
    log(`${name}: FAILED ${(err as Error).stack ?? String(err)}`);
    results.errors.push({ benchmark: name, message: (err as Error).message });
  }
}

await attempt('backfill', async () => {
  const r = await runBackfill('backfill', options.backfill, options.runs, log);
  results.sections.push(backfillSection(r, options.runs));
});

await attempt('compare', async () => {
  const all: CompareResult[] = [];
  for (const n of options.tenants) {
    try {
      all.push(await runCompare(n, n >= 10_000 ? options.runs10k : options.runs, log));
    } catch (err) {
      results.errors.push({ benchmark: `compare ${n} tenants`, message: (err as Error).message });
      log(`compare ${n}: FAILED ${(err as Error).stack ?? String(err)}`);
    }
  }
  if (all.length > 0) results.sections.push(compareSection(all));
});

await attempt('latency', async () => {
  const r = await runLatency(options.latency, log);
  const row = (name: string, st: typeof r.addToStartMs) => [name, s(st.p50), s(st.p95), s(st.p99), s(st.max)];
  results.sections.push({
    id: 'latency',
    title: `3. Latency at a steady rate (${r.ratePerSecond} jobs/s for ${r.seconds} s; one tenant, one day, all types)`,
    method:
      `${r.jobs} \`aggregation\` jobs \`{ tenantId, type: 'all', periodType: 'day', periodStart }\` (tenants and days cycling over ${r.tenants} small tenants and one week) added through the facade on a fixed schedule, after 3 warm-up jobs. ` +
      'Added: BullMQ job.timestamp; workflow started: `describe().startTime` of `workflowIdFor(\'aggregation\', jobId)` (its first run); completed: BullMQ job.finishedOn. Nearest-rank percentiles; same host clock for all three.',
    tables: [{ header: ['interval', 'p50 s', 'p95 s', 'p99 s', 'max s'], rows: [row('added → workflow started', r.addToStartMs), row('workflow started → completed', r.startToFinishMs), row('added → completed', r.addToFinishMs)] }],
    headlines: [
      { key: 'latency.add-to-finish.p50', value: round(r.addToFinishMs.p50 / 1000, 2), label: `latency at ${r.ratePerSecond} jobs/s: added → completed p50 (s)` },
      { key: 'latency.add-to-finish.p99', value: round(r.addToFinishMs.p99 / 1000, 2), label: `latency at ${r.ratePerSecond} jobs/s: added → completed p99 (s)` },
    ],
    notes: [`Achieved add rate ${r.achievedRate} jobs/s; ${r.failed} failed; workers peak RSS ${r.workersPeakMb} MB.`],
    data: r,
  });
});

await attempt('growth', async () => {
  const all: BackfillResult[] = [];
  for (const users of options.growth.users) all.push(await runBackfill(`growth${users}`, { tenants: options.growth.tenants, users }, options.runs, log));
  const first = all[0]!;
  results.sections.push({
    id: 'growth',
    title: `4. Time against rows (${options.growth.tenants} tenants, 365-day daily backfill of all types, users per tenant varied)`,
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
  });
});

await attempt('starvation', async () => {
  const r = await runStarvation({ ...options.starvation, rounds: options.runs }, log);
  results.sections.push({
    id: 'starvation',
    title: `Backfills do not starve the schedules (${r.tenants} tenants x ${r.users} users)`,
    method:
      'The job the `hourly-aggregation` schedule enqueues (its payload taken from src/scheduler/definitions.ts at run time, nominal time 2025-12-31T12:00Z: all types, all active tenants, the current and the previous day, two cohort months) is run alone ' +
      `${options.runs} times, then ${options.runs} times while five 365-day backfills run (\`{ type: 'all', periodType: 'day' }\`, every tenant, the years 2020 … 2024, added at once through the facade; the hourly job is added once all five workflows have started). ` +
      'Time to start: added → workflow started; duration: workflow started → completed. Medians; the ratio is loaded / alone.',
    tables: [
      {
        header: ['hourly job', 'time to start s (median)', 'duration s (median)', 'added → completed s'],
        rows: [
          ['alone', s(r.medians.aloneToStartMs), s(r.medians.aloneDurationMs), r.alone.map((t) => s(t.finishedAt - t.addedAt)).join(', ')],
          ['with five backfills running', s(r.medians.loadedToStartMs), s(r.medians.loadedDurationMs), r.loaded.map((l) => s(l.hourly.finishedAt - l.hourly.addedAt)).join(', ')],
          ['loaded / alone', '', x(r.ratios.durationLoadedOverAlone), x(r.ratios.addToFinishLoadedOverAlone)],
        ],
      },
    ],
    headlines: [
      { key: 'starvation.to-start.max', value: round(r.maxLoadedToStartMs / 1000, 2), label: 'hourly job under five backfills: longest time to start (s)' },
      { key: 'starvation.duration.loaded/alone', value: r.ratios.durationLoadedOverAlone, label: 'hourly job under five backfills: duration loaded / alone (x)' },
    ],
    notes: [
      `Longest time to start under load: ${s(r.maxLoadedToStartMs)} s. Backfills still running when the hourly job finished: ${r.loaded.map((l) => `${l.backfillsRunningAtHourlyFinish}/5`).join(', ')}. A backfill took ${s(r.medians.backfillMs)} s (median, added → completed). Workers peak RSS ${r.workersPeakMb} MB.`,
    ],
    data: r,
  });
});

results.finishedAt = new Date().toISOString();
const file = writeResults(results);
if (!flags['no-doc']) updateDoc(results, file);
log(`results: ${file}${flags['no-doc'] ? '' : ' and docs/BENCHMARKS.md'}`);
for (const section of results.sections) for (const h of section.headlines) console.log(`${h.label}: ${h.value}`);
if (results.errors.length > 0) {
  for (const e of results.errors) console.log(`FAILED ${e.benchmark}: ${e.message}`);
  process.exitCode = 1;
}
await disposeAll();
process.exit(process.exitCode ?? 0);
