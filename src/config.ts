import { z } from 'zod';
import { ConfigError } from './errors/config-error';
import { PROJECT_ROOT } from './paths';

export { ConfigError };

/**
 * Configuration, resolved once per process from defaults < environment < flags.
 * No other module reads `process.env`; composition roots call {@link loadConfig} and pass the
 * result (or the part a component needs) down.
 */
export interface Config {
  /** Redis connection, from REDIS_URL or REDIS_HOST/PORT/PASSWORD/DB. @defaultValue redis://127.0.0.1:6379/0 */
  redis: { host: string; port: number; password: string | undefined; db: number; url: string; username?: string; tls?: boolean };
  /** Postgres connection string; `?schema=` selects a schema. @defaultValue postgresql://postgres@127.0.0.1:5432/analytics */
  databaseUrl: string;
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
  };
  /** IANA timezone the schedules' cron expressions are read in. @defaultValue UTC */
  tz: string;
  /** BullMQ queue the facade and the bridge use. @defaultValue analytics */
  queueName: string;
  /** Directory `export` jobs write CSV/JSON files to. @defaultValue .local/exports in the project */
  exportDir: string;
  /** Directory `scheduled-report` jobs write text/HTML summaries to. @defaultValue .local/reports in the project */
  reportDir: string;
  /** How long `analytics workers` lets active jobs finish after SIGTERM/SIGINT. @defaultValue 30000 */
  shutdownGraceMs: number;
  /** Jobs one bridge worker follows at once. @defaultValue 5 */
  bridgeConcurrency: number;
  /** Jobs the bridges start per second, all together. @defaultValue 10 */
  bridgeRateLimit: number;
  /** Aggregation calls one job's workflow keeps in flight. @defaultValue 20 */
  aggregationMaxInFlight: number;
  /** @defaultValue info */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
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
  QUEUE_NAME: 'analytics',
  EXPORT_DIR: `${PROJECT_ROOT}.local/exports`,
  REPORT_DIR: `${PROJECT_ROOT}.local/reports`,
  SHUTDOWN_GRACE_MS: '30000',
  BRIDGE_CONCURRENCY: '5',
  BRIDGE_RATE_LIMIT: '10',
  AGGREGATION_MAX_IN_FLIGHT: '20',
} as const;

/** The URL's scheme, or undefined when it does not parse (zod runs refinements even after .url() fails). */
function schemeOf(u: string): string | undefined {
  try {
    return new URL(u).protocol;
  } catch {
    return undefined;
  }
}

const port = z.coerce.number().int().min(1).max(65535);

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
  QUEUE_NAME: z.string().regex(/^[^:\s]+$/, 'must be non-empty, without ":" or spaces'),
  EXPORT_DIR: z.string().min(1),
  REPORT_DIR: z.string().min(1),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(24 * 60 * 60 * 1000),
  BRIDGE_CONCURRENCY: z.coerce.number().int().min(1).max(1000),
  BRIDGE_RATE_LIMIT: z.coerce.number().int().min(1).max(100_000),
  AGGREGATION_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000),
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
  const raw = {} as Record<string, unknown>;
  for (const [key, schema] of Object.entries(fields)) {
    const parsed = schema.safeParse(merged[key]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ConfigError(key, `${issue?.message ?? 'invalid'} (got ${JSON.stringify(merged[key])})`);
    }
    raw[key] = parsed.data;
  }
  const r = raw as Raw;
  let redis: Config['redis'];
  if (r.REDIS_URL) {
    const u = new URL(r.REDIS_URL);
    const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
    if (!Number.isInteger(db) || db < 0) throw new ConfigError('REDIS_URL', `bad database number in ${r.REDIS_URL}`);
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
      url: `redis://${auth}${r.REDIS_HOST}:${r.REDIS_PORT}/${r.REDIS_DB}`,
    };
  }
  return {
    redis,
    databaseUrl: r.DATABASE_URL,
    temporal: {
      address: r.TEMPORAL_ADDRESS,
      namespace: r.TEMPORAL_NAMESPACE,
      taskQueue: r.TEMPORAL_TASK_QUEUE,
      uiUrl: r.TEMPORAL_UI_URL,
      scheduleTaskQueue: `${r.TEMPORAL_TASK_QUEUE}-schedules`,
    },
    tz: r.TZ,
    logLevel: r.LOG_LEVEL,
    queueName: r.QUEUE_NAME,
    exportDir: r.EXPORT_DIR,
    reportDir: r.REPORT_DIR,
    shutdownGraceMs: r.SHUTDOWN_GRACE_MS,
    bridgeConcurrency: r.BRIDGE_CONCURRENCY,
    bridgeRateLimit: r.BRIDGE_RATE_LIMIT,
    aggregationMaxInFlight: r.AGGREGATION_MAX_IN_FLIGHT,
  };
}
