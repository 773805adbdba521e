import { pino, type Logger } from 'pino';

export type { Logger };

/** One structured logger per process; components take a child with their own bindings. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { ...bindings } });
}
