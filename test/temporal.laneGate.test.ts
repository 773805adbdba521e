import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createLaneGate } from '../src/temporal/lane-gate';

// The lane gate over fake activity contexts: backfill activities run freely while nothing else
// runs, and at most `yieldSlots` at once while another job's tenant activity runs.

const gate = () => createLaneGate({ isBulk: (q) => q.endsWith('-bulk'), yieldSlots: 2, quietMs: 50 });

function call(factory: ReturnType<typeof gate>, taskQueue: string, work: () => Promise<void>): Promise<unknown> {
  const ctx = { info: { activityType: 'aggregateTenant', taskQueue } } as unknown as Context;
  const interceptor = factory(ctx).inbound!;
  return interceptor.execute!({} as ActivityExecuteInput, async () => work());
}

/** A piece of work that ends when told, recording how many ran at once. */
function probe() {
  let running = 0;
  let peak = 0;
  const releases: (() => void)[] = [];
  const work = () =>
    new Promise<void>((resolve) => {
      running += 1;
      peak = Math.max(peak, running);
      releases.push(() => {
        running -= 1;
        resolve();
      });
    });
  return { work, releaseAll: () => releases.splice(0).forEach((r) => r()), started: () => releases.length, peak: () => peak, running: () => running };
}

describe('lane gate', () => {
  it('lets every backfill activity run when nothing else runs', async () => {
    const g = gate();
    const bulk = probe();
    const calls = Array.from({ length: 6 }, () => call(g, 'tq-bulk', bulk.work));
    await expect.poll(bulk.started).toBe(6);
    bulk.releaseAll();
    await Promise.all(calls);
    expect(bulk.peak()).toBe(6);
  });

  it('holds backfills to 2 at once while another job runs, and frees them when it is over', async () => {
    const g = gate();
    const other = probe();
    const bulk = probe();
    const hourly = call(g, 'tq', other.work);
    await expect.poll(other.started).toBe(1);
    const calls = Array.from({ length: 6 }, () => call(g, 'tq-bulk', bulk.work));
    await expect.poll(bulk.started).toBe(2);
    // Still two while the other job runs, however long.
    await new Promise((r) => setTimeout(r, 100));
    expect(bulk.started()).toBe(2);
    other.releaseAll();
    await hourly;
    // After the quiet period the remaining four start.
    await expect.poll(bulk.started, { timeout: 2_000 }).toBe(6);
    expect(bulk.running()).toBe(6);
    bulk.releaseAll();
    await Promise.all(calls);
  });

  it('by default starts no backfill while another job runs, and lets the running ones finish', async () => {
    const g = createLaneGate({ isBulk: (q) => q.endsWith('-bulk'), quietMs: 50, maxYieldMs: 60_000 });
    const other = probe();
    const bulk = probe();
    const early = [call(g, 'tq-bulk', bulk.work)];
    await expect.poll(bulk.started).toBe(1);
    const hourly = call(g, 'tq', other.work);
    await expect.poll(other.started).toBe(1);
    const late = Array.from({ length: 3 }, () => call(g, 'tq-bulk', bulk.work));
    await new Promise((r) => setTimeout(r, 100));
    // The one that was running keeps running; none of the three later ones has started.
    expect(bulk.started()).toBe(1);
    expect(bulk.running()).toBe(1);
    other.releaseAll();
    await hourly;
    await expect.poll(bulk.started, { timeout: 2_000 }).toBe(4);
    bulk.releaseAll();
    await Promise.all([...early, ...late]);
  });

  it('starts an overdue backfill anyway, one at a time, while other jobs keep running', async () => {
    const g = createLaneGate({ isBulk: (q) => q.endsWith('-bulk'), yieldSlots: 0, quietMs: 50, maxYieldMs: 150 });
    const other = probe();
    const bulk = probe();
    const hourly = call(g, 'tq', other.work);
    await expect.poll(other.started).toBe(1);
    const waitedFrom = Date.now();
    const calls = Array.from({ length: 3 }, () => call(g, 'tq-bulk', bulk.work));
    await expect.poll(bulk.started, { timeout: 2_000 }).toBe(1);
    expect(Date.now() - waitedFrom).toBeGreaterThanOrEqual(140);
    // Only one at a time while the other job still runs, however overdue the rest are.
    await new Promise((r) => setTimeout(r, 300));
    expect(bulk.running()).toBe(1);
    other.releaseAll();
    await hourly;
    await expect.poll(bulk.started, { timeout: 2_000 }).toBe(3);
    bulk.releaseAll();
    await Promise.all(calls);
  });

  it("counts another job's planning activities as running, not only its tenant activities", async () => {
    const g = createLaneGate({ isBulk: (q) => q.endsWith('-bulk'), quietMs: 50, maxYieldMs: 60_000 });
    const planning = probe();
    const bulk = probe();
    const ctx = { info: { activityType: 'planJob', taskQueue: 'tq' } } as unknown as Context;
    const plan = g(ctx).inbound!.execute!({} as ActivityExecuteInput, async () => planning.work());
    await expect.poll(planning.started).toBe(1);
    const calls = Array.from({ length: 2 }, () => call(g, 'tq-bulk', bulk.work));
    await new Promise((r) => setTimeout(r, 100));
    expect(bulk.started()).toBe(0);
    planning.releaseAll();
    await plan;
    await expect.poll(bulk.started, { timeout: 2_000 }).toBe(2);
    bulk.releaseAll();
    await Promise.all(calls);
  });

  it('does not gate other activity types', async () => {
    const g = createLaneGate({ isBulk: () => true, yieldSlots: 1 });
    const ctx = { info: { activityType: 'planJob', taskQueue: 'tq-bulk' } } as unknown as Context;
    await expect(g(ctx).inbound!.execute!({} as ActivityExecuteInput, async () => 'ran')).resolves.toBe('ran');
  });
});
