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
// condition includes tenant_id. Sequential scans are disabled for the session so the test shows
// the index is usable whatever the table sizes; docs/aggregation.md shows plans the planner
// picks unaided on a seeded data set.

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

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('expl');
  await seedTenants(t.pool, { tenants: 4, usersPerTenant: 150, days: 120, seed: 5, untilMs: Date.parse('2025-04-01T00:00:00Z') });
  await t.pool.query(`ANALYZE ${[...RAW_TABLES].join(', ')}`);
});

afterAll(async () => {
  await t?.drop();
});

/** Every scan of a raw table in the plan: [table, how, index, index condition, filter]. */
type Scan = [table: string, how: string, index: string, indexCond: string, filter: string];

function rawScans(node: PlanNode, out: Scan[] = []): Scan[] {
  const table = node['Relation Name'];
  if (table && RAW_TABLES.has(table)) {
    const bitmapIndex = node['Node Type'] === 'Bitmap Heap Scan' ? findBitmapIndex(node) : undefined;
    out.push([
      table,
      node['Node Type'],
      node['Index Name'] ?? bitmapIndex?.['Index Name'] ?? '',
      node['Index Cond'] ?? bitmapIndex?.['Index Cond'] ?? '',
      node.Filter ?? '',
    ]);
  }
  for (const child of node.Plans ?? []) rawScans(child, out);
  return out;
}

function findBitmapIndex(node: PlanNode): PlanNode | undefined {
  if (node['Node Type'] === 'Bitmap Index Scan') return node;
  for (const child of node.Plans ?? []) {
    const found = findBitmapIndex(child);
    if (found) return found;
  }
  return undefined;
}

async function explain(sql: Prisma.Sql): Promise<Scan[]> {
  const client = await t.pool.connect();
  try {
    await client.query('SET enable_seqscan = off');
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${sql.text}`, sql.values);
    return rawScans(rows[0]!['QUERY PLAN'][0].Plan);
  } finally {
    await client.query('RESET enable_seqscan');
    client.release();
  }
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
    expect(index, `${table} index`).toMatch(expected[table]!);
    const tenantIn = index.endsWith('_pkey') ? `${indexCond} ${filter}` : indexCond;
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
