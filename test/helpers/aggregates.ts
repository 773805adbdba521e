import type pg from 'pg';
import { loadRaw, oracleCohorts, oracleRevenue, oracleTournaments, type OraclePeriodType } from './oracle';

// Whole aggregate tables, dumped in one shape for comparing: two databases with each other (a
// crashed run with a clean one, the workflow with `aggregate --local`) and a database with the
// independent oracle (test/helpers/oracle.ts). Values as Postgres prints them (bigint and numeric
// as text, instants as UTC ISO strings), computed_at left out, rows in one stable order.

type Q = Pick<pg.Pool, 'query'>;
type Row = Record<string, unknown>;

export interface AggregateTables {
  revenue: Row[];
  cohorts: Row[];
  tournaments: Row[];
}

const utc = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;

// Sorted here rather than by ORDER BY, so the order does not depend on the database's collation.
const text = (v: unknown) => String(v);
const compare = (keys: string[]) => (a: Row, b: Row) => {
  for (const k of keys) {
    const [x, y] = typeof a[k] === 'number' ? [a[k] as number, b[k] as number] : [text(a[k]), text(b[k])];
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
};
const PERIOD_ORDER = compare(['tenant_id', 'period_type', 'period_start']);
const COHORT_ORDER = compare(['tenant_id', 'cohort_month', 'month_number']);

/** Every row of the three aggregate tables (of `tenantIds` when given). */
export async function dumpAggregates(q: Q, tenantIds?: string[]): Promise<AggregateTables> {
  const only = tenantIds ?? null;
  const rows = async (sql: string) => (await q.query<Row>(sql, [only])).rows;
  const where = `WHERE ($1::text[] IS NULL OR tenant_id = ANY($1))`;
  const [revenue, cohorts, tournaments] = await Promise.all([
    rows(
      `SELECT tenant_id, period_type, ${utc('period_start')}, ${utc('period_end')},
              total_revenue_cents::text, gross_revenue_cents::text, payment_count, payment_success_count,
              payment_success_rate::text, refund_count, refund_amount_cents::text, mrr_cents::text, arr_cents::text
       FROM revenue_aggregates ${where}`,
    ),
    rows(`SELECT tenant_id, cohort_month::text, month_number, cohort_size, retained_users, retention_rate::text FROM user_cohorts ${where}`),
    rows(
      `SELECT tenant_id, period_type, ${utc('period_start')}, ${utc('period_end')},
              tournament_count, completed_count, completion_rate::text, total_players, avg_players::text,
              avg_duration_minutes::text, most_popular_format, revenue_cents::text
       FROM tournament_aggregates ${where}`,
    ),
  ]);
  return { revenue: revenue.sort(PERIOD_ORDER), cohorts: cohorts.sort(COHORT_ORDER), tournaments: tournaments.sort(PERIOD_ORDER) };
}

/** What a job over [from, to) (tenant-local dates) must have written, per the oracle, read from the raw tables of `q`. */
export interface OracleJob {
  periodType: OraclePeriodType;
  from: string;
  to: string;
  /** ISO instant the cohort month numbers run up to. */
  asOf: string;
  /** Which tables the job wrote. @defaultValue all three */
  types?: readonly ('revenue' | 'cohorts' | 'tournaments')[];
}

/** The oracle's aggregate tables for `tenantIds` after `job`, in {@link dumpAggregates}'s shape. */
export async function oracleAggregates(q: Q, tenantIds: string[], job: OracleJob): Promise<AggregateTables> {
  const types = new Set(job.types ?? ['revenue', 'cohorts', 'tournaments']);
  const out: AggregateTables = { revenue: [], cohorts: [], tournaments: [] };
  for (const tenantId of tenantIds) {
    const raw = await loadRaw(q, tenantId);
    const tag = (rows: Row[]) => rows.map((r) => ({ tenant_id: tenantId, ...r }));
    if (types.has('revenue')) out.revenue.push(...tag(oracleRevenue(raw, job.periodType, job.from, job.to)));
    if (types.has('cohorts')) out.cohorts.push(...tag(oracleCohorts(raw, job.from, job.to, Date.parse(job.asOf))));
    if (types.has('tournaments')) out.tournaments.push(...tag(oracleTournaments(raw, job.periodType, job.from, job.to)));
  }
  return { revenue: out.revenue.sort(PERIOD_ORDER), cohorts: out.cohorts.sort(COHORT_ORDER), tournaments: out.tournaments.sort(PERIOD_ORDER) };
}

/** The active organizations of a database, by id. */
export async function activeTenants(q: Q): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(`SELECT id FROM organizations WHERE status = 'active' ORDER BY id`);
  return rows.map((r) => r.id);
}
