import { Prisma } from '../../generated/prisma/client';
import { bucketOf, periodsCte, rangeEndOf, rangeStartOf, type PeriodsInput } from './periods';

/**
 * One statement upserting `tournament_aggregates` for every period of the input (empty periods:
 * zeros, and NULL duration and format). Raw reads: tournaments by (tenant_id, created_at) over
 * the range; their players by primary-key lookups (tournament_id, user_id), filtered by tenant;
 * succeeded tournament payments by (tenant_id, created_at).
 */
export function tournamentsUpsert(input: PeriodsInput): Prisma.Sql {
  const { tenantId, periodType } = input;
  const rangeStart = rangeStartOf(input);
  const rangeEnd = rangeEndOf(input);
  return Prisma.sql`
WITH ${periodsCte(input)},
t AS (
  SELECT id, format, status, started_at, completed_at, ${bucketOf(Prisma.sql`created_at`, input)} AS idx
  FROM tournaments
  WHERE tenant_id = ${tenantId} AND created_at >= ${rangeStart}::timestamptz AND created_at < ${rangeEnd}::timestamptz
),
stats AS (
  SELECT idx,
         count(*) AS tournament_count,
         count(*) FILTER (WHERE status = 'completed') AS completed_count,
         -- seconds summed exactly (epoch is numeric), divided once: no rounding before round(.., 2)
         sum(extract(epoch FROM completed_at) - extract(epoch FROM started_at))
           FILTER (WHERE status = 'completed' AND started_at IS NOT NULL AND completed_at IS NOT NULL) AS duration_s,
         count(*) FILTER (WHERE status = 'completed' AND started_at IS NOT NULL AND completed_at IS NOT NULL) AS timed_count
  FROM t GROUP BY idx
),
players AS (
  -- One primary-key lookup per tournament of the range (tournament_id leads the key), rather
  -- than reading every player the tenant ever had: the cost follows the range, not the history.
  SELECT t.idx, sum(pc.n) AS total_players
  FROM t CROSS JOIN LATERAL (
    SELECT count(*) AS n FROM tournament_players tp WHERE tp.tournament_id = t.id AND tp.tenant_id = ${tenantId}
  ) pc
  GROUP BY t.idx
),
fmt AS (
  -- ties go to the alphabetically first format, by code point (C collation) whatever the database's locale
  SELECT DISTINCT ON (idx) idx, format
  FROM (SELECT idx, format, count(*) AS n FROM t GROUP BY idx, format) f
  ORDER BY idx, n DESC, format COLLATE "C"
),
rev AS (
  SELECT ${bucketOf(Prisma.sql`created_at`, input)} AS idx, sum(amount_cents) AS revenue_cents
  FROM payments
  WHERE tenant_id = ${tenantId} AND created_at >= ${rangeStart}::timestamptz AND created_at < ${rangeEnd}::timestamptz
    AND status = 'succeeded' AND tournament_id IS NOT NULL
  GROUP BY 1
)
INSERT INTO tournament_aggregates (
  tenant_id, period_type, period_start, period_end, tournament_count, completed_count,
  completion_rate, total_players, avg_players, avg_duration_minutes, most_popular_format,
  revenue_cents, computed_at
)
SELECT ${tenantId}, ${periodType}, p.period_start, p.period_end,
       coalesce(s.tournament_count, 0),
       coalesce(s.completed_count, 0),
       CASE WHEN coalesce(s.tournament_count, 0) = 0 THEN 0
            ELSE round(100.0 * s.completed_count / s.tournament_count, 2) END,
       coalesce(pl.total_players, 0),
       CASE WHEN coalesce(s.tournament_count, 0) = 0 THEN 0
            ELSE round(coalesce(pl.total_players, 0)::numeric / s.tournament_count, 2) END,
       CASE WHEN s.timed_count > 0 THEN round(s.duration_s / (60 * s.timed_count), 2) END,
       fmt.format,
       coalesce(rev.revenue_cents, 0),
       now()
FROM periods p
LEFT JOIN stats s ON s.idx = p.idx
LEFT JOIN players pl ON pl.idx = p.idx
LEFT JOIN fmt ON fmt.idx = p.idx
LEFT JOIN rev ON rev.idx = p.idx
ON CONFLICT (tenant_id, period_type, period_start) DO UPDATE SET
  period_end = EXCLUDED.period_end,
  tournament_count = EXCLUDED.tournament_count,
  completed_count = EXCLUDED.completed_count,
  completion_rate = EXCLUDED.completion_rate,
  total_players = EXCLUDED.total_players,
  avg_players = EXCLUDED.avg_players,
  avg_duration_minutes = EXCLUDED.avg_duration_minutes,
  most_popular_format = EXCLUDED.most_popular_format,
  revenue_cents = EXCLUDED.revenue_cents,
  computed_at = EXCLUDED.computed_at`;
}
