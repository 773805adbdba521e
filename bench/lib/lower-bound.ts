// The SQL lower bound of a daily backfill of every type, written here independently of the app's
// statements: one GROUP BY per raw table over the same rows, in each tenant's local days (read and
// group), inserting the same output rows once into empty copies of the aggregate tables (write).
// Three INSERT … SELECT statements, one per aggregate table, run one after another on one
// connection. MRR is left at 0 (the bound reads no subscriptions), so it can only be lower than
// any exact run. Every active organization of the schema is covered, as `aggregate` without
// --tenant does.
import type pg from 'pg';
import { AGGREGATE_TABLES } from './stack';

/** Empty copies of the aggregate tables (same columns, defaults, indexes and unique keys). */
export async function createLowerBoundTables(client: pg.ClientBase | pg.Pool): Promise<void> {
  for (const table of AGGREGATE_TABLES) {
    await client.query(`CREATE TABLE IF NOT EXISTS lb_${table} (LIKE ${table} INCLUDING ALL)`);
  }
}

export async function truncateLowerBoundTables(client: pg.ClientBase | pg.Pool): Promise<void> {
  await client.query(`TRUNCATE ${AGGREGATE_TABLES.map((t) => `lb_${t}`).join(', ')}`);
}

// Each active tenant's range: local midnights of $1 and $2 (dates, the end exclusive) in its zone.
const TENANTS = `
  t AS (
    SELECT id, timezone,
           ($1::date)::timestamp AT TIME ZONE timezone AS lo,
           ($2::date)::timestamp AT TIME ZONE timezone AS hi
      FROM organizations WHERE status = 'active')`;

// Every local day of the range, per tenant, with its instants: empty days get zero rows.
const DAYS = `
  days AS (
    SELECT t.id AS tenant_id, d::date AS day,
           d AT TIME ZONE t.timezone AS period_start,
           (d + interval '1 day') AT TIME ZONE t.timezone AS period_end
      FROM t CROSS JOIN generate_series($1::date::timestamp, $2::date::timestamp - interval '1 day', interval '1 day') d)`;

const REVENUE = `
  WITH ${TENANTS},
  pay AS (
    SELECT p.tenant_id, (p.created_at AT TIME ZONE t.timezone)::date AS day,
           count(*) FILTER (WHERE p.status IN ('succeeded', 'failed')) AS n,
           count(*) FILTER (WHERE p.status = 'succeeded') AS ok,
           coalesce(sum(p.amount_cents) FILTER (WHERE p.status = 'succeeded'), 0) AS gross
      FROM t JOIN payments p ON p.tenant_id = t.id AND p.created_at >= t.lo AND p.created_at < t.hi
     GROUP BY 1, 2),
  ref AS (
    SELECT r.tenant_id, (r.created_at AT TIME ZONE t.timezone)::date AS day, count(*) AS n, sum(r.amount_cents) AS cents
      FROM t JOIN refunds r ON r.tenant_id = t.id AND r.created_at >= t.lo AND r.created_at < t.hi
     GROUP BY 1, 2),
  ${DAYS}
  INSERT INTO lb_revenue_aggregates (tenant_id, period_type, period_start, period_end, total_revenue_cents, gross_revenue_cents,
                                     payment_count, payment_success_count, payment_success_rate, refund_count, refund_amount_cents,
                                     mrr_cents, arr_cents, computed_at)
  SELECT d.tenant_id, 'day', d.period_start, d.period_end,
         coalesce(pay.gross, 0) - coalesce(ref.cents, 0), coalesce(pay.gross, 0),
         coalesce(pay.n, 0), coalesce(pay.ok, 0),
         CASE WHEN coalesce(pay.n, 0) = 0 THEN 0 ELSE round(100.0 * pay.ok / pay.n, 2) END,
         coalesce(ref.n, 0), coalesce(ref.cents, 0), 0, 0, now()
    FROM days d
    LEFT JOIN pay ON pay.tenant_id = d.tenant_id AND pay.day = d.day
    LEFT JOIN ref ON ref.tenant_id = d.tenant_id AND ref.day = d.day`;

