import { Runtime } from '@temporalio/worker';
import { DatabaseNotMigratedError } from '../errors/database-not-migrated-error';
import { StartupCheckError } from '../errors/startup-check-error';
import type { Config } from '../config';
import { createLogger, type Logger } from '../logger';
import { freeLoopbackPort } from '../metrics/free-port';
import { redactUrl } from '../errors/redact';
import { POSTGRES_VARIABLES, probePostgres, probeRedis, probeTemporal, REDIS_VARIABLES, TEMPORAL_VARIABLES, type ComponentHealth } from '../queue/health';
import { SCHEDULES } from '../scheduler/definitions';
import { startWorkerProcess, type WorkerProcess } from '../worker-process';
import { tuneWorkersHeap } from './heap';
import { assertMigrated } from './migrated';
import { temporalLevelOf, temporalLoggerOf } from './temporal-logger';

/**
 * Start-up health check, then the worker process, then the banner. Shared by `workers` and
 * `start`. A component that does not answer stops start-up with its reason (exit 1).
 */
export async function bootWorkers(config: Config, options: { jobs: boolean; cron: boolean }): Promise<{ proc: WorkerProcess; logger: Logger }> {
  const logger = createLogger(config.logLevel, { service: 'analytics-workers' }, { format: config.logFormat });
  const heapFlags = tuneWorkersHeap(config.workersHeap);
  if (heapFlags.length > 0) logger.debug({ flags: heapFlags }, 'V8 heap settings (WORKERS_HEAP_GROWING_PERCENT, WORKERS_SEMI_SPACE_MB)');
  // Our own shutdown owns the signals, so Temporal's runtime must not race it. Its logs, the
  // Rust core's included (forwarded instead of printed straight to the console), go through pino.
  const level = temporalLevelOf(config.logLevel);
  // The SDK's Prometheus exporter binds an address of its own: a private loopback port, whose
  // series the process's /metrics appends to its own (one scrape target; see docs/operations.md).
  const sdkMetricsPort = config.metricsPort > 0 ? await freeLoopbackPort() : undefined;
  Runtime.install({
    shutdownSignals: [],
    logger: temporalLoggerOf(logger, level),
    telemetryOptions: {
      logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
      ...(sdkMetricsPort !== undefined ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } } : {}),
    },
  });
  let checked: Record<'redis' | 'temporal' | 'postgres', ComponentHealth>;
  let proc: WorkerProcess;
  try {
    checked = await startupCheck(config);
    proc = await startWorkerProcess(config, logger, {
      jobs: options.jobs,
      cron: options.cron,
      metrics:
        config.metricsPort > 0
          ? { host: config.metricsHost, port: config.metricsPort, ...(sdkMetricsPort !== undefined ? { temporalMetricsUrl: `http://127.0.0.1:${sdkMetricsPort}/metrics` } : {}) }
          : false,
    });
  } catch (err) {
    // The forwarded core logs keep the runtime (and the process) alive until it shuts down; with
    // no worker yet, nothing else would shut it down.
    await Runtime.instance().shutdown().catch(() => {});
    throw err;
  }
  printBanner(config, options, checked, proc.metricsUrl);
  return { proc, logger };
}

/** Redis, Temporal and Postgres answer, and the database is migrated; else one message saying what to do. */
async function startupCheck(config: Config): Promise<Record<'redis' | 'temporal' | 'postgres', ComponentHealth>> {
  const timeoutMs = config.connectTimeoutMs;
  const [redis, temporal, postgres] = await Promise.all([
    probeRedis(config.redis, timeoutMs),
    probeTemporal(config.temporal, timeoutMs),
    probePostgres(config.databaseUrl, timeoutMs),
  ]);
  const down = (
    [
      ['Redis', `${config.redis.host}:${config.redis.port}`, REDIS_VARIABLES, redis],
      ['Temporal', config.temporal.address, TEMPORAL_VARIABLES, temporal],
      ['Postgres', redactUrl(config.databaseUrl), POSTGRES_VARIABLES, postgres],
    ] as const
  ).filter(([, , , h]) => !h.healthy);
  const noSchema = !postgres.healthy && /^schema ".*" does not exist$/.test(postgres.reason);
  if (down.length === 1 && noSchema) throw new DatabaseNotMigratedError(config.databaseUrl, postgres.reason);
  if (down.length > 0) {
    const lines = down.map(
      ([name, where, variables, h]) => `  ${name} at ${where} (${variables}): ${(h as Extract<ComponentHealth, { healthy: false }>).reason}`,
    );
    throw new StartupCheckError(`start-up health check failed:\n${lines.join('\n')}\n  (./dev.sh setup starts the local services)`);
  }
  // A database without the tables would fail later, deep in Prisma: name the fix now.
  await assertMigrated(config.databaseUrl, timeoutMs);
  return { redis, temporal, postgres };
}

function printBanner(config: Config, options: { jobs: boolean; cron: boolean }, health: Record<string, ComponentHealth>, metricsUrl: string | undefined): void {
  const ms = (h: ComponentHealth) => (h.healthy ? `${h.latencyMs} ms` : 'down');
  const rule = '  ' + '─'.repeat(68);
  const lines = [
    '',
    rule,
    '  analytics-workers: BullMQ facade · Temporal workflows · Postgres aggregates',
    rule,
    `  Temporal     ${config.temporal.address}, namespace ${config.temporal.namespace} (${ms(health.temporal!)})`,
    `  Web UI       ${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows`,
    `  Redis        ${redactUrl(config.redis.url)} (${ms(health.redis!)})`,
    `  Postgres     ${redactUrl(config.databaseUrl)} (${ms(health.postgres!)})`,
  ];
  if (options.jobs) {
    lines.push(
      `  Jobs         queue "${config.queueName}" -> task queue ${config.temporal.taskQueue}`,
      `               bridge concurrency ${config.bridgeConcurrency} (+${config.bridgeReservedSlots} reserved for non-backfills), ${config.bridgeRateLimit} jobs/s; ${config.aggregationMaxInFlight} aggregation calls in flight per job; shutdown grace ${config.shutdownGraceMs} ms`,
    );
  } else {
    lines.push('  Jobs         not run here (--cron-only)');
  }
  if (options.cron) {
    lines.push(`  Schedules    installed, cron in ${config.tz}, trigger task queue ${config.temporal.scheduleTaskQueue}${config.scheduleIdPrefix ? `, ids prefixed "${config.scheduleIdPrefix}" (SCHEDULE_ID_PREFIX)` : ''}`);
    for (const s of SCHEDULES) lines.push(`               ${(config.scheduleIdPrefix + s.id).padEnd(20)} ${s.cron.padEnd(11)} ${s.description}`);
  } else {
    lines.push('  Schedules    not served here (--no-cron)');
  }
  if (metricsUrl) lines.push(`  Metrics      ${metricsUrl}/metrics (Prometheus; also /healthz, /readyz)`);
  else if (config.metricsPort > 0) lines.push(`  Metrics      not served: cannot listen on ${config.metricsHost}:${config.metricsPort} (METRICS_PORT)`);
  else lines.push('  Metrics      off (METRICS_PORT=0)');
  lines.push('  Health       checked every 60 s (logged)', rule, '');
  console.log(lines.join('\n'));
}
