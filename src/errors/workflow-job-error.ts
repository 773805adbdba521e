/**
 * The workflow behind a job failed; the message carries the workflow's own error (its type and
 * message, e.g. `UnknownTenantError: tenantId: unknown tenant "org_9"`), which is what BullMQ
 * stores as the job's failedReason.
 */
export class WorkflowJobError extends Error {
  constructor(
    readonly workflowId: string,
    /** The innermost failure's type (`ApplicationFailure.type` or the error's name). */
    readonly errorType: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`workflow ${workflowId} failed: ${errorType}: ${detail}`, options);
    this.name = 'WorkflowJobError';
  }
}
