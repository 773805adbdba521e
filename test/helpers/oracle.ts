import { DateTime } from 'luxon';
import type pg from 'pg';

// An independent, deliberately plain implementation of the metric definitions in
// docs/data-contract.md over raw rows held in memory. It shares no code with src/aggregation or
// src/db/sql: rows are put in a period by the *local calendar key* of their timestamp (local date, ISO week, month, …) rather
// than by comparing instants with period boundaries, and money/rates use BigInt arithmetic.

export type OraclePeriodType = 'day' | 'week' | 'month' | 'quarter' | 'year';

export interface RawData {
  zone: string;
  users: { id: string; createdAt: number }[];
  activity: { userId: string; occurredAt: number }[];
  subscriptions: { amountCents: bigint; interval: string; startedAt: number; canceledAt: number | null }[];
  payments: { amountCents: bigint; status: string; createdAt: number; tournamentId: string | null }[];
  refunds: { amountCents: bigint; createdAt: number }[];
  tournaments: { id: string; format: string; status: string; createdAt: number; startedAt: number | null; completedAt: number | null }[];
  players: { tournamentId: string }[];
}

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());

/** Everything one tenant owns, straight from the raw tables. */
export async function loadRaw(q: Pick<pg.Pool, 'query'>, tenantId: string): Promise<RawData> {
  const one = async <T extends pg.QueryResultRow>(sql: string) => (await q.query<T>(sql, [tenantId])).rows;
  const [org] = await one<{ timezone: string }>('SELECT timezone FROM organizations WHERE id = $1');
  return {
    zone: org!.timezone,
    users: (await one<{ id: string; created_at: Date }>('SELECT id, created_at FROM users WHERE tenant_id = $1')).map((r) => ({
      id: r.id,
      createdAt: r.created_at.getTime(),
    })),
    activity: (await one<{ user_id: string; occurred_at: Date }>('SELECT user_id, occurred_at FROM user_activity WHERE tenant_id = $1')).map((r) => ({
      userId: r.user_id,
      occurredAt: r.occurred_at.getTime(),
    })),
    subscriptions: (
      await one<{ amount_cents: string; interval: string; started_at: Date; canceled_at: Date | null }>(
        'SELECT amount_cents, "interval", started_at, canceled_at FROM subscriptions WHERE tenant_id = $1',
      )
    ).map((r) => ({ amountCents: BigInt(r.amount_cents), interval: r.interval, startedAt: r.started_at.getTime(), canceledAt: ms(r.canceled_at) })),
    payments: (
      await one<{ amount_cents: string; status: string; created_at: Date; tournament_id: string | null }>(
        'SELECT amount_cents, status, created_at, tournament_id FROM payments WHERE tenant_id = $1',
      )
    ).map((r) => ({ amountCents: BigInt(r.amount_cents), status: r.status, createdAt: r.created_at.getTime(), tournamentId: r.tournament_id })),
    refunds: (await one<{ amount_cents: string; created_at: Date }>('SELECT amount_cents, created_at FROM refunds WHERE tenant_id = $1')).map((r) => ({
      amountCents: BigInt(r.amount_cents),
      createdAt: r.created_at.getTime(),
    })),
    tournaments: (
      await one<{ id: string; format: string; status: string; created_at: Date; started_at: Date | null; completed_at: Date | null }>(
        'SELECT id, format, status, created_at, started_at, completed_at FROM tournaments WHERE tenant_id = $1',
      )
    ).map((r) => ({
      id: r.id,
      format: r.format,
      status: r.status,
      createdAt: r.created_at.getTime(),
      startedAt: ms(r.started_at),
      completedAt: ms(r.completed_at),
    })),
    players: (await one<{ tournament_id: string }>('SELECT tournament_id FROM tournament_players WHERE tenant_id = $1')).map((r) => ({
      tournamentId: r.tournament_id,
    })),
  };
}

// ---- calendar, by local fields ------------------------------------------------------------

interface CalendarDay {
  y: number;
  m: number;
  d: number;
}

