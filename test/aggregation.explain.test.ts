import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCohortMonths } from '../src/aggregation/cohort-months';
import { resolveRange, toInstant } from '../src/aggregation/periods';
import { cohortsUpsert } from '../src/db/sql/cohorts';
import type { PeriodsInput } from '../src/db/sql/periods';
import { revenueUpsert } from '../src/db/sql/revenue';
import { tournamentsUpsert } from '../src/db/sql/tournaments';
import type { Prisma } from '../src/generated/prisma/client';
import { seedTenants } from './helpers/seed';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';

// EXPLAIN of each metric's statement: every raw-table read must be an index scan whose
// condition includes tenant_id. The planner is left alone: the tables hold many tenants (one is
// a few percent of each table, as in production) and are vacuumed and analysed, so the test shows
// the plan Postgres picks on realistic statistics, not merely that an index is usable.
// docs/aggregation.md shows such plans on a larger seeded data set.

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

const RAW_TABLES = new Set(['users', 'user_activity', 'subscriptions', 'payments', 'refunds', 'tournaments', 'tournament_players']);

/** Tenants in the tables: one tenant's rows are 1/40 of each. */
const TENANTS = 40;

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('expl');
  await seedTenants(t.pool, { tenants: TENANTS, usersPerTenant: 120, days: 120, seed: 5, untilMs: Date.parse('2025-04-01T00:00:00Z') });
  await t.pool.query(`VACUUM ANALYZE ${[...RAW_TABLES].join(', ')}`);
  // Realistic size: every raw table the statements read holds rows of most tenants (a few have
  // no refunds, say), and one tenant is a small part of it.
  const { rows } = await t.pool.query<{ table: string; rows: number; tenants: number; largest: number }>(
    [...RAW_TABLES]
      .map((table) => `SELECT '${table}' AS table, sum(n)::int AS rows, count(*)::int AS tenants, max(n)::int AS largest FROM (SELECT count(*) AS n FROM ${table} GROUP BY tenant_id) x`)
      .join(' UNION ALL '),
  );
  for (const r of rows) {
    expect(r.tenants, `${r.table} tenants`).toBeGreaterThanOrEqual((3 * TENANTS) / 4);
    expect(r.largest / r.rows, `${r.table}: the largest tenant's share`).toBeLessThan(0.1);
  }
  expect(rows.reduce((n, r) => n + r.rows, 0)).toBeGreaterThan(50_000);
});

afterAll(async () => {
  await t?.drop();
});

/**
 * Every scan of a raw table in the plan: [table, how, indexes, index condition, filter]. A bitmap
 * heap scan may combine several index scans (BitmapAnd/BitmapOr): all their indexes are listed
 * (joined by `+`), and its Recheck Cond is their combined condition.
 */
type Scan = [table: string, how: string, index: string, indexCond: string, filter: string];

function rawScans(node: PlanNode, out: Scan[] = []): Scan[] {
  const table = node['Relation Name'];
  if (table && RAW_TABLES.has(table)) {
    const bitmap = node['Node Type'] === 'Bitmap Heap Scan';
    out.push([
      table,
      node['Node Type'],
      bitmap ? bitmapIndexes(node).join('+') : (node['Index Name'] ?? ''),
      (bitmap ? node['Recheck Cond'] : node['Index Cond']) ?? '',
      node.Filter ?? '',
    ]);
  }
  for (const child of node.Plans ?? []) rawScans(child, out);
  return out;
}

function bitmapIndexes(node: PlanNode): string[] {
  if (node['Node Type'] === 'Bitmap Index Scan') return [node['Index Name'] ?? ''];
  return (node.Plans ?? []).flatMap(bitmapIndexes);
}

async function explain(sql: Prisma.Sql): Promise<Scan[]> {
  // The planner's own settings: nothing is switched off for this session.
  const { rows: settings } = await t.pool.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name IN ('enable_seqscan', 'enable_indexscan', 'enable_bitmapscan') ORDER BY name`,
  );
  expect(settings.map((r) => `${r.name}=${r.setting}`)).toEqual(['enable_bitmapscan=on', 'enable_indexscan=on', 'enable_seqscan=on']);
  const { rows } = await t.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql.text}`, sql.values);
  return rawScans(rows[0]!['QUERY PLAN'][0].Plan);
}

function periodsInput(tenantId: string, zone: string, from: string, to: string): PeriodsInput {
  const { periods } = resolveRange({ from, to, periodType: 'day', zone });
  return { tenantId, periodType: 'day', starts: periods.map((p) => toInstant(p.start)), ends: periods.map((p) => toInstant(p.end)) };
}

/**
 * Each expected table is read only through the expected index, with tenant_id in the index
 * condition (or, for a primary-key lookup of players, in the filter on the same scan).
 */
function expectIndexed(scans: Scan[], expected: Record<string, RegExp>): void {
  expect(new Set(scans.map(([table]) => table))).toEqual(new Set(Object.keys(expected)));
  for (const [table, how, index, indexCond, filter] of scans) {
    expect(how, `${table} scan`).toMatch(/^(Index Scan|Index Only Scan|Bitmap Heap Scan)$/);
    for (const one of index.split('+')) expect(one, `${table} index`).toMatch(expected[table]!);
    const tenantIn = index === `${table}_pkey` ? `${indexCond} ${filter}` : indexCond;
    expect(tenantIn, `${table} condition`).toMatch(/tenant_id = /);
  }
}

describe('EXPLAIN: raw reads go through the (tenant_id, time) indexes', () => {
  it('revenue: payments, refunds and subscriptions', async () => {
    const scans = await explain(revenueUpsert(periodsInput('tenant-002', 'America/New_York', '2025-01-01', '2025-03-01')));
    expectIndexed(scans, {
      payments: /^payments_tenant_id_created_at_idx$/,
      refunds: /^refunds_tenant_id_created_at_idx$/,
      subscriptions: /^subscriptions_tenant_id_started_at_idx$/,
    });
    // The time range is part of the index condition, not a filter applied afterwards.
    expect(scans.find(([table]) => table === 'payments')![3]).toMatch(/created_at >= .*created_at </);
  });

  it('tournaments: tournaments, their players and tournament fees', async () => {
    const scans = await explain(tournamentsUpsert(periodsInput('tenant-003', 'Europe/Berlin', '2025-01-01', '2025-03-01')));
    expectIndexed(scans, {
      tournaments: /^tournaments_tenant_id_created_at_idx$/,
      // Either through the primary key (tournament_id, user_id) or the tenant index, always with tenant_id.
      tournament_players: /^tournament_players_(pkey|tenant_id_joined_at_idx)$/,
      payments: /^payments_tenant_id_created_at_idx$/,
    });
  });

  it('cohorts: users and user_activity (covering index)', async () => {
    const zone = 'UTC';
    const { periods } = resolveRange({ from: '2024-12-01', to: '2025-03-01', periodType: 'month', zone });
    const plan = planCohortMonths(periods, DateTime.fromISO('2025-03-20T00:00:00Z', { zone }));
    const scans = await explain(cohortsUpsert({ tenantId: 'tenant-001', cohortMonths: plan.cohortMonths, bounds: plan.bounds, asOfIndex: plan.asOfIndex }));
    expectIndexed(scans, {
      users: /^users_tenant_id_created_at_idx$/,
      user_activity: /^user_activity_tenant_id_occurred_at_user_id_idx$/,
    });
  });
});
