import { redactText, redactUrl } from './redact';

/**
 * Redis, Postgres or Temporal did not answer within the connect time: a client command stops
 * with one line naming the service, its address (never a password) and the variables that set
 * them. The CLI prints the message alone (exit 1).
 */
export class ServiceUnavailableError extends Error {
  constructor(
    readonly service: 'Redis' | 'Postgres' | 'Temporal',
    /** Where it was looked for: host:port, or a URL with its password masked. */
    readonly address: string,
    /** The variables that set the address (and credentials), e.g. `REDIS_URL or REDIS_HOST/REDIS_PORT`. */
    readonly variables: string,
    readonly reason: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      redactText(
        `cannot reach ${service} at ${redactUrl(address)} (set by ${variables}): ${reason.replace(/\s+/g, ' ').trim()} ` +
          `(waited up to ${timeoutMs} ms, CONNECT_TIMEOUT_MS)`,
      ),
      options,
    );
    this.name = 'ServiceUnavailableError';
  }
}
