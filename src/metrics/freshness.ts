import type pg from 'pg';
import { PERIOD_TYPES, type AggregationType, type PeriodType } from '../contract/aggregation';

/**
 * How fresh the aggregates of one (type, period type) are, over every tenant, from the
 * incremental refresh's watermarks (`aggregate_freshness`, docs/incremental.md) and the changes
 * not folded in yet: what the /metrics freshness gauges export, with no per-tenant label.
 */
export interface Freshness {
  type: AggregationType;
  periodType: PeriodType;
  /** The newest `refreshed_at` of its watermarks: when an incremental run last folded a change into it (null: never). */
  lastRefreshedAt: Date | null;
  /** Active tenants whose aggregates of it miss at least one captured change. */
  staleTenants: number;
  /** When the oldest change missing from them was written (null when none is missing). */
  oldestMissingChangeAt: Date | null;
}

/** Every (type, period type) an incremental refresh keeps a watermark of (cohorts: month only). */
const WATERMARK_KEYS: readonly [AggregationType, PeriodType][] = [
  ...PERIOD_TYPES.map((p) => ['revenue', p] as [AggregationType, PeriodType]),
  ...PERIOD_TYPES.map((p) => ['tournaments', p] as [AggregationType, PeriodType]),
  ['cohorts', 'month'],
];

/**
 * One statement, cheap at 100,000 tenants:
 * - `marks`: the newest refreshed_at per key, one backward probe each of the index on
 *   (aggregate_type, period_type, refreshed_at) (migration 20261202020000);
 * - `stale`: the pending change rows (consumed every hour, so few; what the pending-change gauges
 *   read anyway), per (tenant, type) the oldest, of active tenants only (a primary-key probe
 *   each; a suspended tenant's
 *   changes wait for it by design; they still count in analytics_pending_changes), spread over
 *   the period types that tenant's watermarks of the type name (primary-key probes), plus the
 *   one every refresh writes (day; cohorts: month). A change of a type dirties every period type
 *   the tenant has rows of, and those are the period types its last refresh advanced.
 */
const FRESHNESS_SQL = `
WITH pending AS (
  SELECT c.tenant_id, CASE c.aggregate_type WHEN 'mrr' THEN 'revenue' ELSE c.aggregate_type END AS type, min(c.recorded_at) AS oldest
  FROM aggregate_changes c GROUP BY 1, 2
),
stale AS (
  SELECT p.type, pt.period_type, count(*)::int AS tenants, min(p.oldest) AS oldest
  FROM pending p
  CROSS JOIN LATERAL (
    SELECT CASE p.type WHEN 'cohorts' THEN 'month' ELSE 'day' END AS period_type
    UNION
    SELECT f.period_type FROM aggregate_freshness f WHERE f.tenant_id = p.tenant_id AND f.aggregate_type = p.type
  ) pt
  -- A primary-key probe per pending (tenant, type), not a hash join over every organization.
  WHERE (SELECT o.status FROM organizations o WHERE o.id = p.tenant_id) = 'active'
  GROUP BY 1, 2
),
marks AS (
  SELECT k.type, k.period_type,
         (SELECT f.refreshed_at FROM aggregate_freshness f WHERE f.aggregate_type = k.type AND f.period_type = k.period_type
          ORDER BY f.refreshed_at DESC LIMIT 1) AS refreshed_at
  FROM unnest($1::text[], $2::text[]) AS k(type, period_type)
)
SELECT m.type, m.period_type, m.refreshed_at, coalesce(s.tenants, 0) AS stale_tenants, s.oldest
FROM marks m LEFT JOIN stale s ON s.type = m.type AND s.period_type = m.period_type
WHERE m.refreshed_at IS NOT NULL OR s.tenants IS NOT NULL
ORDER BY 1, 2`;

export async function readFreshness(pool: Pick<pg.Pool, 'query'>): Promise<Freshness[]> {
  const res = await pool.query<{ type: AggregationType; period_type: PeriodType; refreshed_at: Date | null; stale_tenants: number; oldest: Date | null }>({
    name: 'metrics_freshness',
    text: FRESHNESS_SQL,
    values: [WATERMARK_KEYS.map(([t]) => t), WATERMARK_KEYS.map(([, p]) => p)],
  });
  return res.rows.map((r) => ({ type: r.type, periodType: r.period_type, lastRefreshedAt: r.refreshed_at, staleTenants: r.stale_tenants, oldestMissingChangeAt: r.oldest }));
}

/** Changes captured for incremental refresh (docs/incremental.md) that no run has folded in yet, per kind. */
export interface ChangeBacklog {
  /** `revenue`, `mrr`, `tournaments` or `cohorts`. */
  kind: string;
  pending: number;
  /** When the oldest of them was written: the aggregates of that kind are at most this stale. */
  oldestRecordedAt: Date;
}

