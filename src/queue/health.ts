import { Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import pg from 'pg';
import { connectionStringOf, schemaOf } from '../db/client';
import type { QueueMetrics } from './metrics';
import { redisOptionsOf, type RedisConnection } from './options';

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
}

function reasonOf(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; errors?: unknown[] } | undefined;
  // An AggregateError (e.g. ECONNREFUSED on ::1 and 127.0.0.1) says little in its own message.
  const inner = Array.isArray(e?.errors) && e.errors.length > 0 ? (e.errors[0] as { message?: unknown }) : undefined;
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : typeof inner?.message === 'string' ? inner.message : String(err);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
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

export function probeRedis(redis: RedisConnection, timeoutMs: number): Promise<ComponentHealth> {
  return timed(async () => {
    const client = new Redis({
      ...redisOptionsOf(redis),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: timeoutMs,
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

export function probeTemporal(temporal: { address: string; namespace: string }, timeoutMs: number): Promise<ComponentHealth> {
  return timed(async () => {
    let connection: Connection | undefined;
    try {
      await withTimeout(`Temporal at ${temporal.address}`, timeoutMs, async () => {
        connection = await Connection.connect({ address: temporal.address, connectTimeout: timeoutMs });
        // The namespace must be served, not just the port open.
        await connection.withDeadline(Date.now() + timeoutMs, () => connection!.workflowService.describeNamespace({ namespace: temporal.namespace }));
      });
    } finally {
      await connection?.close().catch(() => {});
    }
  });
}

export function probePostgres(databaseUrl: string, timeoutMs: number): Promise<ComponentHealth> {
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
        // The schema the app reads must exist, not just the server.
        const { rows } = await client.query<{ found: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS found', [schemaOf(databaseUrl)]);
        if (!rows[0]?.found) throw new Error(`schema ${JSON.stringify(schemaOf(databaseUrl))} does not exist`);
      });
    } finally {
      await client.end().catch(() => {});
    }
  });
}
