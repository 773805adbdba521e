import type { Queue } from 'bullmq';

/** Job counts of a queue, by the states a BullMQ user knows. */
export interface QueueMetrics {
  /** Ready to run: BullMQ's `wait` list plus prioritized jobs (while the queue is not paused). */
  waiting: number;
  /** Being followed by a bridge worker (their workflows running). */
  active: number;
  completed: number;
  failed: number;
  /** Waiting for their delay or retry backoff to pass. */
  delayed: number;
  /** Ready, but the queue is paused (prioritized ones included). */
  paused: number;
}

export async function getQueueMetrics(queue: Queue): Promise<QueueMetrics> {
  const [counts, isPaused] = await Promise.all([
    queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'paused', 'prioritized'),
    queue.isPaused(),
  ]);
  const n = (state: string) => counts[state] ?? 0;
  // A paused queue keeps its prioritized jobs where they are; they wait for the resume like the rest.
  return {
    waiting: n('waiting') + (isPaused ? 0 : n('prioritized')),
    active: n('active'),
    completed: n('completed'),
    failed: n('failed'),
    delayed: n('delayed'),
    paused: n('paused') + (isPaused ? n('prioritized') : 0),
  };
}
