import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities/index';
import { poolOf, type Db } from '../src/db/client';
import { createRng } from '../src/seed/prng';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { writeRandomTenant } from './helpers/random-raw';
import { fixedClock, silentLogger, testService } from './helpers/service';

// Counts every SQL statement sent on the aggregation's pool while a backfill runs: a 365-day
// daily backfill must cost as many statements as a 7-day one, and the activity one round trip
// for the tenant and one for every type at once.

let t: TestDatabase;
const statements: string[] = [];

function countOn(db: Db): void {
  const pool = poolOf(db);
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
    const first = args[0] as string | pg.QueryConfig;
    statements.push(typeof first === 'string' ? first : first.text);
    return query(...args);
  };
}

beforeAll(async () => {
  t = await createTestDatabase('stmt');
  await withBatchWriter(t.pool, async (writer) => {
    await writeRandomTenant(createRng(7), writer, 'st', 'America/New_York');
  });
  countOn(t.db);
});

afterAll(async () => {
  await t?.drop();
});

async function count(run: () => Promise<unknown>): Promise<string[]> {
  statements.length = 0;
  await run();
  return [...statements];
}

describe('statement count of a backfill', () => {
  it('aggregateAll over 365 daily periods issues as many statements as over 7: one tenant lookup + one per type', async () => {
    const service = testService(t.db);
    const week = await count(() => service.aggregateAll('st', '2025-01-01', '2025-01-08', 'day', '2025-06-01T00:00:00Z'));
    const year = await count(() => service.aggregateAll('st', '2025-01-01', '2026-01-01', 'day', '2025-06-01T00:00:00Z'));
    expect(year).toHaveLength(4);
    expect(week).toHaveLength(4);
    expect(year.filter((sql) => /INSERT INTO (revenue_aggregates|user_cohorts|tournament_aggregates)/.test(sql))).toHaveLength(3);
    const rows = await t.pool.query(`SELECT count(*)::int AS n FROM revenue_aggregates WHERE tenant_id = 'st' AND period_type = 'day'`);
    expect(rows.rows[0].n).toBe(365);
  });

  it('the activity computes every type of a tenant in two statements (tenant lookup + one upsert of all types and the outcome), whatever the range', async () => {
    const activities = createActivities({ db: t.db, clock: fixedClock('2025-06-01T00:00:00Z'), logger: silentLogger });
    const run = (periodEnd: string, jobKey: string) =>
      count(() =>
        activities.aggregateTenant({ jobKey, tenantId: 'st', job: { type: 'all', periodType: 'day', periodStart: '2025-01-01', periodEnd }, asOf: '2025-06-01T00:00:00Z' }),
      );
    for (const [end, key] of [['2026-01-01', 'job-year'], ['2025-01-08', 'job-week']] as const) {
      const sql = await run(end, key);
      expect(sql).toHaveLength(2);
      expect(sql[1]).toMatch(/INSERT INTO revenue_aggregates[\s\S]*INSERT INTO tournament_aggregates[\s\S]*INSERT INTO aggregation_outcomes/);
      expect(sql[1]).toMatch(/INSERT INTO user_cohorts/);
    }
    const outcomes = await t.pool.query(`SELECT job_key, type, status FROM aggregation_outcomes ORDER BY job_key, type`);
    expect(outcomes.rows).toEqual([
      { job_key: 'job-week', type: 'cohorts', status: 'succeeded' },
      { job_key: 'job-week', type: 'revenue', status: 'succeeded' },
      { job_key: 'job-week', type: 'tournaments', status: 'succeeded' },
      { job_key: 'job-year', type: 'cohorts', status: 'succeeded' },
      { job_key: 'job-year', type: 'revenue', status: 'succeeded' },
      { job_key: 'job-year', type: 'tournaments', status: 'succeeded' },
    ]);
    // The same job again: the lookup finds every type done and nothing else runs.
    expect(await run('2026-01-01', 'job-year')).toHaveLength(1);
  });
});
