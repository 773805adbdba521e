import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type ActivityInterceptorsFactory, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { autoHeartbeat, reportAttempts } from './activity-interceptors';

export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index${import.meta.url.endsWith('.js') ? '.js' : '.ts'}`, import.meta.url));

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow bundle, built once per process and shared by every worker it creates. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  return bundle;
}

const noop = () => {};
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

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
