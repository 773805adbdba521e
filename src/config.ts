import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors/config-error';
import { redactUrl, registerSecret } from './errors/redact';
import { PROJECT_ROOT } from './paths';
import { queueNameProblem } from './queue/schemas';

export { ConfigError };

/**
 * Configuration, resolved once per process from defaults < environment < flags.
 * No other module reads `process.env`; composition roots call {@link loadConfig} and pass the
 * result (or the part a component needs) down.
 */
export interface Config {
  /** Redis connection, from REDIS_URL or REDIS_HOST/PORT/PASSWORD/DB. @defaultValue redis://127.0.0.1:6379/0 */
  redis: {
    host: string;
    port: number;
    password: string | undefined;
    db: number;
    url: string;
    username?: string;
    /** Connect over TLS: a `rediss://` REDIS_URL, or REDIS_TLS=true. @defaultValue false */
    tls?: boolean;
    /** PEM file of the CA that signed the Redis server's certificate (REDIS_TLS_CA). @defaultValue the system's CAs */
    tlsCaFile?: string;
  };
  /**
   * Postgres connection string; `?schema=` selects a schema. TLS follows libpq's `sslmode`
   * (`disable`, `require`, `verify-ca`, `verify-full`) with `sslrootcert`, `sslcert`, `sslkey`,
   * which `pg` reads from the URL. @defaultValue postgresql://postgres@127.0.0.1:5432/analytics
   */
  databaseUrl: string;
  /**
   * Longest a client command (`metrics`, `job add`, `health`, queued `aggregate`, …) waits for
   * Redis, Postgres or Temporal to answer before it fails naming the service (CONNECT_TIMEOUT_MS).
   * @defaultValue 5000
   */
  connectTimeoutMs: number;
  temporal: {
    /** @defaultValue 127.0.0.1:7233 */
    address: string;
    /** @defaultValue default */
    namespace: string;
    /** @defaultValue analytics-aggregation */
    taskQueue: string;
    /** Where the Web UI of the local dev server answers. @defaultValue http://127.0.0.1:8233 */
    uiUrl: string;
    /** Task queue of the schedules' trigger workflows. @defaultValue `<taskQueue>-schedules` */
    scheduleTaskQueue: string;
    /**
     * TLS to the Temporal frontend (TEMPORAL_TLS, or implied by any TEMPORAL_TLS_* variable or
     * TEMPORAL_API_KEY); undefined for plain text. @defaultValue undefined (plain text)
     */
    tls?: TemporalTls | undefined;
    /** API key sent as `Authorization: Bearer <key>` (Temporal Cloud); TLS is implied (TEMPORAL_API_KEY). @defaultValue none */
    apiKey?: string | undefined;
  };
  /** IANA timezone the schedules' cron expressions are read in. @defaultValue UTC */
  tz: string;
  /** BullMQ queue the facade and the bridge use. @defaultValue analytics */
  queueName: string;
  /** Directory `export` jobs write CSV/JSON files to. @defaultValue .local/exports in the project */
  exportDir: string;
  /** Directory `scheduled-report` jobs write text/HTML summaries to. @defaultValue .local/reports in the project */
  reportDir: string;
  /** Cron (read in `tz`) of the `scheduled-report` schedule (SCHEDULED_REPORT_CRON). @defaultValue `0 6 * * 1` (Mondays 06:00) */
  scheduledReportCron: string;
  /** Period type the `scheduled-report` schedule reports on (SCHEDULED_REPORT_PERIOD). @defaultValue week */
  scheduledReportPeriodType: 'day' | 'week' | 'month';
  /** How long `analytics workers` lets active jobs finish after SIGTERM/SIGINT. @defaultValue 30000 */
  shutdownGraceMs: number;
  /**
   * V8 heap settings of the workers process (src/cli/heap.ts): how far the old generation may grow
   * past what the last full collection kept before the next one, in percent (WORKERS_HEAP_GROWING_PERCENT),
   * and the semi-space of the workflow threads' young generation, in MB (WORKERS_SEMI_SPACE_MB).
   * 0 leaves V8's own choice. @defaultValue 25 and 8
   */
  workersHeap: { growingPercent: number; semiSpaceMb: number };
  /** Jobs one bridge worker follows at once. @defaultValue 5 */
  bridgeConcurrency: number;
  /** Bridge slots only jobs that are not backfills may take, so the schedules' jobs never wait behind backfills. @defaultValue 2 */
  bridgeReservedSlots: number;
  /** Jobs the bridges start per second, all together. @defaultValue 10 */
  bridgeRateLimit: number;
  /** Aggregation calls one job's workflow keeps in flight. @defaultValue 20 */
  aggregationMaxInFlight: number;
  /** Tenant activities the backfill lane (task queue `<taskQueue>-bulk`) runs at once in one worker process when nothing else runs. @defaultValue 20 */
  aggregationBulkSlots: number;
  /**
   * Backfill tenant activities started at once while other jobs' tenant activities run in the
   * same process, so the schedules' jobs have Postgres to themselves. @defaultValue 0
   */
  aggregationBulkYieldSlots: number;
  /**
   * How long a backfill tenant activity waits at most for other jobs before it starts anyway (one
   * at a time), so a steady stream of jobs never stops a backfill. @defaultValue 30000
   */
  aggregationBulkMaxYieldMs: number;
  /** @defaultValue info */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * How log lines look on stderr (LOG_FORMAT): `pretty` readable lines, `json` one JSON object a
   * line, `auto` pretty when stderr is a terminal and JSON otherwise. @defaultValue auto
   */
  logFormat: 'auto' | 'pretty' | 'json';
  /**
   * Port of the workers process's HTTP endpoint: Prometheus `/metrics`, `/healthz`, `/readyz`
   * (METRICS_PORT); 0 turns it off. @defaultValue 9464
   */
  metricsPort: number;
  /** Address that endpoint binds (METRICS_HOST); anything but loopback is opt-in. @defaultValue 127.0.0.1 */
  metricsHost: string;
  /**
   * Prefix of the schedule ids of this deployment (SCHEDULE_ID_PREFIX), so two deployments in one
   * namespace own separate schedules. @defaultValue none for QUEUE_NAME `analytics` (the ids stay
   * `daily-revenue`, ...), else `<QUEUE_NAME>-`
   */
  scheduleIdPrefix: string;
}

