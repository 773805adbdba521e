import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One structured logger per process; components take a child with their own bindings.
 * Logs go to stderr so that stdout carries only a command's output (tables, --json).
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { ...bindings } }, pino.destination(2));
}
