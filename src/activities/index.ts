import { createAggregationService } from '../aggregation/service';
import type { Db } from '../db/client';
import { InvalidInputError } from '../errors/invalid-input-error';
import type { Logger } from '../logger';
import type { AggregateSummary, AggregateTenantInput } from './types';

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
export function createActivities({ db, clock, logger }: ActivityDeps) {
  const aggregation = createAggregationService({ db, clock, logger: logger.child({ component: 'aggregation' }) });
  return {
    /** Proves the worker reaches Postgres: the database's own clock and the worker's. */
    async ping(): Promise<{ databaseTime: string; workerTime: string }> {
      const rows = await db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`;
      return { databaseTime: rows[0]!.now.toISOString(), workerTime: clock.now().toISOString() };
    },

    /** Ids of the organizations with status `active`, sorted. */
    async getActiveTenants(): Promise<string[]> {
      return aggregation.getActiveTenants();
    },

    /**
     * One tenant, one type, the periods intersecting [from, to) in the tenant's timezone. For
     * cohorts, from/to select the cohort months and `asOf` (the workflow's clock) bounds the
     * month numbers. Bad input throws an InvalidInputError subclass (see NON_RETRYABLE_ERROR_TYPES).
     */
    async aggregateTenant(input: AggregateTenantInput): Promise<AggregateSummary> {
      switch (input.type) {
        case 'revenue':
          return aggregation.aggregateRevenue(input.tenantId, input.from, input.to, input.periodType);
        case 'tournaments':
          return aggregation.aggregateTournaments(input.tenantId, input.from, input.to, input.periodType);
        case 'cohorts':
          if (typeof input.asOf !== 'string') throw new InvalidInputError('asOf', 'asOf: cohorts need the workflow\'s as-of instant');
          return aggregation.aggregateCohorts(input.tenantId, { from: input.from, to: input.to }, input.asOf);
        default:
          throw new InvalidInputError('type', `type: unknown aggregation type ${JSON.stringify((input as { type: unknown }).type)}`);
      }
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
