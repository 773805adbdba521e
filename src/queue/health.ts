import { Connection } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import { Redis } from 'ioredis';
import pg from 'pg';
import { connectionStringOf, schemaOf } from '../db/client';
import { redactText } from '../errors/redact';
import { temporalConnectionOptions } from '../temporal/connection';
import type { QueueMetrics } from './metrics';
import { redisOptionsOf, type RedisConnection, type TemporalConnection } from './options';

// Each probe opens its own short-lived connection with a hard timeout: a long-lived client would
// queue commands while its server is away (and answer late), or back off its reconnects for
// minutes after the server is back. A probe answers "now", within the timeout.

export type ComponentHealth = { healthy: true; latencyMs: number } | { healthy: false; reason: string };

export interface HealthReport {
  /** True when Redis, Temporal and Postgres all answered. */
  healthy: boolean;
  /** ISO instant of the check. */
  checkedAt: string;
  /** The queue's job counts; null when Redis did not answer. */
  metrics: QueueMetrics | null;
  redis: ComponentHealth;
  temporal: ComponentHealth;
  postgres: ComponentHealth;
  /** Who runs the jobs: Temporal workers polling the task queue, bridges on the BullMQ queue. */
  workers: WorkersHealth;
  /**
   * What stops jobs from running although every service answers: "no worker polling the task
   * queue …", "… waiting jobs but no bridge …". Empty when nothing is wrong (or a service is down).
   */
  problems: string[];
}

export interface WorkersHealth {
  taskQueue: string;
  /** Workers that polled the task queue for workflow tasks in the last {@link POLLER_RECENT_MS}; null when Temporal did not answer. */
  pollers: number | null;
  /** Bridge workers connected to the BullMQ queue; null when Redis did not answer. */
  bridges: number | null;
}

/**
 * A poller counts as live when it polled this recently: Temporal lists pollers for minutes after
 * they stop, and a live worker's long poll is renewed at least every ~70 s.
 */
export const POLLER_RECENT_MS = 120_000;

/** The {@link HealthReport.problems} these counts show. */
export function workerProblems(w: WorkersHealth, queueName: string, waitingJobs: number | null): string[] {
  const problems: string[] = [];
  if (w.pollers === 0) problems.push(`no worker polling the task queue ${w.taskQueue}: start \`analytics workers\``);
  if (w.bridges === 0 && (waitingJobs ?? 0) > 0) problems.push(`${waitingJobs} waiting job(s) but no bridge on queue ${queueName}: start \`analytics workers\``);
  return problems;
}

/** The variables that set where each service is (and its credentials), for messages. */
export const REDIS_VARIABLES = 'REDIS_URL, or REDIS_HOST/REDIS_PORT/REDIS_PASSWORD';
export const TEMPORAL_VARIABLES = 'TEMPORAL_ADDRESS, TEMPORAL_TLS_*, TEMPORAL_API_KEY';
export const POSTGRES_VARIABLES = 'DATABASE_URL';

/** One line saying why a connection failed, with secrets masked. */
export function reasonOf(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; errors?: unknown[] } | undefined;
  // An AggregateError (e.g. ECONNREFUSED on ::1 and 127.0.0.1) says little in its own message.
  const inner = Array.isArray(e?.errors) && e.errors.length > 0 ? (e.errors[0] as { message?: unknown }) : undefined;
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : typeof inner?.message === 'string' ? inner.message : String(err);
  const line = typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
  return redactText(line.replace(/\s+/g, ' ').trim());
}

