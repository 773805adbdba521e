import type { BackoffOptions, KeepJobs } from 'bullmq';
import { readPem, type Config, type TemporalTls } from '../config';
import { DEFAULT_QUEUE_NAME } from '../contract/aggregation';
import { queueNameProblem } from './schemas';
import type { Logger } from '../logger';
import type { AggregationRunOptions } from '../contract/aggregation';

// Every knob of the facade and the bridge, with the defaults documented in docs/queue.md. A composition
// root resolves these once ({@link resolveQueueOptions}) and passes them down.

/** Where BullMQ keeps the queue. */
export interface RedisConnection {
  host: string;
  port: number;
  password?: string | undefined;
  /** @defaultValue 0 */
  db?: number;
  /** ACL user (Redis 6+). @defaultValue none */
  username?: string | undefined;
  /** Connect over TLS (a `rediss://` URL, or REDIS_TLS=true). @defaultValue false */
  tls?: boolean;
  /** PEM file of the CA that signed the server's certificate (REDIS_TLS_CA); read when connecting. @defaultValue the system's CAs */
  tlsCaFile?: string | undefined;
}

/** ioredis/BullMQ connection options for a {@link RedisConnection}. */
export function redisOptionsOf(redis: RedisConnection): { host: string; port: number; password?: string; username?: string; db: number; tls?: { ca?: Buffer } } {
  return {
    host: redis.host,
    port: redis.port,
    db: redis.db ?? 0,
    ...(redis.password !== undefined ? { password: redis.password } : {}),
    ...(redis.username !== undefined ? { username: redis.username } : {}),
    ...(redis.tls ? { tls: redis.tlsCaFile !== undefined ? { ca: readPem(redis.tlsCaFile, 'REDIS_TLS_CA') } : {} } : {}),
  };
}

/** How to reach the Temporal frontend: address, namespace, and TLS / API key for hosted servers. */
export interface TemporalConnection {
  /** `host:port`. */
  address: string;
  namespace: string;
  /** TLS settings; undefined for plain text. @defaultValue undefined */
  tls?: TemporalTls | undefined;
  /** Temporal Cloud API key (implies TLS). @defaultValue none */
  apiKey?: string | undefined;
}

/** Defaults applied to every job `addJob` enqueues; a job's own options win. */
export interface JobDefaults {
  /**
   * Attempts of the job as a whole (each attempt starts or re-attaches to the job's workflow).
   * Per-tenant retries happen inside the workflow, under each activity's own retry policy.
   * @defaultValue 3
   */
  attempts: number;
  /** Delay before attempt 2, 3, … @defaultValue `{ type: 'exponential', delay: 5000 }` (5 s, then 10 s) */
  backoff: BackoffOptions;
  /** Completed jobs kept, by age in seconds and by count. @defaultValue `{ age: 86400, count: 1000 }` (24 h, 1000 jobs) */
  removeOnComplete: KeepJobs;
  /** Failed jobs kept, by age in seconds and by count. @defaultValue `{ age: 604800, count: 5000 }` (7 days, 5000 jobs) */
  removeOnFail: KeepJobs;
  /** Log lines kept per job (the bridge logs each progress change of a long run). @defaultValue 200 */
  keepLogs: number;
}

/** The bridge worker: the BullMQ Worker that turns jobs into Temporal workflows. */
export interface BridgeOptions {
  /**
   * Jobs (hence workflows) one bridge worker follows at once, backfills included; at most this
   * many backfills at once (a backfill beyond it waits, delayed by `bulkRecheckMs`, for a
   * backfill to end). @defaultValue 5
   */
  concurrency: number;
  /**
   * Further slots only jobs that are not backfills may take (the schedules' jobs, one-period
   * jobs, exports, reports), so they start at once while backfills hold every other slot.
   * @defaultValue 2
   */
  reservedSlots: number;
  /** How long a backfill that found every backfill slot taken waits before it is tried again. @defaultValue 1000 */
  bulkRecheckMs: number;
  /** Rate limit on jobs started, per `durationMs`, across all bridge workers of the queue. @defaultValue `{ max: 10, durationMs: 1000 }` */
  limiter: { max: number; durationMs: number };
  /** How often a running workflow's `progress` query is mirrored into the job. @defaultValue 1000 */
  progressPollMs: number;
  /**
   * How long a bridge's lock on a job lasts without renewal (it is renewed every half of it); a
   * bridge that dies mid-job leaves the job to be re-attached after this, so a dead worker costs
   * seconds, not a minute. @defaultValue 10000
   */
  lockDurationMs: number;
  /** How often bridges look for jobs whose lock expired (stalled jobs). @defaultValue 5000 */
  stalledIntervalMs: number;
  /**
   * Stalls after which a job fails instead of being re-attached. A stall only means the bridge
   * following the job died (its workflow runs on), so a job survives several. @defaultValue 5
   */
  maxStalledCount: number;
  /** How often failed jobs missing from the dead-letter queue are swept into it (crash safety net). @defaultValue 60000 */
  deadLetterSweepMs: number;
  /** How long a job waits before it is tried again when Temporal could not be reached (no attempt is spent). @defaultValue 5000 */
  temporalRetryMs: number;
  /** How aggregation workflows this bridge starts fan out (calls in flight, chunk sizes, …). @defaultValue the workflow's defaults */
  aggregationRunOptions?: AggregationRunOptions;
}

