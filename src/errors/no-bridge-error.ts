/**
 * A queued command waited for a job that no bridge worker will take: the job is still waiting
 * and nothing consumes its queue. The job stays queued; the CLI prints the message (exit 1).
 */
export class NoBridgeError extends Error {
  constructor(
    readonly queueName: string,
    readonly jobId: string,
    readonly waitedMs: number,
  ) {
    super(
      `no bridge is running for queue ${queueName}: start \`analytics workers\` ` +
        `(job ${jobId} waited ${Math.round(waitedMs / 1000)} s and stays queued; it runs once a bridge starts, or \`analytics job cancel ${jobId}\`)`,
    );
    this.name = 'NoBridgeError';
  }
}
