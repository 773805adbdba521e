// `npm run bench:floor [-- options]`: the least a queued run of N small tenants can take on this
// machine, whatever our code does, against the in-process baseline of benchmark 2
// (`aggregate --local`), in one process run on the same data:
//   - fixed cost: a queued `aggregate` of one tenant (CLI start, addJob, the bridge, the
//     aggregation workflow and its chunk, the result back to the CLI), through the real
//     `analytics workers` subprocess;
//   - per-tenant cost of Temporal alone: one workflow running N no-op local activities in 20
//     lanes (bench/floor/workflow.ts: the chunk's shape), on the same dev server, in this process;
//   - the baseline: `aggregate --local` over the N tenants.
// fixed + no-op floor is a lower bound of the queued run (its SQL and ours cost extra); when it
// is over half the baseline, "queued <= 0.5 x in-process" cannot be reached with one activity
// per tenant. Writes bench/results/floor/<date>.json.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { temporalConnectionOptions } from '../src/temporal/connection';
import { SMALL_TENANT, WEEK } from './benchmarks/compare';
import { ROOT, useRuntime } from './lib/cli';
import { cpuOfNamed, cpuOfSelf } from './lib/cpu';
import { describeMachine } from './lib/machine';
import { BenchStack, disposeAll } from './lib/stack';
import { median, round, seconds } from './lib/stats';

const USAGE = `usage: npm run bench:floor -- [options]
  --tenants N   tenants of the baseline and no-op activities of the floor (default 1000)
  --lanes N     local activities in flight in the floor workflow (default 20, the aggregation default)
  --runs N      timed runs per side, medians reported (default 3)`;

const { values: flags } = parseArgs({
  options: {
    tenants: { type: 'string' },
    lanes: { type: 'string' },
    runs: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const TENANTS = Number(flags.tenants ?? 1000);
const LANES = Number(flags.lanes ?? 20);
const RUNS = Number(flags.runs ?? 3);
for (const [name, v] of Object.entries({ '--tenants': TENANTS, '--lanes': LANES, '--runs': RUNS })) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`${name} must be a positive integer`);
    process.exit(2);
  }
}
const ARGS = ['--type', 'all', '--period-type', 'day', '--from', WEEK.from, '--to', WEEK.to, '--as-of', WEEK.asOf, '--json'];

