// Job timings read through the facade (BullMQ's own timestamps) and the Temporal client.
import type { AnalyticsQueue, JobName } from '../../src/queue';
import { workflowIdFor } from '../../src/queue';

export interface JobTiming {
  jobId: string;
  state: 'completed' | 'failed';
  /** BullMQ job.timestamp: when addJob stored it (epoch ms). */
  addedAt: number;
  /** The job's workflow's first run's start time, from the Temporal server (epoch ms). */
  workflowStartedAt: number;
  /** BullMQ job.finishedOn (epoch ms). */
  finishedAt: number;
  failedReason?: string;
}

/** Polls the job until BullMQ records it finished (completed, or failed for good). */
export async function waitForJob(queue: AnalyticsQueue, jobId: string, { timeoutMs = 3_600_000, pollMs = 100 } = {}): Promise<{ state: 'completed' | 'failed'; finishedAt: number; addedAt: number; failedReason?: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await queue.getJob(jobId);
    if (!job) throw new Error(`job ${jobId} is gone from queue ${queue.name}`);
    if (job.finishedOn) {
      // A job BullMQ retries goes back to delayed/waiting; in 'failed' it is failed for good
      // (attempts spent, or an error that is never retried).
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') {
        return { state, finishedAt: job.finishedOn, addedAt: job.timestamp, ...(job.failedReason ? { failedReason: job.failedReason } : {}) };
      }
    }
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * When the job's workflow started, from `describe()` of its workflow id (`workflowIdFor`, read
 * from the facade at run time). A workflow that continued as new is described again by its first
 * run, whose start is the one that counts.
 */
export async function workflowStartedAt(queue: AnalyticsQueue, name: JobName, jobId: string): Promise<number> {
  const client = await queue.temporalClient();
  const id = workflowIdFor(name, jobId, queue.name);
  const latest = await client.workflow.getHandle(id).describe();
  const firstRunId = latest.raw.workflowExecutionInfo?.firstRunId;
  if (firstRunId && firstRunId !== latest.runId) {
    return (await client.workflow.getHandle(id, firstRunId).describe()).startTime.getTime();
  }
  return latest.startTime.getTime();
}

/** Polls until the job's workflow exists and returns its start (for a job still running). */
export async function waitForWorkflowStart(queue: AnalyticsQueue, name: JobName, jobId: string, { timeoutMs = 3_600_000, pollMs = 100 } = {}): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await workflowStartedAt(queue, name, jobId);
    } catch (err) {
      if ((err as Error).name !== 'WorkflowNotFoundError' || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Waits for the job, then reads its workflow's start: the three instants of one job. */
export async function timeJob(queue: AnalyticsQueue, name: JobName, jobId: string, options: { timeoutMs?: number } = {}): Promise<JobTiming> {
  const done = await waitForJob(queue, jobId, options);
  const started = await workflowStartedAt(queue, name, jobId);
  return { jobId, state: done.state, addedAt: done.addedAt, workflowStartedAt: started, finishedAt: done.finishedAt, ...(done.failedReason ? { failedReason: done.failedReason } : {}) };
}

/** The most recently finished job of the queue (the one a CLI run just waited for). */
export async function lastFinishedJob(queue: AnalyticsQueue): Promise<{ jobId: string; addedAt: number; finishedAt: number } | undefined> {
  const jobs = await queue.queue.getJobs(['completed', 'failed'], 0, 50);
  const finished = jobs.filter((j) => j?.finishedOn && j.id);
  finished.sort((a, b) => b.finishedOn! - a.finishedOn!);
  const j = finished[0];
  return j ? { jobId: j.id!, addedAt: j.timestamp, finishedAt: j.finishedOn! } : undefined;
}