function addDays(day: CalendarDay, n: number): CalendarDay {
  const t = new Date(Date.UTC(day.y, day.m - 1, day.d + n));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

function weekday(day: CalendarDay): number {
  return (new Date(Date.UTC(day.y, day.m - 1, day.d)).getUTCDay() + 6) % 7; // Monday = 0
}

/** The first calendar day of the period (of type `type`) that contains `day`. */
function periodFirstDay(day: CalendarDay, type: OraclePeriodType): CalendarDay {
  switch (type) {
    case 'day':
      return day;
    case 'week':
      return addDays(day, -weekday(day));
    case 'month':
      return { y: day.y, m: day.m, d: 1 };
    case 'quarter':
      return { y: day.y, m: Math.floor((day.m - 1) / 3) * 3 + 1, d: 1 };
    case 'year':
      return { y: day.y, m: 1, d: 1 };
  }
}

function nextFirstDay(first: CalendarDay, type: OraclePeriodType): CalendarDay {
  switch (type) {
    case 'day':
      return addDays(first, 1);
    case 'week':
      return addDays(first, 7);
    case 'month':
      return first.m === 12 ? { y: first.y + 1, m: 1, d: 1 } : { y: first.y, m: first.m + 1, d: 1 };
    case 'quarter':
      return first.m >= 10 ? { y: first.y + 1, m: 1, d: 1 } : { y: first.y, m: first.m + 3, d: 1 };
    case 'year':
      return { y: first.y + 1, m: 1, d: 1 };
  }
}

const keyOf = (day: CalendarDay) => `${day.y}-${String(day.m).padStart(2, '0')}-${String(day.d).padStart(2, '0')}`;

function parseDay(iso: string): CalendarDay {
  const [y, m, d] = iso.split('-').map(Number);
  return { y: y!, m: m!, d: d! };
}

/**
 * Where a calendar day starts: the first instant whose local date is that day. That is 00:00,
 * or the first existing instant when midnight is skipped (Havana 2025-03-09 starts at 01:00), or
 * the first of two midnights when the clock goes back over it (Havana 2024-11-03 starts at
 * 00:00 CDT, an hour before 00:00 CST). Found by bisection on the local date rather than by
 * resolving a wall time (which picks one offset for an ambiguous time, not necessarily the first).
 */
function localMidnight(day: CalendarDay, zone: string): number {
  const key = keyOf(day);
  const utcMidnight = Date.UTC(day.y, day.m - 1, day.d);
  // Offsets lie within UTC-12..UTC+14: the day has not begun 15 h before UTC midnight and has 13 h after.
  let before = utcMidnight - 15 * 3_600_000;
  let after = utcMidnight + 13 * 3_600_000;
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2);
    if (keyOf(localDay(mid, zone)) >= key) after = mid;
    else before = mid;
  }
  return after;
}

/** The local calendar day of an instant. */
function localDay(t: number, zone: string): CalendarDay {
  const dt = DateTime.fromMillis(t, { zone });
  return { y: dt.year, m: dt.month, d: dt.day };
}

export interface OraclePeriod {
  key: string;
  start: number;
  end: number;
}

/** Periods from the one containing local day `from` while they start before local day `to`. */
export function oraclePeriods(zone: string, from: string, to: string, type: OraclePeriodType): OraclePeriod[] {
  const out: OraclePeriod[] = [];
  const endKey = keyOf(parseDay(to));
  for (let first = periodFirstDay(parseDay(from), type); keyOf(first) < endKey; first = nextFirstDay(first, type)) {
    out.push({ key: keyOf(first), start: localMidnight(first, zone), end: localMidnight(nextFirstDay(first, type), zone) });
  }
  return out;
}

/** Which period (by its first day) an instant falls in, by local calendar. */
function periodKeyOf(t: number, zone: string, type: OraclePeriodType): string {
  return keyOf(periodFirstDay(localDay(t, zone), type));
}

// ---- exact decimal arithmetic --------------------------------------------------------------

/** n / d rounded to an integer, half away from zero (Postgres numeric round). */
function roundDiv(n: bigint, d: bigint): bigint {
  const negative = n < 0n !== d < 0n;
  const a = n < 0n ? -n : n;
  const b = d < 0n ? -d : d;
  const q = (2n * a + b) / (2n * b);
  return negative ? -q : q;
}

