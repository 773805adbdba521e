import { NativeConnection, type ActivityInterceptorsFactory, type Worker } from '@temporalio/worker';
import { systemClock } from './activities';
import { createEnqueueActivities } from './activities/enqueue';
import { createJobActivities } from './activities/jobs';
import type { Config } from './config';
import { createDb, poolOf } from './db/client';
import type { Logger } from './logger';
import { cachedFreshness, cachedRead, newestAggregates, readChangeBacklog } from './metrics/freshness';
import { createWorkerMetrics } from './metrics/registry';
import { startMetricsServer, type MetricsServer, type ProbeCheck } from './metrics/server';
import { createReportEnqueue } from './queue/enqueue';
import { scheduleDefinitions } from './scheduler/definitions';
import { AnalyticsQueue, createEnqueue, type BridgeOptions, type BridgeWorker, type HealthReport } from './queue';
import { createScheduler } from './scheduler/scheduler';
import { temporalConnectionOptions } from './temporal/connection';
import { bulkTaskQueueOf } from './queue/job-class';
import { createLaneGate } from './temporal/lane-gate';
import { createTemporalWorker } from './temporal/worker';

export interface WorkerProcess {
  /** The facade this process's bridge serves (and the schedules enqueue into). */
  readonly queue: AnalyticsQueue;
  /** Base URL of the `/metrics`, `/healthz` and `/readyz` endpoint; undefined when it is off or could not bind. */
  readonly metricsUrl: string | undefined;
  /** Resolves when the process has stopped (signal or shutdown()). */
  untilStopped(): Promise<void>;
  /**
   * Graceful, ordered: the bridge takes no new jobs and lets active ones finish for up to
   * `shutdownGraceMs` (the Temporal worker keeps serving their workflows meanwhile), then the
   * Temporal workers (letting running activities finish), Prisma, Redis and Temporal connections.
   * Resolves true when every active job finished within the grace period.
   */
  shutdown(): Promise<boolean>;
}

export interface WorkerProcessOptions {
  /** Run jobs: the Temporal worker for the job workflows and the BullMQ bridge. @defaultValue true */
  jobs?: boolean;
  /** Run the schedules: install/update them and run the worker of their trigger workflows. @defaultValue true */
  cron?: boolean;
  /** Bridge overrides (concurrency, limiter, ...), or false for no bridge (workflows only). @defaultValue the queue's defaults */
  bridge?: Partial<BridgeOptions> | false;
  /** How often health is checked and logged; 0 turns it off. @defaultValue 60000 */
  healthIntervalMs?: number;
  /** Install the process's own SIGTERM/SIGINT handlers (first: graceful; second: exit at once). @defaultValue true */
  handleSignals?: boolean;
  /** Extra activity interceptors (tests use one to log executions). @defaultValue [] */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Called with each periodic health report. */
  onHealth?: (report: HealthReport) => void;
  /**
   * Serve Prometheus `/metrics`, `/healthz` and `/readyz` (`analytics workers` passes METRICS_HOST
   * and METRICS_PORT); false: no HTTP endpoint (the counters are still kept). @defaultValue false
   */
  metrics?: WorkerMetricsEndpoint | false;
}

export interface WorkerMetricsEndpoint {
  /** @defaultValue 127.0.0.1 */
  host?: string;
  /** 0: any free port. */
  port: number;
  /** The Temporal SDK's Prometheus exporter (Runtime telemetry), merged into `/metrics`. @defaultValue none */
  temporalMetricsUrl?: string;
}

/** How long scrapes reuse the newest-aggregate instants while this process writes none (the query reads every aggregate table). */
const FRESHNESS_TTL_MS = 15_000;
/** The age-of-the-newest-aggregate gauge scans the aggregate tables at most this often (its own writes count at once). */
const NEWEST_AGGREGATE_SCAN_MS = 10 * 60_000;

/** Exit code after a second signal forced the exit (128 + SIGTERM). */
export const FORCED_EXIT_CODE = 143;

/**
 * The composition root of `analytics workers`: builds Prisma, the Temporal connection and
 * workers (the workflow bundle; the activities from their factories with Prisma and a logger
 * injected), the BullMQ facade and bridge, and the schedules; owns one ordered shutdown.
 */
