import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readPem } from '../src/config';

// Configuration parsing, variable by variable: what each accepts and refuses, and the exact
// message (it names the variable and shows the value, secrets masked). Defaults and the
// Redis/Temporal TLS basics: test/config.test.ts.

/** The ConfigError loadConfig throws for `env` (fails the test when it accepts it). */
function refusal(env: Record<string, string>, overrides: Record<string, string> = {}): ConfigError {
  try {
    loadConfig(env, overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('loadConfig: the environment and the flags', () => {
  it('an empty value counts as unset; a flag wins over the environment', () => {
    expect(loadConfig({ QUEUE_NAME: '' }).queueName).toBe('analytics');
    expect(loadConfig({ QUEUE_NAME: 'from-env' }).queueName).toBe('from-env');
    expect(loadConfig({ QUEUE_NAME: 'from-env' }, { QUEUE_NAME: 'from-flag' }).queueName).toBe('from-flag');
    expect(loadConfig({}, { TEMPORAL_NAMESPACE: 'ns-flag' }).temporal.namespace).toBe('ns-flag');
  });

  it('reads every numeric setting as a whole number', () => {
    const c = loadConfig({
      SHUTDOWN_GRACE_MS: '0',
      BRIDGE_CONCURRENCY: '1000',
      BRIDGE_RESERVED_SLOTS: '0',
      BRIDGE_RATE_LIMIT: '100000',
      AGGREGATION_MAX_IN_FLIGHT: '1',
      AGGREGATION_BULK_SLOTS: '1000',
      CONNECT_TIMEOUT_MS: '100',
    });
    expect([c.shutdownGraceMs, c.bridgeConcurrency, c.bridgeReservedSlots, c.bridgeRateLimit, c.aggregationMaxInFlight, c.aggregationBulkSlots, c.connectTimeoutMs]).toEqual([
      0, 1000, 0, 100_000, 1, 1000, 100,
    ]);
    expect(loadConfig({ SHUTDOWN_GRACE_MS: String(24 * 3_600_000) }).shutdownGraceMs).toBe(86_400_000);
    expect(loadConfig({ CONNECT_TIMEOUT_MS: '600000' }).connectTimeoutMs).toBe(600_000);
  });

  it.each([
    ['SHUTDOWN_GRACE_MS', String(24 * 3_600_000 + 1)],
    ['BRIDGE_CONCURRENCY', '1001'],
    ['BRIDGE_RATE_LIMIT', '0'],
    ['BRIDGE_RATE_LIMIT', '100001'],
    ['AGGREGATION_MAX_IN_FLIGHT', '0'],
    ['AGGREGATION_BULK_SLOTS', '0'],
    ['CONNECT_TIMEOUT_MS', '600001'],
    ['REDIS_PORT', '0'],
    ['REDIS_PORT', '65536'],
    ['REDIS_DB', '16'],
  ])('refuses %s=%s (out of range)', (variable, value) => {
    const err = refusal({ [variable]: value });
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(new RegExp(`^invalid configuration: ${variable}: .* \\(got "${value}"\\)$`));
  });

  it('log level and format: the defaults and every accepted value', () => {
    expect([loadConfig({}).logLevel, loadConfig({}).logFormat]).toEqual(['info', 'auto']);
    for (const level of ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) expect(loadConfig({ LOG_LEVEL: level }).logLevel).toBe(level);
    for (const format of ['auto', 'pretty', 'json']) expect(loadConfig({ LOG_FORMAT: format }).logFormat).toBe(format);
    expect(refusal({ LOG_FORMAT: 'xml' }).variable).toBe('LOG_FORMAT');
  });

  it('timezones, directories and names', () => {
    expect(loadConfig({ TZ: 'America/Santiago' }).tz).toBe('America/Santiago');
    expect(refusal({ TZ: 'Mars/Olympus_Mons' }).message).toBe(
      'invalid configuration: TZ: must be an IANA timezone such as UTC or Europe/Berlin (got "Mars/Olympus_Mons")',
    );
    const c = loadConfig({ EXPORT_DIR: '/data/exports', REPORT_DIR: '/data/reports', TEMPORAL_UI_URL: 'https://temporal.example.test', TEMPORAL_NAMESPACE: 'prod' });
    expect([c.exportDir, c.reportDir, c.temporal.uiUrl, c.temporal.namespace]).toEqual(['/data/exports', '/data/reports', 'https://temporal.example.test', 'prod']);
    expect(refusal({ TEMPORAL_UI_URL: 'not a url' }).variable).toBe('TEMPORAL_UI_URL');
    expect(refusal({ QUEUE_NAME: 'a:b' }).message).toBe(
      'invalid configuration: QUEUE_NAME: must be 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit (got "a:b")',
    );
  });
});

describe('loadConfig: addresses and URLs', () => {
  it('TEMPORAL_ADDRESS is host:port with one to five digits', () => {
    for (const address of ['temporal:7233', 'ns.acct.tmprl.cloud:7233', '10.0.0.1:1', 'h:65535']) expect(loadConfig({ TEMPORAL_ADDRESS: address }).temporal.address).toBe(address);
    for (const address of ['temporal', 'temporal:', 'temporal:123456', 'a b:7233', 'x/y:7233', 'a:b:7233', 'temporal:7233x', ':7233', 'temporal:port']) {
      expect([address, refusal({ TEMPORAL_ADDRESS: address }).message]).toEqual([address, `invalid configuration: TEMPORAL_ADDRESS: must be host:port (got ${JSON.stringify(address)})`]);
    }
  });

  it('DATABASE_URL takes postgresql:// and postgres://, nothing else', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db/x' }).databaseUrl).toBe('postgres://u@db/x');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@db:6432/x?schema=s' }).databaseUrl).toBe('postgresql://u@db:6432/x?schema=s');
    for (const url of ['mysql://db/x', 'xpostgresql://db/x', 'postgresqlx://db/x', 'postgresq://db/x']) {
      expect([url, refusal({ DATABASE_URL: url }).message]).toEqual([url, `invalid configuration: DATABASE_URL: must start with postgresql:// (got ${JSON.stringify(url)})`]);
    }
  });

  it('REDIS_URL takes redis:// and rediss://, nothing else', () => {
    for (const url of ['http://x:1', 'xredis://x:1', 'redi://x:1', 'redisss://x:1']) {
      expect([url, refusal({ REDIS_URL: url }).message]).toEqual([url, `invalid configuration: REDIS_URL: must start with redis:// or rediss:// (got ${JSON.stringify(url)})`]);
    }
    expect(refusal({ REDIS_URL: 'not a url' }).variable).toBe('REDIS_URL');
  });

  it('REDIS_URL: port 6379 and database 0 unless given; user and password decoded', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache' }).redis).toEqual({ host: 'cache', port: 6379, password: undefined, db: 0, url: 'redis://cache' });
    expect(loadConfig({ REDIS_URL: 'redis://cache/' }).redis).toMatchObject({ db: 0 });
    expect(loadConfig({ REDIS_URL: 'redis://cache:7000/15' }).redis).toMatchObject({ port: 7000, db: 15 });
    expect(loadConfig({ REDIS_URL: 'redis://us%40er:p%3Aw@cache/2' }).redis).toEqual({
      host: 'cache',
      port: 6379,
      password: 'p:w',
      username: 'us@er',
      db: 2,
      url: 'redis://us%40er:p%3Aw@cache/2',
    });
    // A user without a password, and a plain redis:// URL: no username key, no TLS key.
    expect(loadConfig({ REDIS_URL: 'redis://app@cache' }).redis).toEqual({ host: 'cache', port: 6379, password: undefined, db: 0, url: 'redis://app@cache', username: 'app' });
    expect(refusal({ REDIS_URL: 'redis://cache/-1' }).message).toBe('invalid configuration: REDIS_URL: bad database number in redis://cache/-1');
    expect(refusal({ REDIS_URL: 'redis://cache/1.5' }).variable).toBe('REDIS_URL');
  });

  it('REDIS_HOST/PORT/PASSWORD/DB: no password, no auth in the URL; REDIS_TLS=true makes it rediss://', () => {
    expect(loadConfig({ REDIS_HOST: 'r', REDIS_PORT: '6380' }).redis).toEqual({ host: 'r', port: 6380, password: undefined, db: 0, url: 'redis://r:6380/0' });
    expect(loadConfig({ REDIS_HOST: 'r', REDIS_PASSWORD: 'a@b/c' }).redis.url).toBe('redis://:a%40b%2Fc@r:6379/0');
    expect(loadConfig({ REDIS_HOST: 'r', REDIS_TLS: 'true' }).redis).toEqual({ host: 'r', port: 6379, password: undefined, db: 0, url: 'rediss://r:6379/0', tls: true });
    expect(loadConfig({ REDIS_HOST: 'r', REDIS_TLS: 'false' }).redis).toEqual({ host: 'r', port: 6379, password: undefined, db: 0, url: 'redis://r:6379/0' });
  });

  it('REDIS_TLS=false contradicts a rediss:// URL', () => {
    expect(refusal({ REDIS_URL: 'rediss://cache', REDIS_TLS: 'false' }).message).toBe('invalid configuration: REDIS_TLS: is false, but REDIS_URL is rediss:// (TLS)');
    expect(loadConfig({ REDIS_URL: 'rediss://cache', REDIS_TLS: 'true' }).redis.tls).toBe(true);
    expect(loadConfig({ REDIS_URL: 'rediss://cache', REDIS_TLS_CA: '/ca.pem' }).redis).toMatchObject({ tls: true, tlsCaFile: '/ca.pem' });
  });
});

describe('loadConfig: flags (true/false settings)', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('REDIS_TLS=%s is %s', (value, on) => {
    expect(loadConfig({ REDIS_HOST: 'r', REDIS_TLS: value }).redis.tls === true).toBe(on);
    expect(loadConfig({ TEMPORAL_TLS: value }).temporal.tls !== undefined).toBe(on);
  });

  it('anything else names the variable', () => {
    expect(refusal({ TEMPORAL_TLS: 'on' }).message).toBe('invalid configuration: TEMPORAL_TLS: must be true or false (got "on")');
    expect(refusal({ REDIS_TLS: 'TRUE' }).variable).toBe('REDIS_TLS');
  });
});

