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

/** How log lines look: readable lines, JSON lines, or pretty on a terminal and JSON otherwise. */
export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LoggerOptions {
  /** @defaultValue auto (pretty when stderr is a terminal, else JSON lines) */
  format?: LogFormat;
}

/** Where finished log lines go while something else (a progress bar) owns the terminal. */
let route: ((line: string) => void) | undefined;

/**
 * Sends every log line to `write` instead of stderr until the returned function is called (a
 * progress bar prints them above itself). One at a time: the last caller wins.
 */
export function routeLogLines(write: (line: string) => void): () => void {
  route = write;
  return () => {
    if (route === write) route = undefined;
  };
}

function emit(line: string): void {
  if (route) route(line);
  else process.stderr.write(line);
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const LEVEL_COLOURS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };

/**
 * One pino JSON line as a readable one: `<ISO time> <LEVEL> <message> key=value …`, an error's
 * stack indented below. Colour only on a terminal.
 */
export function formatPretty(json: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { level, time, msg, err, ...rest } = entry;
  const n = typeof level === 'number' ? level : 30;
  const name = (LEVEL_NAMES[n] ?? String(level)).padEnd(5);
  const tag = colour ? `\x1b[${LEVEL_COLOURS[n] ?? '0'}m${name}\x1b[0m` : name;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' && !/\s|=|"/.test(v) ? v : JSON.stringify(v)}`);
  const e = err as { type?: unknown; message?: unknown; stack?: unknown } | undefined;
  const stack = typeof e?.stack === 'string' ? `\n    ${e.stack.split('\n').join('\n    ')}` : e ? ` err=${JSON.stringify(e)}` : '';
  return `${String(time)} ${tag} ${typeof msg === 'string' ? msg : ''}${fields.length ? `  ${fields.join(' ')}` : ''}${stack}\n`;
}

/** The destination pino writes to: stderr (or the current route), as JSON or readable lines. */
function destination(format: LogFormat): { write(line: string): void } {
  const pretty = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
  if (!pretty) return { write: emit };
  return { write: (line) => emit(formatPretty(line, process.stderr.isTTY === true)) };
}

/**
 * One structured logger per process; components take a child with their own bindings.
 * Logs go to stderr so that stdout carries only a command's output (tables, --json); times are
 * ISO instants.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}, options: LoggerOptions = {}): Logger {
  return pino(
    {
      level,
      base: sanitizeForLog({ ...bindings }) as Record<string, unknown>,
      timestamp: pino.stdTimeFunctions.isoTime,
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
    destination(options.format ?? 'auto'),
  );
}
