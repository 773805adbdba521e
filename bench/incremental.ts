// `npm run bench:incremental [-- options]`: the costs of incremental refresh (docs/incremental.md),
// each against its baseline in this one process run, on a scratch schema dropped afterwards:
//   1. change-capture triggers on a bulk insert of 1M payments (one statement, and 1,000
//      statements of 1,000 rows), against the same inserts with the triggers disabled;
//   2. `analytics seed` with and without the triggers;
//   3. an hourly incremental run over 10,000 tenants with no pending change, against the full
//      hourly recompute it replaced (today so far and yesterday, two cohort months, every tenant);
//   4. the same with changes in 1 % of the tenants, against recomputing just those tenants.
// Both sides of 3 and 4 run in this process over one pool (what `aggregate --local` does), so the
// ratios compare database work, not orchestration. Writes bench/results/incremental/<date>-incremental.json
// and the "Incremental refresh" section of docs/BENCHMARKS.md (between its own markers).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { createTenantAggregator } from '../src/aggregation/tenant-aggregator';
import { loadConfig } from '../src/config';
import { pgConfigOf } from '../src/db/client';
import { migrate } from '../src/db/migrate';
import { createIncrementalRefresher } from '../src/incremental/refresh';
import { pendingTenantIds, purgeUnreachableChanges } from '../src/incremental/pending';
import { seedDatabase } from '../src/seed/seed';
import { ROOT } from './lib/cli';
import { describeMachine } from './lib/machine';
import { median, round } from './lib/stats';

const USAGE = `usage: npm run bench:incremental -- [options]
  --tenants N        tenants of the hourly comparisons (default 10000)
  --changed PCT      percent of tenants changed in comparison 4 (default 1)
  --payments N       rows of the bulk insert (default 1000000)
  --runs N           timed runs per side, medians reported (default 3)
  --seed-tenants N   analytics seed size for comparison 2: tenants (default 20; users 100, days 120)
  --quick            --tenants 1000 --payments 200000 --runs 2
  --only LIST        comma-separated: triggers,seed,hourly (default: all; the doc is written only for all)
  --no-doc           do not rewrite docs/BENCHMARKS.md`;

