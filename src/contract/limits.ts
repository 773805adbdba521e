// Limits shared by the queue (checked at addJob) and the planner (checked again when a job runs).

/** Most periods one job may span for one tenant and type (a guard against typos such as 0025-01-01). */
export const MAX_JOB_PERIODS = 20_000;
