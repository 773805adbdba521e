import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { createTestRedis } from './helpers/redis';
import { runCli, type CliResult } from './helpers/cli';
import { startPrivateRedis, type PrivateRedis } from './helpers/redis-server';

// Known fake secrets go into real commands (real processes, a real Redis that requires a
// password, the local Postgres and Temporal); ALL of their stdout and stderr is searched for
// them, at log level trace. None may appear. Each run must also fail or succeed as expected, so
// that a run that printed nothing because it never got going does not pass for the wrong reason.

const REDIS_SECRET = 'fake-redis-secret-7Kq2';
const PG_SECRET = 'fake-pg-secret-9Zr4';
const TEMPORAL_KEY = 'fake-temporal-key-3Wx8';
const URL_SECRET = 'fake-url-secret-5Mv1';
const SECRETS = [REDIS_SECRET, PG_SECRET, TEMPORAL_KEY, URL_SECRET, encodeURIComponent(URL_SECRET)];

const FIXTURE = fileURLToPath(new URL('./fixtures/queue-wrong-password.ts', import.meta.url));

const everything: string[] = [];

function run(args: string[], env: Record<string, string>): Promise<CliResult> {
  return runCli(args, { env: { LOG_LEVEL: 'trace', CONNECT_TIMEOUT_MS: '2000', ...env }, timeoutMs: 60_000 }).then((r) => {
    everything.push(r.stdout, r.stderr);
    return r;
  });
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text, `output shows ${secret}`).not.toContain(secret);
}

