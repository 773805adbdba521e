// `npm run bench [-- options]`: every benchmark of docs/BENCHMARKS.md, each against its baseline
// in this one process run, on its own schema, queue, task queue and `analytics workers --no-cron`
// subprocess. Writes bench/results/<YYYY-MM-DD>[-label].json and the tables of docs/BENCHMARKS.md.
// Only public surfaces are driven: the `analytics` CLI (seed, db migrate, workers, aggregate) and
// the queue facade (addJob, getJob), so the pipeline's internals may change freely.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runBackfill, type BackfillResult } from './benchmarks/backfill';
import { runCompare, type CompareResult } from './benchmarks/compare';
import { runLatency } from './benchmarks/latency';
import { runStarvation } from './benchmarks/starvation';
import { useRuntime, type Runtime } from './lib/cli';
import { describeMachine } from './lib/machine';
import { updateDoc, writeResults, type BenchResults } from './lib/report';
import { backfillSection, compareSection, growthSection, latencySection, rebuildSection, starvationSection } from './lib/sections';
import { disposeAll } from './lib/stack';
import { round } from './lib/stats';

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
  --runtime compiled|source  what the analytics subprocesses run: the compiled package (dist/, built
                           first with npm run build; what the npm package and the image run) or the
                           TypeScript sources through tsx (default compiled)
  --label TEXT             suffix of the results file (e.g. before, after)
  --no-doc                 do not rewrite docs/BENCHMARKS.md
  --render FILE            only rewrite docs/BENCHMARKS.md from a results file (runs nothing)`;

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
    runtime: { type: 'string', default: 'compiled' },
    label: { type: 'string' },
    'no-doc': { type: 'boolean', default: false },
    render: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

if (flags.render !== undefined) {
  const file = resolve(flags.render);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  updateDoc(saved, file, rebuildSection);
  console.log(`docs/BENCHMARKS.md rewritten from ${file}`);
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
if (flags.runtime !== 'compiled' && flags.runtime !== 'source') {
  console.error(`--runtime must be compiled or source (got ${JSON.stringify(flags.runtime)})\n\n${USAGE}`);
  process.exit(2);
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
  runtime: flags.runtime as Runtime,
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
useRuntime(options.runtime);
log(`analytics subprocesses run ${options.runtime === 'compiled' ? 'the compiled package (dist/cli/index.js)' : 'the sources through tsx (bin/analytics.js)'}`);
const loads: number[] = [];
const sampler = setInterval(() => loads.push(os.loadavg()[0]!), 10_000);
sampler.unref();

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
  results.sections.push(backfillSection(r));
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
  results.sections.push(latencySection(await runLatency(options.latency, log)));
});

await attempt('growth', async () => {
  const all: BackfillResult[] = [];
  for (const users of options.growth.users) all.push(await runBackfill(`growth${users}`, { tenants: options.growth.tenants, users }, options.runs, log));
  results.sections.push(growthSection(all));
});

await attempt('starvation', async () => {
  results.sections.push(starvationSection(await runStarvation({ ...options.starvation, rounds: options.runs }, log)));
});

results.finishedAt = new Date().toISOString();
clearInterval(sampler);
if (loads.length > 0) results.loadDuringRun = { samples: loads.length, mean: round(loads.reduce((a, b) => a + b, 0) / loads.length, 2), max: round(Math.max(...loads), 2) };
const file = writeResults(results);
if (!flags['no-doc']) updateDoc(results, file, rebuildSection);
log(`results: ${file}${flags['no-doc'] ? '' : ' and docs/BENCHMARKS.md'}`);
for (const section of results.sections) for (const h of section.headlines) console.log(`${h.label}: ${h.value}`);
if (results.errors.length > 0) {
  for (const e of results.errors) console.log(`FAILED ${e.benchmark}: ${e.message}`);
  process.exitCode = 1;
}
await disposeAll();
process.exit(process.exitCode ?? 0);
