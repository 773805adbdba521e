import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsQueue } from '../src/queue';
import { runCli, type CliResult } from './helpers/cli';
import { testConfig } from './helpers/config';
import { freePort } from './helpers/ports';
import { createTestRedis } from './helpers/redis';

// Client commands against a service that is not there: each fails within CONNECT_TIMEOUT_MS with
// one line naming the service, its address and the variables that set them, exit code 1, no stack
// (they used to retry for ever). "Not there" is a closed loopback port (refused at once) or a
// socket that accepts and never answers (only the timeout ends the wait).

const REDIS_SET_BY = 'set by REDIS_URL, or REDIS_HOST/REDIS_PORT/REDIS_PASSWORD';
const TEMPORAL_SET_BY = 'set by TEMPORAL_ADDRESS, TEMPORAL_TLS_*, TEMPORAL_API_KEY';

/** The one line a failed command printed (and that it printed nothing else, and no stack). */
function oneLine(r: CliResult): string {
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/^\s+at /m);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0]!;
}

async function timed(args: string[], env: Record<string, string>): Promise<CliResult & { ms: number }> {
  const started = performance.now();
  const r = await runCli(args, { env, timeoutMs: 30_000 });
  return { ...r, ms: performance.now() - started };
}

describe('client commands with a service unreachable', () => {
  let closed: number;
  let silent: Server;
  let silentPort: number;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    closed = await freePort();
    silent = createServer((socket) => {
      // Accept and say nothing, like a host behind a firewall that drops the traffic.
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it.each([
    ['metrics', ['metrics']],
    ['job add', ['job', 'add', 'aggregation', '--data', '{"type":"all"}']],
    ['job show', ['job', 'show', 'some-job']],
    ['dlq list', ['dlq', 'list']],
    ['queued aggregate', ['aggregate', '--type', 'revenue', '--period-type', 'day', '--from', '2025-11-01', '--to', '2025-11-02']],
  ])('%s: Redis refused -> one line, exit 1', async (_name, args) => {
    const r = await timed(args, { REDIS_HOST: '127.0.0.1', REDIS_PORT: String(closed), REDIS_URL: '', CONNECT_TIMEOUT_MS: '2000' });
    expect(r.code).toBe(1);
    expect(oneLine(r)).toBe(
      `error: cannot reach Redis at 127.0.0.1:${closed} (${REDIS_SET_BY}): connect ECONNREFUSED 127.0.0.1:${closed} (waited up to 2000 ms, CONNECT_TIMEOUT_MS)`,
    );
  });

  it('metrics: a Redis that never answers is given up after CONNECT_TIMEOUT_MS', async () => {
    const r = await timed(['metrics'], { REDIS_URL: `redis://127.0.0.1:${silentPort}/0`, CONNECT_TIMEOUT_MS: '1500' });
    expect(r.code).toBe(1);
    expect(oneLine(r)).toBe(
      `error: cannot reach Redis at 127.0.0.1:${silentPort} (${REDIS_SET_BY}): Redis at 127.0.0.1:${silentPort} did not answer within 1500 ms (waited up to 1500 ms, CONNECT_TIMEOUT_MS)`,
    );
    // Start-up of the command itself takes a few seconds on a busy machine; the wait adds 1.5 s, not "for ever".
    expect(r.ms).toBeLessThan(15_000);
  });

  it('schedule list: Temporal refused -> one line after CONNECT_TIMEOUT_MS, exit 1', async () => {
    const r = await timed(['schedule', 'list'], { TEMPORAL_ADDRESS: `127.0.0.1:${closed}`, CONNECT_TIMEOUT_MS: '1500' });
    expect(r.code).toBe(1);
    expect(oneLine(r)).toBe(
      `error: cannot reach Temporal at 127.0.0.1:${closed} (${TEMPORAL_SET_BY}): Failed to connect before the deadline (waited up to 1500 ms, CONNECT_TIMEOUT_MS)`,
    );
  });

  it('job cancel: a waiting job is removed, then the unreachable Temporal is named in one line', async () => {
    const redis = createTestRedis();
    const queue = await new AnalyticsQueue({ config: testConfig, queueName: redis.queueName }).ready();
    try {
      await queue.addJob('aggregation', { type: 'all' }, { jobId: 'to-cancel' });
      const r = await timed(['job', 'cancel', 'to-cancel', '--queue', redis.queueName], { TEMPORAL_ADDRESS: `127.0.0.1:${closed}`, CONNECT_TIMEOUT_MS: '1500' });
      expect(r.code).toBe(1);
      expect(oneLine(r)).toBe(
        `error: cannot reach Temporal at 127.0.0.1:${closed} (${TEMPORAL_SET_BY}): Failed to connect before the deadline (waited up to 1500 ms, CONNECT_TIMEOUT_MS)`,
      );
      expect(await queue.getJob('to-cancel')).toBeUndefined();
    } finally {
      await queue.queue.obliterate({ force: true });
      await queue.close();
      await redis.cleanup();
    }
  });

  it('db migrate: Postgres refused -> one line with the URL (no password), exit 1', async () => {
    const url = `postgresql://postgres@127.0.0.1:${closed}/analytics`;
    const r = await timed(['db', 'migrate'], { DATABASE_URL: url, CONNECT_TIMEOUT_MS: '2000' });
    expect(r.code).toBe(1);
    expect(oneLine(r)).toBe(
      `error: cannot reach Postgres at ${url} (set by DATABASE_URL): connect ECONNREFUSED 127.0.0.1:${closed} (waited up to 2000 ms, CONNECT_TIMEOUT_MS)`,
    );
  });

  it('health: each unreachable service is a row naming its address and variables; exit 1 within the connect time', async () => {
    const r = await timed(['health'], {
      REDIS_URL: `redis://127.0.0.1:${closed}/0`,
      TEMPORAL_ADDRESS: `127.0.0.1:${closed}`,
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${closed}/analytics`,
      CONNECT_TIMEOUT_MS: '1500',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const rows = r.stdout.split('\n');
    expect(rows.find((l) => l.startsWith('redis'))).toMatch(
      new RegExp(`^redis +UNHEALTHY +127\\.0\\.0\\.1:${closed} \\(REDIS_URL, or REDIS_HOST/REDIS_PORT/REDIS_PASSWORD\\): connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}$`),
    );
    expect(rows.find((l) => l.startsWith('temporal'))).toMatch(
      new RegExp(`^temporal +UNHEALTHY +127\\.0\\.0\\.1:${closed} \\(TEMPORAL_ADDRESS, TEMPORAL_TLS_\\*, TEMPORAL_API_KEY\\): Temporal at 127\\.0\\.0\\.1:${closed} did not answer within 1500 ms$`),
    );
    expect(rows.find((l) => l.startsWith('postgres'))).toMatch(
      new RegExp(`^postgres +UNHEALTHY +postgresql://postgres@127\\.0\\.0\\.1:${closed}/analytics \\(DATABASE_URL\\): connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}$`),
    );
    expect(rows.some((l) => /^UNHEALTHY at \d{4}-\d{2}-\d{2}T/.test(l))).toBe(true);
    expect(r.ms).toBeLessThan(15_000);
  });
});
