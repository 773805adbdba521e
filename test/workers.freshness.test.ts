import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AnalyticsQueue } from '../src/queue';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { startWorkersSubprocess, type WorkersSubprocess } from './helpers/workers';
import { org, payment, user } from './helpers/fixtures';

// The freshness gauges of /metrics, read from the incremental refresh's watermarks
// (aggregate_freshness) and the changes not folded in yet, by (type, period type) only.
// `analytics workers` runs as a real subprocess; the watermarks and the change rows' times are
// planted by hand, so every expected value below is worked out from those times, not read back
// from the code: once before any incremental run, once after one ran through the queue.

let t: TestDatabase;
let w: WorkersSubprocess | undefined;
let queue: AnalyticsQueue;
let base: string;

const HOUR = 3_600_000;
/** The instant every planted time counts back from. */
const T0 = Date.now();
const at = (msBeforeT0: number) => new Date(T0 - msBeforeT0);

// Pending changes (their recorded_at), per tenant:
const FA_REVENUE = at(2 * HOUR); // fa: a payment, two hours ago
const FB_REVENUE = at(1 * HOUR); // fb: a payment, an hour ago
const FB_COHORTS = at(0.5 * HOUR); // fb: a signup, half an hour ago
const FS_REVENUE = at(10 * HOUR); // fs (suspended): a payment, ten hours ago; never folded in while suspended
// Watermarks planted (refreshed_at), per (tenant, type, period type):
const FA_REVENUE_DAY = at(3 * HOUR);
const FA_REVENUE_MONTH = at(5 * HOUR);
const FB_COHORTS_MONTH = at(4 * HOUR);

const watermark = (tenant: string, type: string, periodType: string, refreshedAt: Date) =>
  t.pool.query(
    `INSERT INTO aggregate_freshness (tenant_id, aggregate_type, period_type, newest_change_at, changes_folded, refreshed_at) VALUES ($1, $2, $3, $4, 1, $4)`,
    [tenant, type, periodType, refreshedAt],
  );
const dateChanges = (tenant: string, kind: string, recordedAt: Date) =>
  t.pool.query(`UPDATE aggregate_changes SET recorded_at = $3 WHERE tenant_id = $1 AND aggregate_type = $2`, [tenant, kind, recordedAt]);

beforeAll(async () => {
  t = await createTestDatabase('fresh');
  await org(t.pool, 'fa', 'UTC');
  await org(t.pool, 'fb', 'UTC');
  await org(t.pool, 'fs', 'UTC', 'suspended');
  await payment(t.pool, 'fa', { id: 'fa-p1', amountCents: 100, status: 'succeeded', createdAt: '2025-03-10T12:00:00Z' });
  await payment(t.pool, 'fb', { id: 'fb-p1', amountCents: 200, status: 'succeeded', createdAt: '2025-03-11T12:00:00Z' });
  await user(t.pool, 'fb', 'fb-u1', '2025-03-01T08:00:00Z');
  await payment(t.pool, 'fs', { id: 'fs-p1', amountCents: 300, status: 'succeeded', createdAt: '2025-03-12T12:00:00Z' });
  await dateChanges('fa', 'revenue', FA_REVENUE);
  await dateChanges('fb', 'revenue', FB_REVENUE);
  await dateChanges('fb', 'cohorts', FB_COHORTS);
  await dateChanges('fs', 'revenue', FS_REVENUE);
  await watermark('fa', 'revenue', 'day', FA_REVENUE_DAY);
  await watermark('fa', 'revenue', 'month', FA_REVENUE_MONTH);
  await watermark('fb', 'cohorts', 'month', FB_COHORTS_MONTH);
  const pending = await t.pool.query<{ tenant_id: string; aggregate_type: string }>('SELECT tenant_id, aggregate_type FROM aggregate_changes ORDER BY 1, 2');
  expect(pending.rows.map((r) => `${r.tenant_id}:${r.aggregate_type}`)).toEqual(['fa:revenue', 'fb:cohorts', 'fb:revenue', 'fs:revenue']);

  w = await startWorkersSubprocess(t.url, inject('temporalAddress'));
  ({ base, queue } = w);
});

afterAll(async () => {
  await w?.stop();
  await t?.drop();
});

