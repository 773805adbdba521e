/** One reason a job payload was refused: the field at fault, the value found there, and why. */
export interface JobValidationIssue {
  /** Dotted path into the payload (`periodStart`), or `name` for an unknown job name, or `(payload)` for the whole payload. */
  field: string;
  /** The offending value (undefined when the field is missing). */
  value: unknown;
  /** What is wrong, without the field name: `must be one of revenue, cohorts, tournaments, all`. */
  problem: string;
}

/**
 * A job payload that does not match its job type's schema. Thrown by `addJob` before anything is
 * enqueued; a bridge worker that meets such a job fails it once, without retries, with this
 * same message.
 */
export class QueueValidationError extends Error {
  constructor(
    readonly jobName: string,
    readonly issues: readonly JobValidationIssue[],
    options?: { cause?: unknown },
  ) {
    super(`invalid ${JSON.stringify(jobName)} job: ${issues.map(describeIssue).join('; ')}`, options);
    this.name = 'QueueValidationError';
  }

  /** The first field at fault, for callers that point at one input. */
  get field(): string {
    return this.issues[0]?.field ?? '(payload)';
  }
}

function describeIssue(issue: JobValidationIssue): string {
  const got = issue.value === undefined ? '' : ` (got ${preview(issue.value)})`;
  return `${issue.field}: ${issue.problem}${got}`;
}

/** JSON of a value, cut short so one huge field cannot flood a log line or a job's failedReason. */
function preview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
