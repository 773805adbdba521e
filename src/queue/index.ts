import type { Job, JobsOptions } from 'bullmq';
import { loadConfig } from '../config';
import { QueueNotInitializedError } from '../errors/queue-not-initialized-error';
import type { BridgeWorker } from './bridge';
import { AnalyticsQueue, type BulkJob, type CancelResult, type CleanOptions, type CleanResult } from './facade';
import type { HealthReport } from './health';
import type { QueueMetrics } from './metrics';
import type { BridgeOptions, QueueOptionsInput } from './options';
import type { JobData, JobName } from './schemas';

// The module-level API the original system's callers use (`await addJob('aggregation', {...})`),
// over one process-wide queue. Code that needs several queues (tests, tools) uses
// `createQueue()` / `AnalyticsQueue` directly.

export { AnalyticsQueue, CLEAN_STATES, createQueue, LIST_STATES, type BulkJob, type CancelResult, type CleanOptions, type CleanResult, type CleanState, type JobSummary, type ListState } from './facade';
export type { BridgeWorker } from './bridge';
export type { DeadLetterEntry, RetryOutcome } from './dead-letter';
export type { ComponentHealth, HealthReport, WorkersHealth } from './health';
export type { QueueMetrics } from './metrics';
export { BRIDGE_DEFAULTS, DEFAULT_QUEUE_NAME, JOB_DEFAULTS, QUEUE_DEFAULTS, type BridgeOptions, type JobDefaults, type QueueOptions, type QueueOptionsInput } from './options';
export { JOB_NAMES, validateJob, type JobData, type JobName, type JobPayloads } from './schemas';
export { workflowIdFor } from './job-types';
export { createEnqueue } from './enqueue';

let current: AnalyticsQueue | undefined;

function instance(what: string): AnalyticsQueue {
  if (!current) throw new QueueNotInitializedError(what);
  return current;
}

/**
 * Opens the process-wide queue. Without options, connections come from the environment
 * (`loadConfig()`: REDIS_*, TEMPORAL_*, DATABASE_URL) and every other option has its default.
 * Calling it again returns the queue already open.
 */
export async function initializeQueue(options?: QueueOptionsInput): Promise<AnalyticsQueue> {
  if (current) return current;
  const queue = new AnalyticsQueue(options ?? { config: loadConfig() });
  current = queue;
  try {
    return await queue.ready();
  } catch (err) {
    current = undefined;
    await queue.close().catch(() => {});
    throw err;
  }
}

/** Validates and enqueues a job (see {@link AnalyticsQueue.addJob}). */
export async function addJob<N extends JobName>(name: N, data: JobData[N], opts?: JobsOptions): Promise<Job> {
  return instance('addJob').addJob(name, data, opts);
}

export async function addBulk(jobs: BulkJob[]): Promise<Job[]> {
  return instance('addBulk').addBulk(jobs);
}

export async function getQueueMetrics(): Promise<QueueMetrics> {
  return instance('getQueueMetrics').getQueueMetrics();
}

export async function healthCheck(): Promise<HealthReport> {
  return instance('healthCheck').healthCheck();
}

export async function cleanQueue(graceMs: number, options?: CleanOptions): Promise<CleanResult> {
  return instance('cleanQueue').cleanQueue(graceMs, options);
}

export async function cancelJob(jobId: string): Promise<CancelResult> {
  return instance('cancelJob').cancelJob(jobId);
}

/** Starts a bridge worker on the process-wide queue; closeQueue() closes it too. */
export async function createWorker(overrides?: Partial<BridgeOptions>): Promise<BridgeWorker> {
  return instance('createWorker').createWorker(overrides);
}

/** Closes the process-wide queue and its bridge workers; initializeQueue() may open it again. */
export async function closeQueue(): Promise<void> {
  const queue = current;
  current = undefined;
  await queue?.close();
}
