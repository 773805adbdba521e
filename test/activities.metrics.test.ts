import { describe, expect, it } from 'vitest';
import { isFinalAttempt } from '../src/activities/metrics';
import { cachedFreshness } from '../src/metrics/freshness';

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
        return { rows: [{ type: 'revenue', period_type: 'day', newest: new Date(queries * 1000) }] };
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
    expect((await f.read())[0]!.newestComputedAt).toEqual(new Date(2000));
    now = 30_000;
    await f.read();
    expect(queries).toBe(3);
  });
});