/** TLS settings of the Temporal connection; files are PEM and read when connecting. */
export interface TemporalTls {
  /** Client certificate for mTLS (TEMPORAL_TLS_CERT); needs {@link keyFile}. @defaultValue none */
  certFile?: string | undefined;
  /** Client private key for mTLS (TEMPORAL_TLS_KEY); needs {@link certFile}. @defaultValue none */
  keyFile?: string | undefined;
  /** CA that signed the server's certificate (TEMPORAL_TLS_CA). @defaultValue the system's CAs */
  caFile?: string | undefined;
  /** Name checked against the server's certificate and sent as SNI (TEMPORAL_TLS_SERVER_NAME). @defaultValue the host of TEMPORAL_ADDRESS */
  serverName?: string | undefined;
}

export const CONFIG_DEFAULTS = {
  REDIS_HOST: '127.0.0.1',
  REDIS_PORT: '6379',
  REDIS_DB: '0',
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/analytics',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  TEMPORAL_NAMESPACE: 'default',
  TEMPORAL_TASK_QUEUE: 'analytics-aggregation',
  TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
  TZ: 'UTC',
  LOG_LEVEL: 'info',
  LOG_FORMAT: 'auto',
  QUEUE_NAME: 'analytics',
  EXPORT_DIR: `${PROJECT_ROOT}.local/exports`,
  REPORT_DIR: `${PROJECT_ROOT}.local/reports`,
  SCHEDULED_REPORT_CRON: '0 6 * * 1',
  SCHEDULED_REPORT_PERIOD: 'week',
  SHUTDOWN_GRACE_MS: '30000',
  WORKERS_HEAP_GROWING_PERCENT: '25',
  WORKERS_SEMI_SPACE_MB: '8',
  BRIDGE_CONCURRENCY: '5',
  BRIDGE_RESERVED_SLOTS: '2',
  BRIDGE_RATE_LIMIT: '10',
  AGGREGATION_MAX_IN_FLIGHT: '20',
  AGGREGATION_BULK_SLOTS: '20',
  AGGREGATION_BULK_YIELD_SLOTS: '0',
  AGGREGATION_BULK_MAX_YIELD_MS: '30000',
  CONNECT_TIMEOUT_MS: '5000',
  METRICS_PORT: '9464',
  METRICS_HOST: '127.0.0.1',
} as const;

