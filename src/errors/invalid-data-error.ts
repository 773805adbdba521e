/**
 * The tenant's stored data makes its aggregation fail (an invalid value, a violated constraint):
 * running the same statement again cannot succeed until the data is fixed, so it is not retried.
 * `sqlState` is Postgres's error code (class 22 or 23).
 */
export class InvalidDataError extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InvalidDataError';
  }
}
