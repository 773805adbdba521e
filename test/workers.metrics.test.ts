import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AnalyticsQueue } from '../src/queue';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { startWorkersSubprocess, type WorkersSubprocess } from './helpers/workers';
import { org, payment } from './helpers/fixtures';

// `analytics workers` as a real subprocess with its metrics endpoint on a port of the test's own:
// two jobs run through Redis, Temporal and Postgres, then /metrics is scraped and every named
// series is checked against what the test knows ran (tenants, days, the one bad tenant).

let t: TestDatabase;
let w: WorkersSubprocess | undefined;
let queue: AnalyticsQueue;
let base: string;
const startedAt = Date.now();

const GOOD = ['tenant-m1', 'tenant-m2', 'tenant-m3'];

beforeAll(async () => {
  t = await createTestDatabase('metrics');
  for (const id of GOOD) await org(t.pool, id, 'UTC');
  await org(t.pool, 'tenant-mars', 'Mars/Olympus_Mons'); // no such timezone: fails for good, never retried
  await payment(t.pool, 'tenant-m1', { id: 'pm1', amountCents: 1_250, status: 'succeeded', createdAt: '2025-04-01T10:00:00Z' });
  w = await startWorkersSubprocess(t.url, inject('temporalAddress'));
  ({ base, queue } = w);
});

afterAll(async () => {
  await w?.stop();
  await t?.drop();
});

