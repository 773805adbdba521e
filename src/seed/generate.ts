import { createRng, deriveSeed, type Rng } from './prng';
import type { RowSink } from './tables';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** A spread of zones with DST in both hemispheres, a half-hour offset and plain UTC. */
export const SEED_TIMEZONES = ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Sydney', 'America/Los_Angeles'] as const;
const CURRENCY: Record<string, string> = {
  UTC: 'USD',
  'America/New_York': 'USD',
  'Europe/Berlin': 'EUR',
  'Asia/Kolkata': 'INR',
  'Australia/Sydney': 'AUD',
  'America/Los_Angeles': 'USD',
};

const PLANS = [
  { plan: 'basic', month: 999, year: 9999 },
  { plan: 'pro', month: 1999, year: 19999 },
  { plan: 'team', month: 4999, year: 49999 },
] as const;
const FORMATS = [
  ['single_elimination', 35],
  ['double_elimination', 20],
  ['round_robin', 20],
  ['swiss', 15],
  ['ladder', 10],
] as const;
const ENTRY_FEES = [500, 1000, 2500] as const;

export interface GenerateOptions {
  /** Number of organizations. @defaultValue 3 */
  tenants: number;
  /** Users signing up per organization over the history. @defaultValue 200 */
  usersPerTenant: number;
  /** Days of history before `until`. @defaultValue 90 */
  days: number;
  /** PRNG seed: the same options give the same rows. @defaultValue 42 */
  seed: number;
  /** End of the history (exclusive), epoch ms. The CLI defaults it to the start of today, UTC. */
  untilMs: number;
  /** Zones assigned round-robin to the organizations. @defaultValue {@link SEED_TIMEZONES} */
  timezones?: readonly string[];
}

/**
 * Digits in the ids of a data set of `tenants` organizations: at least 3 (tenant-001), more when
 * the count needs them (tenant-00001 … tenant-10000), so ids sort in tenant order as text.
 */
export function tenantIdDigits(tenants: number): number {
  return Math.max(3, String(Math.max(1, Math.floor(tenants))).length);
}

/**
 * The id of the organization at `index` (0-based) in a data set of `tenants` organizations:
 * `tenant-` and index + 1, zero-padded to {@link tenantIdDigits}. Up to 999 tenants the ids are
 * tenant-001 … tenant-999 whatever the count.
 */
export function tenantId(index: number, tenants = index + 1): string {
  return `tenant-${String(index + 1).padStart(tenantIdDigits(Math.max(tenants, index + 1)), '0')}`;
}

/**
 * Writes one organization and its history to `sink`: users signing up (more of them later on),
 * activity that fades after signup, subscriptions (monthly and yearly) with billing payments,
 * failures, pending payments, churn and refunds, and tournaments of several formats and states
 * with players and entry fees (refunded when a tournament is cancelled). Each tenant draws from
 * its own seeded stream, so tenant N draws the same rows whatever the tenant count (only the
 * width of its id grows past 999 tenants, see {@link tenantId}).
 */
export async function generateTenant(options: GenerateOptions, index: number, sink: RowSink): Promise<void> {
  const rng = createRng(deriveSeed(options.seed, 'tenant', index));
  const zones = options.timezones ?? SEED_TIMEZONES;
  const zone = zones[index % zones.length]!;
  const id = tenantId(index, options.tenants);
  const until = options.untilMs;
  const from = until - options.days * DAY_MS;
  const span = until - from;
  // Every seventh organization is suspended: aggregation skips it.
  const status = index % 7 === 6 ? 'suspended' : 'active';
  await sink.add('organizations', [id, `Tenant ${index + 1} (${zone})`, zone, CURRENCY[zone] ?? 'USD', status, from - 30 * DAY_MS]);

  const signups = new Float64Array(options.usersPerTenant);
  for (let u = 0; u < options.usersPerTenant; u++) {
    // sqrt: signup density grows linearly over the history, like a growing product.
    const at = from + Math.floor(Math.sqrt(rng.next()) * span);
    signups[u] = at;
    await sink.add('users', [`${id}-u${u}`, id, `user${u}@${id}.example`, at]);
  }

  for (let u = 0; u < options.usersPerTenant; u++) await userActivity(rng, sink, id, u, signups[u]!, until);

  const ids = { payment: 0, refund: 0 };
  for (let u = 0; u < options.usersPerTenant; u++) {
    if (rng.chance(0.25)) await subscription(rng, sink, id, u, signups[u]!, until, ids);
  }

  const tournaments = Math.max(1, Math.round((options.days * options.usersPerTenant) / 400));
  for (let n = 0; n < tournaments; n++) await tournament(rng, sink, id, n, from, until, signups, ids);
}

async function userActivity(rng: Rng, sink: RowSink, tenant: string, u: number, signup: number, until: number): Promise<void> {
  const engagement = rng.next();
  const halfLifeDays = 10 + 60 * engagement;
  for (let day = 0, t = signup; t < until; day++, t += DAY_MS) {
    const p = 0.6 * engagement * Math.exp(-day / halfLifeDays) + 0.03 * engagement;
    if (!rng.chance(p)) continue;
    const events = rng.int(1, 3);
    for (let e = 0; e < events; e++) {
      const at = t + Math.floor(rng.next() * DAY_MS);
      if (at < until) await sink.add('user_activity', [tenant, `${tenant}-u${u}`, at]);
    }
  }
}

