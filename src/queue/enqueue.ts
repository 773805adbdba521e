import type { Enqueue, EnqueueReport } from '../activities/enqueue';
import type { AnalyticsQueue } from './facade';

/**
 * What the schedule activities need of the facade (src/activities/enqueue.ts): add an
 * `aggregation` job under a given id, saying whether it was new. Validation applies as for any
 * addJob call.
 */
export function createEnqueue(queue: AnalyticsQueue): Enqueue {
  return async (data, jobId) => {
    const { job, created } = await queue.addJobOnce('aggregation', data, jobId);
    return { jobId: job.id ?? jobId, created };
  };
}

/** {@link createEnqueue} for the `scheduled-report` schedule's jobs. */
export function createReportEnqueue(queue: AnalyticsQueue): EnqueueReport {
  return async (data, jobId) => {
    const { job, created } = await queue.addJobOnce('scheduled-report', data, jobId);
    return { jobId: job.id ?? jobId, created };
  };
}