export async function withTimeout<T>(what: string, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function timed(run: () => Promise<void>): Promise<ComponentHealth> {
  const started = performance.now();
  try {
    await run();
    return { healthy: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { healthy: false, reason: reasonOf(err) };
  }
}

/** A configuration error (an unreadable REDIS_TLS_CA) is thrown, not reported as the server's health. */
export async function probeRedis(redis: RedisConnection, timeoutMs: number): Promise<ComponentHealth> {
  const options = redisOptionsOf(redis);
  return timed(async () => {
    const client = new Redis({
      ...options,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: timeoutMs,
      // A refused or failed socket never closes cleanly: do not keep the process for ioredis' 2 s grace.
      disconnectTimeout: 100,
    });
    // connect() only says "Connection is closed."; the socket's own error says why (ECONNREFUSED, …).
    let socketError: unknown;
    client.on('error', (err) => (socketError ??= err));
    try {
      await withTimeout(`Redis at ${redis.host}:${redis.port}`, timeoutMs, async () => {
        try {
          await client.connect();
        } catch (err) {
          throw socketError ?? err;
        }
        const pong = await client.ping();
        if (pong !== 'PONG') throw new Error(`unexpected PING answer ${JSON.stringify(pong)}`);
      });
    } finally {
      client.disconnect();
    }
  });
}

/** A configuration error (an unreadable TEMPORAL_TLS_* file) is thrown, not reported as the server's health. */
export async function probeTemporal(temporal: TemporalConnection, timeoutMs: number): Promise<ComponentHealth> {
  const options = temporalConnectionOptions(temporal, { connectTimeoutMs: timeoutMs }).client;
  return timed(async () => {
    let connection: Connection | undefined;
    try {
      await withTimeout(`Temporal at ${temporal.address}`, timeoutMs, async () => {
        connection = await Connection.connect(options);
        // The namespace must be served, not just the port open.
        await connection.withDeadline(Date.now() + timeoutMs, () => connection!.workflowService.describeNamespace({ namespace: temporal.namespace }));
      });
    } finally {
      await connection?.close().catch(() => {});
    }
  });
}

/**
 * Connects to Postgres and checks that the URL's schema exists (`requireSchema: false`: the
 * server alone, for `db migrate`, which creates the schema).
 */
export function probePostgres(databaseUrl: string, timeoutMs: number, { requireSchema = true }: { requireSchema?: boolean } = {}): Promise<ComponentHealth> {
  return timed(async () => {
    const client = new pg.Client({
      connectionString: connectionStringOf(databaseUrl),
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      query_timeout: timeoutMs,
    });
    client.on('error', () => {});
    try {
      await withTimeout('Postgres', timeoutMs, async () => {
        await client.connect();
        if (!requireSchema) return;
        // The schema the app reads must exist, not just the server.
        const { rows } = await client.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS found', [schemaOf(databaseUrl)]);
        if (!rows[0]?.found) throw new Error(`schema ${JSON.stringify(schemaOf(databaseUrl))} does not exist`);
      });
    } finally {
      await client.end().catch(() => {});
    }
  });
}

/** Workers polling `taskQueue` for workflow tasks within the last {@link POLLER_RECENT_MS} (describeTaskQueue). */
export async function countTaskQueuePollers(temporal: TemporalConnection, taskQueue: string, timeoutMs: number): Promise<number> {
  const options = temporalConnectionOptions(temporal, { connectTimeoutMs: timeoutMs }).client;
  let connection: Connection | undefined;
  try {
    return await withTimeout(`Temporal at ${temporal.address}`, timeoutMs, async () => {
      connection = await Connection.connect(options);
      const { pollers } = await connection.withDeadline(Date.now() + timeoutMs, () =>
        // TASK_QUEUE_KIND_NORMAL (1), TASK_QUEUE_TYPE_WORKFLOW (1).
        connection!.workflowService.describeTaskQueue({ namespace: temporal.namespace, taskQueue: { name: taskQueue, kind: 1 }, taskQueueType: 1 }),
      );
      const now = Date.now();
      return (pollers ?? []).filter((p) => now - (optionalTsToMs(p.lastAccessTime) ?? 0) <= POLLER_RECENT_MS).length;
    });
  } finally {
    await connection?.close().catch(() => {});
  }
}
