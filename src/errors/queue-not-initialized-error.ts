/** A module-level queue function (`addJob`, `getQueueMetrics`, …) called before `initializeQueue()` or after `closeQueue()`. */
export class QueueNotInitializedError extends Error {
  constructor(what: string) {
    super(`${what}: the queue is not initialized; call initializeQueue() first`);
    this.name = 'QueueNotInitializedError';
  }
}
