import pg from 'pg';
import { DateTime } from 'luxon';
import type { AggregationType, PeriodType } from '../contract/aggregation';
import { MAX_JOB_PERIODS } from '../contract/limits';
import { planCohortMonths } from '../aggregation/cohort-months';
import { assertZone, nextPeriodStart, periodContaining, toInstant, type Period } from '../aggregation/periods';
import { cohortsUpsert } from '../db/sql/cohorts';
import { revenueUpsert } from '../db/sql/revenue';
import { tournamentsUpsert } from '../db/sql/tournaments';

// `analytics verify`: the audit after an incident. Stored tenant-periods are recomputed from the
// raw rows with the very statements that wrote them, into temporary tables that shadow the real
// ones (pg_temp is searched first), inside a transaction that is rolled back; then every stored
// row is compared with its recomputation, column by column (computed_at aside).

export interface VerifyRequest {
  /** Only this tenant; without `sample`, every stored row of it. */
  tenantId?: string;
  /** Check this many stored rows picked at random (their whole tenant-period); absent: every stored row. */
  sample?: number;
  /** ISO instant cohort month numbers are recomputed up to (cells after the last stored one are not compared). */
  asOf: string;
}

export interface Difference {
  tenantId: string;
  type: AggregationType;
  /** `day 2025-03-09T05:00:00.000Z`, or the cohort cell `2025-03-01 +2`. */
  key: string;
  /** The column that differs; `(row)` when the row is missing on one side. */
  column: string;
  stored: unknown;
  expected: unknown;
}

export interface VerifyReport {
  tenants: number;
  /** Stored rows compared. */
  rowsChecked: number;
  differences: Difference[];
  /** Tenants checked that still have pending changes (a difference there may only be staleness). */
  tenantsWithPendingChanges: string[];
}

interface TenantChecks {
  periodic: Record<'revenue' | 'tournaments', Map<PeriodType, Set<number>>>;
  cohortMonths: Set<string>;
}

const TABLE = { revenue: 'revenue_aggregates', tournaments: 'tournament_aggregates', cohorts: 'user_cohorts' } as const;

function checksOf(map: Map<string, TenantChecks>, tenantId: string): TenantChecks {
  let c = map.get(tenantId);
  if (!c) {
    c = { periodic: { revenue: new Map(), tournaments: new Map() }, cohortMonths: new Set() };
    map.set(tenantId, c);
  }
  return c;
}

/** Row as JSON without the columns a recomputation legitimately changes. */
const bare = (alias: string) => `to_jsonb(${alias}) - 'computed_at' - 'tenant_id'`;

function diffRows(tenantId: string, type: AggregationType, key: string, stored: Record<string, unknown> | null, expected: Record<string, unknown> | null): Difference[] {
  if (stored === null || expected === null) return [{ tenantId, type, key, column: '(row)', stored: stored === null ? null : 'present', expected: expected === null ? null : 'present' }];
  const out: Difference[] = [];
  for (const column of new Set([...Object.keys(stored), ...Object.keys(expected)])) {
    const a = stored[column];
    const b = expected[column];
    const same = typeof a === 'string' && typeof b === 'string' && !Number.isNaN(Date.parse(a)) && /T/.test(a) ? Date.parse(a) === Date.parse(b) : JSON.stringify(a) === JSON.stringify(b);
    if (!same) out.push({ tenantId, type, key, column, stored: a ?? null, expected: b ?? null });
  }
  return out;
}

