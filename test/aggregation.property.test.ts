import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { generateTenant, type GenerateOptions } from '../src/seed/generate';
import { createRng, deriveSeed } from '../src/seed/prng';
import { BatchWriter } from '../src/seed/writer';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { cohortRows, revenueRows, tournamentRows } from './helpers/fixtures';
import { loadRaw, oracleCohorts, oracleRevenue, oracleTournaments, type OraclePeriodType } from './helpers/oracle';
import { writeRandomTenant } from './helpers/random-raw';
import { testService } from './helpers/service';

// For random data (several seeds, several tenants with different timezones in one database),
// every aggregate row must equal the independent oracle of test/helpers/oracle.ts.

// The last three change their clocks at local midnight, so some local days start later than
// 00:00 or contain a midnight twice: Santiago skips 00:00 on 2024-09-08 (spring) and repeats
// 23:00-24:00 on 2025-04-05; Havana skips 00:00 on 2025-03-09 and repeats 00:00-01:00 on
// 2024-11-03; Beirut skips 00:00 on 2025-03-30 and repeats 23:00-24:00 on 2024-10-26.
const ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata', 'UTC', 'America/Los_Angeles', 'America/Santiago', 'America/Havana', 'Asia/Beirut'];
const SEEDS = [1, 2, 3, 4, 5];
const RANGES: [OraclePeriodType, string, string][] = [
  ['day', '2024-09-05', '2024-09-11'], // Santiago's 2024-09-08 starts at 01:00
  ['day', '2024-10-25', '2024-11-08'], // fall-back days (Berlin Oct 27, Beirut Oct 26, New York and Havana Nov 3)
  ['day', '2025-03-06', '2025-04-09'], // spring-forward days (Havana Mar 9, Beirut Mar 30) and Sydney's and Santiago's Apr 6
  ['week', '2024-10-21', '2025-02-03'], // 2025-W01 starts 2024-12-30
  ['month', '2024-09-01', '2025-05-01'],
  ['quarter', '2024-07-01', '2025-07-01'],
  ['year', '2024-01-01', '2026-01-01'],
];
const COHORTS = { from: '2024-09-01', to: '2025-05-01' };

let t: TestDatabase;

async function withWriter(pool: pg.Pool, write: (w: BatchWriter) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    const writer = new BatchWriter(client, () => {}, 500);
    await write(writer);
    await writer.flush();
  } finally {
    client.release();
  }
}

/** Aggregates one tenant over every range and checks each table against the oracle. */
async function checkTenant(tenantId: string, asOf: string, ranges = RANGES, cohorts = COHORTS): Promise<void> {
  const service = testService(t.db);
  for (const [periodType, from, to] of ranges) {
    await service.aggregateRevenue(tenantId, from, to, periodType);
    await service.aggregateTournaments(tenantId, from, to, periodType);
  }
  await service.aggregateCohorts(tenantId, cohorts, asOf);

  const raw = await loadRaw(t.pool, tenantId);
  for (const periodType of new Set(ranges.map(([p]) => p))) {
    const mine = ranges.filter(([p]) => p === periodType);
    const byStart = (a: Record<string, unknown>, b: Record<string, unknown>) => String(a.period_start).localeCompare(String(b.period_start));
    const expectedRevenue = mine.flatMap(([, from, to]) => oracleRevenue(raw, periodType, from, to)).sort(byStart);
    const expectedTournaments = mine.flatMap(([, from, to]) => oracleTournaments(raw, periodType, from, to)).sort(byStart);
    expect(await revenueRows(t.pool, tenantId, periodType), `${tenantId} revenue ${periodType}`).toEqual(expectedRevenue);
    expect(await tournamentRows(t.pool, tenantId, periodType), `${tenantId} tournaments ${periodType}`).toEqual(expectedTournaments);
  }
  expect(await cohortRows(t.pool, tenantId), `${tenantId} cohorts`).toEqual(oracleCohorts(raw, cohorts.from, cohorts.to, Date.parse(asOf)));
}

beforeAll(async () => {
  t = await createTestDatabase('prop');
});
afterAll(async () => {
  await t?.drop();
});

describe('aggregates equal the oracle on random data', () => {
  it.each(SEEDS)('seed %i', async (seed) => {
    const rng = createRng(deriveSeed(seed, 'property'));
    const tenants = [0, 1, 2].map((i) => ({ id: `s${seed}-${i}`, zone: ZONES[(seed + i * 2) % ZONES.length]! }));
    // Interleaved tenants in one database: each must still only see its own rows.
    await withWriter(t.pool, async (w) => {
      for (const tenant of tenants) await writeRandomTenant(rng, w, tenant.id, tenant.zone);
    });
    const asOf = new Date(Date.parse('2024-12-01T00:00:00Z') + Math.floor(rng.next() * 150 * 86_400_000)).toISOString();
    for (const tenant of tenants) await checkTenant(tenant.id, asOf);
  });
});

describe('aggregates equal the oracle on the synthetic seed data set', () => {
  it('two seeded tenants (UTC and America/New_York), 75 days', async () => {
    const options: GenerateOptions = { tenants: 2, usersPerTenant: 40, days: 75, seed: 99, untilMs: Date.parse('2025-04-01T00:00:00Z') };
    await withWriter(t.pool, async (w) => {
      for (let i = 0; i < options.tenants; i++) await generateTenant(options, i, w);
    });
    const ranges: [OraclePeriodType, string, string][] = [
      ['day', '2025-01-10', '2025-04-02'],
      ['week', '2025-01-13', '2025-03-31'],
      ['month', '2025-01-01', '2025-04-01'],
    ];
    for (const tenantId of ['tenant-001', 'tenant-002']) {
      await checkTenant(tenantId, '2025-03-31T12:00:00Z', ranges, { from: '2025-01-01', to: '2025-04-01' });
    }
  });
});
