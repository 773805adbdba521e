import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAggregateCommand } from '../src/cli/aggregate';
import { generateTenant } from '../src/seed/generate';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { activeTenants, dumpAggregates, oracleAggregates } from './helpers/aggregates';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase } from './helpers/db';
import { runInProcess } from './helpers/cli-in-process';
import { uniqueSuffix } from './helpers/config';
import type { TestDatabase } from './helpers/db';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// kill -9 of the worker process in the middle of a multi-tenant backfill: a new worker process
// finishes the workflow, no tenant whose aggregation had committed before the kill is aggregated
// again, and the aggregates equal a clean run's. The worker is the real composition root
// (src/worker-process.ts) in a child process (test/fixtures/worker-main.ts), logging each
// execution to a table. The durable truth is Postgres: a tenant is done when its outcome rows
// say so, whether or not the workflow's history had recorded it before the kill.

const WORKER_MAIN = fileURLToPath(new URL('./fixtures/worker-main.ts', import.meta.url));
const TENANTS = 12;
const SEED = { tenants: TENANTS, usersPerTenant: 10, days: 130, seed: 23, untilMs: Date.parse('2025-11-01T00:00:00Z') };
const REQUESTED_AT = '2025-11-06T12:00:00.000Z';

let temporal: TestTemporal;
let crashed: TestDatabase;
let clean: TestDatabase;
const workers: ChildProcess[] = [];

async function seed(t: TestDatabase): Promise<void> {
  await withBatchWriter(t.pool, async (writer) => {
    for (let i = 0; i < SEED.tenants; i++) await generateTenant(SEED, i, writer);
  });
}

/** Starts test/fixtures/worker-main.ts in a child process and waits for it to poll. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: crashed.url,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_TASK_QUEUE: temporal.taskQueue,
      EXECUTION_LOG_TABLE: 'activity_executions',
      CALL_DELAY_MS: '300',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  workers.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready:\n${stderr}`)));
  });
  return child;
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
}

/** Tenants whose every type has a succeeded outcome row for the job. */
async function doneTenants(jobKey: string): Promise<Set<string>> {
  const { rows } = await crashed.pool.query<{ tenant_id: string }>(
    `SELECT tenant_id FROM aggregation_outcomes WHERE job_key = $1 AND status = 'succeeded' GROUP BY tenant_id HAVING count(*) = 3`,
    [jobKey],
  );
  return new Set(rows.map((r) => r.tenant_id));
}

beforeAll(async () => {
  [temporal, crashed, clean] = await Promise.all([connectTestTemporal(), createTestDatabase('crash'), createTestDatabase('clean')]);
  await Promise.all([seed(crashed), seed(clean)]);
  await crashed.pool.query('CREATE TABLE activity_executions (tenant_id text NOT NULL, attempt int NOT NULL, pid int NOT NULL, phase text NOT NULL)');
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await Promise.all(workers.map(exited));
  await crashed?.drop();
  await clean?.drop();
  await temporal?.close();
});

describe('a worker process killed with SIGKILL mid-backfill', () => {
  it('is replaced by a new one that completes the workflow without aggregating again the tenants done before the kill; the aggregates equal a clean run', async () => {
    const first = await startWorker();
    const handle = await startAggregationWorkflow(
      temporal.client,
      {
        job: { type: 'all', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-10-30' },
        jobId: `crash-${uniqueSuffix()}`,
        requestedAt: REQUESTED_AT,
        options: { maxConcurrentActivities: 2, maxConcurrentChildren: 1 },
      },
      { taskQueue: temporal.taskQueue },
    );
    const jobKey = handle.workflowId;
    await expect.poll(async () => (await doneTenants(jobKey)).size, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(4);
    first.kill('SIGKILL');
    expect(await exited(first)).toBe('SIGKILL');
    const doneAtKill = await doneTenants(jobKey);
    expect(doneAtKill.size).toBeLessThan(TENANTS - 2);

    const second = await startWorker();
    const result = await handle.result();
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);

    const { rows: active } = await crashed.pool.query<{ id: string }>(`SELECT id FROM organizations WHERE status = 'active'`);
    expect(active.length).toBeGreaterThanOrEqual(8);
    expect(result.totals).toMatchObject({ tenants: active.length, tasks: 3 * active.length, failed: 0 });
    expect(result.totals.succeeded + result.totals.resumed).toBe(3 * active.length);
    expect(await doneTenants(jobKey)).toEqual(new Set(active.map((r) => r.id)));
    const { rows } = await crashed.pool.query<{ tenant_id: string; pid: number; phase: string }>('SELECT tenant_id, pid, phase FROM activity_executions');
    // The new worker aggregated none of the tenants that were done at the kill (it may have
    // re-run their activity, which then found them done: 'resumed')...
    const aggregatedByNew = rows.filter((r) => r.pid === second.pid && r.phase === 'succeeded').map((r) => r.tenant_id);
    expect(aggregatedByNew.filter((id) => doneAtKill.has(id))).toEqual([]);
    // ...and everything that was not done by then was done by it.
    const notDone = [...(await doneTenants(jobKey))].filter((id) => !doneAtKill.has(id));
    const settledByNew = new Set(rows.filter((r) => r.pid === second.pid && r.phase !== 'started').map((r) => r.tenant_id));
    expect(notDone.every((id) => settledByNew.has(id))).toBe(true);

    const local = await runInProcess(
      registerAggregateCommand,
      ['aggregate', '--local', '--type', 'all', '--period-type', 'day', '--from', '2025-08-01', '--to', '2025-10-30', '--as-of', REQUESTED_AT, '--json'],
      { DATABASE_URL: clean.url },
    );
    expect(local.code, local.stderr).toBe(0);
    const [got, want] = await Promise.all([dumpAggregates(crashed.pool), dumpAggregates(clean.pool)]);
    expect(got.revenue).toHaveLength(active.length * 90);
    expect(got).toEqual(want);
    expect(got).toEqual(await oracleAggregates(crashed.pool, await activeTenants(crashed.pool), { periodType: 'day', from: '2025-08-01', to: '2025-10-30', asOf: REQUESTED_AT }));
    // Two worker start-ups, a kill and a 36-call backfill: close to a minute on two busy cores.
  }, 180_000);
});
