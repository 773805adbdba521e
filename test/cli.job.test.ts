import { readFileSync } from 'node:fs';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT } from '../src/paths';
import { runCli } from './helpers/cli';
import { testConfig } from './helpers/config';
import { createTestRedis } from './helpers/redis';

// `analytics job add|list`, `queue clean|pause|resume` and `--version` as subprocesses against the
// real Redis, each case on a queue of its own; what they did is read back with BullMQ itself.

type TestRedis = ReturnType<typeof createTestRedis>;
const connection = { host: testConfig.redis.host, port: testConfig.redis.port, ...(testConfig.redis.password ? { password: testConfig.redis.password } : {}) };
const owned: { redis: TestRedis; queue: Queue }[] = [];

function ownQueue(): { name: string; queue: Queue } {
  const redis = createTestRedis();
  const queue = new Queue(redis.queueName, { connection });
  owned.push({ redis, queue });
  return { name: redis.queueName, queue };
}

afterAll(async () => {
  for (const { redis, queue } of owned) {
    await queue.close();
    await redis.cleanup();
  }
});

const json = <T>(stdout: string) => JSON.parse(stdout) as T;

describe('analytics job add with an id that exists', () => {
  let q: { name: string; queue: Queue };
  beforeAll(async () => {
    q = ownQueue();
    const first = await runCli(['job', 'add', 'aggregation', '--data', '{"type":"revenue","tenantId":"org_1"}', '--job-id', 'dup-1', '--queue', q.name]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`added aggregation job dup-1 to queue ${q.name}`);
  });

  it('says so, prints the job that exists, exits 1, and the queue keeps the first payload', async () => {
    const again = await runCli(['job', 'add', 'aggregation', '--data', '{"type":"cohorts","periodStart":"2025-10-01"}', '--job-id', 'dup-1', '--queue', q.name]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain(`job dup-1 already exists in queue ${q.name}: nothing was added`);
    expect(again.stdout).toMatch(/state\s+waiting/);
    expect(again.stdout).toMatch(/data\s+\{.*"type":"revenue".*\}/);
    expect(again.stderr).toContain('error: job dup-1 already exists');
    expect(again.stderr).not.toMatch(/\n\s+at /); // no stack
    expect((await q.queue.getJob('dup-1'))?.data).toEqual({ type: 'revenue', tenantId: 'org_1' });
    expect(await q.queue.getJobCounts('wait')).toEqual({ wait: 1 });
  });

  it('--if-absent exits 0 and says it was there; --json shows created: false and the stored payload', async () => {
    const r = await runCli(['job', 'add', 'export', '--data', '{"tenantId":"org_2","type":"revenue"}', '--job-id', 'dup-1', '--if-absent', '--json', '--queue', q.name]);
    expect(r.code, r.stderr).toBe(0);
    expect(json<Record<string, unknown>>(r.stdout)).toMatchObject({ created: false, jobId: 'dup-1', name: 'aggregation', state: 'waiting', data: { type: 'revenue', tenantId: 'org_1' } });
    expect(r.stderr).toBe('');
    expect((await q.queue.getJob('dup-1'))?.data).toEqual({ type: 'revenue', tenantId: 'org_1' });
  });

  it('a new id with --json says created: true', async () => {
    const r = await runCli(['job', 'add', 'aggregation', '--data', '{"type":"all"}', '--job-id', 'new-1', '--if-absent', '--json', '--queue', q.name]);
    expect(r.code, r.stderr).toBe(0);
    expect(json<Record<string, unknown>>(r.stdout)).toMatchObject({ created: true, jobId: 'new-1', state: 'waiting', data: { type: 'all' } });
  });
});

describe('analytics job list and queue pause|resume', () => {
  let q: { name: string; queue: Queue };
  beforeAll(async () => {
    q = ownQueue();
    for (const [id, extra] of [['w-1', []], ['w-2', []], ['d-1', ['--delay', '3600000']]] as const) {
      const r = await runCli(['job', 'add', 'aggregation', '--data', '{"type":"all"}', '--job-id', id, ...extra, '--queue', q.name]);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('lists every state by default, one state with --state, at most --limit', async () => {
    const all = await runCli(['job', 'list', '--json', '--queue', q.name]);
    expect(all.code, all.stderr).toBe(0);
    const jobs = json<{ jobId: string; state: string; name: string }[]>(all.stdout);
    expect(jobs.map((j) => [j.jobId, j.state]).sort()).toEqual([['d-1', 'delayed'], ['w-1', 'waiting'], ['w-2', 'waiting']]);
    const delayed = await runCli(['job', 'list', '--state', 'delayed', '--json', '--queue', q.name]);
    expect(json<{ jobId: string }[]>(delayed.stdout).map((j) => j.jobId)).toEqual(['d-1']);
    const one = await runCli(['job', 'list', '--state', 'waiting', '--limit', '1', '--json', '--queue', q.name]);
    expect(json<unknown[]>(one.stdout)).toHaveLength(1);
    const table = await runCli(['job', 'list', '--queue', q.name]);
    expect(table.stdout).toMatch(/^job\s+name\s+state\s+attempts\s+created\s+finished\s+error$/m);
    expect(table.stdout).toMatch(/^d-1\s+aggregation\s+delayed\s+0\s+\d{4}-\d\d-\d\dT/m);
  });

  it('a bad --state or --limit is a usage error (exit 2)', async () => {
    const state = await runCli(['job', 'list', '--state', 'running', '--queue', q.name]);
    expect(state.code).toBe(2);
    expect(state.stderr).toContain('--state must be one of waiting, active, completed, failed, delayed, paused');
    const limit = await runCli(['job', 'list', '--limit', '0', '--queue', q.name]);
    expect(limit.code).toBe(2);
  });

  it('pause holds the waiting jobs (job list shows them paused); resume makes them wait again', async () => {
    const paused = await runCli(['queue', 'pause', '--json', '--queue', q.name]);
    expect(paused.code, paused.stderr).toBe(0);
    expect(json<Record<string, unknown>>(paused.stdout)).toMatchObject({ queue: q.name, paused: true, metrics: { waiting: 0, paused: 2, delayed: 1 } });
    expect(await q.queue.isPaused()).toBe(true);
    const list = await runCli(['job', 'list', '--state', 'paused', '--json', '--queue', q.name]);
    expect(json<{ jobId: string }[]>(list.stdout).map((j) => j.jobId).sort()).toEqual(['w-1', 'w-2']);
    const resumed = await runCli(['queue', 'resume', '--queue', q.name]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`queue ${q.name} resumed: 2 job(s) waiting, 0 active`);
    expect(await q.queue.isPaused()).toBe(false);
  });
});

describe('analytics queue clean', () => {
  let q: { name: string; queue: Queue };
  beforeAll(async () => {
    q = ownQueue();
    // A plain BullMQ worker (not the bridge) finishes two jobs: one completes, one fails.
    for (const [id, type] of [['ok-1', 'revenue'], ['bad-1', 'cohorts']] as const) {
      const r = await runCli(['job', 'add', 'aggregation', '--data', JSON.stringify({ type }), '--job-id', id, '--attempts', '1', '--queue', q.name]);
      expect(r.code, r.stderr).toBe(0);
    }
    const worker = new Worker(
      q.name,
      async (job) => {
        if ((job.data as { type: string }).type === 'cohorts') throw new Error('fails on purpose');
        return 'done';
      },
      { connection },
    );
    await vi.waitFor(async () => expect(await q.queue.getJobCounts('completed', 'failed')).toEqual({ completed: 1, failed: 1 }), { timeout: 20_000, interval: 100 });
    await worker.close();
    for (const id of ['w-1', 'w-2']) await runCli(['job', 'add', 'aggregation', '--data', '{"type":"all"}', '--job-id', id, '--queue', q.name]);
  });

  it('keeps jobs younger than --grace-ms, then removes the completed and failed ones only', async () => {
    const young = await runCli(['queue', 'clean', '--grace-ms', '3600000', '--json', '--queue', q.name]);
    expect(young.code, young.stderr).toBe(0);
    expect(json<unknown>(young.stdout)).toEqual({ completed: [], failed: [] });
    const r = await runCli(['queue', 'clean', '--queue', q.name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed from queue ${q.name}: 1 completed, 1 failed`);
    expect(await q.queue.getJobCounts('completed', 'failed', 'wait')).toEqual({ completed: 0, failed: 0, wait: 2 });
  });

  it('--state waiting --limit 1 removes one waiting job; active is not a state it cleans (exit 2)', async () => {
    const r = await runCli(['queue', 'clean', '--state', 'waiting', '--limit', '1', '--json', '--queue', q.name]);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ waiting: string[] }>(r.stdout).waiting).toHaveLength(1);
    expect(await q.queue.getJobCounts('wait')).toEqual({ wait: 1 });
    const active = await runCli(['queue', 'clean', '--state', 'active', '--queue', q.name]);
    expect(active.code).toBe(2);
    expect(active.stderr).toContain('--state must be one of completed, failed, waiting, delayed, paused');
  });
});

describe('analytics job retry', () => {
  it('prints one human line on stdout and no log line (JSON only with --json)', async () => {
    const q = ownQueue();
    const add = await runCli(['job', 'add', 'aggregation', '--data', '{"type":"all"}', '--job-id', 'fail-1', '--attempts', '1', '--queue', q.name]);
    expect(add.code, add.stderr).toBe(0);
    const worker = new Worker(q.name, async () => Promise.reject(new Error('fails on purpose')), { connection });
    await vi.waitFor(async () => expect(await q.queue.getJobCounts('failed')).toEqual({ failed: 1 }), { timeout: 20_000, interval: 100 });
    await worker.close();
    const r = await runCli(['job', 'retry', 'fail-1', '--queue', q.name], { env: { LOG_LEVEL: 'info' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('job fail-1 is waiting again\n');
    expect(r.stderr).toBe('');
    const again = await runCli(['job', 'retry', 'fail-1', '--json', '--queue', q.name]);
    expect(again.code).toBe(1); // waiting now, nothing to retry
    expect(JSON.parse(again.stdout)).toEqual({ jobId: 'fail-1', state: 'waiting', retried: false });
  });
});

describe('analytics --version', () => {
  it('prints package.json\'s version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(`${PROJECT_ROOT}package.json`, 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });
});