/** One scrape: every sample as `name{labels}` -> value, and the interval the scrape happened in. */
async function scrape(): Promise<{ s: Map<string, number>; before: number; after: number }> {
  const before = Date.now();
  const text = await (await fetch(`${base}/metrics`)).text();
  const after = Date.now();
  const s = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([^\s{]+(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (m) s.set(m[1]!, Number(m[2]));
  }
  return { s, before, after };
}

const key = (name: string, type: string, periodType: string) => `${name}{type="${type}",period_type="${periodType}"}`;
const seriesOf = (s: Map<string, number>, name: string) => [...s.keys()].filter((k) => k.startsWith(`${name}{`)).sort();
/** A gauge of "now - instant" read during [before, after]: between the ages at either end (seconds; 1 ms of slack for rounding). */
function expectAgeOf(value: number | undefined, instant: Date, { before, after }: { before: number; after: number }) {
  expect(value).toBeDefined();
  expect(value!).toBeGreaterThanOrEqual((before - instant.getTime() - 1) / 1000);
  expect(value!).toBeLessThanOrEqual((after - instant.getTime() + 1) / 1000);
}

describe('the freshness gauges of /metrics', () => {
  it('before any incremental run: the stalest missing change and the stale tenants per (type, period type), the newest watermark of each', async () => {
    const scraped = await scrape();
    const { s } = scraped;
    // Stale: fa's revenue change reaches the period types of fa's revenue watermarks (day,
    // month); fb's revenue change only day (no revenue watermark yet); fb's signup cohorts/month.
    // fs is suspended: its change waits for it and counts nowhere here.
    const keys = [key('', 'cohorts', 'month'), key('', 'revenue', 'day'), key('', 'revenue', 'month')];
    for (const name of ['analytics_aggregate_staleness_seconds', 'analytics_stale_tenants', 'analytics_last_refresh_age_seconds']) {
      expect(seriesOf(s, name)).toEqual(keys.map((k) => `${name}${k}`));
    }
    expect(s.get(key('analytics_stale_tenants', 'revenue', 'day'))).toBe(2); // fa, fb
    expect(s.get(key('analytics_stale_tenants', 'revenue', 'month'))).toBe(1); // fa
    expect(s.get(key('analytics_stale_tenants', 'cohorts', 'month'))).toBe(1); // fb
    expectAgeOf(s.get(key('analytics_aggregate_staleness_seconds', 'revenue', 'day')), FA_REVENUE, scraped); // the older of fa's and fb's: ~7200 s
    expectAgeOf(s.get(key('analytics_aggregate_staleness_seconds', 'revenue', 'month')), FA_REVENUE, scraped);
    expectAgeOf(s.get(key('analytics_aggregate_staleness_seconds', 'cohorts', 'month')), FB_COHORTS, scraped); // ~1800 s
    expectAgeOf(s.get(key('analytics_last_refresh_age_seconds', 'revenue', 'day')), FA_REVENUE_DAY, scraped); // ~10800 s
    expectAgeOf(s.get(key('analytics_last_refresh_age_seconds', 'revenue', 'month')), FA_REVENUE_MONTH, scraped); // ~18000 s
    expectAgeOf(s.get(key('analytics_last_refresh_age_seconds', 'cohorts', 'month')), FB_COHORTS_MONTH, scraped); // ~14400 s
    // The per-kind backlog counts every change row, the suspended tenant's included.
    expect(s.get('analytics_pending_changes{kind="revenue"}')).toBe(3);
    expect(s.get('analytics_pending_changes{kind="cohorts"}')).toBe(1);
    expectAgeOf(s.get('analytics_oldest_pending_change_age_seconds{kind="revenue"}'), FS_REVENUE, scraped);
    // The computed_at gauge (a scan of every aggregate table per scrape) is gone; no series carries a tenant.
    expect(seriesOf(s, 'analytics_aggregate_age_seconds')).toEqual([]);
    expect([...s.keys()].filter((k) => /[{,]tenant(_id)?="/.test(k))).toEqual([]);
  });

  it('after an incremental run: nothing stale among active tenants, the watermarks it advanced are seconds old', async () => {
    const started = Date.now();
    const job = await queue.addJob('aggregation', { type: 'all', incremental: true });
    await expect.poll(async () => (await queue.getJob(job.id!))?.getState(), { timeout: 60_000, interval: 100 }).toBe('completed');
    const scraped = await scrape();
    const { s } = scraped;
    // The run refreshed fa (revenue: day, the period type every refresh writes; fa has no stored
    // month row, so its month watermark stays) and fb (revenue: day; cohorts: month).
    const keys = [key('', 'cohorts', 'month'), key('', 'revenue', 'day'), key('', 'revenue', 'month')];
    for (const name of ['analytics_aggregate_staleness_seconds', 'analytics_stale_tenants', 'analytics_last_refresh_age_seconds']) {
      expect(seriesOf(s, name)).toEqual(keys.map((k) => `${name}${k}`));
    }
    for (const k of keys) {
      expect(s.get(`analytics_stale_tenants${k}`)).toBe(0);
      expect(s.get(`analytics_aggregate_staleness_seconds${k}`)).toBe(0);
    }
    for (const [type, periodType] of [['revenue', 'day'], ['cohorts', 'month']]) {
      const age = s.get(key('analytics_last_refresh_age_seconds', type!, periodType!))!;
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThanOrEqual((scraped.after - started) / 1000);
    }
    expectAgeOf(s.get(key('analytics_last_refresh_age_seconds', 'revenue', 'month')), FA_REVENUE_MONTH, scraped);
    const marks = await t.pool.query<{ k: string }>(`SELECT tenant_id || ':' || aggregate_type || ':' || period_type AS k FROM aggregate_freshness ORDER BY 1`);
    expect(marks.rows.map((r) => r.k)).toEqual(['fa:revenue:day', 'fa:revenue:month', 'fb:cohorts:month', 'fb:revenue:day']);
    // Only the suspended tenant's change is left.
    expect(s.get('analytics_pending_changes{kind="revenue"}')).toBe(1);
    expect(s.has('analytics_pending_changes{kind="cohorts"}')).toBe(false);
  });
});
