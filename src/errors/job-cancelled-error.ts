/**
 * The job was cancelled (or removed) while its workflow ran, and the workflow was cancelled with
 * it. Thrown by the bridge as an unrecoverable failure: a cancelled job is never retried and
 * never dead-lettered.
 */
export class JobCancelledError extends Error {
  /** Every cancellation's failedReason starts with this, so stored failures can be told apart. */
  static readonly PREFIX = 'cancelled:';

  constructor(
    readonly jobId: string,
    readonly workflowId: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${JobCancelledError.PREFIX} job ${jobId} (workflow ${workflowId}): ${reason}`, options);
    this.name = 'JobCancelledError';
  }
}