const { values: flags } = parseArgs({
  options: {
    tenants: { type: 'string' },
    changed: { type: 'string' },
    payments: { type: 'string' },
    runs: { type: 'string' },
    'seed-tenants': { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'no-doc': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const TENANTS = Number(flags.tenants ?? (flags.quick ? 1_000 : 10_000));
const CHANGED_PCT = Number(flags.changed ?? 1);
const PAYMENTS = Number(flags.payments ?? (flags.quick ? 200_000 : 1_000_000));
const RUNS = Number(flags.runs ?? (flags.quick ? 2 : 3));
const SEED_TENANTS = Number(flags['seed-tenants'] ?? 20);
const ONLY = new Set((flags.only ?? 'triggers,seed,hourly').split(','));
const RAW_TABLES = ['payments', 'refunds', 'subscriptions', 'tournaments', 'tournament_players', 'users', 'user_activity'];
/** The nominal fire time of the hourly run compared: every tenant's "today" has begun. */
const ASOF = '2026-01-15T12:00:00.000Z';

const logger = pino({ level: 'silent' });
const clock = { now: () => new Date(ASOF) };
const log = (msg: string) => console.error(`[bench:incremental] ${msg}`);

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function setTriggers(pool: pg.Pool, enabled: boolean): Promise<void> {
  for (const t of RAW_TABLES) await pool.query(`ALTER TABLE ${t} ${enabled ? 'ENABLE' : 'DISABLE'} TRIGGER USER`);
}

async function schemaPool(name: string): Promise<{ url: string; pool: pg.Pool }> {
  const u = new URL(loadConfig(process.env).databaseUrl);
  u.searchParams.set('schema', name);
  await migrate(u.toString());
  return { url: u.toString(), pool: new pg.Pool({ ...pgConfigOf(u.toString()), max: 4 }) };
}

/** 1. Bulk inserts of payments, triggers on and off, alternating, each into an emptied table. */
async function triggerOverhead(pool: pg.Pool) {
  await pool.query(`INSERT INTO organizations (id, name) SELECT 'bulk-' || i, 'bulk' FROM generate_series(1, 100) i`);
  const one = `INSERT INTO payments (id, tenant_id, amount_cents, status, created_at)
               SELECT 'p' || i, 'bulk-' || (i % 100 + 1), 100 + i % 900, CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'succeeded' END,
                      timestamptz '2025-01-01' + (i % 31536000) * interval '1 second'
               FROM generate_series($1::int, $2::int) i`;
  const bulk = async () => pool.query(one, [1, PAYMENTS]);
  const batches = async () => {
    const per = 1_000;
    for (let from = 1; from <= PAYMENTS; from += per) await pool.query(one, [from, Math.min(PAYMENTS, from + per - 1)]);
  };
  const samples: { mode: string; triggers: boolean; ms: number; changeRows: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const [mode, insert] of [['one statement', bulk], ['1,000-row statements', batches]] as const) {
      for (const triggers of run % 2 === 0 ? [false, true] : [true, false]) {
        await pool.query('TRUNCATE payments, refunds, aggregate_changes');
        await pool.query('VACUUM ANALYZE payments');
        await setTriggers(pool, triggers);
        const ms = await timed(insert);
        const changeRows = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM aggregate_changes')).rows[0]!.n;
        samples.push({ mode, triggers, ms, changeRows });
        log(`insert ${PAYMENTS} payments, ${mode}, triggers ${triggers ? 'on' : 'off'}: ${Math.round(ms)} ms (${changeRows} change rows)`);
      }
    }
  }
  // The triggers' own time as Postgres accounts it (EXPLAIN ANALYZE lists it apart), immune to the
  // run-to-run noise of a shared machine; the transition table's capture is inside the insert's time.
  await setTriggers(pool, true);
  const explained: { executionMs: number; triggerMs: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    await pool.query('TRUNCATE payments, refunds, aggregate_changes');
    const plan = (await pool.query<{ 'QUERY PLAN': [{ 'Execution Time': number; Triggers: { 'Trigger Name': string; Time: number }[] }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${one}`, [1, PAYMENTS])).rows[0]!['QUERY PLAN'][0];
    const triggerMs = plan.Triggers.filter((t) => t['Trigger Name'].endsWith('_changes_insert')).reduce((n, t) => n + t.Time, 0);
    explained.push({ executionMs: plan['Execution Time'], triggerMs });
    log(`EXPLAIN ANALYZE insert ${PAYMENTS} payments: ${Math.round(plan['Execution Time'])} ms, of which the change-capture trigger ${Math.round(triggerMs)} ms`);
  }
  await pool.query('TRUNCATE payments, refunds, aggregate_changes');
  const triggerShare = median(explained.map((e) => e.triggerMs / (e.executionMs - e.triggerMs)));
  const modes = ['one statement', '1,000-row statements'].map((mode) => {
    const off = median(samples.filter((s) => s.mode === mode && !s.triggers).map((s) => s.ms));
    const on = median(samples.filter((s) => s.mode === mode && s.triggers).map((s) => s.ms));
    return { mode, offMs: off, onMs: on, overhead: on / off - 1, changeRows: samples.find((s) => s.mode === mode && s.triggers)!.changeRows };
  });
  return { rows: PAYMENTS, samples, modes, explained, triggerShare };
}

/** 2. `analytics seed`'s own writer (seedDatabase), triggers on and off, each on an emptied schema. */
async function seedOverhead(pool: pg.Pool) {
  const samples: { triggers: boolean; ms: number; rows: number; warmUp: boolean }[] = [];
  // A first, untimed pass warms caches and plans: the first seed of a fresh schema is slower either way.
  for (let run = -1; run < RUNS; run++) {
    for (const triggers of run % 2 === 0 ? [false, true] : [true, false]) {
      if (run < 0 && !triggers) continue;
      await pool.query('TRUNCATE organizations, users, user_activity, subscriptions, payments, refunds, tournaments, tournament_players, aggregate_changes');
      await setTriggers(pool, triggers);
      const client = await pool.connect();
      let rows = 0;
      try {
        const ms = await timed(async () => {
          const r = await seedDatabase(client, { tenants: SEED_TENANTS, usersPerTenant: 100, days: 120, seed: 1, untilMs: Date.parse('2026-01-01T00:00:00Z') });
          rows = r.totalRows;
        });
        samples.push({ triggers, ms, rows, warmUp: run < 0 });
        log(`seed ${SEED_TENANTS} tenants x 100 users x 120 days (${rows} rows), triggers ${triggers ? 'on' : 'off'}: ${Math.round(ms)} ms`);
      } finally {
        client.release();
      }
    }
  }
  await setTriggers(pool, true);
  const off = median(samples.filter((s) => !s.triggers && !s.warmUp).map((s) => s.ms));
  const on = median(samples.filter((s) => s.triggers && !s.warmUp).map((s) => s.ms));
  return { tenants: SEED_TENANTS, rows: samples[0]!.rows, samples, offMs: off, onMs: on, overhead: on / off - 1 };
}

/** Raw rows for the hourly comparisons: every tenant has payments, a subscription, users, activity and a tournament today and yesterday. */
async function hourlyData(pool: pg.Pool): Promise<string[]> {
  const zones = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Sydney'];
  await pool.query(`INSERT INTO organizations (id, name, timezone) SELECT 'tenant-' || lpad(i::text, 5, '0'), 't', ($2::text[])[i % 5 + 1] FROM generate_series(1, $1::int) i`, [TENANTS, zones]);
  const base = `FROM organizations o CROSS JOIN generate_series(1, $1::int) k WHERE o.id LIKE 'tenant-%'`;
  const at = `timestamptz '${ASOF}' - (k * 271 % 172800) * interval '1 second'`;
  await pool.query(`INSERT INTO users (id, tenant_id, email, created_at) SELECT o.id || '-u' || k, o.id, 'x', timestamptz '${ASOF}' - (k * 7) * interval '1 day' ${base}`, [8]);
  await pool.query(`INSERT INTO user_activity (tenant_id, user_id, occurred_at) SELECT o.id, o.id || '-u' || (k % 8 + 1), ${at} ${base}`, [20]);
  await pool.query(`INSERT INTO subscriptions (id, tenant_id, user_id, plan, amount_cents, interval, started_at) SELECT o.id || '-s' || k, o.id, 'u', 'p', 1000, 'month', timestamptz '2025-06-01' + k * interval '1 day' ${base}`, [3]);
  await pool.query(`INSERT INTO tournaments (id, tenant_id, name, format, status, created_at) SELECT o.id || '-t' || k, o.id, 't', 'swiss', 'completed', ${at} ${base}`, [2]);
  await pool.query(`INSERT INTO payments (id, tenant_id, amount_cents, status, created_at, tournament_id) SELECT o.id || '-p' || k, o.id, 100 * k, 'succeeded', ${at}, CASE WHEN k % 5 = 0 THEN o.id || '-t1' END ${base}`, [10]);
  await pool.query('ANALYZE');
  return (await pool.query<{ id: string }>(`SELECT id FROM organizations WHERE id LIKE 'tenant-%' ORDER BY id`)).rows.map((r) => r.id);
}

/** 3 and 4: the hourly run, full recompute against incremental. */
async function hourly(pool: pg.Pool) {
  const tenants = await hourlyData(pool);
  log(`${tenants.length} tenants written`);
  const full = createTenantAggregator({ pool, clock, logger });
  const incremental = createIncrementalRefresher({ pool, clock, logger });
  // The job the hourly schedule ran before incremental refresh (and still the full recompute).
  const job = { type: 'all' as const, periodType: 'day' as const, includeCurrent: true, asOf: ASOF };
  const fullRun = async (ids: readonly string[]) => {
    for (const tenantId of ids) await full.aggregateTenant({ tenantId, job, asOf: ASOF });
  };
  const incrementalRun = async () => {
    // What `analytics aggregate --incremental --local` does: purge, list, refresh each tenant listed.
    await purgeUnreachableChanges(pool);
    let n = 0;
    for (let page = await pendingTenantIds(pool, ['revenue', 'mrr', 'tournaments', 'cohorts'], null, 1_000); page.length > 0; page = await pendingTenantIds(pool, ['revenue', 'mrr', 'tournaments', 'cohorts'], page[page.length - 1]!, 1_000)) {
      for (const tenantId of page) {
        await incremental.refreshTenant({ tenantId, type: 'all', asOf: ASOF });
        n++;
      }
      if (page.length < 1_000) break;
    }
    return n;
  };

  await fullRun(tenants); // warm-up, and every tenant's rows exist
  await pool.query('DELETE FROM aggregate_changes'); // steady state: every change folded in
  const fullMs: number[] = [];
  const idleMs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    fullMs.push(await timed(() => fullRun(tenants)));
    idleMs.push(await timed(incrementalRun));
    log(`hourly over ${tenants.length} tenants: full ${Math.round(fullMs[run]!)} ms, incremental with no change ${idleMs[run]!.toFixed(1)} ms`);
  }

  const changedCount = Math.max(1, Math.round((tenants.length * CHANGED_PCT) / 100));
  const step = Math.floor(tenants.length / changedCount);
  const changed = tenants.filter((_, i) => i % step === 0).slice(0, changedCount);
  const changedFullMs: number[] = [];
  const changedIncMs: number[] = [];
  const changedPerRun: number[] = [];
  let seq = 0;
  const writeChanges = async () => {
    // What an hour of writes leaves for one changed tenant: a few statements (payments, a refund, activity).
    for (const id of changed) {
      seq++;
      await pool.query(`INSERT INTO payments (id, tenant_id, amount_cents, status, created_at) VALUES ($1, $2, 500, 'succeeded', timestamptz '${ASOF}' - interval '20 minutes')`, [`${id}-np${seq}`, id]);
      await pool.query(`INSERT INTO refunds (id, tenant_id, payment_id, amount_cents, created_at) VALUES ($1, $2, $3, 100, timestamptz '${ASOF}' - interval '10 minutes')`, [`${id}-nr${seq}`, id, `${id}-np${seq}`]);
      await pool.query(`INSERT INTO user_activity (tenant_id, user_id, occurred_at) VALUES ($1, $1 || '-u1', timestamptz '${ASOF}' - interval '5 minutes')`, [id]);
    }
  };
  // Warm-up for the incremental side too (its statements are prepared per connection, as the
  // full recompute's were by the runs above): one untimed round.
  await writeChanges();
  await incrementalRun();
  for (let run = 0; run < RUNS; run++) {
    await writeChanges();
    changedIncMs.push(await timed(async () => changedPerRun.push(await incrementalRun())));
    changedFullMs.push(await timed(() => fullRun(changed)));
    log(`${changed.length} changed tenants: incremental ${Math.round(changedIncMs[run]!)} ms (${changedPerRun[run]} refreshed), full recompute of those ${Math.round(changedFullMs[run]!)} ms`);
  }
  return {
    tenants: tenants.length,
    idle: { fullMs, incrementalMs: idleMs, ratio: median(idleMs) / median(fullMs) },
    changed: { tenants: changed.length, statementsPerTenant: 3, fullMs: changedFullMs, incrementalMs: changedIncMs, refreshed: changedPerRun, ratio: median(changedIncMs) / median(changedFullMs) },
  };
}

type Complete = Awaited<ReturnType<typeof main>> & { triggers: NonNullable<Awaited<ReturnType<typeof triggerOverhead>>>; seed: Awaited<ReturnType<typeof seedOverhead>>; hourly: Awaited<ReturnType<typeof hourly>> };

function markdown(r: Complete): string {
  const ms = (v: number) => (v < 100 ? v.toFixed(1) : Math.round(v).toLocaleString('en-US'));
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  const lines = [
    '## Incremental refresh',
    '',
    `<!-- incremental:begin (written by \`npm run bench:incremental\`; edit outside these markers) -->`,
    `Measured ${r.finishedAt.slice(0, 16).replace('T', ' ')} UTC on ${r.machine.nproc} x ${r.machine.cpuModel}, Postgres ${r.machine.postgres}; ${RUNS} run(s) per side, medians; command \`${r.command}\`.`,
    'Both sides of each comparison run in one process over one pool, as `aggregate --local` does, so the ratios compare database work.',
    '',
    '| comparison | baseline | incremental / with triggers | ratio | goal |',
    '|---|---|---|---|---|',
    `| hourly run, ${r.hourly.tenants.toLocaleString('en-US')} tenants, no pending change: incremental vs full hourly recompute (today so far + yesterday, 2 cohort months) | ${ms(median(r.hourly.idle.fullMs))} ms | ${ms(median(r.hourly.idle.incrementalMs))} ms | ${pct(r.hourly.idle.ratio)} | < 5 % |`,
    `| hourly run, changes in ${r.hourly.changed.tenants} tenants (${CHANGED_PCT} %; ${r.hourly.changed.statementsPerTenant} write statements each): incremental over all tenants vs full recompute of just those tenants | ${ms(median(r.hourly.changed.fullMs))} ms | ${ms(median(r.hourly.changed.incrementalMs))} ms | ${r.hourly.changed.ratio.toFixed(2)}x | ≤ 2x |`,
    ...r.triggers.modes.map(
      (m) => `| bulk insert of ${r.triggers.rows.toLocaleString('en-US')} payments (${m.mode}; ${m.changeRows.toLocaleString('en-US')} change rows): triggers on vs off | ${ms(m.offMs)} ms | ${ms(m.onMs)} ms | +${pct(m.overhead)} | ≤ 15 % |`,
    ),
    `| bulk insert of ${r.triggers.rows.toLocaleString('en-US')} payments (one statement): the trigger's own time (EXPLAIN ANALYZE) over the rest of the insert | ${ms(median(r.triggers.explained.map((e) => e.executionMs - e.triggerMs)))} ms | ${ms(median(r.triggers.explained.map((e) => e.triggerMs)))} ms | +${pct(r.triggers.triggerShare)} | ≤ 15 % |`,
    `| \`analytics seed\` writer, ${r.seed.tenants} tenants x 100 users x 120 days (${r.seed.rows.toLocaleString('en-US')} rows): triggers on vs off | ${ms(r.seed.offMs)} ms | ${ms(r.seed.onMs)} ms | +${pct(r.seed.overhead)} | small |`,
    '<!-- incremental:end -->',
  ];
  return lines.join('\n');
}

async function main() {
  const startedAt = new Date().toISOString();
  const schema = `bench_incremental_${Date.now()}`;
  const { pool } = await schemaPool(schema);
  try {
    log(`scratch schema ${schema}`);
    const triggers = ONLY.has('triggers') ? await triggerOverhead(pool) : undefined;
    const seed = ONLY.has('seed') ? await seedOverhead(pool) : undefined;
    await pool.query('TRUNCATE organizations, users, user_activity, subscriptions, payments, refunds, tournaments, tournament_players, aggregate_changes, revenue_aggregates, tournament_aggregates, user_cohorts');
    const hourlyResult = ONLY.has('hourly') ? await hourly(pool) : undefined;
    return {
      startedAt,
      finishedAt: new Date().toISOString(),
      command: `npm run bench:incremental${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      machine: await describeMachine(),
      options: { tenants: TENANTS, changedPct: CHANGED_PCT, payments: PAYMENTS, runs: RUNS, seedTenants: SEED_TENANTS, asOf: ASOF },
      triggers,
      seed,
      hourly: hourlyResult,
    };
  } finally {
    await pool.query(`DROP SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
    await pool.end();
  }
}

const result = await main();
const dir = `${ROOT}bench/results/incremental`;
if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
const file = `${dir}/${result.finishedAt.slice(0, 10)}-incremental${flags.only ? `-${[...ONLY].join('-')}` : ''}.json`;
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`results: ${file}`);
if (result.hourly) console.log(`hourly: idle ${round(100 * result.hourly.idle.ratio, 2)} %, ${CHANGED_PCT} % changed ${round(result.hourly.changed.ratio, 2)}x`);
if (result.triggers) console.log(`triggers: ${result.triggers.modes.map((m) => `${m.mode} +${round(100 * m.overhead, 1)} %`).join(', ')}; own time +${round(100 * result.triggers.triggerShare, 1)} %`);
if (result.seed) console.log(`seed: +${round(100 * result.seed.overhead, 1)} %`);
if (!flags['no-doc'] && result.triggers && result.seed && result.hourly) {
  const section = markdown(result as Complete);
  console.log(section);
  const doc = `${ROOT}docs/BENCHMARKS.md`;
  const text = readFileSync(doc, 'utf8');
  const begin = text.indexOf('## Incremental refresh\n');
  const endMarker = '<!-- incremental:end -->';
  const next = begin >= 0 ? text.indexOf(endMarker, begin) + endMarker.length : -1;
  const updated = begin >= 0 ? text.slice(0, begin) + section + text.slice(next) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(doc, updated);
  log('docs/BENCHMARKS.md: "Incremental refresh" section rewritten');
}
