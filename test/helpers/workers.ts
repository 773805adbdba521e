import { spawn, type ChildProcess } from 'node:child_process';
import { vi } from 'vitest';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startWorkerProcess, type WorkerProcess, type WorkerProcessOptions } from '../../src/worker-process';
import { PROJECT_ROOT } from '../../src/paths';
import { AnalyticsQueue } from '../../src/queue';
import { uniqueSuffix } from './config';
import { freePort } from './ports';

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

export interface WorkersSubprocess {
  /** `http://127.0.0.1:<METRICS_PORT>`: /metrics, /healthz, /readyz. */
  base: string;
  /** A facade on the subprocess's queue, for adding jobs. */
  queue: AnalyticsQueue;
  child: ChildProcess;
  /** What the subprocess printed so far. */
  output(): { stdout: string; stderr: string };
  /** SIGTERM, wait for the exit, close the facade. */
  stop(): Promise<void>;
}

/**
 * `analytics workers --no-cron` as a real subprocess (bin/analytics.js) on a queue, task queue
 * and metrics port of its own, started once it prints its banner.
 */
export async function startWorkersSubprocess(databaseUrl: string, temporalAddress: string): Promise<WorkersSubprocess> {
  const suffix = uniqueSuffix();
  const port = await freePort();
  const env = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: `tq-${suffix}`,
    QUEUE_NAME: `q-${suffix}`,
    LOG_LEVEL: 'warn',
    LOG_FORMAT: 'json',
    METRICS_PORT: String(port),
  };
  const queue = new AnalyticsQueue({ config: loadConfig({ ...process.env, ...env }), queueName: env.QUEUE_NAME });
  const child = spawn(process.execPath, [`${PROJECT_ROOT}bin/analytics.js`, 'workers', '--no-cron'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await queue.close();
  };
  try {
    await vi.waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`workers exited (${child.exitCode}):\n${stderr}`);
        if (!stdout.includes('workers running')) throw new Error('workers not running yet');
      },
      { timeout: 60_000, interval: 100 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { base: `http://127.0.0.1:${port}`, queue, child, output: () => ({ stdout, stderr }), stop };
}