const TOURNAMENTS = `
  WITH ${TENANTS},
  players AS (
    SELECT tp.tournament_id, count(*) AS n
      FROM t JOIN tournament_players tp ON tp.tenant_id = t.id
     GROUP BY 1),
  tour AS (
    SELECT x.tenant_id, (x.created_at AT TIME ZONE t.timezone)::date AS day,
           count(*) AS n,
           count(*) FILTER (WHERE x.status = 'completed') AS completed,
           coalesce(sum(players.n), 0) AS players,
           avg(extract(epoch FROM x.completed_at - x.started_at) / 60)
             FILTER (WHERE x.status = 'completed' AND x.started_at IS NOT NULL AND x.completed_at IS NOT NULL) AS minutes,
           mode() WITHIN GROUP (ORDER BY x.format) AS format
      FROM t JOIN tournaments x ON x.tenant_id = t.id AND x.created_at >= t.lo AND x.created_at < t.hi
      LEFT JOIN players ON players.tournament_id = x.id
     GROUP BY 1, 2),
  tour_pay AS (
    SELECT p.tenant_id, (p.created_at AT TIME ZONE t.timezone)::date AS day, sum(p.amount_cents) AS cents
      FROM t JOIN payments p ON p.tenant_id = t.id AND p.created_at >= t.lo AND p.created_at < t.hi
     WHERE p.status = 'succeeded' AND p.tournament_id IS NOT NULL
     GROUP BY 1, 2),
  ${DAYS}
  INSERT INTO lb_tournament_aggregates (tenant_id, period_type, period_start, period_end, tournament_count, completed_count,
                                        completion_rate, total_players, avg_players, avg_duration_minutes, most_popular_format,
                                        revenue_cents, computed_at)
  SELECT d.tenant_id, 'day', d.period_start, d.period_end,
         coalesce(tour.n, 0), coalesce(tour.completed, 0),
         CASE WHEN coalesce(tour.n, 0) = 0 THEN 0 ELSE round(100.0 * tour.completed / tour.n, 2) END,
         coalesce(tour.players, 0),
         CASE WHEN coalesce(tour.n, 0) = 0 THEN 0 ELSE round(tour.players::numeric / tour.n, 2) END,
         round(tour.minutes::numeric, 2), tour.format, coalesce(tour_pay.cents, 0), now()
    FROM days d
    LEFT JOIN tour ON tour.tenant_id = d.tenant_id AND tour.day = d.day
    LEFT JOIN tour_pay ON tour_pay.tenant_id = d.tenant_id AND tour_pay.day = d.day`;

// The cohort months of the range (the benchmarks' ranges are whole months); month numbers 0 … the
// tenant-local month of $3 (the as-of instant); no rows for an empty cohort.
const COHORTS = `
  WITH ${TENANTS},
  sizes AS (
    SELECT u.tenant_id, date_trunc('month', u.created_at AT TIME ZONE t.timezone)::date AS cohort_month, count(*) AS n
      FROM t JOIN users u ON u.tenant_id = t.id AND u.created_at >= t.lo AND u.created_at < t.hi
     GROUP BY 1, 2),
  retained AS (
    SELECT a.tenant_id, date_trunc('month', u.created_at AT TIME ZONE t.timezone)::date AS cohort_month,
           date_trunc('month', a.occurred_at AT TIME ZONE t.timezone)::date AS month, count(DISTINCT a.user_id) AS n
      FROM t JOIN users u ON u.tenant_id = t.id AND u.created_at >= t.lo AND u.created_at < t.hi
      JOIN user_activity a ON a.tenant_id = u.tenant_id AND a.user_id = u.id
                          AND a.occurred_at >= t.lo AND a.occurred_at < $3::timestamptz
     GROUP BY 1, 2, 3)
  INSERT INTO lb_user_cohorts (tenant_id, cohort_month, month_number, cohort_size, retained_users, retention_rate, computed_at)
  SELECT s.tenant_id, s.cohort_month, k.k, s.n, kept.n, round(100.0 * kept.n / s.n, 2), now()
    FROM sizes s JOIN t ON t.id = s.tenant_id
   CROSS JOIN LATERAL generate_series(0,
           ((extract(year FROM ($3::timestamptz AT TIME ZONE t.timezone)) - extract(year FROM s.cohort_month)) * 12
            + extract(month FROM ($3::timestamptz AT TIME ZONE t.timezone)) - extract(month FROM s.cohort_month))::int) AS k(k)
    LEFT JOIN retained r ON r.tenant_id = s.tenant_id AND r.cohort_month = s.cohort_month
                        AND r.month = (s.cohort_month + make_interval(months => k.k))::date
   CROSS JOIN LATERAL (SELECT CASE WHEN k.k = 0 THEN s.n ELSE coalesce(r.n, 0) END AS n) kept`;

