import type pg from 'pg';

// How fresh the aggregates are (docs/incremental.md, "Freshness"): the watermark each incremental
// run advances in its own transaction, and what is still pending.

export interface Watermark {
  tenantId: string;
  type: string;
  periodType: string;
  /** When the newest change folded in was written (its transaction's start). */
  newestChangeAt: string;
  /** When it was folded in. */
  refreshedAt: string;
  changesFolded: number;
}

export interface PendingSummary {
  tenantId: string;
  type: 'revenue' | 'tournaments' | 'cohorts';
  changes: number;
  /** When the oldest pending change was written: the aggregates lag at least since then. */
  oldestChangeAt: string;
}

export interface FreshnessReport {
  watermarks: Watermark[];
  pending: PendingSummary[];
  /** Over every tenant, whatever the limit. */
  totals: { tenantsWithWatermarks: number; tenantsWithPendingChanges: number; pendingChanges: number; oldestPendingChangeAt: string | null };
}

export async function readFreshness(pool: pg.Pool, { tenantId, limit }: { tenantId?: string; limit: number }): Promise<FreshnessReport> {
  const tenant = tenantId ?? null;
  const [marks, pending, totals] = await Promise.all([
    pool.query<{ tenant_id: string; aggregate_type: string; period_type: string; newest_change_at: Date; refreshed_at: Date; changes_folded: string }>(
      `SELECT tenant_id, aggregate_type, period_type, newest_change_at, refreshed_at, changes_folded::text
       FROM aggregate_freshness WHERE $1::text IS NULL OR tenant_id = $1
       ORDER BY tenant_id COLLATE "C", aggregate_type, array_position('{day,week,month,quarter,year}'::text[], period_type) LIMIT $2`,
      [tenant, limit],
    ),
    pool.query<{ tenant_id: string; type: PendingSummary['type']; changes: number; oldest: Date }>(
      `SELECT tenant_id, CASE aggregate_type WHEN 'mrr' THEN 'revenue' ELSE aggregate_type END AS type, count(*)::int AS changes, min(recorded_at) AS oldest
       FROM aggregate_changes WHERE $1::text IS NULL OR tenant_id = $1
       GROUP BY 1, 2 ORDER BY tenant_id COLLATE "C", 2 LIMIT $2`,
      [tenant, limit],
    ),
    pool.query<{ marked: number; pending_tenants: number; pending: number; oldest: Date | null }>(
      `SELECT (SELECT count(DISTINCT tenant_id)::int FROM aggregate_freshness WHERE $1::text IS NULL OR tenant_id = $1) AS marked,
              count(DISTINCT tenant_id)::int AS pending_tenants, count(*)::int AS pending, min(recorded_at) AS oldest
       FROM aggregate_changes WHERE $1::text IS NULL OR tenant_id = $1`,
      [tenant],
    ),
  ]);
  const t = totals.rows[0]!;
  return {
    watermarks: marks.rows.map((r) => ({
      tenantId: r.tenant_id,
      type: r.aggregate_type,
      periodType: r.period_type,
      newestChangeAt: r.newest_change_at.toISOString(),
      refreshedAt: r.refreshed_at.toISOString(),
      changesFolded: Number(r.changes_folded),
    })),
    pending: pending.rows.map((r) => ({ tenantId: r.tenant_id, type: r.type, changes: r.changes, oldestChangeAt: r.oldest.toISOString() })),
    totals: { tenantsWithWatermarks: t.marked, tenantsWithPendingChanges: t.pending_tenants, pendingChanges: t.pending, oldestPendingChangeAt: t.oldest?.toISOString() ?? null },
  };
}
