// Benchmark: a 365-day daily backfill of all three metrics for a few tenants, computed
//   (a) set-based: one call per (tenant, type) for the whole range (what the service does), vs
//   (b) baseline: one call per (tenant, type, day), the shape a per-period loop would have.
// Both run in this process against the same seeded schema; the report is the ratio b/a.
// Run by hand:  node --import tsx bench/backfill-setbased.ts [--tenants 4] [--users 300] [--rounds 3]
import { parseArgs } from 'node:util';
import { DateTime } from 'luxon';
import pg from 'pg';
import { loadConfig } from '../src/config';
import { createAggregationService } from '../src/aggregation/service';
import { createDb, pgConfigOf } from '../src/db/client';
import { migrate } from '../src/db/migrate';
import { createLogger } from '../src/logger';
import { seedDatabase } from '../src/seed/seed';

const { values } = parseArgs({ options: { tenants: { type: 'string', default: '4' }, users: { type: 'string', default: '300' }, rounds: { type: 'string', default: '3' } } });
const tenants = Number(values.tenants);
const rounds = Number(values.rounds);
const base = loadConfig(process.env);
const schema = `bench_${Date.now().toString(36)}`;
const url = new URL(base.databaseUrl);
url.searchParams.set('schema', schema);

await migrate(url.toString());
const client = new pg.Client(pgConfigOf(url.toString()));
await client.connect();
const until = Date.parse('2026-01-01T00:00:00Z');
const seeded = await seedDatabase(client, { tenants, usersPerTenant: Number(values.users), days: 400, seed: 1, untilMs: until });
console.log(`seeded ${seeded.totalRows} rows for ${tenants} tenants in schema ${schema}`);

const db = createDb(url.toString(), { max: 4 });
const service = createAggregationService({ db, clock: { now: () => new Date(until) }, logger: createLogger('silent') });
const ids = await service.getActiveTenants();
const from = '2025-01-01';
const to = '2026-01-01';
const days: [string, string][] = [];
for (let d = DateTime.fromISO(from); d < DateTime.fromISO(to); d = d.plus({ days: 1 })) days.push([d.toISODate()!, d.plus({ days: 1 }).toISODate()!]);

async function setBased(): Promise<void> {
  for (const id of ids) {
    await service.aggregateRevenue(id, from, to, 'day');
    await service.aggregateTournaments(id, from, to, 'day');
    await service.aggregateCohorts(id, { from, to }, '2026-01-01T00:00:00Z');
  }
}

async function perPeriod(): Promise<void> {
  for (const id of ids) {
    for (const [a, b] of days) {
      await service.aggregateRevenue(id, a, b, 'day');
      await service.aggregateTournaments(id, a, b, 'day');
    }
    // Cohorts are per month already; one call per cohort month.
    for (let m = DateTime.fromISO(from); m < DateTime.fromISO(to); m = m.plus({ months: 1 })) {
      await service.aggregateCohorts(id, { from: m.toISODate()!, to: m.plus({ months: 1 }).toISODate()! }, '2026-01-01T00:00:00Z');
    }
  }
}

async function time(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

try {
  await setBased(); // warm-up: plans, caches, connection pool
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < rounds; i++) {
    a.push(await time(setBased));
    b.push(await time(perPeriod));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  console.log(`set-based (one call per tenant x type):      median ${median(a).toFixed(0)} ms over ${rounds} rounds`);
  console.log(`baseline (one call per tenant x type x day): median ${median(b).toFixed(0)} ms over ${rounds} rounds`);
  console.log(`ratio baseline / set-based: ${(median(b) / median(a)).toFixed(1)}x`);
} finally {
  await db.$disconnect();
  await client.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
  await client.end();
}