/** Every sample of the exposition as `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([^\s{]+(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('the workers process metrics endpoint', () => {
  it('prints its URL at start and is ready once the Temporal workers run and the bridge is connected', async () => {
    expect(w!.output().stdout).toContain(`Metrics      ${base}/metrics`);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: { name: string; ok: boolean }[] };
    expect(body.status).toBe('ok');
    expect(body.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['temporal-worker-1', 'temporal-worker-2', 'bridge']));
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('serves the counts of what ran, the queue, the freshness of the aggregates and the Temporal SDK series', async () => {
    // Job 1: revenue for two days over every active tenant; the Mars tenant fails, so the job fails.
    const failing = await queue.addJob('aggregation', { type: 'revenue', periodType: 'day', periodStart: '2025-04-01', periodEnd: '2025-04-03' });
    await expect.poll(async () => (await queue.getJob(failing.id!))?.getState(), { timeout: 30_000, interval: 100 }).toBe('failed');
    // Job 2: one tenant, one day: completes.
    const ok = await queue.addJob('aggregation', { type: 'revenue', periodType: 'day', periodStart: '2025-04-01', tenantId: 'tenant-m1' });
    await expect.poll(async () => (await queue.getJob(ok.id!))?.getState(), { timeout: 30_000, interval: 100 }).toBe('completed');

    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const s = samples(text);

    // 3 good tenants in job 1 and 1 in job 2; the bad tenant once, for good (InvalidInputError is not retried).
    expect(s.get('analytics_tenants_aggregated_total{type="revenue"}')).toBe(GOOD.length + 1);
    expect(s.get('analytics_tenants_failed_total{type="revenue",error_type="InvalidInputError"}')).toBe(1);
    expect(s.get('analytics_tenant_attempts_failed_total{type="revenue",error_type="InvalidInputError"}')).toBe(1);
    // A backfill writes one row per tenant per day, empty days included: 3 x 2 + 1 x 1.
    expect(s.get('analytics_rows_written_total{type="revenue"}')).toBe(GOOD.length * 2 + 1);
    const stored = await t.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM revenue_aggregates WHERE period_type = 'day'`);
    expect(stored.rows[0]!.n).toBe(GOOD.length * 2); // job 2 rewrote a row job 1 had written
    expect(s.get('analytics_tenant_duration_seconds_count{outcome="succeeded"}')).toBe(GOOD.length + 1);
    expect(s.get('analytics_tenant_duration_seconds_count{outcome="failed"}')).toBe(1);

    // One run of each outcome, as long as the test waited for it at most.
    expect(s.get('analytics_run_duration_seconds_count{job="aggregation",outcome="failed"}')).toBe(1);
    expect(s.get('analytics_run_duration_seconds_count{job="aggregation",outcome="completed"}')).toBe(1);
    expect(s.get('analytics_run_duration_seconds_sum{job="aggregation",outcome="completed"}')).toBeLessThan((Date.now() - startedAt) / 1000);

    const q = queue.name;
    expect(s.get(`analytics_queue_jobs{queue="${q}",state="failed"}`)).toBe(1);
    expect(s.get(`analytics_queue_jobs{queue="${q}",state="completed"}`)).toBe(1);
    expect(s.get(`analytics_queue_jobs{queue="${q}",state="waiting"}`)).toBe(0);
    expect(s.get(`analytics_queue_jobs{queue="${q}",state="active"}`)).toBe(0);
    expect(s.get(`analytics_queue_jobs{queue="${q}",state="delayed"}`)).toBe(0);

    // Age of the newest aggregate: the revenue day rows this process computed during this test
    // (noted at once, no scan needed); no other type has rows.
    const age = s.get('analytics_aggregate_age_seconds{type="revenue",period_type="day"}');
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThanOrEqual((Date.now() - startedAt) / 1000);
    expect([...s.keys()].filter((k) => k.startsWith('analytics_aggregate_age_seconds'))).toHaveLength(1);

    // Freshness (from the incremental watermarks; test/workers.freshness.test.ts has the rest):
    // no incremental run yet, so no watermark; the one payment's change, written during this
    // test, leaves tenant-m1's revenue days stale (a full recompute does not consume changes).
    expect(s.get('analytics_stale_tenants{type="revenue",period_type="day"}')).toBe(1);
    const staleness = s.get('analytics_aggregate_staleness_seconds{type="revenue",period_type="day"}');
    expect(staleness).toBeGreaterThanOrEqual(0);
    expect(staleness).toBeLessThanOrEqual((Date.now() - startedAt) / 1000);
    expect([...s.keys()].filter((k) => k.startsWith('analytics_aggregate_staleness_seconds'))).toHaveLength(1);
    expect([...s.keys()].filter((k) => k.startsWith('analytics_last_refresh_age_seconds'))).toEqual([]);

    // Incremental refresh: the raw rows this file wrote were captured as changes no incremental
    // run has folded in; the gauges count them per kind, as the table holds them.
    const pending = await t.pool.query<{ kind: string; n: number }>(`SELECT aggregate_type AS kind, count(*)::int AS n FROM aggregate_changes GROUP BY 1 ORDER BY 1`);
    expect(pending.rows.length).toBeGreaterThan(0);
    for (const { kind, n } of pending.rows) {
      expect(s.get(`analytics_pending_changes{kind="${kind}"}`)).toBe(n);
      const oldest = s.get(`analytics_oldest_pending_change_age_seconds{kind="${kind}"}`)!;
      expect(oldest).toBeGreaterThanOrEqual(0);
      expect(oldest).toBeLessThanOrEqual((Date.now() - startedAt) / 1000);
    }

    // The Temporal SDK's own series, from its runtime exporter, in the same answer.
    expect(s.get('analytics_temporal_sdk_metrics_up')).toBe(1);
    expect([...s.keys()].some((k) => k.startsWith(`temporal_workflow_completed{`) && k.includes(`task_queue="tq-`))).toBe(true);
    expect([...s.keys()].some((k) => k.startsWith('temporal_'))).toBe(true);
    // Node's process series.
    expect(s.get('process_start_time_seconds')).toBeGreaterThan(0);
  });

  it('stops on SIGTERM with exit 0, and the endpoint goes with it', async () => {
    const exited = new Promise<number | null>((resolve) => w!.child.once('exit', (code) => resolve(code)));
    w!.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
