import fc from 'fast-check';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantAggregator } from '../src/aggregation/tenant-aggregator';
import { createIncrementalRefresher } from '../src/incremental/refresh';
import { poolOf } from '../src/db/client';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { activity, org, payment, player, subscription, tournament, user } from './helpers/fixtures';
import { expectTenantMatchesOracle, pendingChanges } from './helpers/incremental';
import { fixedClock, silentLogger } from './helpers/service';

// Random sequences of inserts, updates and deletes on every raw table (late rows for periods
// computed long ago, rows exactly at and 1 ms around tenant-local midnights, DST days),
// interleaved with incremental runs: after each run every stored aggregate row equals the
// independent oracle's full recompute, and no change is left pending. Timezones never move.

const ASOF = '2025-06-15T00:00:00.000Z';
const ZONES = ['America/New_York', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata', 'UTC'];
const FIRST_DAY = '2025-01-01';
const DAYS = 120; // to 2025-04-30
const DST_DAYS = ['2025-03-09', '2025-03-30', '2025-04-06', '2025-01-01', '2025-04-01', '2025-03-31'];
const NEAR = [0, -1, 1, 3_600_000, -3_600_000, 12 * 3_600_000];
const COHORTS = { from: '2025-01-01', to: '2025-05-01' };
/** The ranges of the full recompute every tenant starts from. */
const FULL: [string, string, string][] = [
  ['day', '2025-01-01', '2025-05-01'],
  ['week', '2024-12-30', '2025-05-05'],
  ['month', '2025-01-01', '2025-05-01'],
  ['quarter', '2025-01-01', '2025-07-01'],
  ['year', '2025-01-01', '2026-01-01'],
];

/** A local moment: a day of the window (DST days often) and an offset from its local midnight. */
const moment = fc.record({
  day: fc.oneof(fc.integer({ min: 0, max: DAYS - 1 }), fc.constantFrom(...DST_DAYS)),
  offset: fc.oneof(fc.constantFrom(...NEAR), fc.integer({ min: 0, max: 86_399_999 })),
});
type Moment = { day: number | string; offset: number };

function instant(m: Moment, zone: string): string {
  const day = typeof m.day === 'string' ? m.day : DateTime.fromISO(FIRST_DAY, { zone: 'UTC' }).plus({ days: m.day }).toISODate()!;
  return new Date(DateTime.fromISO(day, { zone }).toMillis() + m.offset).toISOString();
}

const pick = fc.nat({ max: 1_000 });
const op = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('payments'), rows: fc.array(fc.record({ at: moment, status: fc.constantFrom('succeeded', 'failed', 'pending'), cents: fc.integer({ min: 1, max: 50_000 }), tournament: fc.boolean() }), { minLength: 1, maxLength: 3 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('movePayment'), pick, at: moment, status: fc.constantFrom('succeeded', 'failed') }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('deletePayment'), pick }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('refund'), pick, at: moment, cents: fc.integer({ min: 1, max: 5_000 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('subscription'), at: moment, cancel: fc.option(moment), yearly: fc.boolean(), cents: fc.integer({ min: 1, max: 9_999 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('cancelSubscription'), pick, at: fc.option(moment) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('deleteSubscription'), pick }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('tournament'), at: moment, format: fc.constantFrom('swiss', 'ladder', 'knockout'), completed: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('completeTournament'), pick, minutes: fc.integer({ min: 1, max: 600 }) }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('deleteTournament'), pick }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('player'), pick, user: pick }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('deletePlayer'), pick }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('user'), at: moment }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('moveUser'), pick, at: moment }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('deleteUser'), pick }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('activity'), rows: fc.array(fc.record({ user: pick, at: moment }), { minLength: 1, maxLength: 3 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('deleteActivity'), pick }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('run') }), weight: 3 },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

let t: TestDatabase;
let tenantCounter = 0;

beforeAll(async () => {
  t = await createTestDatabase('incprop');
});
afterAll(async () => {
  await t?.drop();
});

