import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from '../../src/worker-process';
import { uniqueSuffix } from './config';

export interface TestWorkers {
  config: Config;
  /** The same settings as environment variables, for a CLI subprocess. */
  env: Record<string, string>;
  proc: WorkerProcess;
}

/**
 * The real worker process (Temporal worker + bridge), in this process, on a queue name, task
 * queue and database schema of the test's own; schedules off unless asked for.
 */
export async function startTestWorkers(
  databaseUrl: string,
  temporal: { address: string; namespace?: string },
  options: WorkerProcessOptions = {},
  extraEnv: Record<string, string> = {},
): Promise<TestWorkers> {
  const suffix = uniqueSuffix();
  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: temporal.namespace ?? 'default',
    TEMPORAL_TASK_QUEUE: `tq-${suffix}`,
    QUEUE_NAME: `q-${suffix}`,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const config = loadConfig({ ...process.env, ...env });
  const proc = await startWorkerProcess(config, createLogger('warn', { service: 'test-workers' }), {
    cron: false,
    healthIntervalMs: 0,
    handleSignals: false,
    ...options,
  });
  return { config, env, proc };
}
