import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities/index';
import type { AggregationType } from '../src/activities/types';
import { createDb } from '../src/db/client';
import { PrismaClient } from '../src/generated/prisma/client';
import { createRng } from '../src/seed/prng';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { writeRandomTenant } from './helpers/random-raw';
import { fixedClock, silentLogger, testService } from './helpers/service';

// Counts every SQL statement Prisma sends (its `query` event fires once per statement) while a
// backfill runs: a 365-day daily backfill must cost as many statements as a 7-day one.

let t: TestDatabase;
let counted: PrismaClient;
const statements: string[] = [];

beforeAll(async () => {
  t = await createTestDatabase('stmt');
  await withBatchWriter(t.pool, async (writer) => {
    await writeRandomTenant(createRng(7), writer, 'st', 'America/New_York');
  });
  const logged = createDb(t.url, { max: 2, log: [{ emit: 'event', level: 'query' }] }) as unknown as PrismaClient<'query'>;
  logged.$on('query', (e) => statements.push(e.query));
  counted = logged as unknown as PrismaClient;
});

afterAll(async () => {
  await counted?.$disconnect();
  await t?.drop();
});

async function count(run: () => Promise<unknown>): Promise<string[]> {
  statements.length = 0;
  await run();
  return [...statements];
}

describe('statement count of a backfill', () => {
  it('aggregateAll over 365 daily periods issues as many statements as over 7: one tenant lookup + one per type', async () => {
    const service = testService(counted);
    const week = await count(() => service.aggregateAll('st', '2025-01-01', '2025-01-08', 'day', '2025-06-01T00:00:00Z'));
    const year = await count(() => service.aggregateAll('st', '2025-01-01', '2026-01-01', 'day', '2025-06-01T00:00:00Z'));
    expect(year).toHaveLength(4);
    expect(week).toHaveLength(4);
    expect(year.filter((sql) => /INSERT INTO (revenue_aggregates|user_cohorts|tournament_aggregates)/.test(sql))).toHaveLength(3);
    const rows = await t.pool.query(`SELECT count(*)::int AS n FROM revenue_aggregates WHERE tenant_id = 'st' AND period_type = 'day'`);
    expect(rows.rows[0].n).toBe(365);
  });

  it('the activity, one call per type over 365 days: two statements each (lookup + upsert)', async () => {
    const activities = createActivities({ db: counted, clock: fixedClock('2025-06-01T00:00:00Z'), logger: silentLogger });
    const perType = async (days: string) => {
      const counts: number[] = [];
      for (const type of ['revenue', 'cohorts', 'tournaments'] as AggregationType[]) {
        const sql = await count(() => activities.aggregateTenant({ tenantId: 'st', type, periodType: 'day', from: '2025-01-01', to: days, asOf: '2025-06-01T00:00:00Z' }));
        counts.push(sql.length);
      }
      return counts;
    };
    expect(await perType('2026-01-01')).toEqual([2, 2, 2]);
    expect(await perType('2025-01-08')).toEqual([2, 2, 2]);
  });
});
