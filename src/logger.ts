import { pino, type Logger } from 'pino';
import { redactText, redactUrl, sanitizeForLog } from './errors/redact';

export type { Logger };

/**
 * Paths pino masks before writing (URLs keep everything but their password). Every logged object
 * is also walked by {@link sanitizeForLog}: errors lose the Redis command arguments ioredis
 * attaches to them (a failed AUTH carries the password), and strings lose credentials.
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'redis.password',
  '*.redis.password',
  'apiKey',
  '*.apiKey',
  'temporal.apiKey',
  '*.temporal.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'url',
  '*.url',
  'redis.url',
  '*.redis.url',
  'databaseUrl',
  '*.databaseUrl',
  'connectionString',
  '*.connectionString',
];

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (typeof value === 'string' && /url$|connectionString$/i.test(key)) return redactUrl(value);
  return '***';
}

/**
 * One structured logger per process; components take a child with their own bindings.
 * Logs go to stderr so that stdout carries only a command's output (tables, --json).
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: sanitizeForLog({ ...bindings }) as Record<string, unknown>,
      redact: { paths: REDACT_PATHS, censor },
      formatters: { log: (obj) => sanitizeForLog(obj) as Record<string, unknown> },
      // Errors are serialised (and stripped) by the formatter above.
      serializers: { err: (err: unknown) => err },
      hooks: {
        logMethod(args, method) {
          const redacted: unknown[] = args.map((a) => (typeof a === 'string' ? redactText(a) : a));
          // logger.error(err): pino would take the error's own message as the line's message.
          const [first, ...rest] = redacted;
          if (first instanceof Error && typeof rest[0] !== 'string') redacted.splice(0, 1, { err: first }, redactText(first.message));
          method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    pino.destination(2),
  );
}
