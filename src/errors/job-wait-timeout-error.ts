/**
 * A command stopped waiting for a job that is still queued or running (its `--timeout` passed).
 * The job and its workflow go on; the CLI prints the message (exit 1), no stack.
 */
export class JobWaitTimeoutError extends Error {
  constructor(
    readonly jobId: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`stopped waiting for job ${jobId} after ${Math.round(timeoutMs / 1000)} s (--timeout); it goes on: \`analytics job show ${jobId}\``, options);
    this.name = 'JobWaitTimeoutError';
  }
}
