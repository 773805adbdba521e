import { NativeConnection, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { createActivities, systemClock } from './activities';
import { createPlanningActivities } from './activities/planning';
import type { Config } from './config';
import { createDb } from './db/client';
import type { Logger } from './logger';
import { createTemporalWorker } from './temporal/worker';

export interface WorkerProcess {
  /** Resolves when the process has stopped (signal or shutdown()). */
  untilStopped(): Promise<void>;
  /** Ordered: Temporal worker (lets running activities finish) -> Prisma -> connections. */
  shutdown(): Promise<void>;
}

export interface WorkerProcessOptions {
  /** Extra activity interceptors (tests use one to log executions). @defaultValue [] */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

/**
 * The composition root of the worker process: builds Prisma, the Temporal connection and the
 * worker (the workflow bundle, the activities from their factories with Prisma and a logger
 * injected), and owns one ordered shutdown on SIGTERM/SIGINT.
 */
export async function startWorkerProcess(config: Config, logger: Logger, options: WorkerProcessOptions = {}): Promise<WorkerProcess> {
  const db = createDb(config.databaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const activityLogger = logger.child({ component: 'activities' });
  const worker = await createTemporalWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: {
      ...createActivities({ db, clock: systemClock, logger: activityLogger }),
      ...createPlanningActivities({ db, logger: activityLogger }),
    },
    activityInterceptors: options.activityInterceptors,
  });
  const running = worker.run();
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      logger.info('shutting down');
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((err: unknown) => logger.error({ err }, 'worker stopped with an error'));
      await db.$disconnect();
      await connection.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    })();
    return stopping;
  };
  const onSignal = () => void shutdown();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    untilStopped: async () => {
      await running.catch(() => {});
      await shutdown();
    },
    shutdown,
  };
}