export interface QueueOptions {
  /** BullMQ queue name; the dead-letter queue is `<queueName>-dead-letter`. @defaultValue analytics */
  queueName: string;
  /** BullMQ key prefix in Redis. @defaultValue bull */
  prefix: string;
  redis: RedisConnection;
  temporal: TemporalConnection & {
    /** Task queue the workflows are started on (where the Temporal workers poll). */
    taskQueue: string;
  };
  /** Postgres, for healthCheck(). */
  databaseUrl: string;
  /**
   * Longest {@link AnalyticsQueue.ready} and the first Temporal connection wait before failing
   * with a ServiceUnavailableError naming the service. @defaultValue 5000 (CONNECT_TIMEOUT_MS)
   */
  connectTimeoutMs: number;
  jobDefaults: JobDefaults;
  bridge: BridgeOptions;
  /** Longest a healthCheck() probe of Redis, Temporal or Postgres may take. @defaultValue 2000 */
  healthTimeoutMs: number;
  logger: Logger | undefined;
}

/** Options as callers pass them: everything but the connections optional, nested objects partial. */
export type QueueOptionsInput = Partial<Omit<QueueOptions, 'jobDefaults' | 'bridge' | 'redis' | 'temporal' | 'databaseUrl'>> & {
  /** Connections come from here unless given explicitly. */
  config?: Pick<Config, 'redis' | 'temporal' | 'databaseUrl'> & Partial<Pick<Config, 'queueName' | 'connectTimeoutMs'>>;
  redis?: RedisConnection;
  temporal?: QueueOptions['temporal'];
  databaseUrl?: string;
  jobDefaults?: Partial<JobDefaults>;
  bridge?: Partial<BridgeOptions>;
};

export { DEFAULT_QUEUE_NAME };

const HOUR_SECONDS = 60 * 60;

export const JOB_DEFAULTS: JobDefaults = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 24 * HOUR_SECONDS, count: 1_000 },
  removeOnFail: { age: 7 * 24 * HOUR_SECONDS, count: 5_000 },
  keepLogs: 200,
};

export const BRIDGE_DEFAULTS: BridgeOptions = {
  concurrency: 5,
  reservedSlots: 2,
  bulkRecheckMs: 1_000,
  limiter: { max: 10, durationMs: 1_000 },
  progressPollMs: 1_000,
  lockDurationMs: 10_000,
  stalledIntervalMs: 5_000,
  maxStalledCount: 5,
  deadLetterSweepMs: 60_000,
  temporalRetryMs: 5_000,
};

export const QUEUE_DEFAULTS = {
  queueName: DEFAULT_QUEUE_NAME,
  prefix: 'bull',
  healthTimeoutMs: 2_000,
  connectTimeoutMs: 5_000,
} as const;

/** Fills in every default; connections come from `input` or else from `input.config`. */
export function resolveQueueOptions(input: QueueOptionsInput): QueueOptions {
  const redis = input.redis ?? input.config?.redis;
  const temporal = input.temporal ?? input.config?.temporal;
  const databaseUrl = input.databaseUrl ?? input.config?.databaseUrl;
  if (!redis || !temporal || databaseUrl === undefined) {
    throw new TypeError('queue options: pass `config` (from loadConfig()) or all of `redis`, `temporal` and `databaseUrl`');
  }
  const queueName = input.queueName ?? input.config?.queueName ?? QUEUE_DEFAULTS.queueName;
  const problem = queueNameProblem(queueName);
  if (problem !== undefined) throw new TypeError(`queue options: queueName ${JSON.stringify(queueName)} ${problem}`);
  return {
    queueName,
    prefix: input.prefix ?? QUEUE_DEFAULTS.prefix,
    redis: { host: redis.host, port: redis.port, password: redis.password, db: redis.db ?? 0, username: redis.username, tls: redis.tls ?? false, tlsCaFile: redis.tlsCaFile },
    temporal: { address: temporal.address, namespace: temporal.namespace, taskQueue: temporal.taskQueue, tls: temporal.tls, apiKey: temporal.apiKey },
    databaseUrl,
    connectTimeoutMs: input.connectTimeoutMs ?? input.config?.connectTimeoutMs ?? QUEUE_DEFAULTS.connectTimeoutMs,
    jobDefaults: { ...JOB_DEFAULTS, ...input.jobDefaults },
    bridge: { ...BRIDGE_DEFAULTS, ...input.bridge, limiter: { ...BRIDGE_DEFAULTS.limiter, ...input.bridge?.limiter } },
    healthTimeoutMs: input.healthTimeoutMs ?? QUEUE_DEFAULTS.healthTimeoutMs,
    logger: input.logger,
  };
}

/** The dead-letter queue's name for a queue. */
export function deadLetterQueueName(queueName: string): string {
  return `${queueName}-dead-letter`;
}