export async function startWorkerProcess(config: Config, logger: Logger, options: WorkerProcessOptions = {}): Promise<WorkerProcess> {
  const runJobs = options.jobs ?? true;
  const runCron = options.cron ?? true;
  // Tenant activities the job worker and the backfill worker run at once; one Postgres
  // connection per slot, and a few for planning and the health check.
  const activitySlots = config.aggregationMaxInFlight;
  const bulkSlots = config.aggregationBulkSlots;
  const db = createDb(config.databaseUrl, { max: activitySlots + bulkSlots + 4 });
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal).native);
  const queue = new AnalyticsQueue({ config, queueName: config.queueName, logger });
  const activityLogger = logger.child({ component: 'activities' });
  const freshness = cachedFreshness(poolOf(db), FRESHNESS_TTL_MS);
  const backlog = cachedRead(() => readChangeBacklog(poolOf(db)), FRESHNESS_TTL_MS);
  const newest = newestAggregates(poolOf(db), NEWEST_AGGREGATE_SCAN_MS);
  const metrics = createWorkerMetrics({
    queueName: config.queueName,
    queueCounts: () => queue.getQueueMetrics(),
    freshness: freshness.read,
    changeBacklog: backlog.read,
    newestAggregates: newest.read,
  });
  const recorder = {
    ...metrics.recorder,
    tenantAggregated: (...args: Parameters<typeof metrics.recorder.tenantAggregated>) => {
      freshness.invalidate();
      backlog.invalidate();
      newest.noteWritten(args[0]);
      metrics.recorder.tenantAggregated(...args);
    },
  };
  let metricsServer: MetricsServer | undefined;
  const temporalWorkers: Worker[] = [];
  let bridge: BridgeWorker | undefined;
  const runs: Promise<void>[] = [];
  const start = (worker: Worker) => {
    // Run at once: only a running worker can be shut down (and release the connection).
    temporalWorkers.push(worker);
    const run = worker.run();
    run.catch(() => {}); // observed below (Promise.all); no unhandled rejection meanwhile
    runs.push(run);
  };
  const releaseAll = async () => {
    await metricsServer?.close();
    await bridge?.close().catch(() => {});
    for (const w of temporalWorkers) if (w.getState() === 'RUNNING') w.shutdown();
    // Workers hold the connection: they must be gone before it can close.
    await Promise.allSettled(runs);
    await queue.close().catch(() => {});
    await connection.close().catch((err: unknown) => logger.warn({ err }, 'closing the Temporal connection'));
    await db.$disconnect();
  };
  try {
    await queue.ready();
    if (runJobs) {
      const activities = createJobActivities({ db, clock: systemClock, logger: activityLogger, metrics: recorder, exportDir: config.exportDir, reportDir: config.reportDir });
      // Backfills run on a task queue of their own with their own slots (src/queue/job-class.ts),
      // so the schedules' jobs never queue behind their workflow tasks and tenant activities.
      const lanes = [
        { taskQueue: config.temporal.taskQueue, slots: activitySlots },
        { taskQueue: bulkTaskQueueOf(config.temporal.taskQueue), slots: bulkSlots },
      ];
      // While other jobs' tenants run, backfills yield all but a few of their slots.
      const gate = createLaneGate({ isBulk: (taskQueue) => taskQueue === lanes[1]!.taskQueue, yieldSlots: config.aggregationBulkYieldSlots, maxYieldMs: config.aggregationBulkMaxYieldMs });
      for (const { taskQueue, slots } of lanes) {
        start(
          await createTemporalWorker({
            connection,
            namespace: config.temporal.namespace,
            taskQueue,
            activities,
            maxConcurrentLocalActivityExecutions: slots,
            activityInterceptors: [gate, ...(options.activityInterceptors ?? [])],
          }),
        );
      }
    }
    if (runCron) {
      // The trigger workflows have their own task queue, so `--cron-only` serves them alone.
      const definitions = scheduleDefinitions({ cron: config.scheduledReportCron, periodType: config.scheduledReportPeriodType });
      start(
        await createTemporalWorker({
          connection,
          namespace: config.temporal.namespace,
          taskQueue: config.temporal.scheduleTaskQueue,
          activities: createEnqueueActivities({ enqueue: createEnqueue(queue), enqueueReport: createReportEnqueue(queue), definitions }),
        }),
      );
      const scheduler = createScheduler({
        client: await queue.temporalClient(),
        taskQueue: config.temporal.scheduleTaskQueue,
        timezone: config.tz,
        idPrefix: config.scheduleIdPrefix,
        owner: { queue: config.queueName, taskQueue: config.temporal.scheduleTaskQueue },
        logger,
        definitions,
      });
      await scheduler.initializeScheduler();
    }
    if (runJobs && options.bridge !== false) {
      bridge = await queue.createWorker({
        concurrency: config.bridgeConcurrency,
        reservedSlots: config.bridgeReservedSlots,
        limiter: { max: config.bridgeRateLimit, durationMs: 1_000 },
        aggregationRunOptions: { maxConcurrentActivities: config.aggregationMaxInFlight },
        ...options.bridge,
      });
      const settled = (outcome: 'completed' | 'failed') => (job: { name: string; processedOn?: number | undefined; finishedOn?: number | undefined } | undefined) => {
        if (job?.processedOn !== undefined) metrics.jobSettled(job.name, outcome, (job.finishedOn ?? Date.now()) - job.processedOn);
      };
      bridge.worker.on('completed', settled('completed'));
      bridge.worker.on('failed', settled('failed'));
    }
    if (options.metrics) {
      metricsServer = await serveMetrics(options.metrics);
    }
  } catch (err) {
    await releaseAll();
    throw err;
  }
  let failure: unknown;
  const running = Promise.all(runs).catch((err: unknown) => {
    // A Temporal worker that dies takes the process down (exit 1), so a supervisor restarts it.
    failure ??= err;
    logger.fatal({ err }, 'a Temporal worker failed; shutting down');
    process.exitCode = 1;
    void shutdown();
  });

  const healthTimer =
    (options.healthIntervalMs ?? 60_000) > 0
      ? setInterval(() => {
          queue.healthCheck().then(
            (report) => {
              options.onHealth?.(report);
              if (report.healthy) logger.info({ health: report }, 'health check: healthy');
              else logger.warn({ health: report }, 'health check: UNHEALTHY');
            },
            (err: unknown) => logger.error({ err }, 'health check failed'),
          );
        }, options.healthIntervalMs ?? 60_000)
      : undefined;
  healthTimer?.unref();

  let stopping: Promise<boolean> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      clearInterval(healthTimer);
      logger.info({ graceMs: config.shutdownGraceMs }, 'shutting down: no new jobs; active jobs may finish');
      const finished = bridge ? await bridge.drain(config.shutdownGraceMs) : true;
      if (!finished) logger.warn('grace period over: unfinished jobs go back to the queue; their workflows continue');
      for (const w of temporalWorkers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      // Served until the workers are gone: /readyz answers 503 ("shutting down") while they drain.
      await metricsServer?.close();
      await db.$disconnect();
      await queue.close();
      await connection.close();
      removeSignalHandlers();
      logger.info('stopped');
      return finished;
    })();
    return stopping;
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      logger.info({ signal }, 'signal received: stopping gracefully (send it again to exit at once)');
      void shutdown();
    } else {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(FORCED_EXIT_CODE);
    }
  };
  const removeSignalHandlers = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  if (options.handleSignals ?? true) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  async function serveMetrics(endpoint: WorkerMetricsEndpoint): Promise<MetricsServer | undefined> {
    const workerChecks = (): ProbeCheck[] =>
      temporalWorkers.map((w, i) => ({ name: `temporal-worker-${i + 1}`, ok: w.getState() === 'RUNNING', detail: w.getState() }));
    try {
      return await startMetricsServer({
        host: endpoint.host ?? '127.0.0.1',
        port: endpoint.port,
        metrics,
        temporalMetricsUrl: endpoint.temporalMetricsUrl,
        live: () => workerChecks().filter((c) => c.detail === 'FAILED'),
        ready: async () => {
          const checks = workerChecks();
          if (stopping) checks.push({ name: 'process', ok: false, detail: 'shutting down' });
          if (bridge) {
            const status = await bridge.worker.client.then((c) => c.status).catch((err: unknown) => `error: ${(err as Error).message}`);
            const running = bridge.worker.isRunning() && !bridge.worker.isPaused();
            checks.push({ name: 'bridge', ok: running && status === 'ready', detail: `${running ? 'running' : 'not running'}, redis ${status}` });
          }
          return checks;
        },
      });
    } catch (err) {
      // The metrics endpoint is an observer: a taken port must not keep the workers from running.
      logger.error({ err, host: endpoint.host, port: endpoint.port }, 'metrics endpoint not served: cannot listen (set METRICS_PORT to a free port, or 0 to turn it off)');
      return undefined;
    }
  }

  return {
    queue,
    get metricsUrl() {
      return metricsServer?.url;
    },
    untilStopped: async () => {
      await running;
      await shutdown();
      if (failure !== undefined) throw failure;
    },
    shutdown,
  };
}