async function subscription(
  rng: Rng,
  sink: RowSink,
  tenant: string,
  u: number,
  signup: number,
  until: number,
  ids: { payment: number; refund: number },
): Promise<void> {
  const started = signup + Math.floor(rng.next() * Math.min(30 * DAY_MS, until - signup));
  const plan = rng.pick(PLANS);
  const interval = rng.chance(0.2) ? 'year' : 'month';
  const amount = plan[interval];
  // Churn: exponential lifetime, longer for yearly plans.
  const lifetime = -Math.log(1 - rng.next()) * (interval === 'year' ? 540 : 240) * DAY_MS;
  const canceledAt = started + lifetime < until ? Math.floor(started + lifetime) : null;
  const subId = `${tenant}-s${u}`;
  await sink.add('subscriptions', [subId, tenant, `${tenant}-u${u}`, plan.plan, amount, interval, started, canceledAt]);

  const end = canceledAt ?? until;
  const step = interval === 'year' ? 365 * DAY_MS : 30 * DAY_MS;
  for (let at = started; at < end; at += step) {
    const status = rng.weighted([['succeeded', 90], ['failed', 7], ['pending', 3]] as const);
    const pay = await paymentRow(sink, tenant, ids, `${tenant}-u${u}`, subId, null, amount, status, at);
    if (status === 'failed') {
      // The processor retries a day later.
      const retryAt = at + DAY_MS;
      if (retryAt < until && rng.chance(0.6)) await paymentRow(sink, tenant, ids, `${tenant}-u${u}`, subId, null, amount, 'succeeded', retryAt);
    } else if (status === 'succeeded' && rng.chance(0.04)) {
      const refundAt = at + rng.int(1, 20) * DAY_MS + rng.int(0, DAY_MS - 1);
      const refundAmount = rng.chance(0.5) ? amount : Math.max(1, Math.round(amount / 2));
      if (refundAt < until) await sink.add('refunds', [`${tenant}-r${ids.refund++}`, tenant, pay, refundAmount, refundAt]);
    }
  }
}

async function tournament(
  rng: Rng,
  sink: RowSink,
  tenant: string,
  n: number,
  from: number,
  until: number,
  signups: Float64Array,
  ids: { payment: number; refund: number },
): Promise<void> {
  const id = `${tenant}-t${n}`;
  const format = rng.weighted(FORMATS);
  const createdAt = from + Math.floor(rng.next() * (until - from));
  let status: string;
  if (until - createdAt < 3 * DAY_MS) status = rng.pick(['draft', 'scheduled', 'scheduled', 'in_progress'] as const);
  else status = rng.weighted([['completed', 80], ['cancelled', 8], ['in_progress', 4], ['scheduled', 5], ['draft', 3]] as const);
  let startedAt: number | null = null;
  let completedAt: number | null = null;
  if (status === 'in_progress' || status === 'completed' || (status === 'cancelled' && rng.chance(0.3))) {
    startedAt = createdAt + rng.int(1, 72) * HOUR_MS;
    if (startedAt >= until) {
      startedAt = null;
      status = 'scheduled';
    }
  }
  if (status === 'completed' && startedAt !== null) {
    completedAt = startedAt + rng.int(30, 300) * 60_000 + rng.int(0, 59_999);
    if (completedAt >= until) {
      completedAt = null;
      status = 'in_progress';
    }
    // Data quality as found in production: a few completed tournaments lack their start time.
    if (completedAt !== null && rng.chance(0.02)) startedAt = null;
  }
  await sink.add('tournaments', [id, tenant, `${format.replace('_', ' ')} #${n + 1}`, format, status, createdAt, startedAt, completedAt]);

  if (status === 'draft') return;
  const wanted = format.endsWith('elimination') ? 2 ** rng.int(2, 6) : rng.int(4, 40);
  const fee = rng.chance(0.4) ? rng.pick(ENTRY_FEES) : 0;
  const joinBy = startedAt ?? Math.min(createdAt + 48 * HOUR_MS, until - 1);
  const players = new Set<number>();
  // Rejection sampling: only users who had signed up when the tournament was created.
  for (let tries = 0; players.size < wanted && tries < wanted * 20; tries++) {
    const u = rng.int(0, signups.length - 1);
    if (signups[u]! < createdAt) players.add(u);
  }
  const cancelledAt = status === 'cancelled' ? joinBy + rng.int(1, 24) * HOUR_MS : null;
  for (const u of players) {
    const joinedAt = createdAt + Math.floor(rng.next() * Math.max(1, joinBy - createdAt));
    await sink.add('tournament_players', [id, `${tenant}-u${u}`, tenant, joinedAt]);
    if (fee === 0) continue;
    const payStatus = rng.weighted([['succeeded', 95], ['failed', 4], ['pending', 1]] as const);
    const pay = await paymentRow(sink, tenant, ids, `${tenant}-u${u}`, null, id, fee, payStatus, joinedAt);
    if (payStatus === 'succeeded' && cancelledAt !== null && cancelledAt < until) {
      await sink.add('refunds', [`${tenant}-r${ids.refund++}`, tenant, pay, fee, cancelledAt]);
    }
  }
}

async function paymentRow(
  sink: RowSink,
  tenant: string,
  ids: { payment: number },
  userId: string,
  subscriptionId: string | null,
  tournamentId: string | null,
  amount: number,
  status: string,
  at: number,
): Promise<string> {
  const id = `${tenant}-p${ids.payment++}`;
  await sink.add('payments', [id, tenant, userId, subscriptionId, tournamentId, amount, status, at]);
  return id;
}
