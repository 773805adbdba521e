import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { redisOptionsOf } from '../src/queue/options';

describe('loadConfig', () => {
  it('defaults point at the local services', () => {
    const c = loadConfig({});
    expect(c.redis).toEqual({ host: '127.0.0.1', port: 6379, password: undefined, db: 0, url: 'redis://127.0.0.1:6379/0' });
    expect(c.databaseUrl).toBe('postgresql://postgres@127.0.0.1:5432/analytics');
    expect(c.temporal).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'analytics-aggregation',
      uiUrl: 'http://127.0.0.1:8233',
      scheduleTaskQueue: 'analytics-aggregation-schedules',
    });
    expect(c.tz).toBe('UTC');
    expect(c.queueName).toBe('analytics');
    expect(c.shutdownGraceMs).toBe(30_000);
    expect([c.bridgeConcurrency, c.bridgeReservedSlots, c.bridgeRateLimit, c.aggregationMaxInFlight]).toEqual([5, 2, 10, 20]);
    expect(c.connectTimeoutMs).toBe(5_000);
    expect(c.workersHeap).toEqual({ growingPercent: 25, semiSpaceMb: 8 });
    expect(c.exportDir).toMatch(/\/\.local\/exports$/);
    expect(c.reportDir).toMatch(/\/\.local\/reports$/);
  });

  it('the schedules\' task queue follows TEMPORAL_TASK_QUEUE', () => {
    expect(loadConfig({ TEMPORAL_TASK_QUEUE: 'tq' }).temporal.scheduleTaskQueue).toBe('tq-schedules');
  });

  it('REDIS_URL wins over the separate REDIS_* variables', () => {
    const c = loadConfig({ REDIS_URL: 'redis://:s%40cret@cache.internal:6380/3', REDIS_HOST: 'ignored', REDIS_PORT: '1' });
    expect(c.redis).toMatchObject({ host: 'cache.internal', port: 6380, password: 's@cret', db: 3 });
  });

  it('keeps the ACL user and TLS of a rediss:// URL', () => {
    const c = loadConfig({ REDIS_URL: 'rediss://app:pw@cache.internal:6380/1' });
    expect(c.redis).toMatchObject({ host: 'cache.internal', port: 6380, username: 'app', password: 'pw', db: 1, tls: true });
    expect(redisOptionsOf(c.redis)).toEqual({ host: 'cache.internal', port: 6380, db: 1, username: 'app', password: 'pw', tls: {} });
  });

  it('builds the Redis URL from REDIS_HOST/PORT/PASSWORD/DB', () => {
    const c = loadConfig({ REDIS_HOST: 'r', REDIS_PORT: '7000', REDIS_PASSWORD: 'p w', REDIS_DB: '2' });
    expect(c.redis).toEqual({ host: 'r', port: 7000, password: 'p w', db: 2, url: 'redis://:p%20w@r:7000/2' });
  });

  it('flags override the environment', () => {
    expect(loadConfig({ TZ: 'UTC' }, { TZ: 'Europe/Berlin' }).tz).toBe('Europe/Berlin');
  });

  it.each([
    ['REDIS_PORT', '70000'],
    ['REDIS_PORT', 'abc'],
    ['REDIS_DB', '-1'],
    ['REDIS_URL', 'http://x:1'],
    ['DATABASE_URL', 'mysql://x/y'],
    ['DATABASE_URL', 'not a url'],
    ['TEMPORAL_ADDRESS', 'localhost'],
    ['TZ', 'Mars/Olympus_Mons'],
    ['LOG_LEVEL', 'loud'],
    ['QUEUE_NAME', 'a:b'],
    ['SHUTDOWN_GRACE_MS', '-5'],
    ['BRIDGE_CONCURRENCY', '0'],
    ['BRIDGE_RESERVED_SLOTS', '-1'],
    ['BRIDGE_RATE_LIMIT', 'fast'],
    ['AGGREGATION_MAX_IN_FLIGHT', '2.5'],
    ['CONNECT_TIMEOUT_MS', '50'],
    ['CONNECT_TIMEOUT_MS', 'soon'],
    ['QUEUE_NAME', 'a/b'],
    ['QUEUE_NAME', '-dash-first'],
    ['REDIS_TLS', 'maybe'],
    ['TEMPORAL_TLS', 'on'],
    ['TEMPORAL_TLS_SERVER_NAME', 'not a host'],
    ['WORKERS_HEAP_GROWING_PERCENT', '-1'],
    ['WORKERS_SEMI_SPACE_MB', 'lots'],
  ])('rejects %s=%s with an error naming the variable', (variable, value) => {
    let error: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toContain(variable);
    expect((error as Error).message).toContain(JSON.stringify(value));
  });

  it('Temporal TLS: off by default; on with TEMPORAL_TLS, any TEMPORAL_TLS_* file or an API key', () => {
    expect(loadConfig({}).temporal.tls).toBeUndefined();
    expect(loadConfig({ TEMPORAL_TLS: 'true' }).temporal).toMatchObject({ tls: {} });
    expect(loadConfig({ TEMPORAL_API_KEY: 'k-123' }).temporal).toMatchObject({ tls: {}, apiKey: 'k-123' });
    const full = loadConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_TLS_CERT: '/certs/client.pem',
      TEMPORAL_TLS_KEY: '/certs/client.key',
      TEMPORAL_TLS_CA: '/certs/ca.pem',
      TEMPORAL_TLS_SERVER_NAME: 'ns.acct.tmprl.cloud',
    });
    expect(full.temporal.tls).toEqual({ certFile: '/certs/client.pem', keyFile: '/certs/client.key', caFile: '/certs/ca.pem', serverName: 'ns.acct.tmprl.cloud' });
    expect(() => loadConfig({ TEMPORAL_TLS_CERT: '/c.pem' })).toThrow(
      'invalid configuration: TEMPORAL_TLS_KEY: the client certificate and key go together: set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY',
    );
  });

  it('Redis TLS: REDIS_TLS=true for host/port settings, REDIS_TLS_CA only with TLS', () => {
    const c = loadConfig({ REDIS_HOST: 'cache', REDIS_TLS: 'true', REDIS_TLS_CA: '/certs/redis-ca.pem' });
    expect(c.redis).toMatchObject({ host: 'cache', tls: true, tlsCaFile: '/certs/redis-ca.pem', url: 'rediss://cache:6379/0' });
    expect(() => loadConfig({ REDIS_TLS_CA: '/ca.pem' })).toThrow('invalid configuration: REDIS_TLS_CA: needs TLS: a rediss:// REDIS_URL or REDIS_TLS=true');
    expect(() => redisOptionsOf({ host: 'h', port: 1, tls: true, tlsCaFile: '/no/such/ca.pem' })).toThrow('invalid configuration: REDIS_TLS_CA: cannot read "/no/such/ca.pem" (ENOENT)');
  });

  it('configuration errors mask passwords: URLs keep everything but the password, secret variables are not shown', () => {
    const message = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(message({ REDIS_URL: 'redis://:s3cret-pw@cache:6379/x' })).toBe('invalid configuration: REDIS_URL: bad database number in redis://:***@cache:6379/x');
    expect(message({ DATABASE_URL: 'mysql://app:s3cret-pw@db/analytics' })).toBe('invalid configuration: DATABASE_URL: must start with postgresql:// (got "mysql://app:***@db/analytics")');
    expect(message({ TEMPORAL_ADDRESS: 'app:s3cret-pw@temporal:7233' })).toBe('invalid configuration: TEMPORAL_ADDRESS: must be host:port (got "***@temporal:7233")');
  });
});