describe('loadConfig: Temporal TLS and API key', () => {
  it('any one TLS setting implies TLS and is kept; the others stay out', () => {
    expect(loadConfig({ TEMPORAL_TLS_CA: '/ca.pem' }).temporal.tls).toEqual({ caFile: '/ca.pem' });
    expect(loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }).temporal.tls).toEqual({ serverName: 'temporal.internal' });
    expect(loadConfig({ TEMPORAL_TLS_CERT: '/c.pem', TEMPORAL_TLS_KEY: '/k.pem' }).temporal.tls).toEqual({ certFile: '/c.pem', keyFile: '/k.pem' });
    const withKey = loadConfig({ TEMPORAL_API_KEY: 'key-abc-123' }).temporal;
    expect(withKey.tls).toEqual({});
    expect(withKey.apiKey).toBe('key-abc-123');
    // Without an API key there is no apiKey field at all.
    expect(Object.keys(loadConfig({ TEMPORAL_TLS: 'true' }).temporal)).not.toContain('apiKey');
    expect(Object.keys(loadConfig({}).temporal)).not.toContain('tls');
  });

  it('TEMPORAL_TLS=false with nothing implying TLS is plain text; with something, an error', () => {
    expect(loadConfig({ TEMPORAL_TLS: 'false' }).temporal.tls).toBeUndefined();
    const implying: Record<string, string>[] = [{ TEMPORAL_TLS_CA: '/ca.pem' }, { TEMPORAL_API_KEY: 'key-def-456' }, { TEMPORAL_TLS_SERVER_NAME: 'h' }];
    for (const env of implying) {
      expect(refusal({ ...env, TEMPORAL_TLS: 'false' }).message).toBe('invalid configuration: TEMPORAL_TLS: is false, but TEMPORAL_TLS_* or TEMPORAL_API_KEY ask for TLS');
    }
  });

  it('a key without a certificate names the certificate', () => {
    const err = refusal({ TEMPORAL_TLS_KEY: '/k.pem' });
    expect(err.variable).toBe('TEMPORAL_TLS_CERT');
    expect(err.message).toBe('invalid configuration: TEMPORAL_TLS_CERT: the client certificate and key go together: set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY');
    expect(refusal({ TEMPORAL_TLS_CERT: '/c.pem' }).variable).toBe('TEMPORAL_TLS_KEY');
  });

  it('TEMPORAL_TLS_SERVER_NAME is a host name', () => {
    expect(loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'ns-1.acct.tmprl.cloud' }).temporal.tls).toEqual({ serverName: 'ns-1.acct.tmprl.cloud' });
    for (const name of ['not a host', 'host_name', 'h:7233']) {
      expect(refusal({ TEMPORAL_TLS_SERVER_NAME: name }).message).toBe(`invalid configuration: TEMPORAL_TLS_SERVER_NAME: must be a host name (got ${JSON.stringify(name)})`);
    }
  });
});

