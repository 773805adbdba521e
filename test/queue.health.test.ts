import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEMPORAL_CLI } from '../src/paths';
import { AnalyticsQueue, type HealthReport } from '../src/queue';
import { waitFor } from './fixtures/queue';
import { testConfig, uniqueSuffix } from './helpers/config';

// Stopping the shared Redis or Temporal server would break the other test files running at the
// same time, so this file starts its own: a redis-server and a Temporal dev server on free ports,
// which it stops and starts again for real.

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** A child process that `stop()` terminates and waits for. */
interface Service {
  process: ChildProcess;
  stop(): Promise<void>;
}

function start(command: string, args: string[]): Service {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('exit', (code, signal) => {
    if (code !== 0 && code !== null && signal === null) console.error(`${command} exited ${code}: ${stderr}`);
  });
  return {
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

describe('healthCheck', () => {
  let redisPort: number;
  let temporalPort: number;
  let uiPort: number;
  let redisDir: string;
  let redis: Service | undefined;
  let temporal: Service | undefined;
  let queue: AnalyticsQueue;

  const startRedis = () =>
    start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', redisDir, '--appendonly', 'yes', '--save', '']);
  const startTemporal = () =>
    start(TEMPORAL_CLI, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(temporalPort), '--ui-port', String(uiPort), '--headless', '--log-level', 'error']);

  const check = () => queue.healthCheck();
  const until = (what: string, ok: (r: HealthReport) => boolean) =>
    waitFor(what, async () => {
      const r = await check();
      return ok(r) ? r : undefined;
    }, 60_000, 200);

  beforeAll(async () => {
    [redisPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    redisDir = await mkdtemp(join(tmpdir(), 'analytics-health-redis-'));
    redis = startRedis();
    temporal = startTemporal();
    queue = new AnalyticsQueue({
      queueName: `health-${uniqueSuffix()}`,
      redis: { host: '127.0.0.1', port: redisPort },
      temporal: { address: `127.0.0.1:${temporalPort}`, namespace: 'default', taskQueue: 'unused' },
      databaseUrl: testConfig.databaseUrl,
      healthTimeoutMs: 2_000,
    });
  });

  afterAll(async () => {
    await queue.close();
    await redis?.stop();
    await temporal?.stop();
    await rm(redisDir, { recursive: true, force: true });
  });

  it('is healthy when Redis, Temporal and Postgres answer, with the queue metrics', async () => {
    await until('everything to be up', (r) => r.healthy);
    await queue.addJob('aggregation', { type: 'all' });
    const r = await check();
    expect(r).toMatchObject({
      healthy: true,
      metrics: { waiting: 1, active: 0, completed: 0, failed: 0, delayed: 0, paused: 0 },
      redis: { healthy: true },
      temporal: { healthy: true },
      postgres: { healthy: true },
    });
    expect(Date.parse(r.checkedAt)).not.toBeNaN();
  });

  it('turns unhealthy with a reason while Redis is stopped, and healthy again after it restarts', async () => {
    await redis!.stop();
    const down = await check();
    expect(down.healthy).toBe(false);
    expect(down.redis).toEqual({ healthy: false, reason: expect.stringContaining('ECONNREFUSED') });
    expect(down.metrics).toBeNull();
    expect(down.temporal.healthy).toBe(true);
    expect(down.postgres.healthy).toBe(true);

    redis = startRedis();
    const up = await until('Redis to be back', (r) => r.healthy && r.metrics !== null);
    // The job survived the restart (append-only file): the metrics are the queue's, read again.
    expect(up.metrics).toEqual({ waiting: 1, active: 0, completed: 0, failed: 0, delayed: 0, paused: 0 });
  });

  it('turns unhealthy with a reason while Temporal is stopped, and healthy again after it restarts', async () => {
    await temporal!.stop();
    const down = await check();
    expect(down.healthy).toBe(false);
    expect(down.temporal.healthy).toBe(false);
    expect((down.temporal as { reason: string }).reason).not.toBe('');
    expect(down.redis.healthy).toBe(true);
    expect(down.metrics).toEqual({ waiting: 1, active: 0, completed: 0, failed: 0, delayed: 0, paused: 0 });

    temporal = startTemporal();
    const up = await until('Temporal to be back', (r) => r.healthy);
    expect(up.temporal.healthy).toBe(true);
  });

  it('names Postgres when it cannot be reached or lacks the schema', async () => {
    const closedPort = await freePort();
    const unreachable = new AnalyticsQueue({ ...queue.options, queueName: `health-pg-${uniqueSuffix()}`, databaseUrl: `postgresql://postgres@127.0.0.1:${closedPort}/analytics` });
    const noSchema = new AnalyticsQueue({ ...queue.options, queueName: `health-pg-${uniqueSuffix()}`, databaseUrl: `${testConfig.databaseUrl}?schema=no_such_schema_${uniqueSuffix()}` });
    try {
      const a = await unreachable.healthCheck();
      expect(a.healthy).toBe(false);
      expect(a.postgres).toEqual({ healthy: false, reason: expect.stringContaining('ECONNREFUSED') });
      const b = await noSchema.healthCheck();
      expect(b.healthy).toBe(false);
      expect(b.postgres).toEqual({ healthy: false, reason: expect.stringMatching(/^schema "no_such_schema_\w+" does not exist$/) });
    } finally {
      await unreachable.close();
      await noSchema.close();
    }
  });
});
