import { describe, expect, it } from 'vitest';
import { isFinalAttempt } from '../src/activities/metrics';
import { cachedFreshness, newestAggregates } from '../src/metrics/freshness';

// When a failed attempt counts as a tenant failed for good, and how often the freshness query runs.

describe('isFinalAttempt', () => {
  it('bad input or data is final at once; other errors on the policy\'s last attempt; no limit never', () => {
    expect(isFinalAttempt('InvalidInputError', 1, 3)).toBe(true);
    expect(isFinalAttempt('InvalidDataError', 1, undefined)).toBe(true);
    expect(isFinalAttempt('TransientDatabaseError', 1, 3)).toBe(false);
    expect(isFinalAttempt('TransientDatabaseError', 2, 3)).toBe(false);
    expect(isFinalAttempt('TransientDatabaseError', 3, 3)).toBe(true);
    expect(isFinalAttempt('TransientDatabaseError', 9, 0)).toBe(false);
    expect(isFinalAttempt('TransientDatabaseError', 9, undefined)).toBe(false);
  });
});

describe('cachedFreshness', () => {
  it('queries once per TTL, again after a write of this process, and shares a query between concurrent reads', async () => {
    let queries = 0;
    let now = 0;
    const pool = {
      query: async () => {
        queries += 1;
        return { rows: [{ type: 'revenue', period_type: 'day', refreshed_at: new Date(queries * 1000), stale_tenants: 0, oldest: null }] };
      },
    } as never;
    const f = cachedFreshness(pool, 15_000, () => now);
    const [a, b] = await Promise.all([f.read(), f.read()]);
    expect(queries).toBe(1);
    expect(a).toEqual(b);
    now = 14_999;
    await f.read();
    expect(queries).toBe(1);
    f.invalidate();
    expect((await f.read())[0]!.lastRefreshedAt).toEqual(new Date(2000));
    now = 30_000;
    await f.read();
    expect(queries).toBe(3);
  });
});

describe('newestAggregates', () => {
  it('scans the aggregate tables once per scan TTL, counts this process\'s writes at once, and keeps the newer of the two', async () => {
    let scans = 0;
    let now = 100_000;
    const scanned = [
      { type: 'revenue', period_type: 'day', newest: new Date(50_000) },
      { type: 'cohorts', period_type: 'month', newest: new Date(90_000) },
    ];
    const pool = {
      query: async () => {
        scans += 1;
        return { rows: scanned };
      },
    } as never;
    const n = newestAggregates(pool, 600_000, () => now);
    const byKey = async () => Object.fromEntries((await n.read()).map((x) => [`${x.type}:${x.periodType}`, x.newestComputedAt.getTime()]));
    expect(await byKey()).toEqual({ 'revenue:day': 50_000, 'cohorts:month': 90_000 });

    now = 120_000;
    n.noteWritten([
      { type: 'revenue', periodType: 'day', rowsWritten: 3 },
      { type: 'tournaments', periodType: 'week', rowsWritten: 1 },
      { type: 'cohorts', periodType: 'month', rowsWritten: 0 }, // wrote nothing: not newer
    ]);
    expect(await byKey()).toEqual({ 'revenue:day': 120_000, 'tournaments:week': 120_000, 'cohorts:month': 90_000 });
    expect(scans).toBe(1); // its own writes do not trigger a scan

    // After the TTL a scan sees another process's newer rows; this process's note still wins where newer.
    now = 700_001;
    scanned[1] = { type: 'cohorts', period_type: 'month', newest: new Date(650_000) };
    expect(await byKey()).toEqual({ 'revenue:day': 120_000, 'tournaments:week': 120_000, 'cohorts:month': 650_000 });
    expect(scans).toBe(2);
  });
});
