import { spawn, type ChildProcess } from 'node:child_process';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config';
import { PROJECT_ROOT } from '../src/paths';
import { AnalyticsQueue } from '../src/queue';
import { generateTenant } from '../src/seed/generate';
import { runCli } from './helpers/cli';
import { uniqueSuffix } from './helpers/config';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase, type TestDatabase } from './helpers/db';

// `analytics workers` as a real subprocess. To have a job that is provably active when the signal
// arrives, the test holds a lock on revenue_aggregates: the job's activity blocks on its INSERT
// until the test lets it go.

let t: TestDatabase;
const children: ChildProcess[] = [];

beforeAll(async () => {
  t = await createTestDatabase('cliworkers');
  await withBatchWriter(t.pool, async (writer) => {
    await generateTenant({ tenants: 1, usersPerTenant: 20, days: 20, seed: 9, untilMs: Date.parse('2025-05-01T00:00:00Z') }, 0, writer);
  });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await t?.drop();
});

function envFor(): Record<string, string> {
  const suffix = uniqueSuffix();
  return {
    DATABASE_URL: t.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `tq-${suffix}`,
    QUEUE_NAME: `q-${suffix}`,
    LOG_LEVEL: 'info',
  };
}

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

async function startWorkers(env: Record<string, string>, args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [`${PROJECT_ROOT}bin/analytics.js`, 'workers', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  await Promise.race([
    new Promise<void>((resolve) => {
      const check = () => (out.includes('workers running') ? resolve() : setTimeout(check, 50));
      check();
    }),
    exited.then((e) => {
      throw new Error(`workers exited (${e.code}) before they were running:\n${err}`);
    }),
  ]);
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Holds an EXCLUSIVE lock on revenue_aggregates in an open transaction until release(). */
async function lockRevenue(): Promise<{ release: () => Promise<void> }> {
  const client: pg.PoolClient = await t.pool.connect();
  await client.query('BEGIN');
  await client.query('LOCK TABLE revenue_aggregates IN EXCLUSIVE MODE');
  return {
    release: async () => {
      await client.query('COMMIT');
      client.release();
    },
  };
}

/** Adds a revenue job on the workers' queue and waits until its activity is blocked on the lock. */
async function addBlockedJob(env: Record<string, string>): Promise<{ queue: AnalyticsQueue; jobId: string }> {
  const queue = new AnalyticsQueue({ config: loadConfig({ ...process.env, ...env }), queueName: env.QUEUE_NAME });
  await queue.ready();
  const job = await queue.addJob('aggregation', { tenantId: 'tenant-001', type: 'revenue', periodType: 'day', periodStart: '2025-04-01', periodEnd: '2025-04-08' });
  await expect.poll(async () => (await queue.getJob(job.id!))?.getState(), { timeout: 30_000 }).toBe('active');
  await expect
    .poll(async () => (await t.pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'revenue_aggregates'::regclass`)).rows[0].n, { timeout: 30_000 })
    .toBeGreaterThan(0);
  return { queue, jobId: job.id! };
}

describe('analytics workers', () => {
  it('--help says what the flags and signals do', async () => {
    const r = await runCli(['workers', '--help']);
    expect(r.code).toBe(0);
    for (const text of ['--no-cron', '--cron-only', '--shutdown-grace-ms', 'SIGTERM']) expect(r.stdout).toContain(text);
  });

  it('--cron-only with --no-cron is a usage error (exit 2)', async () => {
    const r = await runCli(['workers', '--cron-only', '--no-cron']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--cron-only and --no-cron');
  });

  it('a start-up health check that fails names the component and variable (exit 1)', async () => {
    const r = await runCli(['workers', '--no-cron'], { env: { ...envFor(), TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('start-up health check failed');
    expect(r.stderr).toContain('Temporal at 127.0.0.1:1 (TEMPORAL_ADDRESS');
    // An expected failure: one message, no stack trace.
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('prints the banner; SIGTERM during an active job lets it finish, then exits 0 within the grace period', async () => {
    const env = envFor();
    const lock = await lockRevenue();
    let queue: AnalyticsQueue | undefined;
    try {
      const w = await startWorkers({ ...env, BRIDGE_CONCURRENCY: '3', BRIDGE_RATE_LIMIT: '7' }, ['--no-cron', '--shutdown-grace-ms', '60000']);
      expect(w.stdout()).toContain('analytics-workers');
      expect(w.stdout()).toContain('bridge concurrency 3 (+2 reserved for non-backfills), 7 jobs/s; 20 aggregation calls in flight per job; shutdown grace 60000 ms');
      expect(w.stdout()).toContain(`queue "${env.QUEUE_NAME}" -> task queue ${env.TEMPORAL_TASK_QUEUE}`);
      const blocked = await addBlockedJob(env);
      queue = blocked.queue;
      const signalledAt = Date.now();
      w.child.kill('SIGTERM');
      // The process has taken the signal, and the job is still running: it must wait for it
      // (it exits only after the job's lock is released, checked below).
      await expect.poll(() => w.stderr(), { timeout: 10_000, interval: 50 }).toContain('signal received: stopping gracefully');
      expect(w.child.exitCode).toBeNull();
      expect(await (await queue.getJob(blocked.jobId))!.getState()).toBe('active');
      const releasedAt = Date.now();
      await lock.release();
      const exit = await w.exited;
      expect(exit.code).toBe(0);
      expect(exit.at).toBeGreaterThanOrEqual(releasedAt);
      expect(exit.at - signalledAt).toBeLessThan(60_000);
      const job = (await queue.getJob(blocked.jobId))!;
      expect(await job.getState()).toBe('completed');
      expect(job.returnvalue).toMatchObject({ totals: { succeeded: 1, failed: 0, rowsWritten: 7 } });
      expect(w.stderr()).toContain('signal received: stopping gracefully');
    } finally {
      await lock.release().catch(() => {});
      await queue?.close();
    }
  });

  it('a second SIGTERM forces the exit at once, leaving the job to be re-attached', async () => {
    const env = envFor();
    const lock = await lockRevenue();
    let queue: AnalyticsQueue | undefined;
    try {
      const w = await startWorkers(env, ['--no-cron', '--shutdown-grace-ms', '60000']);
      const blocked = await addBlockedJob(env);
      queue = blocked.queue;
      w.child.kill('SIGTERM');
      // The first signal is taken (a graceful stop begins) before the second one is sent.
      await expect.poll(() => w.stderr(), { timeout: 10_000, interval: 50 }).toContain('signal received: stopping gracefully');
      expect(w.child.exitCode).toBeNull();
      w.child.kill('SIGTERM');
      const exit = await Promise.race([w.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
      expect(exit).not.toBeNull();
      expect(exit!.code).toBe(143);
      expect(await (await queue.getJob(blocked.jobId))!.getState()).not.toBe('completed');
      expect(w.stderr()).toContain('second signal: exiting now');
    } finally {
      await lock.release().catch(() => {});
      await queue?.queue.obliterate({ force: true }).catch(() => {});
      await queue?.close();
    }
  });
});
