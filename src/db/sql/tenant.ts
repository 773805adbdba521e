import { Prisma } from '../../generated/prisma/client';
import { cohortsCtes, type CohortsInput } from './cohorts';
import type { PeriodsInput } from './periods';
import { revenueUpsert } from './revenue';
import { tournamentsUpsert } from './tournaments';

/** Outcome rows the statement records with the aggregates (the resume ledger), for a job's tenant. */
export interface OutcomeStamp {
  jobKey: string;
  attempt: number;
  /** ISO instant, the activity clock: retention counts from it. */
  recordedAt: string;
  /** Rows the earlier parts of a split tenant wrote, per type, added to this statement's. */
  carriedRows?: Partial<Record<'revenue' | 'cohorts' | 'tournaments', number>>;
  /** Outcome rows of types this statement does not compute, written as given (an incremental refresh records every type of its job). */
  extra?: { type: 'revenue' | 'cohorts' | 'tournaments'; rows: number; periods: number }[];
}

export interface TenantStatementInput {
  tenantId: string;
  revenue?: Omit<PeriodsInput, 'tenantId'>;
  tournaments?: Omit<PeriodsInput, 'tenantId'>;
  cohorts?: Omit<CohortsInput, 'tenantId'>;
  /** Periods (cohort months) per type, for the outcome rows. */
  periods: { revenue?: number; tournaments?: number; cohorts?: number };
  outcome?: OutcomeStamp;
}

/**
 * Every requested type of one tenant, and its outcome rows, as ONE statement: a single round trip,
 * a single plan (prepared once per connection), and atomic without an explicit transaction —
 * the aggregates and the outcome that says they were written commit together or not at all.
 * Each type's own statement (revenue.ts, tournaments.ts, cohorts.ts) is embedded unchanged as a
 * data-modifying common table expression. Returns `{ revenue, cohorts, tournaments }`: rows
 * written per type (0 for a type not requested).
 */
export function tenantUpsert(input: TenantStatementInput): Prisma.Sql {
  const { tenantId } = input;
  const ctes: Prisma.Sql[] = [];
  const counted: { type: string; rows: Prisma.Sql; periods: number }[] = [];
  if (input.cohorts) {
    ctes.push(cohortsCtes({ tenantId, ...input.cohorts }));
    counted.push({ type: 'cohorts', rows: Prisma.sql`(SELECT count(*) FROM upserted)::int`, periods: input.periods.cohorts ?? 0 });
  }
  if (input.revenue) {
    ctes.push(Prisma.sql`revenue_written AS (${revenueUpsert({ tenantId, ...input.revenue })}
RETURNING 1)`);
    counted.push({ type: 'revenue', rows: Prisma.sql`(SELECT count(*) FROM revenue_written)::int`, periods: input.periods.revenue ?? 0 });
  }
  if (input.tournaments) {
    ctes.push(Prisma.sql`tournaments_written AS (${tournamentsUpsert({ tenantId, ...input.tournaments })}
RETURNING 1)`);
    counted.push({ type: 'tournaments', rows: Prisma.sql`(SELECT count(*) FROM tournaments_written)::int`, periods: input.periods.tournaments ?? 0 });
  }
  if (counted.length === 0) throw new Error('tenantUpsert needs at least one type');
  const rowsOf = (type: string) => counted.find((c) => c.type === type)?.rows ?? Prisma.sql`0`;
  if (input.outcome) {
    const { jobKey, attempt, recordedAt, carriedRows, extra = [] } = input.outcome;
    const values = Prisma.join([
      ...counted.map((c) => {
        const carried = carriedRows?.[c.type as keyof typeof carriedRows] ?? 0;
        return carried === 0 ? Prisma.sql`(${c.type}::text, ${c.rows}, ${c.periods}::int)` : Prisma.sql`(${c.type}::text, ${c.rows} + ${carried}::int, ${c.periods}::int)`;
      }),
      ...extra.map((e) => Prisma.sql`(${e.type}::text, ${e.rows}::int, ${e.periods}::int)`),
    ]);
    ctes.push(Prisma.sql`recorded AS (
  INSERT INTO aggregation_outcomes (job_key, tenant_id, type, status, rows_written, periods, attempts, error_type, message, recorded_at)
  SELECT ${jobKey}, ${tenantId}, v.type, 'succeeded', v.rows, v.periods, ${attempt}::int, NULL, NULL, ${recordedAt}::timestamptz
  FROM (VALUES ${values}) AS v(type, rows, periods)
  ON CONFLICT (job_key, tenant_id, type) DO UPDATE SET
    status = 'succeeded', rows_written = EXCLUDED.rows_written, periods = EXCLUDED.periods, attempts = EXCLUDED.attempts,
    error_type = NULL, message = NULL, recorded_at = EXCLUDED.recorded_at
  RETURNING 1
)`);
  }
  return Prisma.sql`
WITH ${Prisma.join(ctes, ',\n')}
SELECT ${rowsOf('revenue')} AS revenue, ${rowsOf('cohorts')} AS cohorts, ${rowsOf('tournaments')} AS tournaments`;
}
