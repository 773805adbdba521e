/**
 * Bad input: a request that can never succeed as given (unknown tenant, malformed date, …).
 * Never retried; the message names the offending field so callers can point at it.
 */
export class InvalidInputError extends Error {
  constructor(
    /** The input field at fault, e.g. `periodStart`, `tenantId`. */
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InvalidInputError';
  }
}
