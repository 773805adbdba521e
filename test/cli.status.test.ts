import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config';
import { AnalyticsQueue } from '../src/queue';
import { runCli } from './helpers/cli';
import { uniqueSuffix } from './helpers/config';
import { createTestDatabase, type TestDatabase } from './helpers/db';

// `analytics metrics` and `analytics health` as subprocesses, on a queue of the test's own with
// jobs put there by hand: two waiting, one delayed. No worker runs, so nothing moves (and health
// says so: test/cli.errors.test.ts has the healthy case with workers running).

let t: TestDatabase;
let queue: AnalyticsQueue;
let env: Record<string, string>;

beforeAll(async () => {
  t = await createTestDatabase('clistatus');
  const suffix = uniqueSuffix();
  env = { DATABASE_URL: t.url, TEMPORAL_ADDRESS: inject('temporalAddress'), QUEUE_NAME: `q-${suffix}`, TEMPORAL_TASK_QUEUE: `tq-${suffix}` };
  queue = new AnalyticsQueue({ config: loadConfig({ ...process.env, ...env }) });
  await queue.ready();
  await queue.addJob('aggregation', { type: 'all' });
  await queue.addJob('aggregation', { type: 'revenue', tenantId: 'org_1' });
  await queue.addJob('aggregation', { type: 'cohorts' }, { delay: 3_600_000 });
});

afterAll(async () => {
  await queue?.queue.obliterate({ force: true });
  await queue?.close();
  await t?.drop();
});

describe('analytics metrics / health', () => {
  it('metrics --json counts the jobs by state', async () => {
    const r = await runCli(['metrics', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ waiting: 2, active: 0, completed: 0, failed: 0, delayed: 1, paused: 0 });
    const human = await runCli(['metrics'], { env });
    expect(human.stdout).toMatch(/^waiting\s+2$/m);
    expect(human.stdout).toMatch(/^delayed\s+1$/m);
  });

  it('health --json: every component healthy, with the metrics; but nothing runs the jobs, so exit 1 saying so', async () => {
    const r = await runCli(['health', '--json'], { env });
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as {
      healthy: boolean;
      redis: { healthy: boolean };
      temporal: { healthy: boolean };
      postgres: { healthy: boolean };
      metrics: { waiting: number };
      workers: unknown;
      problems: string[];
    };
    expect(report.healthy).toBe(true);
    expect([report.redis.healthy, report.temporal.healthy, report.postgres.healthy]).toEqual([true, true, true]);
    expect(report.metrics.waiting).toBe(2);
    expect(report.workers).toEqual({ taskQueue: env.TEMPORAL_TASK_QUEUE, pollers: 0, bridges: 0 });
    expect(report.problems).toEqual([
      `no worker polling the task queue ${env.TEMPORAL_TASK_QUEUE}: start \`analytics workers\``,
      `2 waiting job(s) but no bridge on queue ${env.QUEUE_NAME}: start \`analytics workers\``,
    ]);
  });

  it('health exits 1 and gives the reason when a component is down', async () => {
    const r = await runCli(['health'], { env: { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^temporal\s+UNHEALTHY\s+\S/m);
    expect(r.stdout).toMatch(/^redis\s+healthy/m);
    expect(r.stdout).toContain('UNHEALTHY at');
  });
});
