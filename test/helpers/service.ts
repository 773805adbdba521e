import { pino } from 'pino';
import { createAggregationService, type AggregationServiceDeps } from '../../src/aggregation/service';
import type { Db } from '../../src/db/client';

/** A silent logger: tests assert on rows, not log lines. */
export const silentLogger = pino({ level: 'silent' });

/** A clock pinned to one instant. */
export function fixedClock(iso: string): { now(): Date } {
  return { now: () => new Date(iso) };
}

export function testService(db: Db, options: Partial<AggregationServiceDeps> = {}) {
  return createAggregationService({ db, clock: fixedClock('2025-06-15T12:00:00Z'), logger: silentLogger, ...options });
}