const BACKLOG_SQL = `SELECT aggregate_type AS kind, count(*)::int AS pending, min(recorded_at) AS oldest FROM aggregate_changes GROUP BY 1`;

export async function readChangeBacklog(pool: Pick<pg.Pool, 'query'>): Promise<ChangeBacklog[]> {
  const res = await pool.query<{ kind: string; pending: number; oldest: Date }>(BACKLOG_SQL);
  return res.rows.map((r) => ({ kind: r.kind, pending: r.pending, oldestRecordedAt: r.oldest }));
}

export interface CachedRead<T> {
  read(): Promise<T>;
  /** This process wrote aggregates: the next read queries again. */
  invalidate(): void;
}

export type CachedFreshness = CachedRead<Freshness[]>;

/**
 * `read` at most once per `ttlMs` unless invalidated since: scrapes in between reuse the last
 * answer (ages are still computed at each scrape), so only what other processes wrote in that
 * window can be missed. Concurrent scrapes share one query; a failed one is not kept.
 */
export function cachedRead<T>(read: () => Promise<T>, ttlMs: number, now: () => number = Date.now): CachedRead<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return {
    read() {
      if (!last || now() - last.at >= ttlMs) {
        const value = read();
        last = { at: now(), value };
        value.catch(() => {
          if (last?.value === value) last = undefined;
        });
      }
      return last.value;
    },
    invalidate() {
      last = undefined;
    },
  };
}

/** {@link readFreshness}, cached by {@link cachedRead}. */
export function cachedFreshness(pool: Pick<pg.Pool, 'query'>, ttlMs: number, now: () => number = Date.now): CachedFreshness {
  return cachedRead(() => readFreshness(pool), ttlMs, now);
}

/** When the newest aggregate row of one (type, period type) was written. */
export interface NewestAggregate {
  type: AggregationType;
  periodType: PeriodType;
  newestComputedAt: Date;
}

/**
 * The newest `computed_at` per aggregate type and period type. The aggregate tables have no
 * index on `computed_at` (one would cost every upsert its HOT update), so this reads each table
 * once: {@link newestAggregates} runs it rarely and adds what this process writes meanwhile.
 */
const NEWEST_SQL = `
SELECT 'revenue' AS type, period_type, max(computed_at) AS newest FROM revenue_aggregates GROUP BY period_type
UNION ALL
SELECT 'tournaments', period_type, max(computed_at) FROM tournament_aggregates GROUP BY period_type
UNION ALL
SELECT 'cohorts', 'month', max(computed_at) FROM user_cohorts HAVING count(*) > 0`;

export async function readNewestAggregates(pool: Pick<pg.Pool, 'query'>): Promise<NewestAggregate[]> {
  const res = await pool.query<{ type: AggregationType; period_type: PeriodType; newest: Date }>(NEWEST_SQL);
  return res.rows.map((r) => ({ type: r.type, periodType: r.period_type, newestComputedAt: r.newest }));
}

export interface NewestAggregates {
  /** The newest write per (type, period type): the last scan, or a later write of this process. */
  read(): Promise<NewestAggregate[]>;
  /** This process wrote rows (the activities' summaries): counted at once, with no scan. */
  noteWritten(summaries: readonly { type: AggregationType; periodType: PeriodType; rowsWritten: number }[]): void;
}

/**
 * The age-of-the-newest-aggregate source of /metrics at bounded cost: the tables are scanned at
 * most once per `scanTtlMs` (not invalidated by this process's writes, which it notes itself), so
 * rows written by other processes (`aggregate --local`, another workers process) show within
 * `scanTtlMs`, and this process's own at once.
 */
export function newestAggregates(pool: Pick<pg.Pool, 'query'>, scanTtlMs: number, now: () => number = Date.now): NewestAggregates {
  const scan = cachedRead(() => readNewestAggregates(pool), scanTtlMs, now);
  const written = new Map<string, NewestAggregate>(); // at most one entry per (type, period type)
  return {
    async read() {
      const merged = new Map<string, NewestAggregate>();
      for (const n of [...(await scan.read()), ...written.values()]) {
        const key = `${n.type}:${n.periodType}`;
        const seen = merged.get(key);
        if (!seen || n.newestComputedAt > seen.newestComputedAt) merged.set(key, n);
      }
      return [...merged.values()];
    },
    noteWritten(summaries) {
      const at = new Date(now());
      for (const s of summaries) {
        if (s.rowsWritten > 0) written.set(`${s.type}:${s.periodType}`, { type: s.type, periodType: s.periodType, newestComputedAt: at });
      }
    },
  };
}
