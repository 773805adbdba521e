/**
 * The database could not be reached or dropped the connection (or asked us to try again): the
 * same call may well succeed later, so this one is retried.
 */
export class TransientDatabaseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientDatabaseError';
  }
}