/** Variables whose values are secrets: never shown, not even in a configuration error. */
const SECRET_VARIABLES = new Set(['REDIS_PASSWORD', 'TEMPORAL_API_KEY']);
/** Variables holding URLs or addresses that may carry a password: shown with it masked. */
const URL_VARIABLES = new Set(['REDIS_URL', 'DATABASE_URL', 'TEMPORAL_ADDRESS']);

/** A variable's value as a configuration error may show it. */
function shown(variable: string, value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (SECRET_VARIABLES.has(variable)) return 'a value (hidden)';
  return JSON.stringify(URL_VARIABLES.has(variable) ? redactUrl(value) : value);
}

/** The password of a URL, also of one that does not parse (what stands between `user:` and the last `@`). */
function passwordOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const u = new URL(url);
    return u.password ? decodeURIComponent(u.password) : undefined;
  } catch {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:(.*)@/is.exec(url);
    return m?.[1] || undefined;
  }
}

/** The URL's scheme, or undefined when it does not parse (zod runs refinements even after .url() fails). */
function schemeOf(u: string): string | undefined {
  try {
    return new URL(u).protocol;
  } catch {
    return undefined;
  }
}

const port = z.coerce.number().int().min(1).max(65535);
const flag = z.enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' }).transform((v) => v === 'true' || v === '1' || v === 'yes');
const file = z.string().min(1).optional();

function isIanaZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const fields = {
  REDIS_URL: z
    .string()
    .url()
    .refine((u) => /^rediss?:$/.test(schemeOf(u) ?? ''), 'must start with redis:// or rediss://')
    .optional(),
  REDIS_HOST: z.string().min(1),
  REDIS_PORT: port,
  REDIS_PASSWORD: z.string().optional(),
  REDIS_DB: z.coerce.number().int().min(0).max(15),
  DATABASE_URL: z
    .string()
    .url()
    .refine((u) => /^postgres(ql)?:$/.test(schemeOf(u) ?? ''), 'must start with postgresql://'),
  TEMPORAL_ADDRESS: z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be host:port'),
  TEMPORAL_NAMESPACE: z.string().min(1),
  TEMPORAL_TASK_QUEUE: z.string().min(1),
  TEMPORAL_UI_URL: z.string().url(),
  TZ: z.string().refine(isIanaZone, 'must be an IANA timezone such as UTC or Europe/Berlin'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  LOG_FORMAT: z.enum(['auto', 'pretty', 'json']),
  QUEUE_NAME: z.string().superRefine((v, ctx) => {
    const problem = queueNameProblem(v);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  EXPORT_DIR: z.string().min(1),
  REPORT_DIR: z.string().min(1),
  // Five fields; the scheduler checks the expression itself when it installs the schedule.
  SCHEDULED_REPORT_CRON: z.string().trim().regex(/^\S+( \S+){4}$/, 'must be a five-field cron expression such as "0 6 * * 1"'),
  SCHEDULED_REPORT_PERIOD: z.enum(['day', 'week', 'month']),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(24 * 60 * 60 * 1000),
  WORKERS_HEAP_GROWING_PERCENT: z.coerce.number().int().min(0).max(1000),
  WORKERS_SEMI_SPACE_MB: z.coerce.number().int().min(0).max(1024),
  BRIDGE_CONCURRENCY: z.coerce.number().int().min(1).max(1000),
  BRIDGE_RESERVED_SLOTS: z.coerce.number().int().min(0).max(1000),
  BRIDGE_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000),
  AGGREGATION_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000),
  AGGREGATION_BULK_SLOTS: z.coerce.number().int().min(1).max(1000),
  AGGREGATION_BULK_YIELD_SLOTS: z.coerce.number().int().min(0).max(1000),
  AGGREGATION_BULK_MAX_YIELD_MS: z.coerce.number().int().min(0).max(3_600_000),
  CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(10 * 60 * 1000),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535),
  METRICS_HOST: z.string().min(1),
  SCHEDULE_ID_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'may hold only letters, digits, ".", "_" and "-"')
    .max(64)
    .optional(),
  REDIS_TLS: flag.optional(),
  REDIS_TLS_CA: file,
  TEMPORAL_TLS: flag.optional(),
  TEMPORAL_TLS_CERT: file,
  TEMPORAL_TLS_KEY: file,
  TEMPORAL_TLS_CA: file,
  TEMPORAL_TLS_SERVER_NAME: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a host name').optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
} as const;

