import type pg from 'pg';

// How many raw rows a tenant has in a time range, estimated from the planner's statistics
// (pg_class.reltuples, pg_stats of tenant_id and of the time column) without reading the rows:
// one query per page of tenants, whatever their size. It decides whether a tenant's range is
// split (src/aggregation/split.ts), so it needs to be right about the few tenants that are far
// larger than the rest — exactly those ANALYZE lists among a column's most common values.
// A tenant not in that list gets the average of the others. Tables never analysed have no
// statistics: their tenants are estimated at 0 (never split).

/** The raw tables whose rows dominate an aggregation's cost, with the time column it ranges over. */
const TABLES = [
  { table: 'payments', time: 'created_at' },
  { table: 'user_activity', time: 'occurred_at' },
  { table: 'tournament_players', time: 'joined_at' },
] as const;

interface TableStats {
  table: string;
  reltuples: number;
  /** tenant_id's most common values and their frequencies. */
  mcv: Map<string, number>;
  /** Estimated distinct tenant ids (absolute). */
  distinct: number;
  /** First and last histogram bound of the time column (epoch ms), when known. */
  span: [number, number] | undefined;
}

const STATS = {
  name: 'row_estimate_stats',
  text: `
SELECT c.relname AS table, c.reltuples::float8 AS reltuples,
       tid.most_common_vals::text::text[] AS vals, tid.most_common_freqs AS freqs, tid.n_distinct::float8 AS n_distinct,
       (tm.histogram_bounds::text::timestamptz[])[1] AS first, (tm.histogram_bounds::text::timestamptz[])[cardinality(tm.histogram_bounds::text::timestamptz[])] AS last
FROM unnest($1::text[], $2::text[]) AS t(relname, time_column)
JOIN pg_class c ON c.oid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(t.relname))
LEFT JOIN pg_stats tid ON tid.schemaname = current_schema() AND tid.tablename = t.relname AND tid.attname = 'tenant_id'
LEFT JOIN pg_stats tm ON tm.schemaname = current_schema() AND tm.tablename = t.relname AND tm.attname = t.time_column`,
} as const;

async function tableStats(pool: pg.Pool): Promise<TableStats[]> {
  const res = await pool.query<{ table: string; reltuples: number; vals: string[] | null; freqs: number[] | null; n_distinct: number | null; first: Date | null; last: Date | null }>({
    ...STATS,
    values: [TABLES.map((t) => t.table), TABLES.map((t) => t.time)],
  });
  return res.rows.map((r) => {
    const mcv = new Map<string, number>();
    (r.vals ?? []).forEach((v, i) => mcv.set(v, r.freqs?.[i] ?? 0));
    const reltuples = Math.max(0, r.reltuples);
    // n_distinct < 0 is a fraction of the rows.
    const distinct = r.n_distinct === null ? 0 : r.n_distinct < 0 ? -r.n_distinct * reltuples : r.n_distinct;
    const span: [number, number] | undefined = r.first && r.last && r.last > r.first ? [r.first.getTime(), r.last.getTime()] : undefined;
    return { table: r.table, reltuples: r.n_distinct === null ? 0 : reltuples, mcv, distinct, span };
  });
}

/** Estimated rows of `tenantId` in one table, in [from, to) (epoch ms). */
function estimateIn(stats: TableStats, tenantId: string, from: number, to: number): number {
  if (stats.reltuples === 0) return 0;
  let freq = stats.mcv.get(tenantId);
  if (freq === undefined) {
    const listed = [...stats.mcv.values()].reduce((a, b) => a + b, 0);
    const others = Math.max(1, stats.distinct - stats.mcv.size);
    freq = Math.max(0, 1 - listed) / others;
  }
  let share = 1;
  if (stats.span) {
    const [first, last] = stats.span;
    share = Math.max(0, Math.min(to, last) - Math.max(from, first)) / (last - first);
  }
  return freq * stats.reltuples * share;
}

/**
 * Estimated raw rows (payments, user activity, tournament players) of each tenant in
 * [from, to), from the statistics alone: one query for any number of tenants.
 */
export async function estimateTenantRows(pool: pg.Pool, tenantIds: readonly string[], from: Date, to: Date): Promise<Map<string, number>> {
  const estimates = new Map<string, number>();
  if (tenantIds.length === 0) return estimates;
  const stats = await tableStats(pool);
  for (const id of tenantIds) {
    estimates.set(id, Math.round(stats.reduce((n, s) => n + estimateIn(s, id, from.getTime(), to.getTime()), 0)));
  }
  return estimates;
}
