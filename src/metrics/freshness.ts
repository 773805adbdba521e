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

export interface CachedFreshness {
  read(): Promise<Freshness[]>;
  /** This process wrote aggregates: the next read queries again. */
  invalidate(): void;
}

/**
 * {@link readFreshness} at most once per `ttlMs` unless this process wrote aggregates since:
 * scrapes in between reuse the last instants (the age is still computed at each scrape), so only
 * rows written by other processes in that window can be missed. Concurrent scrapes share one query.
 */
export function cachedFreshness(pool: Pick<pg.Pool, 'query'>, ttlMs: number, now: () => number = Date.now): CachedFreshness {
  let last: { at: number; value: Promise<Freshness[]> } | undefined;
  return {
    read() {
      if (!last || now() - last.at >= ttlMs) {
        const value = readFreshness(pool);
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
