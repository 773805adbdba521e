import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { NativeConnection, Worker, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { PROJECT_ROOT } from '../paths';
import { autoHeartbeat, reportAttempts } from './activity-interceptors';
import { WORKFLOWS_PATH } from './workflow-path';

export { WORKFLOWS_PATH };

let bundle: Promise<{ codePath: string }> | undefined;

/**
 * The workflow bundle, built once per process and shared by every worker it creates. Webpack
 * runs in a child process (./bundle-main.ts) that writes the bundle to a temporary file: bundling
 * in the worker process itself would add over 100 MB to its peak resident set for good.
 */
export function workflowBundle(): Promise<{ codePath: string }> {
  bundle ??= (async () => {
    const codePath = join(tmpdir(), `analytics-workflows-${process.pid}-${Date.now().toString(36)}.js`);
    const dev = import.meta.url.endsWith('.ts');
    const main = fileURLToPath(new URL(`./bundle-main${dev ? '.ts' : '.js'}`, import.meta.url));
    // In a development checkout the child runs the TypeScript sources through tsx, as the CLI does.
    await promisify(execFile)(process.execPath, [...(dev ? ['--import', 'tsx'] : []), main, codePath], { cwd: PROJECT_ROOT, maxBuffer: 16 * 1024 * 1024 });
    process.once('exit', () => rmSync(codePath, { force: true }));
    return { codePath };
  })();
  return bundle;
}

export interface TemporalWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Every activity the worker registers (the factories of src/activities, spread together). */
  activities: object;
  /** Regular activities this worker runs at once. @defaultValue 20 */
  maxConcurrentActivityTaskExecutions?: number;
  /** Local activities (the tenant aggregations) this worker runs at once; size the Postgres pool to it. @defaultValue 20 */
  maxConcurrentLocalActivityExecutions?: number;
  /** Extra activity interceptors, after the built-in heartbeat and attempt reporting. @defaultValue [] */
  activityInterceptors?: ActivityInterceptorsFactory[];
}

/** Activities whose outcome the workflows report with an attempt count. */
const ATTEMPT_REPORTING_ACTIVITIES = ['aggregateTenant'] as const;

export async function createTemporalWorker(options: TemporalWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: options.activities,
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 20,
    maxConcurrentLocalActivityExecutions: options.maxConcurrentLocalActivityExecutions ?? 20,
    interceptors: {
      activity: [autoHeartbeat, reportAttempts(ATTEMPT_REPORTING_ACTIVITIES), ...(options.activityInterceptors ?? [])],
    },
  });
}