export const LOWER_BOUND_STATEMENTS = { revenue: REVENUE, tournaments: TOURNAMENTS, cohorts: COHORTS } as const;

export interface LowerBoundRun {
  ms: number;
  /** Per statement, ms. */
  statementsMs: Record<keyof typeof LOWER_BOUND_STATEMENTS, number>;
  /** Rows inserted per aggregate table. */
  rows: Record<string, number>;
}

/** Runs the three statements one after another; the copies must be empty (see {@link truncateLowerBoundTables}). */
export async function runLowerBound(client: pg.ClientBase | pg.Pool, range: { from: string; to: string; asOf: string }): Promise<LowerBoundRun> {
  const statementsMs = {} as LowerBoundRun['statementsMs'];
  const rows: Record<string, number> = {};
  const params = [range.from, range.to, range.asOf];
  const started = performance.now();
  for (const [name, sql] of Object.entries(LOWER_BOUND_STATEMENTS) as [keyof typeof LOWER_BOUND_STATEMENTS, string][]) {
    const t0 = performance.now();
    const r = await client.query(sql, name === 'cohorts' ? params : params.slice(0, 2));
    statementsMs[name] = Math.round(performance.now() - t0);
    rows[{ revenue: 'revenue_aggregates', tournaments: 'tournament_aggregates', cohorts: 'user_cohorts' }[name]] = r.rowCount ?? 0;
  }
  return { ms: performance.now() - started, statementsMs, rows };
}

const COMPARED_COLUMNS: Record<(typeof AGGREGATE_TABLES)[number], string> = {
  revenue_aggregates:
    'tenant_id, period_type, period_start, period_end, total_revenue_cents, gross_revenue_cents, payment_count, payment_success_count, payment_success_rate, refund_count, refund_amount_cents',
  tournament_aggregates:
    'tenant_id, period_type, period_start, period_end, tournament_count, completed_count, completion_rate, total_players, avg_players, avg_duration_minutes, most_popular_format, revenue_cents',
  user_cohorts: 'tenant_id, cohort_month, month_number, cohort_size, retained_users, retention_rate',
};

/**
 * Rows in which the lower bound's copies and the app's aggregate tables differ (either side),
 * per table, over every column but MRR/ARR and computed_at: 0 everywhere means the bound did the
 * same work.
 */
export async function lowerBoundDifferences(client: pg.ClientBase | pg.Pool): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of AGGREGATE_TABLES) {
    const cols = COMPARED_COLUMNS[table];
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ((SELECT ${cols} FROM ${table} EXCEPT ALL SELECT ${cols} FROM lb_${table})
                                    UNION ALL (SELECT ${cols} FROM lb_${table} EXCEPT ALL SELECT ${cols} FROM ${table})) d`,
    );
    out[table] = rows[0]!.n;
  }
  return out;
}
