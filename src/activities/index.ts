import { performance } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import { createTenantAggregator } from '../aggregation/tenant-aggregator';
import { createAggregationService, systemClock, type Clock } from '../aggregation/service';
import { typesOfJob, type TenantAggregationInput, type TenantAggregationResult } from '../contract/aggregation';
import { poolOf, type Db } from '../db/client';
import { createIncrementalRefresher } from '../incremental/refresh';
import type { Logger } from '../logger';
import { isFinalAttempt, type AggregationRecorder } from './metrics';

export { systemClock, type Clock };
export type { AggregationRecorder };

export interface ActivityDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Told about every tenant the aggregation activity settles (the workers' Prometheus metrics). @defaultValue none */
  metrics?: AggregationRecorder;
}

/** The attempt of the activity running now; 1 outside an activity (a direct call in a test). */
function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/** The retry policy's attempt limit of the activity running now; undefined outside an activity. */
function maximumAttempts(): number | undefined {
  try {
    return Context.current().info.retryPolicy?.maximumAttempts;
  } catch {
    return undefined;
  }
}

/**
 * Every aggregation activity the workers register, built over its dependencies. Workflows proxy
 * `ReturnType<typeof createActivities>` so a renamed activity breaks them at compile time.
 */
export function createActivities({ db, clock, logger, metrics }: ActivityDeps) {
  const aggregation = createAggregationService({ db, clock, logger: logger.child({ component: 'aggregation' }) });
  const tenants = createTenantAggregator({ pool: poolOf(db), clock, logger: logger.child({ component: 'aggregation' }) });
  const incremental = createIncrementalRefresher({ pool: poolOf(db), clock, logger: logger.child({ component: 'incremental' }) });
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
      const attempt = currentAttempt();
      const started = performance.now();
      let result;
      try {
        result = input.job.incremental
          ? await incremental.refreshTenant({ tenantId: input.tenantId, type: input.job.type, asOf: input.asOf, jobKey: input.jobKey, attempt })
          : await tenants.aggregateTenant({ ...input, attempt });
      } catch (err) {
        const errorType = err instanceof Error ? err.name : 'Error';
        metrics?.tenantFailed(typesOfJob(input.job.type), errorType, isFinalAttempt(errorType, attempt, maximumAttempts()), performance.now() - started);
        throw err;
      }
      if (result.status === 'resumed') metrics?.tenantResumed(typesOfJob(input.job.type));
      else metrics?.tenantAggregated(result.summaries, performance.now() - started);
      return { tenantId: result.tenantId, status: result.status, rowsWritten: result.rowsWritten, ...('rowsByType' in result && result.rowsByType ? { rowsByType: result.rowsByType } : {}) };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
