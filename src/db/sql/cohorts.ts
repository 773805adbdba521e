import { Prisma } from '../../generated/prisma/client';

/**
 * Cohort months M_1..M_n of one tenant, with the month boundaries up to the month that contains
 * the as-of instant. All computed in TypeScript in the tenant's timezone.
 */
export interface CohortsInput {
  tenantId: string;
  /** Tenant-local first days of the cohort months, `YYYY-MM-DD`, ascending and contiguous. */
  cohortMonths: string[];
  /**
   * ISO instants: `bounds[i]` starts month i+1 (M_1 first) and the last element ends the last
   * month. Covers every cohort month and every month up to the one containing as-of.
   */
  bounds: string[];
  /** 1-based month index (within `bounds`) of the month containing as-of; 0 when as-of is before M_1. */
  asOfIndex: number;
}

/**
 * One statement that makes the tenant's `user_cohorts` rows for the given cohort months exactly
 * the rows defined as of as-of: upserts every (cohort, month_number 0..k) of a non-empty cohort
 * and deletes the rows of cohort months (up to the as-of month) that have become empty.
 * Raw reads: users by (tenant_id, created_at) over the cohort months; user_activity by
 * (tenant_id, occurred_at) from M_2 to the end of the as-of month (index-only: user_id is in the
 * index). Returns `{ written, deleted }`.
 */
export function cohortsUpsert(input: CohortsInput): Prisma.Sql {
  return Prisma.sql`
WITH ${cohortsCtes(input)}
SELECT (SELECT count(*) FROM upserted)::int AS written, (SELECT count(*) FROM deleted)::int AS deleted`;
}

/**
 * The common table expressions of {@link cohortsUpsert}, ending with the data-modifying
 * `upserted` and `deleted` (one row per row written or deleted), for statements that combine
 * cohorts with other work (src/db/sql/tenant.ts).
 */
export function cohortsCtes(input: CohortsInput): Prisma.Sql {
  const { tenantId, cohortMonths, bounds, asOfIndex } = input;
  const cohortStart = bounds[0]!;
  const cohortEnd = bounds[cohortMonths.length]!;
  // Month 0 needs no activity (retained = cohort size), so activity is read from M_2 on, up to
  // the end of the as-of month; an empty range when as-of falls before M_2.
  const activityStart = bounds[Math.min(1, bounds.length - 1)]!;
  const activityEnd = asOfIndex >= 2 ? bounds[asOfIndex]! : activityStart;
  return Prisma.sql`cohort_users AS (
  SELECT id AS user_id, width_bucket(created_at, ${bounds}::timestamptz[]) AS c
  FROM users
  WHERE tenant_id = ${tenantId} AND created_at >= ${cohortStart}::timestamptz AND created_at < ${cohortEnd}::timestamptz
),
sizes AS (
  SELECT c, count(*) AS cohort_size FROM cohort_users WHERE c <= ${asOfIndex}::int GROUP BY c
),
retained AS (
  -- Join before de-duplicating: the tenant's activity is mostly by users outside these cohorts,
  -- so the hash join on the (small) cohort set shrinks it before the distinct count.
  SELECT cu.c, a.m - cu.c AS k, count(DISTINCT a.user_id) AS retained_users
  FROM (
    SELECT user_id, width_bucket(occurred_at, ${bounds}::timestamptz[]) AS m
    FROM user_activity
    WHERE tenant_id = ${tenantId} AND occurred_at >= ${activityStart}::timestamptz AND occurred_at < ${activityEnd}::timestamptz
  ) a
  JOIN cohort_users cu ON cu.user_id = a.user_id
  WHERE a.m > cu.c
  GROUP BY 1, 2
),
computed AS (
  SELECT (${cohortMonths}::date[])[s.c] AS cohort_month, k.k AS month_number, s.cohort_size,
         CASE WHEN k.k = 0 THEN s.cohort_size ELSE coalesce(r.retained_users, 0) END AS retained_users
  FROM sizes s
  CROSS JOIN LATERAL generate_series(0, ${asOfIndex}::int - s.c) AS k(k)
  LEFT JOIN retained r ON r.c = s.c AND r.k = k.k
),
upserted AS (
  INSERT INTO user_cohorts (tenant_id, cohort_month, month_number, cohort_size, retained_users, retention_rate, computed_at)
  SELECT ${tenantId}, cohort_month, month_number, cohort_size, retained_users,
         round(100.0 * retained_users / cohort_size, 2), now()
  FROM computed
  ON CONFLICT (tenant_id, cohort_month, month_number) DO UPDATE SET
    cohort_size = EXCLUDED.cohort_size,
    retained_users = EXCLUDED.retained_users,
    retention_rate = EXCLUDED.retention_rate,
    computed_at = EXCLUDED.computed_at
  RETURNING 1
),
deleted AS (
  -- Only cohorts that are empty now (every user of the month gone), and only months up to the
  -- as-of month: a run with an older as-of time (a late job, a retry) must not delete the later
  -- month numbers a newer run wrote.
  DELETE FROM user_cohorts uc
  WHERE uc.tenant_id = ${tenantId} AND uc.cohort_month = ANY((${cohortMonths}::date[])[1:${asOfIndex}::int])
    AND NOT EXISTS (SELECT 1 FROM computed c WHERE c.cohort_month = uc.cohort_month)
  RETURNING 1
)`;
}
