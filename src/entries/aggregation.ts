// `analytics-workers/aggregation`: the aggregation service in-process (no queue, no Temporal),
// for scripts and tools that compute aggregates directly, as `analytics aggregate --local` does.
//
//   const db = createDb(process.env.DATABASE_URL!);
//   await migrate(process.env.DATABASE_URL!);
//   const service = createAggregationService({ db, clock: systemClock, logger: createLogger('info') });
//   await service.aggregateRevenue('org_123', '2025-11-01', '2025-11-06', 'day');
//   await db.$disconnect();

export { createAggregationService, systemClock, type AggregationService, type AggregationServiceDeps, type Clock, type CohortMonths } from '../aggregation/service';
export type { Period } from '../aggregation/periods';
export { AGGREGATION_TYPES, PERIOD_TYPES, type AggregateSummary, type AggregationType, type AggregationTypeOrAll, type PeriodType } from '../contract/aggregation';
export { createDb, type Db } from '../db/client';
export { migrate, MIGRATIONS_DIR, type MigrateResult } from '../db/migrate';
export { createLogger, type Logger } from '../logger';
