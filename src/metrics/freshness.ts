import type pg from 'pg';
import type { AggregationType, PeriodType } from '../contract/aggregation';

export interface Freshness {
  type: AggregationType;
  periodType: PeriodType;
  newestComputedAt: Date;
}

/**
 * The newest `computed_at` per aggregate type and period type, in one statement. The aggregate
 * tables have no index on `computed_at` (one would cost every upsert its HOT update), so this
 * reads each table once; {@link cachedFreshness} bounds how often.
 */
const FRESHNESS_SQL = `
SELECT 'revenue' AS type, period_type, max(computed_at) AS newest FROM revenue_aggregates GROUP BY period_type
UNION ALL
SELECT 'tournaments', period_type, max(computed_at) FROM tournament_aggregates GROUP BY period_type
UNION ALL
SELECT 'cohorts', 'month', max(computed_at) FROM user_cohorts HAVING count(*) > 0`;

export async function readFreshness(pool: Pick<pg.Pool, 'query'>): Promise<Freshness[]> {
  const res = await pool.query<{ type: AggregationType; period_type: PeriodType; newest: Date }>(FRESHNESS_SQL);
  return res.rows.map((r) => ({ type: r.type, periodType: r.period_type, newestComputedAt: r.newest }));
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
