import { DateTime } from 'luxon';
import type pg from 'pg';
import { expect } from 'vitest';
import { cohortRows, revenueRows, tournamentRows } from './fixtures';
import { loadRaw, oracleCohorts, oracleRevenue, oracleTournaments, type OraclePeriodType } from './oracle';

// Checks for incremental refresh: every stored aggregate row of a tenant against the independent
// oracle (test/helpers/oracle.ts), whatever set of rows the runs have produced.

const localDate = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toISODate()!;

/**
 * Every stored revenue and tournament row of the tenant equals the oracle's value for its period,
 * and the stored cohort rows equal the oracle's for the cohort months [cohortsFrom, cohortsTo).
 */
export async function expectTenantMatchesOracle(pool: pg.Pool, tenantId: string, asOf: string, cohorts: { from: string; to: string }, label = ''): Promise<void> {
  const raw = await loadRaw(pool, tenantId);
  for (const [name, stored, oracle] of [
    ['revenue', await revenueRows(pool, tenantId), oracleRevenue],
    ['tournaments', await tournamentRows(pool, tenantId), oracleTournaments],
  ] as const) {
    const expected = stored.map((row) => {
      const start = String(row.period_start);
      const periods = oracle(raw, row.period_type as OraclePeriodType, localDate(start, raw.zone), localDate(String(row.period_end), raw.zone));
      return periods.find((p) => p.period_start === start) ?? { missing: start };
    });
    expect(stored, `${label} ${tenantId} ${name}`).toEqual(expected);
  }
  expect(await cohortRows(pool, tenantId), `${label} ${tenantId} cohorts`).toEqual(oracleCohorts(raw, cohorts.from, cohorts.to, Date.parse(asOf)));
}

export async function pendingChanges(pool: pg.Pool, tenantId: string): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM aggregate_changes WHERE tenant_id = $1', [tenantId])).rows[0]!.n;
}