export async function verifyAggregates(pool: pg.Pool, req: VerifyRequest): Promise<VerifyReport> {
  const schema = (await pool.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
  const real = (t: string) => `${pg.escapeIdentifier(schema)}.${t}`;
  const limit = req.sample ?? null;
  const keys = await pool.query<{ tenant_id: string; type: 'revenue' | 'tournaments' | 'cohorts'; period_type: PeriodType; period_start: Date | null; cohort_month: string | null }>(
    `SELECT * FROM (
       SELECT tenant_id, 'revenue' AS type, period_type, period_start, NULL::text AS cohort_month FROM revenue_aggregates WHERE $1::text IS NULL OR tenant_id = $1
       UNION ALL
       SELECT tenant_id, 'tournaments', period_type, period_start, NULL FROM tournament_aggregates WHERE $1::text IS NULL OR tenant_id = $1
       UNION ALL
       SELECT DISTINCT tenant_id, 'cohorts', 'month', NULL::timestamptz, cohort_month::text FROM user_cohorts WHERE $1::text IS NULL OR tenant_id = $1
     ) k ORDER BY CASE WHEN $2::int IS NULL THEN 0 ELSE random() END LIMIT $2`,
    [req.tenantId ?? null, limit],
  );
  const byTenant = new Map<string, TenantChecks>();
  for (const k of keys.rows) {
    const c = checksOf(byTenant, k.tenant_id);
    if (k.type === 'cohorts') c.cohortMonths.add(k.cohort_month!);
    else {
      const set = c.periodic[k.type].get(k.period_type) ?? new Set<number>();
      set.add(k.period_start!.getTime());
      c.periodic[k.type].set(k.period_type, set);
    }
  }

  const report: VerifyReport = { tenants: byTenant.size, rowsChecked: 0, differences: [], tenantsWithPendingChanges: [] };
  const client = await pool.connect();
  try {
    for (const [tenantId, checks] of [...byTenant].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      await client.query('BEGIN');
      try {
        const org = (await client.query<{ timezone: string; pending: boolean }>(
          'SELECT timezone, EXISTS (SELECT 1 FROM aggregate_changes WHERE tenant_id = $1) AS pending FROM organizations WHERE id = $1',
          [tenantId],
        )).rows[0];
        if (!org) {
          report.differences.push({ tenantId, type: 'revenue', key: '(tenant)', column: '(row)', stored: 'present', expected: 'no such organization' });
          continue;
        }
        if (org.pending) report.tenantsWithPendingChanges.push(tenantId);
        const zone = assertZone(org.timezone, 'organizations.timezone');
        for (const t of Object.values(TABLE)) {
          await client.query(`CREATE TEMP TABLE ${t} (LIKE ${real(t)} INCLUDING ALL) ON COMMIT DROP`);
        }
        for (const type of ['revenue', 'tournaments'] as const) {
          const starts: string[] = [];
          const types: string[] = [];
          for (const [periodType, set] of checks.periodic[type]) {
            // Each stored start becomes its own one-period statement input unless contiguous with the previous one.
            const periods = [...set].sort((a, b) => a - b).map((ms) => periodContaining(DateTime.fromMillis(ms, { zone }), periodType));
            let run: { starts: string[]; ends: string[] } | undefined;
            const flush = async () => {
              if (!run) return;
              const input = { tenantId, periodType, ...run };
              const sql = type === 'revenue' ? revenueUpsert(input) : tournamentsUpsert(input);
              await client.query(sql.text, sql.values as unknown[]);
              run = undefined;
            };
            for (const p of periods) {
              const start = toInstant(p.start);
              if (run && run.ends[run.ends.length - 1] === start && run.starts.length < MAX_JOB_PERIODS) {
                run.starts.push(start);
                run.ends.push(toInstant(p.end));
              } else {
                await flush();
                run = { starts: [start], ends: [toInstant(p.end)] };
              }
            }
            await flush();
            for (const ms of set) {
              starts.push(new Date(ms).toISOString());
              types.push(periodType);
            }
          }
          if (starts.length === 0) continue;
          const rows = await client.query<{ pt: string; ps: Date; stored: Record<string, unknown> | null; expected: Record<string, unknown> | null }>(
            `WITH stored AS (
               SELECT ${bare('r')} AS row, r.period_type AS pt, r.period_start AS ps FROM ${real(TABLE[type])} r
               WHERE r.tenant_id = $1 AND (r.period_type, r.period_start) IN (SELECT * FROM unnest($2::text[], $3::timestamptz[]))
             ),
             expected AS (SELECT ${bare('c')} AS row, c.period_type AS pt, c.period_start AS ps FROM pg_temp.${TABLE[type]} c)
             SELECT coalesce(s.pt, e.pt) AS pt, coalesce(s.ps, e.ps) AS ps, s.row AS stored, e.row AS expected
             FROM stored s FULL JOIN expected e ON e.pt = s.pt AND e.ps = s.ps
             WHERE s.row IS DISTINCT FROM e.row
             ORDER BY 1, 2`,
            [tenantId, types, starts],
          );
          report.rowsChecked += starts.length;
          for (const r of rows.rows) report.differences.push(...diffRows(tenantId, type, `${r.pt} ${r.ps.toISOString()}`, r.stored, r.expected));
        }
        if (checks.cohortMonths.size > 0) {
          const months = [...checks.cohortMonths].sort();
          const first = DateTime.fromISO(months[0]!, { zone });
          const last = DateTime.fromISO(months[months.length - 1]!, { zone });
          const all: Period[] = [];
          for (let m: DateTime = first; m <= last; m = nextPeriodStart(m, 'month')) all.push({ start: m, end: nextPeriodStart(m, 'month') });
          const plan = planCohortMonths(all, DateTime.fromISO(req.asOf, { zone }), MAX_JOB_PERIODS);
          const sql = cohortsUpsert({ tenantId, cohortMonths: plan.cohortMonths, bounds: plan.bounds, asOfIndex: plan.asOfIndex });
          await client.query(sql.text, sql.values as unknown[]);
          const rows = await client.query<{ cm: string; k: number; stored: Record<string, unknown> | null; expected: Record<string, unknown> | null }>(
            `WITH stored AS (
               SELECT ${bare('r')} AS row, r.cohort_month AS cm, r.month_number AS k FROM ${real('user_cohorts')} r
               WHERE r.tenant_id = $1 AND r.cohort_month = ANY($2::date[])
             ),
             last_k AS (SELECT cm, max(k) AS k FROM stored GROUP BY cm),
             expected AS (
               SELECT ${bare('c')} AS row, c.cohort_month AS cm, c.month_number AS k FROM pg_temp.user_cohorts c
               WHERE c.cohort_month = ANY($2::date[])
                 -- cells after the last stored one were not due when the row was computed
                 AND c.month_number <= coalesce((SELECT l.k FROM last_k l WHERE l.cm = c.cohort_month), 0)
             )
             SELECT coalesce(s.cm, e.cm)::text AS cm, coalesce(s.k, e.k) AS k, s.row AS stored, e.row AS expected
             FROM stored s FULL JOIN expected e ON e.cm = s.cm AND e.k = s.k
             WHERE s.row IS DISTINCT FROM e.row
             ORDER BY 1, 2`,
            [tenantId, months],
          );
          report.rowsChecked += (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${real('user_cohorts')} WHERE tenant_id = $1 AND cohort_month = ANY($2::date[])`, [tenantId, months])).rows[0]!.n;
          for (const r of rows.rows) report.differences.push(...diffRows(tenantId, 'cohorts', `${r.cm} +${r.k}`, r.stored, r.expected));
        }
      } finally {
        // Nothing real was written: the temporary tables go with the rollback.
        await client.query('ROLLBACK');
      }
    }
  } finally {
    client.release();
  }
  return report;
}