process.once('SIGINT', () => void disposeAll().finally(() => process.exit(130)));
useRuntime('compiled');
const machine = await describeMachine();
const stack = await BenchStack.create(`floor${TENANTS}`, { tenants: TENANTS, ...SMALL_TENANT });
const config = loadConfig(stack.env);
Runtime.install({ logger: new DefaultLogger('WARN') });
const temporalServer = `--port ${new URL(`tcp://${config.temporal.address}`).port}`;
const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal).native);
const clientConnection = await Connection.connect(temporalConnectionOptions(config.temporal).client);
const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });
const floorQueue = `${stack.taskQueue}-floor`;
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: floorQueue,
  workflowBundle: await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./floor/workflow.ts', import.meta.url)), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } }),
  activities: { noop: async () => 1 },
  maxConcurrentLocalActivityExecutions: LANES,
});
const running = worker.run();
interface Sample {
  run: number;
  fixedMs: number;
  floorMs: number;
  localMs: number;
  /** CPU of the floor run: this process (its Temporal worker) and the Temporal server. */
  floorCpuMs: { worker: number; temporal: number };
  /** CPU of the --local run: the CLI process and Postgres (every backend; other work on the machine counts too). */
  localCpuMs: { cli: number; postgres: number };
}
const samples: Sample[] = [];
try {
  await stack.startWorkers();
  const firstTenant = (await stack.pool.query<{ id: string }>('SELECT id FROM organizations ORDER BY id LIMIT 1')).rows[0]!.id;
  const floorOnce = async () => {
    const started = performance.now();
    const settled = await client.workflow.execute('floorWorkflow', { taskQueue: floorQueue, workflowId: `${floorQueue}-${Date.now()}`, args: [TENANTS, LANES] });
    if (settled !== TENANTS) throw new Error(`floor workflow settled ${String(settled)} of ${TENANTS}`);
    return performance.now() - started;
  };
  // Warm-up: the workers' first job and the floor worker's first workflow pay one-time costs.
  await stack.cli(['aggregate', '--tenant', firstTenant, ...ARGS]);
  await floorOnce();
  for (let run = 1; run <= RUNS; run++) {
    await stack.truncateAggregates();
    const fixedMs = (await stack.cli(['aggregate', '--tenant', firstTenant, ...ARGS])).ms;
    const [self0, temporal0] = [cpuOfSelf().ownMs, cpuOfNamed('temporal', temporalServer)];
    const floorMs = await floorOnce();
    const floorCpuMs = { worker: cpuOfSelf().ownMs - self0, temporal: cpuOfNamed('temporal', temporalServer) - temporal0 };
    await stack.truncateAggregates();
    const [cli0, pg0] = [cpuOfSelf().childrenMs, cpuOfNamed('postgres')];
    const localMs = (await stack.cli(['aggregate', '--local', ...ARGS])).ms;
    const localCpuMs = { cli: cpuOfSelf().childrenMs - cli0, postgres: cpuOfNamed('postgres') - pg0 };
    samples.push({ run, fixedMs, floorMs, localMs, floorCpuMs, localCpuMs });
    console.log(
      `run ${run}/${RUNS}: queued one tenant ${seconds(fixedMs)} s; ${TENANTS} no-op local activities ${seconds(floorMs)} s (CPU: worker ${seconds(floorCpuMs.worker)} s, Temporal server ${seconds(floorCpuMs.temporal)} s); ` +
        `--local ${TENANTS} tenants ${seconds(localMs)} s (CPU: CLI ${seconds(localCpuMs.cli)} s, Postgres ${seconds(localCpuMs.postgres)} s)`,
    );
  }
} finally {
  worker.shutdown();
  await running;
  await connection.close();
  await clientConnection.close();
  await stack.dispose();
}
const med = (k: 'fixedMs' | 'floorMs' | 'localMs') => round(median(samples.map((s) => s[k])));
const perTenant = (pick: (s: Sample) => number) => round(median(samples.map(pick)) / TENANTS, 2);
const fixed = med('fixedMs');
const floor = med('floorMs');
const local = med('localMs');
const summary = {
  tenants: TENANTS,
  lanes: LANES,
  runs: RUNS,
  medians: { queuedOneTenantMs: fixed, noopFloorMs: floor, localMs: local },
  lowerBoundOverLocal: round((fixed + floor) / local, 2),
  fixedOverLocal: round(fixed / local, 2),
  noopMsPerTenant: round(floor / TENANTS, 2),
  localMsPerTenant: round(local / TENANTS, 2),
  cpuMsPerTenant: {
    noopWorker: perTenant((s) => s.floorCpuMs.worker),
    noopTemporalServer: perTenant((s) => s.floorCpuMs.temporal),
    localCli: perTenant((s) => s.localCpuMs.cli),
    localPostgres: perTenant((s) => s.localCpuMs.postgres),
  },
};
console.log(`\nlower bound of a queued run (queued one tenant + no-op floor) / --local: ${summary.lowerBoundOverLocal}x (one-tenant fixed cost alone ${summary.fixedOverLocal}x); no-op local activity ${summary.noopMsPerTenant} ms per tenant, --local ${summary.localMsPerTenant} ms per tenant`);
console.log(`CPU per tenant (medians): no-op floor: worker ${summary.cpuMsPerTenant.noopWorker} ms + Temporal server ${summary.cpuMsPerTenant.noopTemporalServer} ms; --local: CLI ${summary.cpuMsPerTenant.localCli} ms + Postgres ${summary.cpuMsPerTenant.localPostgres} ms`);
const dir = `${ROOT}bench/results/floor`;
mkdirSync(dir, { recursive: true });
const day = new Date().toISOString().slice(0, 10);
let file = `${dir}/${day}.json`;
for (let n = 2; existsSync(file); n++) file = `${dir}/${day}-${n}.json`;
writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine, command: `npm run bench:floor -- --tenants ${TENANTS} --lanes ${LANES} --runs ${RUNS}`, samples, ...summary }, null, 2)}\n`);
console.log(`wrote ${file}`);
