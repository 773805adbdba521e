// Job states as the CLI and the facade name them (QueueMetrics' names). No imports: the CLI reads
// these before it loads BullMQ.

/** States `listJobs` reads. */
export const LIST_STATES = ['waiting', 'active', 'completed', 'failed', 'delayed', 'paused'] as const;
export type ListState = (typeof LIST_STATES)[number];

/** States `cleanQueue` can remove jobs from (never `active`: bridges hold those). */
export const CLEAN_STATES = ['completed', 'failed', 'waiting', 'delayed', 'paused'] as const;
export type CleanState = (typeof CLEAN_STATES)[number];
