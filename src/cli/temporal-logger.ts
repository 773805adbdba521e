import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import type { Logger } from '../logger';

const ORDER: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
const PINO_METHOD = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * The Temporal runtime's logger (the SDK's own lines and, with forwarding on, the Rust core's) as
 * lines of the app's pino logger, so they share its format and stderr and never reach stdout.
 * Lines below `minLevel` are dropped: the worker's INFO lifecycle lines would drown the app's own.
 */
export function temporalLoggerOf(logger: Logger, minLevel: LogLevel = 'WARN'): TemporalLogger {
  const sdk = logger.child({ component: 'temporal' });
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    if (ORDER[level] < ORDER[minLevel]) return;
    // Symbol keys (the SDK's timestamp) do not serialise; string keys carry the context.
    const fields = meta === undefined ? {} : Object.fromEntries(Object.entries(meta));
    sdk[PINO_METHOD[level]](fields, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/** The Temporal level matching a pino level: more verbose app logs let more of the SDK's through. */
export function temporalLevelOf(level: string): LogLevel {
  if (level === 'trace') return 'TRACE';
  if (level === 'debug') return 'DEBUG';
  if (level === 'error' || level === 'fatal' || level === 'silent') return 'ERROR';
  return 'WARN';
}
