import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAggregateCommand } from '../src/cli/aggregate';
import { generateTenant } from '../src/seed/generate';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase } from './helpers/db';
import { runInProcess } from './helpers/cli-in-process';
import { uniqueSuffix } from './helpers/config';
import type { TestDatabase } from './helpers/db';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';
import { eventually, EventType, eventsOf } from './helpers/workflow-env';

// kill -9 of the worker process in the middle of a multi-tenant backfill: a new worker process
// finishes the workflow, the aggregates equal a clean run's, and no call the server had recorded
// as completed ran again. The worker is the real composition root (src/worker-process.ts) in a
// child process (test/fixtures/worker-main.ts), logging each execution to a table.

const WORKER_MAIN = fileURLToPath(new URL('./fixtures/worker-main.ts', import.meta.url));
const SEED = { tenants: 4, usersPerTenant: 30, days: 130, seed: 23, untilMs: Date.parse('2025-11-01T00:00:00Z') };
const REQUESTED_AT = '2025-11-06T12:00:00.000Z';
// 4 tenants × (9 chunks of 10 days of revenue + 9 of tournaments + 1 call for the 3 cohort months)
const CALLS = 4 * (9 + 9 + 1);

let temporal: TestTemporal;
let crashed: TestDatabase;
let clean: TestDatabase;
const workers: ChildProcess[] = [];

async function seed(t: TestDatabase): Promise<void> {
  await withBatchWriter(t.pool, async (writer) => {
    for (let i = 0; i < SEED.tenants; i++) await generateTenant(SEED, i, writer);
  });
}

async function aggregates(t: TestDatabase): Promise<unknown[][]> {
  const dump = async (table: string, order: string) =>
    (await t.pool.query<{ row: unknown }>(`SELECT to_jsonb(a) - 'computed_at' AS row FROM ${table} a ORDER BY ${order}`)).rows.map((r) => r.row);
  return [
    await dump('revenue_aggregates', 'tenant_id, period_type, period_start'),
    await dump('user_cohorts', 'tenant_id, cohort_month, month_number'),
    await dump('tournament_aggregates', 'tenant_id, period_type, period_start'),
  ];
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
      CALL_DELAY_MS: '150',
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

/** Activity id → number of ActivityTaskCompleted events, for the aggregation calls of a history. */
function completions(history: Awaited<ReturnType<ReturnType<TestTemporal['client']['workflow']['getHandle']>['fetchHistory']>>): Map<string, number> {
  const idOf = new Map<string, string>();
  for (const e of eventsOf(history, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)) {
    const a = e.activityTaskScheduledEventAttributes!;
    if (a.activityType?.name === 'aggregateTenant') idOf.set(String(e.eventId), a.activityId!);
  }
  const counts = new Map<string, number>();
  for (const e of eventsOf(history, EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)) {
    const id = idOf.get(String(e.activityTaskCompletedEventAttributes!.scheduledEventId));
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

beforeAll(async () => {
  [temporal, crashed, clean] = await Promise.all([connectTestTemporal(), createTestDatabase('crash'), createTestDatabase('clean')]);
  await Promise.all([seed(crashed), seed(clean)]);
  await crashed.pool.query('CREATE TABLE activity_executions (activity_id text NOT NULL, attempt int NOT NULL, pid int NOT NULL, phase text NOT NULL)');
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await Promise.all(workers.map(exited));
  await crashed?.drop();
  await clean?.drop();
  await temporal?.close();
});

describe('a worker process killed with SIGKILL mid-backfill', () => {
  it('is replaced by a new one that completes the workflow without re-running completed calls; the aggregates equal a clean run', async () => {
    const first = await startWorker();
    const handle = await startAggregationWorkflow(
      temporal.client,
      {
        job: { type: 'all', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-10-30' },
        jobId: `crash-${uniqueSuffix()}`,
        requestedAt: REQUESTED_AT,
        // Calls of the dead worker are retried once their heartbeat is 2 s overdue.
        options: { periodsPerActivity: 10, maxConcurrentActivities: 4, activityHeartbeatTimeout: '2 seconds' },
      },
      { taskQueue: temporal.taskQueue },
    );
    const child = temporal.client.workflow.getHandle(`${handle.workflowId}/chunk-1`);
    await eventually(
      async () => ((await child.fetchHistory().then(completions, () => new Map())).size >= 20 ? true : undefined),
      '20 calls completed',
    );
    first.kill('SIGKILL');
    expect(await exited(first)).toBe('SIGKILL');
    // What the server holds as completed once nothing of the first worker can report any more.
    const completedAtKill = completions(await child.fetchHistory());
    expect(completedAtKill.size).toBeGreaterThanOrEqual(20);
    expect(completedAtKill.size).toBeLessThan(CALLS);

    const second = await startWorker();
    const result = await handle.result();
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);

    expect(result.totals).toMatchObject({ tenants: 4, tasks: 12, succeeded: 12, failed: 0 });
    expect(result.chunks).toEqual({ total: CALLS, done: CALLS, failed: 0, skipped: 0, resumed: 0 });
    // Every call completed exactly once in the workflow's history...
    const final = completions(await child.fetchHistory());
    expect(final.size).toBe(CALLS);
    expect([...final.values()].every((n) => n === 1)).toBe(true);
    // ...and none that had completed before the kill was executed by the new worker.
    const { rows } = await crashed.pool.query<{ activity_id: string; pid: number; phase: string }>('SELECT activity_id, pid, phase FROM activity_executions');
    const byNewWorker = rows.filter((r) => r.pid === second.pid && r.phase === 'started').map((r) => r.activity_id);
    expect(byNewWorker.filter((id) => completedAtKill.has(id))).toEqual([]);
    // The new worker did all the rest, including the calls that were in flight in the dead one.
    expect(new Set(byNewWorker)).toEqual(new Set([...final.keys()].filter((id) => !completedAtKill.has(id))));

    const local = await runInProcess(
      registerAggregateCommand,
      ['aggregate', '--local', '--type', 'all', '--period-type', 'day', '--from', '2025-08-01', '--to', '2025-10-30', '--as-of', REQUESTED_AT, '--json'],
      { DATABASE_URL: clean.url },
    );
    expect(local.code, local.stderr).toBe(0);
    const [got, want] = await Promise.all([aggregates(crashed), aggregates(clean)]);
    expect(got[0]).toHaveLength(4 * 90);
    expect(got).toEqual(want);
  });
});