type Raw = { [K in keyof typeof fields]: z.infer<(typeof fields)[K]> };

/** Parses `env` (defaults to `process.env`) and `overrides`; throws {@link ConfigError} naming the variable. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Record<keyof typeof fields, string>> = {},
): Config {
  const merged: Record<string, string | undefined> = { ...CONFIG_DEFAULTS };
  for (const key of Object.keys(fields)) {
    const value = overrides[key as keyof typeof fields] ?? env[key];
    if (value !== undefined && value !== '') merged[key] = value;
  }
  // Known before anything can fail, so that no message (nor log line) shows them.
  registerSecret(merged.REDIS_PASSWORD);
  registerSecret(merged.TEMPORAL_API_KEY);
  registerSecret(passwordOf(merged.REDIS_URL));
  registerSecret(passwordOf(merged.DATABASE_URL));
  const raw = {} as Record<string, unknown>;
  for (const [key, schema] of Object.entries(fields)) {
    const parsed = schema.safeParse(merged[key]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(key, `${issue?.message ?? 'invalid'} (got ${shown(key, merged[key])})`);
    }
    raw[key] = parsed.data;
  }
  const r = raw as Raw;
  let redis: Config['redis'];
  if (r.REDIS_URL) {
    const u = new URL(r.REDIS_URL);
    const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
    if (!Number.isInteger(db) || db < 0) throw new ConfigError('REDIS_URL', `bad database number in ${redactUrl(r.REDIS_URL)}`);
    redis = {
      host: u.hostname,
      port: u.port ? Number(u.port) : 6379,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      db,
      url: r.REDIS_URL,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: true } : {}),
    };
  } else {
    const auth = r.REDIS_PASSWORD ? `:${encodeURIComponent(r.REDIS_PASSWORD)}@` : '';
    redis = {
      host: r.REDIS_HOST,
      port: r.REDIS_PORT,
      password: r.REDIS_PASSWORD || undefined,
      db: r.REDIS_DB,
      url: `${r.REDIS_TLS ? 'rediss' : 'redis'}://${auth}${r.REDIS_HOST}:${r.REDIS_PORT}/${r.REDIS_DB}`,
      ...(r.REDIS_TLS ? { tls: true } : {}),
    };
  }
  if (r.REDIS_TLS === false && redis.tls) throw new ConfigError('REDIS_TLS', 'is false, but REDIS_URL is rediss:// (TLS)');
  if (r.REDIS_TLS_CA !== undefined) {
    if (!redis.tls) throw new ConfigError('REDIS_TLS_CA', 'needs TLS: a rediss:// REDIS_URL or REDIS_TLS=true');
    redis.tlsCaFile = r.REDIS_TLS_CA;
  }
  return {
    redis,
    databaseUrl: r.DATABASE_URL,
    connectTimeoutMs: r.CONNECT_TIMEOUT_MS,
    temporal: {
      address: r.TEMPORAL_ADDRESS,
      namespace: r.TEMPORAL_NAMESPACE,
      taskQueue: r.TEMPORAL_TASK_QUEUE,
      uiUrl: r.TEMPORAL_UI_URL,
      scheduleTaskQueue: `${r.TEMPORAL_TASK_QUEUE}-schedules`,
      ...temporalSecurity(r),
    },
    tz: r.TZ,
    logLevel: r.LOG_LEVEL,
    logFormat: r.LOG_FORMAT,
    queueName: r.QUEUE_NAME,
    exportDir: r.EXPORT_DIR,
    reportDir: r.REPORT_DIR,
    scheduledReportCron: r.SCHEDULED_REPORT_CRON,
    scheduledReportPeriodType: r.SCHEDULED_REPORT_PERIOD,
    shutdownGraceMs: r.SHUTDOWN_GRACE_MS,
    workersHeap: { growingPercent: r.WORKERS_HEAP_GROWING_PERCENT, semiSpaceMb: r.WORKERS_SEMI_SPACE_MB },
    bridgeConcurrency: r.BRIDGE_CONCURRENCY,
    bridgeReservedSlots: r.BRIDGE_RESERVED_SLOTS,
    bridgeRateLimit: r.BRIDGE_RATE_LIMIT,
    aggregationMaxInFlight: r.AGGREGATION_MAX_IN_FLIGHT,
    aggregationBulkSlots: r.AGGREGATION_BULK_SLOTS,
    aggregationBulkYieldSlots: r.AGGREGATION_BULK_YIELD_SLOTS,
    aggregationBulkMaxYieldMs: r.AGGREGATION_BULK_MAX_YIELD_MS,
    metricsPort: r.METRICS_PORT,
    metricsHost: r.METRICS_HOST,
    scheduleIdPrefix: r.SCHEDULE_ID_PREFIX ?? (r.QUEUE_NAME === CONFIG_DEFAULTS.QUEUE_NAME ? '' : `${r.QUEUE_NAME}-`),
  };
}

/** TLS and API key of the Temporal connection: TLS when asked for or implied by a TLS file or an API key. */
function temporalSecurity(r: Raw): Pick<Config['temporal'], 'tls' | 'apiKey'> {
  if ((r.TEMPORAL_TLS_CERT === undefined) !== (r.TEMPORAL_TLS_KEY === undefined)) {
    const missing = r.TEMPORAL_TLS_CERT === undefined ? 'TEMPORAL_TLS_CERT' : 'TEMPORAL_TLS_KEY';
    throw new ConfigError(missing, 'the client certificate and key go together: set both TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY');
  }
  const files = { certFile: r.TEMPORAL_TLS_CERT, keyFile: r.TEMPORAL_TLS_KEY, caFile: r.TEMPORAL_TLS_CA, serverName: r.TEMPORAL_TLS_SERVER_NAME };
  const implied = Object.values(files).some((v) => v !== undefined) || r.TEMPORAL_API_KEY !== undefined;
  if (r.TEMPORAL_TLS === false && implied) {
    throw new ConfigError('TEMPORAL_TLS', 'is false, but TEMPORAL_TLS_* or TEMPORAL_API_KEY ask for TLS');
  }
  if (!(r.TEMPORAL_TLS ?? implied)) return {};
  const tls = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined)) as TemporalTls;
  return { tls, ...(r.TEMPORAL_API_KEY !== undefined ? { apiKey: r.TEMPORAL_API_KEY } : {}) };
}

/** A PEM file named by a variable, read when connecting; a {@link ConfigError} naming the variable when it cannot be read. */
export function readPem(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(variable, `cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
