import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../src/config';
import { connectionStringOf } from '../src/db/client';
import { AnalyticsQueue } from '../src/queue';
import { probePostgres } from '../src/queue/health';
import { temporalConnectionOptions } from '../src/temporal/connection';
import { runCli } from './helpers/cli';
import { testConfig, uniqueSuffix } from './helpers/config';
import { startPrivateRedis, type PrivateRedis } from './helpers/redis-server';
import { startTemporalTlsProxy, type TemporalTlsProxy } from './helpers/temporal-tls-proxy';
import { createTestCertificates, TEST_CLIENT_CN, TEST_SERVER_NAME, type TestCertificates } from './helpers/tls';

// Hosted services: the TLS options reach the clients. Redis: a real redis-server with a TLS port
// and a certificate made here by openssl. Temporal: the run's real dev server behind a TLS front
// (mTLS, SNI and API key recorded), since the dev server itself has no TLS. Postgres: the local
// server has SSL off, so `sslmode=require` must be refused by it — proof that pg reads sslmode.

describe('TLS to hosted services', () => {
  let certs: TestCertificates;
  let redis: PrivateRedis;
  let proxy: TemporalTlsProxy;
  const temporalAddress = inject('temporalAddress');

  beforeAll(async () => {
    certs = createTestCertificates();
    redis = await startPrivateRedis([], { tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert } });
    proxy = await startTemporalTlsProxy({ upstream: temporalAddress, cert: certs.serverCert, key: certs.serverKey, ca: certs.caCert });
  });
  afterAll(async () => {
    await proxy?.close();
    await redis?.stop();
    certs?.cleanup();
  });

  it('Redis: rediss:// with REDIS_TLS_CA reaches a TLS-only redis-server (CLI and facade); without the CA it is refused in one line', async () => {
    const queueName = `tls-${uniqueSuffix()}`;
    const env = { REDIS_URL: `rediss://127.0.0.1:${redis.port}/0`, REDIS_TLS_CA: certs.caCert, CONNECT_TIMEOUT_MS: '3000' };
    const ok = await runCli(['metrics', '--json', '--queue', queueName], { env });
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout)).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0, paused: 0 });

    const config = loadConfig({ ...env });
    expect(config.redis).toMatchObject({ host: '127.0.0.1', port: redis.port, tls: true, tlsCaFile: certs.caCert });
    const queue = await new AnalyticsQueue({ config, queueName }).ready();
    try {
      const job = await queue.addJob('aggregation', { type: 'all' }, { jobId: 'over-tls' });
      expect((await queue.getJob(job.id!))!.data).toEqual({ type: 'all' });
    } finally {
      await queue.queue.obliterate({ force: true });
      await queue.close();
    }

    const untrusted = await runCli(['metrics', '--queue', queueName], { env: { ...env, REDIS_TLS_CA: certs.otherCaCert } });
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(untrusted.stderr).toMatch(new RegExp(`^error: cannot reach Redis at 127\\.0\\.0\\.1:${redis.port} .*certificate`));
  });

  it('Redis: an unreadable REDIS_TLS_CA is a configuration error naming the variable (exit 2)', async () => {
    const r = await runCli(['metrics'], { env: { REDIS_URL: `rediss://127.0.0.1:${redis.port}/0`, REDIS_TLS_CA: `${certs.dir}/missing.pem` } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('REDIS_TLS_CA');
    expect(r.stderr).toContain('ENOENT');
    const noTls = await runCli(['metrics'], { env: { REDIS_URL: 'redis://127.0.0.1:6379/0', REDIS_TLS_CA: certs.caCert } });
    expect(noTls.code).toBe(2);
    expect(noTls.stderr).toBe('error: invalid configuration: REDIS_TLS_CA: needs TLS: a rediss:// REDIS_URL or REDIS_TLS=true\n');
  });

  it('Temporal: one set of options gives the client and the worker connection mTLS, the server name and the API key', async () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
      TEMPORAL_TLS_CA: certs.caCert,
      TEMPORAL_TLS_CERT: certs.clientCert,
      TEMPORAL_TLS_KEY: certs.clientKey,
      TEMPORAL_TLS_SERVER_NAME: TEST_SERVER_NAME,
      TEMPORAL_API_KEY: 'test-api-key-1',
    });
    const { client, native } = temporalConnectionOptions(config.temporal, { connectTimeoutMs: 5_000 });
    const connection = await Connection.connect(client);
    try {
      const described = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(described.namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
    const nativeConnection = await NativeConnection.connect(native);
    try {
      const described = await nativeConnection.workflowService.describeNamespace({ namespace: 'default' });
      expect(described.namespaceInfo?.name).toBe('default');
    } finally {
      await nativeConnection.close();
    }
    expect([...proxy.seen.serverNames]).toEqual([TEST_SERVER_NAME]);
    expect([...proxy.seen.clientCertificates]).toEqual([TEST_CLIENT_CN]);
    expect([...proxy.seen.authorizations]).toEqual(['Bearer test-api-key-1']);
    expect(proxy.seen.paths).toContain('/temporal.api.workflowservice.v1.WorkflowService/DescribeNamespace');
  });

  it('Temporal: `analytics health` connects through TLS from the variables; a server CA that did not sign the certificate is refused', async () => {
    const env = {
      TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`,
      TEMPORAL_TLS_CA: certs.caCert,
      TEMPORAL_TLS_CERT: certs.clientCert,
      TEMPORAL_TLS_KEY: certs.clientKey,
      TEMPORAL_TLS_SERVER_NAME: TEST_SERVER_NAME,
      CONNECT_TIMEOUT_MS: '3000',
    };
    const ok = await runCli(['health', '--json'], { env });
    expect(JSON.parse(ok.stdout).temporal).toEqual({ healthy: true, latencyMs: expect.any(Number) });

    const wrongCa = await runCli(['health', '--json'], { env: { ...env, TEMPORAL_TLS_CA: certs.otherCaCert } });
    expect(wrongCa.code).toBe(1);
    expect(JSON.parse(wrongCa.stdout).temporal).toEqual({ healthy: false, reason: expect.any(String) });

    const half = await runCli(['health'], { env: { ...env, TEMPORAL_TLS_KEY: '' } });
    expect(half.code).toBe(2);
    expect(half.stderr).toBe(
      'error: invalid configuration: TEMPORAL_TLS_KEY: the client certificate and key go together: set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY\n',
    );
  });

  it('Postgres: sslmode in DATABASE_URL reaches pg (the local server, SSL off, refuses sslmode=require and accepts sslmode=disable)', async () => {
    const client = new pg.Client({ connectionString: connectionStringOf(testConfig.databaseUrl) });
    await client.connect();
    try {
      expect((await client.query<{ ssl: string }>('SHOW ssl')).rows[0]!.ssl).toBe('off');
    } finally {
      await client.end();
    }
    const url = (mode: string) => {
      const u = new URL(testConfig.databaseUrl);
      u.searchParams.set('sslmode', mode);
      return u.toString();
    };
    expect(await probePostgres(url('require'), 3_000, { requireSchema: false })).toEqual({ healthy: false, reason: 'The server does not support SSL connections' });
    expect(await probePostgres(url('disable'), 3_000, { requireSchema: false })).toEqual({ healthy: true, latencyMs: expect.any(Number) });
  });
});
