import type { Db } from '../db/client';
import type { Logger } from '../logger';

/** The clock activities read; injected so tests can pin "now". */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface ActivityDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
}

/**
 * Every activity the workers register, built over its dependencies. Workflows proxy
 * `ReturnType<typeof createActivities>` so a renamed activity breaks them at compile time.
 */
export function createActivities({ db, clock }: ActivityDeps) {
  return {
    /** Proves the worker reaches Postgres: the database's own clock and the worker's. */
    async ping(): Promise<{ databaseTime: string; workerTime: string }> {
      const rows = await db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`;
      return { databaseTime: rows[0]!.now.toISOString(), workerTime: clock.now().toISOString() };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