describe('loadConfig: secrets never show', () => {
  // Each test uses secrets of its own: registered secrets are masked process-wide from then on.
  it('a password in REDIS_URL or DATABASE_URL, REDIS_PASSWORD and TEMPORAL_API_KEY are masked wherever they turn up later', () => {
    const cases: [Record<string, string>, string][] = [
      [{ REDIS_URL: 'redis://:redis-url-secret@cache/0' }, 'redis-url-secret'],
      [{ DATABASE_URL: 'postgresql://app:db%20url-secret@db/x' }, 'db url-secret'],
      [{ REDIS_PASSWORD: 'plain-redis-secret' }, 'plain-redis-secret'],
      [{ TEMPORAL_API_KEY: 'temporal-key-secret' }, 'temporal-key-secret'],
    ];
    for (const [env, secret] of cases) {
      // The secret shows up in another variable's value: the message masks it all the same.
      const err = refusal({ ...env, TEMPORAL_ADDRESS: `${secret}` });
      expect(err.message).toBe('invalid configuration: TEMPORAL_ADDRESS: must be host:port (got "***")');
    }
  });

  it('a password in a URL that does not parse is masked too', () => {
    const err = refusal({ REDIS_URL: 'redis://user:unparsed-secret@ho st:6379/0' });
    expect(err.variable).toBe('REDIS_URL');
    expect(err.message).not.toContain('unparsed-secret');
    expect(refusal({ TEMPORAL_ADDRESS: 'unparsed-secret' }).message).toBe('invalid configuration: TEMPORAL_ADDRESS: must be host:port (got "***")');
  });

  it('URLs in messages keep everything but the password', () => {
    expect(refusal({ REDIS_URL: 'http://app:in-message-pw@cache:1' }).message).toBe(
      'invalid configuration: REDIS_URL: must start with redis:// or rediss:// (got "http://app:***@cache:1")',
    );
  });
});

describe('readPem', () => {
  it('reads the file, or names the variable and the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pem-'));
    try {
      const path = join(dir, 'ca.pem');
      writeFileSync(path, '-----BEGIN CERTIFICATE-----\n');
      expect(readPem(path, 'TEMPORAL_TLS_CA').toString()).toBe('-----BEGIN CERTIFICATE-----\n');
      const missing = join(dir, 'missing.pem');
      expect(() => readPem(missing, 'TEMPORAL_TLS_CERT')).toThrow(`invalid configuration: TEMPORAL_TLS_CERT: cannot read ${JSON.stringify(missing)} (ENOENT)`);
      expect(() => readPem(missing, 'TEMPORAL_TLS_CERT')).toThrow(ConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
