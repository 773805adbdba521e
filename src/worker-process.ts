import { NativeConnection } from '@temporalio/worker';
import { createActivities, systemClock } from './activities';
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

/**
 * The composition root of the worker process: builds Prisma, the Temporal connection and the
 * worker, and owns one ordered shutdown on SIGTERM/SIGINT.
 */
export async function startWorkerProcess(config: Config, logger: Logger): Promise<WorkerProcess> {
  const db = createDb(config.databaseUrl);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createTemporalWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities({ db, clock: systemClock, logger: logger.child({ component: 'activities' }) }),
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