describe('incremental refresh equals the oracle after random changes', () => {
  it('random inserts, updates and deletes interleaved with incremental runs', async () => {
    const clock = fixedClock(ASOF);
    const full = createTenantAggregator({ pool: poolOf(t.db), clock, logger: silentLogger });
    const incremental = createIncrementalRefresher({ pool: poolOf(t.db), clock, logger: silentLogger });
    const q = t.pool;

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ZONES), fc.array(op, { minLength: 3, maxLength: 14 }), async (zone, ops) => {
        const tenant = `p${++tenantCounter}`;
        let n = 0;
        const id = (what: string) => `${tenant}-${what}${++n}`;
        const at = (m: Moment) => instant(m, zone);
        /** The `k mod count`-th id of a table's rows of this tenant, or undefined when there are none. */
        const nth = async (table: string, k: number, column = 'id'): Promise<string | undefined> => {
          const rows = (await q.query<{ id: string }>(`SELECT ${column}::text AS id FROM ${table} WHERE tenant_id = $1 ORDER BY 1`, [tenant])).rows;
          return rows.length === 0 ? undefined : rows[k % rows.length]!.id;
        };

        // A small tenant, fully aggregated over every period type, before the changes start.
        await org(q, tenant, zone);
        for (const k of [0, 1, 2]) await user(q, tenant, `${tenant}-base${k}`, at({ day: k * 40, offset: 0 }));
        await activity(q, tenant, `${tenant}-base0`, at({ day: 50, offset: 1 }));
        await payment(q, tenant, { id: `${tenant}-basepay`, amountCents: 1_000, status: 'succeeded', createdAt: at({ day: 10, offset: -1 }) });
        await subscription(q, tenant, { id: `${tenant}-basesub`, amountCents: 1_200, interval: 'month', startedAt: at({ day: 5, offset: 0 }) });
        await tournament(q, tenant, { id: `${tenant}-baset`, format: 'swiss', status: 'scheduled', createdAt: at({ day: 20, offset: 0 }) });
        for (const [periodType, periodStart, periodEnd] of FULL) {
          await full.aggregateTenant({ tenantId: tenant, job: { type: 'all', periodType: periodType as 'day', periodStart, periodEnd, asOf: ASOF }, asOf: ASOF });
        }

        const run = async (label: string) => {
          await incremental.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF });
          expect(await pendingChanges(q, tenant), `${label}: pending after the run`).toBe(0);
          await expectTenantMatchesOracle(q, tenant, ASOF, COHORTS, label);
        };

        for (const [i, o] of (ops as Op[]).entries()) {
          switch (o.op) {
            case 'payments': {
              // One multi-row statement: one change row per (tenant, kind) with the min/max time.
              const rows = o.rows.map((r) => [id('pay'), r.cents, r.status, at(r.at), r.tournament ? `${tenant}-baset` : null]);
              await q.query(
                `INSERT INTO payments (id, tenant_id, amount_cents, status, created_at, tournament_id)
                 SELECT r.id, $1, r.cents, r.status, r.at, r.tid FROM unnest($2::text[], $3::bigint[], $4::text[], $5::timestamptz[], $6::text[]) AS r(id, cents, status, at, tid)`,
                [tenant, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]), rows.map((r) => r[4])],
              );
              break;
            }
            case 'movePayment': {
              const p = await nth('payments', o.pick);
              if (p) await q.query('UPDATE payments SET created_at = $2, status = $3 WHERE id = $1', [p, at(o.at), o.status]);
              break;
            }
            case 'deletePayment': {
              const p = await nth('payments', o.pick);
              if (p) {
                await q.query('DELETE FROM refunds WHERE payment_id = $1', [p]);
                await q.query('DELETE FROM payments WHERE id = $1', [p]);
              }
              break;
            }
            case 'refund': {
              const p = await nth('payments', o.pick);
              if (p) await q.query('INSERT INTO refunds (id, tenant_id, payment_id, amount_cents, created_at) VALUES ($1, $2, $3, $4, $5)', [id('ref'), tenant, p, o.cents, at(o.at)]);
              break;
            }
            case 'subscription':
              await subscription(q, tenant, { id: id('sub'), amountCents: o.cents, interval: o.yearly ? 'year' : 'month', startedAt: at(o.at), canceledAt: o.cancel ? at(o.cancel) : null });
              break;
            case 'cancelSubscription': {
              const s = await nth('subscriptions', o.pick);
              if (s) await q.query('UPDATE subscriptions SET canceled_at = $2 WHERE id = $1', [s, o.at ? at(o.at) : null]);
              break;
            }
            case 'deleteSubscription': {
              const s = await nth('subscriptions', o.pick);
              if (s) await q.query('DELETE FROM subscriptions WHERE id = $1', [s]);
              break;
            }
            case 'tournament': {
              const created = at(o.at);
              await tournament(q, tenant, {
                id: id('t'),
                format: o.format,
                status: o.completed ? 'completed' : 'scheduled',
                createdAt: created,
                startedAt: o.completed ? created : null,
                completedAt: o.completed ? new Date(Date.parse(created) + 90 * 60_000).toISOString() : null,
              });
              break;
            }
            case 'completeTournament': {
              const tid = await nth('tournaments', o.pick);
              if (tid) {
                await q.query(`UPDATE tournaments SET status = 'completed', started_at = created_at, completed_at = created_at + make_interval(mins => $2) WHERE id = $1`, [tid, o.minutes]);
              }
              break;
            }
            case 'deleteTournament': {
              const tid = await nth('tournaments', o.pick);
              if (tid) {
                await q.query('DELETE FROM tournament_players WHERE tournament_id = $1', [tid]);
                await q.query('DELETE FROM tournaments WHERE id = $1', [tid]);
              }
              break;
            }
            case 'player': {
              const tid = await nth('tournaments', o.pick);
              const uid = await nth('users', o.user);
              if (tid && uid) {
                const exists = (await q.query('SELECT 1 FROM tournament_players WHERE tournament_id = $1 AND user_id = $2', [tid, uid])).rowCount;
                if (!exists) await player(q, tenant, tid, uid, at({ day: 60, offset: 0 }));
              }
              break;
            }
            case 'deletePlayer': {
              const key = await nth('tournament_players', o.pick, `tournament_id || '|' || user_id`);
              if (key) await q.query(`DELETE FROM tournament_players WHERE tournament_id || '|' || user_id = $1`, [key]);
              break;
            }
            case 'user':
              await user(q, tenant, id('u'), at(o.at));
              break;
            case 'moveUser': {
              const uid = await nth('users', o.pick);
              if (uid) await q.query('UPDATE users SET created_at = $2 WHERE id = $1', [uid, at(o.at)]);
              break;
            }
            case 'deleteUser': {
              const uid = await nth('users', o.pick);
              if (uid) {
                await q.query('DELETE FROM user_activity WHERE user_id = $1', [uid]);
                await q.query('DELETE FROM tournament_players WHERE user_id = $1', [uid]);
                await q.query('DELETE FROM users WHERE id = $1', [uid]);
              }
              break;
            }
            case 'activity': {
              const rows: [string, string][] = [];
              for (const r of o.rows) {
                const uid = await nth('users', r.user);
                if (uid) rows.push([uid, at(r.at)]);
              }
              if (rows.length > 0) {
                await q.query('INSERT INTO user_activity (tenant_id, user_id, occurred_at) SELECT $1, u, a FROM unnest($2::text[], $3::timestamptz[]) AS r(u, a)', [
                  tenant,
                  rows.map((r) => r[0]),
                  rows.map((r) => r[1]),
                ]);
              }
              break;
            }
            case 'deleteActivity': {
              const a = await nth('user_activity', o.pick);
              if (a) await q.query('DELETE FROM user_activity WHERE id = $1::bigint', [a]);
              break;
            }
            case 'run':
              await run(`${tenant} op ${i}`);
              break;
          }
        }
        await run(`${tenant} final`);
      }),
      { numRuns: 14, seed: 20261202, endOnFailure: true },
    );
  }, 60_000);
});