describe('secrets never printed', () => {
  let redis: PrivateRedis;
  const queue = createTestRedis();

  beforeAll(async () => {
    redis = await startPrivateRedis(['--requirepass', 'the-right-password']);
  });
  afterAll(async () => {
    await redis?.stop();
    await queue.cleanup();
    // The whole run, once more: nothing printed by any command above carried a secret.
    expectNoSecret(everything.join('\n'));
  });

  it('a wrong Redis password (REDIS_URL or REDIS_PASSWORD): metrics, job add, job show, dlq list fail fast in one line without it', async () => {
    const viaUrl = { REDIS_URL: `redis://:${REDIS_SECRET}@127.0.0.1:${redis.port}/0` };
    const viaPassword = { REDIS_URL: '', REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redis.port), REDIS_PASSWORD: REDIS_SECRET };
    const runs = await Promise.all([
      run(['metrics'], viaUrl),
      run(['job', 'add', 'aggregation', '--data', '{"type":"all"}'], viaPassword),
      run(['job', 'show', 'any-job'], viaUrl),
      run(['dlq', 'list'], viaPassword),
    ]);
    for (const r of runs) {
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: cannot reach Redis at 127.0.0.1:${redis.port} (set by REDIS_URL, or REDIS_HOST/REDIS_PORT/REDIS_PASSWORD): ` +
          'WRONGPASS invalid username-password pair or user is disabled. (waited up to 2000 ms, CONNECT_TIMEOUT_MS)\n',
      );
      expectNoSecret(r.stdout + r.stderr);
    }
  });

  it('health and workers with a wrong Redis password, a Postgres password and a Temporal API key', async () => {
    const env = {
      REDIS_URL: `redis://:${REDIS_SECRET}@127.0.0.1:${redis.port}/0`,
      DATABASE_URL: `postgresql://postgres:${PG_SECRET}@127.0.0.1:5432/analytics`,
      // An API key implies TLS; the local dev server speaks plain text, so Temporal is unhealthy.
      TEMPORAL_API_KEY: TEMPORAL_KEY,
    };
    const [health, json, workers, schedules] = await Promise.all([
      run(['health'], env),
      run(['health', '--json'], env),
      run(['workers', '--no-cron'], env),
      run(['schedule', 'list'], env),
    ]);
    expect(health.code).toBe(1);
    expect(health.stdout).toMatch(/^redis +UNHEALTHY .*WRONGPASS/m);
    expect(health.stdout).toMatch(/^temporal +UNHEALTHY /m);
    // The local Postgres trusts loopback connections, so the (fake) password is not even checked.
    expect(health.stdout).toMatch(/^postgres +healthy /m);
    expect(JSON.parse(json.stdout)).toMatchObject({ healthy: false, redis: { healthy: false }, temporal: { healthy: false } });
    expect(workers.code).toBe(1);
    expect(workers.stderr).toContain('start-up health check failed');
    expect(schedules.code).toBe(1);
    // (Node may warn first that TLS to an IP address sends no SNI.)
    expect(schedules.stderr).toMatch(/^error: cannot reach Temporal at 127\.0\.0\.1:7233 /m);
    for (const r of [health, json, workers, schedules]) expectNoSecret(r.stdout + r.stderr);
  });

  it('the facade logging every failed AUTH at trace level: the error is kept, the command arguments are not', async () => {
    const r = await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, '3'], {
        env: { ...process.env, REDIS_URL: `redis://:${REDIS_SECRET}@127.0.0.1:${redis.port}/0` },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    everything.push(r.stdout, r.stderr);
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; err?: { message: string; command?: unknown } });
    const errors = lines.filter((l) => l.msg === 'queue connection error');
    expect(errors.length).toBeGreaterThanOrEqual(3);
    for (const l of errors) {
      expect(l.err!.message).toBe('WRONGPASS invalid username-password pair or user is disabled.');
      expect(l.err!.command).toEqual({ name: 'auth' });
    }
    expectNoSecret(r.stdout + r.stderr);
  });

  it.each([
    ['REDIS_URL', `redis://:${URL_SECRET}@@bad host:xx/0`, 'redis://:***@bad host:xx/0'],
    ['REDIS_URL', `redis://app:${URL_SECRET}@cache.internal:6379/abc`, 'redis://app:***@cache.internal:6379/abc'],
    ['DATABASE_URL', `postgresql://app:${URL_SECRET}@db.internal:notaport/analytics`, 'postgresql://app:***@db.internal:notaport/analytics'],
    ['TEMPORAL_ADDRESS', `app:${URL_SECRET}@temporal.internal:7233`, '***@temporal.internal:7233'],
  ])('a malformed %s is reported with its password masked (exit 2)', async (variable, value, masked) => {
    const r = await run(['metrics'], { [variable]: value });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`invalid configuration: ${variable}: `);
    expect(r.stderr).toContain(masked);
    expectNoSecret(r.stdout + r.stderr);
  });

  it('configuration errors never show a secret variable, nor a registered secret anywhere in their message', () => {
    const error = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(error({ TEMPORAL_API_KEY: TEMPORAL_KEY, TEMPORAL_TLS: 'false' })).toBe(
      'invalid configuration: TEMPORAL_TLS: is false, but TEMPORAL_TLS_* or TEMPORAL_API_KEY ask for TLS',
    );
    // A secret that happens to appear in another variable's value is masked there too.
    expect(error({ REDIS_PASSWORD: PG_SECRET, TZ: `Mars/${PG_SECRET}` })).toBe(
      'invalid configuration: TZ: must be an IANA timezone such as UTC or Europe/Berlin (got "Mars/***")',
    );
  });

  it('a successful command with passwords in its URLs says nothing of them', async () => {
    // The right password this time: job add succeeds and says nothing of the password.
    const env = { REDIS_URL: `redis://:the-right-password@127.0.0.1:${redis.port}/0`, DATABASE_URL: `postgresql://postgres:${PG_SECRET}@127.0.0.1:5432/analytics` };
    const ok = await run(['job', 'add', 'aggregation', '--data', '{"type":"all"}', '--queue', queue.queueName, '--json'], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ name: 'aggregation', queue: queue.queueName });
    expectNoSecret(ok.stdout + ok.stderr);
  });
});
