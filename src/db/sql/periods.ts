import { Prisma } from '../../generated/prisma/client';
import type { PeriodType } from '../../contract/aggregation';

/**
 * What every per-period statement receives: one tenant and its contiguous periods as parallel
 * arrays of ISO instants (computed in TypeScript in the tenant's timezone).
 */
export interface PeriodsInput {
  tenantId: string;
  periodType: PeriodType;
  /** Period starts, ascending; `starts[i + 1] === ends[i]`. */
  starts: string[];
  ends: string[];
}

/**
 * `periods(idx, period_start, period_end)`: one row per period, idx 1-based. Raw rows are put in
 * their period with `width_bucket(time, starts)` (a binary search over the sorted starts), so a
 * backfill of any length is one pass over the tenant's rows, not one query per period.
 */
export function periodsCte(input: PeriodsInput): Prisma.Sql {
  return Prisma.sql`periods AS (
    SELECT p.idx::int AS idx, p.period_start, p.period_end
    FROM unnest(${input.starts}::timestamptz[], ${input.ends}::timestamptz[]) WITH ORDINALITY AS p(period_start, period_end, idx)
  )`;
}

/** Bucket (1-based period index) of a time column, given the periods' starts. */
export function bucketOf(column: Prisma.Sql, input: PeriodsInput): Prisma.Sql {
  return Prisma.sql`width_bucket(${column}, ${input.starts}::timestamptz[])`;
}

export function rangeStartOf(input: PeriodsInput): string {
  return input.starts[0]!;
}

export function rangeEndOf(input: PeriodsInput): string {
  return input.ends[input.ends.length - 1]!;
}
