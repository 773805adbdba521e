import { DateTime } from 'luxon';
import type { Rng } from '../../src/seed/prng';
import type { RowSink } from '../../src/seed/tables';

// Random raw data for the property test, biased towards the cases that break aggregations:
// timestamps on and 1 ms around local midnights (DST days included), ties between formats,
// pending/failed payments, subscriptions canceled exactly at a boundary or before they start,
// tournaments missing start or end times (or ending before they start).

const WINDOW_FIRST_DAY = DateTime.fromISO('2024-09-25', { zone: 'UTC' });
const WINDOW_DAYS = 215; // to 2025-04-28
/** DST change days of the zones below, 2024-2025. */
const DST_DAYS = ['2024-09-08', '2024-10-06', '2024-10-26', '2024-10-27', '2024-11-03', '2025-03-09', '2025-03-30', '2025-04-05', '2025-04-06'];
const NEAR = [0, -1, 1, -3_600_000, 3_600_000, 30 * 60_000, 23 * 3_600_000];
const FORMATS = ['swiss', 'round_robin', 'ladder'];

function time(rng: Rng, zone: string): number {
  if (rng.chance(0.4)) return WINDOW_FIRST_DAY.toMillis() + Math.floor(rng.next() * WINDOW_DAYS * 86_400_000);
  const day = rng.chance(0.3) ? rng.pick(DST_DAYS) : WINDOW_FIRST_DAY.plus({ days: rng.int(0, WINDOW_DAYS) }).toISODate()!;
  // Local midnight; on month/quarter/year starts and Mondays too, since days are drawn uniformly.
  return DateTime.fromISO(day, { zone }).toMillis() + rng.pick(NEAR);
}

export async function writeRandomTenant(rng: Rng, sink: RowSink, id: string, zone: string): Promise<void> {
  await sink.add('organizations', [id, id, zone, 'USD', 'active', Date.parse('2024-01-01T00:00:00Z')]);
  const users = Array.from({ length: rng.int(10, 30) }, (_, i) => `${id}-u${i}`);
  for (const u of users) await sink.add('users', [u, id, `${u}@example.test`, time(rng, zone)]);
  for (let i = rng.int(40, 150); i > 0; i--) await sink.add('user_activity', [id, rng.pick(users), time(rng, zone)]);

  for (let i = 0, n = rng.int(5, 20); i < n; i++) {
    const started = time(rng, zone);
    const canceled = rng.weighted([
      [null, 4],
      [time(rng, zone), 4], // possibly before started: never active
      [started, 1],
    ] as const);
    const interval = rng.weighted([['month', 5], ['year', 4], ['week', 1]] as const); // 'week' is not a billing interval MRR counts
    await sink.add('subscriptions', [`${id}-s${i}`, id, rng.pick(users), 'plan', rng.pick([1, 2, 5, 6, 999, 1000, 1999, 12_001]), interval, started, canceled]);
  }

  const tournaments: string[] = [];
  for (let i = 0, n = rng.int(8, 30); i < n; i++) {
    const tid = `${id}-t${i}`;
    tournaments.push(tid);
    const created = time(rng, zone);
    const status = rng.pick(['draft', 'scheduled', 'in_progress', 'completed', 'completed', 'cancelled']);
    const started = rng.chance(0.7) ? created + rng.int(0, 5 * 3_600_000) : null;
    // Mostly after the start, sometimes a few ms or seconds (odd fractions of a minute), rarely before.
    const completed = rng.chance(0.75) ? (started ?? created) + rng.pick([rng.int(1, 600_000), rng.int(1, 999), -rng.int(1, 60_000)]) : null;
    await sink.add('tournaments', [tid, id, tid, rng.pick(FORMATS), status, created, started, completed]);
    const seated = new Set<string>();
    for (let p = rng.int(0, 6); p > 0; p--) seated.add(rng.pick(users));
    for (const u of seated) await sink.add('tournament_players', [tid, u, id, created]);
  }

  const payments: string[] = [];
  for (let i = 0, n = rng.int(30, 90); i < n; i++) {
    const pid = `${id}-p${i}`;
    payments.push(pid);
    const status = rng.weighted([['succeeded', 6], ['failed', 2], ['pending', 2]] as const);
    const tournament = rng.chance(0.4) ? rng.pick(tournaments) : null;
    await sink.add('payments', [pid, id, rng.pick(users), null, tournament, rng.pick([1, 3, 50, 999, 1000, 2500]), status, time(rng, zone)]);
  }
  for (let i = 0, n = rng.int(3, 15); i < n; i++) {
    await sink.add('refunds', [`${id}-r${i}`, id, rng.pick(payments), rng.pick([1, 50, 500]), time(rng, zone)]);
  }
}
