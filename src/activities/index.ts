import { Context } from '@temporalio/activity';
import { createTenantAggregator } from '../aggregation/tenant-aggregator';
import { createAggregationService, systemClock, type Clock } from '../aggregation/service';
import type { TenantAggregationInput, TenantAggregationResult } from '../contract/aggregation';
import { poolOf, type Db } from '../db/client';
import type { Logger } from '../logger';

export { systemClock, type Clock };

export interface ActivityDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
}

/** The attempt of the activity running now; 1 outside an activity (a direct call in a test). */
function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/**
 * Every aggregation activity the workers register, built over its dependencies. Workflows proxy
 * `ReturnType<typeof createActivities>` so a renamed activity breaks them at compile time.
 */
export function createActivities({ db, clock, logger }: ActivityDeps) {
  const aggregation = createAggregationService({ db, clock, logger: logger.child({ component: 'aggregation' }) });
  const tenants = createTenantAggregator({ pool: poolOf(db), clock, logger: logger.child({ component: 'aggregation' }) });
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
     * One tenant of one job: every type the job asks for over its whole range, in one
     * transaction, with the tenant's outcome rows (key `jobKey`) written in it. A tenant an
     * earlier run of the same job completed is skipped (`resumed`). Bad input throws an
     * InvalidInputError subclass and bad data InvalidDataError (never retried); an unreachable
     * database TransientDatabaseError (retried).
     */
    async aggregateTenant(input: TenantAggregationInput): Promise<TenantAggregationResult> {
      const result = await tenants.aggregateTenant({ ...input, attempt: currentAttempt() });
      return { tenantId: result.tenantId, status: result.status, rowsWritten: result.rowsWritten };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