/** n / d as Postgres prints round(n / d, 2). */
function fixed2(n: bigint, d: bigint): string {
  const r = roundDiv(n * 100n, d);
  const sign = r < 0n ? '-' : '';
  const a = r < 0n ? -r : r;
  return `${sign}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

const iso = (t: number) => new Date(t).toISOString();

// ---- metrics -----------------------------------------------------------------------------

export function oracleRevenue(raw: RawData, periodType: OraclePeriodType, from: string, to: string): Record<string, unknown>[] {
  return oraclePeriods(raw.zone, from, to, periodType).map((p) => {
    const inPeriod = (t: number) => periodKeyOf(t, raw.zone, periodType) === p.key;
    const pays = raw.payments.filter((x) => inPeriod(x.createdAt));
    const counted = pays.filter((x) => x.status === 'succeeded' || x.status === 'failed');
    const succeeded = pays.filter((x) => x.status === 'succeeded');
    const gross = succeeded.reduce((s, x) => s + x.amountCents, 0n);
    const refunds = raw.refunds.filter((x) => inPeriod(x.createdAt));
    const refunded = refunds.reduce((s, x) => s + x.amountCents, 0n);
    let twelfths = 0n;
    for (const s of raw.subscriptions) {
      const active = s.startedAt < p.end && (s.canceledAt === null || s.canceledAt >= p.end);
      if (!active) continue;
      if (s.interval === 'month') twelfths += s.amountCents * 12n;
      else if (s.interval === 'year') twelfths += s.amountCents;
    }
    const mrr = roundDiv(twelfths, 12n);
    return {
      period_type: periodType,
      period_start: iso(p.start),
      period_end: iso(p.end),
      total_revenue_cents: String(gross - refunded),
      gross_revenue_cents: String(gross),
      payment_count: counted.length,
      payment_success_count: succeeded.length,
      payment_success_rate: counted.length === 0 ? '0.00' : fixed2(100n * BigInt(succeeded.length), BigInt(counted.length)),
      refund_count: refunds.length,
      refund_amount_cents: String(refunded),
      mrr_cents: String(mrr),
      arr_cents: String(12n * mrr),
    };
  });
}

export function oracleTournaments(raw: RawData, periodType: OraclePeriodType, from: string, to: string): Record<string, unknown>[] {
  return oraclePeriods(raw.zone, from, to, periodType).map((p) => {
    const inPeriod = (t: number) => periodKeyOf(t, raw.zone, periodType) === p.key;
    const ts = raw.tournaments.filter((t) => inPeriod(t.createdAt));
    const ids = new Set(ts.map((t) => t.id));
    const completed = ts.filter((t) => t.status === 'completed');
    const players = raw.players.filter((x) => ids.has(x.tournamentId)).length;
    const timed = completed.filter((t) => t.startedAt !== null && t.completedAt !== null);
    const durationMs = timed.reduce((s, t) => s + BigInt(t.completedAt! - t.startedAt!), 0n);
    const byFormat = new Map<string, number>();
    for (const t of ts) byFormat.set(t.format, (byFormat.get(t.format) ?? 0) + 1);
    const ranked = [...byFormat].sort(([fa, na], [fb, nb]) => nb - na || (fa < fb ? -1 : fa > fb ? 1 : 0));
    const fees = raw.payments.filter((x) => x.status === 'succeeded' && x.tournamentId !== null && inPeriod(x.createdAt));
    return {
      period_type: periodType,
      period_start: iso(p.start),
      period_end: iso(p.end),
      tournament_count: ts.length,
      completed_count: completed.length,
      completion_rate: ts.length === 0 ? '0.00' : fixed2(100n * BigInt(completed.length), BigInt(ts.length)),
      total_players: players,
      avg_players: ts.length === 0 ? '0.00' : fixed2(BigInt(players), BigInt(ts.length)),
      avg_duration_minutes: timed.length === 0 ? null : fixed2(durationMs, 60_000n * BigInt(timed.length)),
      most_popular_format: ranked[0]?.[0] ?? null,
      revenue_cents: String(fees.reduce((s, x) => s + x.amountCents, 0n)),
    };
  });
}

/** Cohort rows for the cohort months intersecting [from, to) (local dates), as of `asOf`. */
export function oracleCohorts(raw: RawData, from: string, to: string, asOf: number): Record<string, unknown>[] {
  const monthIndex = (t: number) => {
    const d = localDay(t, raw.zone);
    return d.y * 12 + (d.m - 1);
  };
  const asOfMonth = monthIndex(asOf);
  const rows: Record<string, unknown>[] = [];
  for (const month of oraclePeriods(raw.zone, from, to, 'month')) {
    const [y, m] = month.key.split('-').map(Number);
    const cohortMonth = y! * 12 + (m! - 1);
    const cohort = raw.users.filter((u) => monthIndex(u.createdAt) === cohortMonth);
    if (cohort.length === 0) continue;
    const members = new Set(cohort.map((u) => u.id));
    for (let k = 0; cohortMonth + k <= asOfMonth; k++) {
      const retained =
        k === 0 ? cohort.length : new Set(raw.activity.filter((a) => members.has(a.userId) && monthIndex(a.occurredAt) === cohortMonth + k).map((a) => a.userId)).size;
      rows.push({
        cohort_month: month.key,
        month_number: k,
        cohort_size: cohort.length,
        retained_users: retained,
        retention_rate: fixed2(100n * BigInt(retained), BigInt(cohort.length)),
      });
    }
  }
  return rows;
}
