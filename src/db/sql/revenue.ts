import { Prisma } from '../../generated/prisma/client';
import { bucketOf, periodsCte, rangeEndOf, rangeStartOf, type PeriodsInput } from './periods';

/**
 * One statement upserting `revenue_aggregates` for every period of the input (empty periods get
 * zeros). Raw reads: payments and refunds by (tenant_id, created_at) over the whole range;
 * subscriptions by (tenant_id, started_at < range end).
 *
 * MRR at each period_end is a running sum of subscription events: +value when a subscription
 * starts, -value when it is canceled, each counted in the first period whose end is after the
 * event. That equals "started_at < period_end and (canceled_at is null or canceled_at >=
 * period_end)" for every period at once. Values are kept in twelfths of a cent (monthly amount
 * x 12, yearly amount x 1) so the sum is exact and rounded once, half away from zero.
 */
export function revenueUpsert(input: PeriodsInput): Prisma.Sql {
  const { tenantId, periodType } = input;
  const rangeStart = rangeStartOf(input);
  const rangeEnd = rangeEndOf(input);
  return Prisma.sql`
WITH ${periodsCte(input)},
pay AS (
  SELECT ${bucketOf(Prisma.sql`created_at`, input)} AS idx,
         count(*) FILTER (WHERE status IN ('succeeded', 'failed')) AS payment_count,
         count(*) FILTER (WHERE status = 'succeeded') AS success_count,
         coalesce(sum(amount_cents) FILTER (WHERE status = 'succeeded'), 0) AS gross_cents
  FROM payments
  WHERE tenant_id = ${tenantId} AND created_at >= ${rangeStart}::timestamptz AND created_at < ${rangeEnd}::timestamptz
  GROUP BY 1
),
ref AS (
  SELECT ${bucketOf(Prisma.sql`created_at`, input)} AS idx, count(*) AS refund_count, sum(amount_cents) AS refund_cents
  FROM refunds
  WHERE tenant_id = ${tenantId} AND created_at >= ${rangeStart}::timestamptz AND created_at < ${rangeEnd}::timestamptz
  GROUP BY 1
),
sub_events AS (
  SELECT width_bucket(e.at, ${input.ends}::timestamptz[]) + 1 AS idx, sum(e.twelfths) AS twelfths
  FROM subscriptions s
  CROSS JOIN LATERAL (
    VALUES (s.started_at, CASE s.interval WHEN 'month' THEN s.amount_cents * 12 ELSE s.amount_cents END::numeric),
           (s.canceled_at, -(CASE s.interval WHEN 'month' THEN s.amount_cents * 12 ELSE s.amount_cents END)::numeric)
  ) AS e(at, twelfths)
  WHERE s.tenant_id = ${tenantId} AND s.started_at < ${rangeEnd}::timestamptz
    AND s.interval IN ('month', 'year')
    -- canceled at or before its start: never active at any period_end, so no events at all
    AND (s.canceled_at IS NULL OR s.canceled_at > s.started_at)
    AND e.at IS NOT NULL
  GROUP BY 1
),
mrr AS (
  SELECT p.idx, round(sum(coalesce(e.twelfths, 0)) OVER (ORDER BY p.idx) / 12) AS mrr_cents
  FROM periods p LEFT JOIN sub_events e ON e.idx = p.idx
)
INSERT INTO revenue_aggregates (
  tenant_id, period_type, period_start, period_end, total_revenue_cents, gross_revenue_cents,
  payment_count, payment_success_count, payment_success_rate, refund_count, refund_amount_cents,
  mrr_cents, arr_cents, computed_at
)
SELECT ${tenantId}, ${periodType}, p.period_start, p.period_end,
       coalesce(pay.gross_cents, 0) - coalesce(ref.refund_cents, 0),
       coalesce(pay.gross_cents, 0),
       coalesce(pay.payment_count, 0),
       coalesce(pay.success_count, 0),
       CASE WHEN coalesce(pay.payment_count, 0) = 0 THEN 0
            ELSE round(100.0 * pay.success_count / pay.payment_count, 2) END,
       coalesce(ref.refund_count, 0),
       coalesce(ref.refund_cents, 0),
       mrr.mrr_cents,
       12 * mrr.mrr_cents,
       now()
FROM periods p
JOIN mrr ON mrr.idx = p.idx
LEFT JOIN pay ON pay.idx = p.idx
LEFT JOIN ref ON ref.idx = p.idx
ON CONFLICT (tenant_id, period_type, period_start) DO UPDATE SET
  period_end = EXCLUDED.period_end,
  total_revenue_cents = EXCLUDED.total_revenue_cents,
  gross_revenue_cents = EXCLUDED.gross_revenue_cents,
  payment_count = EXCLUDED.payment_count,
  payment_success_count = EXCLUDED.payment_success_count,
  payment_success_rate = EXCLUDED.payment_success_rate,
  refund_count = EXCLUDED.refund_count,
  refund_amount_cents = EXCLUDED.refund_amount_cents,
  mrr_cents = EXCLUDED.mrr_cents,
  arr_cents = EXCLUDED.arr_cents,
  computed_at = EXCLUDED.computed_at`;
}
