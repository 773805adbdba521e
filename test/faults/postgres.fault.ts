import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaultWorld, expectRecoveredExactly, recordFigures, runTrial, type FaultWorld } from './helpers/trial';

// Postgres crashes (immediate shutdown) mid-backfill and stays down for 10 s or 60 s. 10 s is
// inside a tenant activity's retry budget (attempts 5 s and 10 s apart); 60 s is not: tenants
// fail for good, the job fails, BullMQ's attempts re-run only the failed tenants, and when the
// job still ends failed it is dead-lettered and `analytics dlq retry` re-runs what failed. Either
// way the trial ends with every aggregate equal to the clean run's.

let world: FaultWorld;

beforeAll(async () => {
  world = await createFaultWorld();
  await world.startWorkers();
});

afterAll(async () => {
  if (!world) return;
  recordFigures('postgres', { trials: world.trials });
  await world.close();
  expect(await world.livePids()).toEqual([]);
});

/** Crash, a deliberate outage of `downMs`, restart; resolves when Postgres is back. */
const outage = (downMs: number) => async (w: FaultWorld) => {
  await w.stack.pg.crash();
  await sleep(downMs);
  await w.stack.pg.start();
  return Date.now();
};

describe('Postgres down 10 s mid-backfill', () => {
  it.each(['early', 'late'] as const)('at moment %s: the tenant activities\' own retries carry the job to completion', async (moment) => {
    const f = await runTrial(world, { fault: 'postgres-down-10s', moment, inject: outage(10_000) });
    expectRecoveredExactly(world, f);
    expect(f.deadLettered).toBe(false);
  });
});

describe('Postgres down 60 s mid-backfill', () => {
  it('with the default 3 job attempts: BullMQ\'s attempts (or the dead-letter retry) re-run the failed tenants; nothing is missing', async () => {
    const f = await runTrial(world, { fault: 'postgres-down-60s', moment: 'early', inject: outage(60_000), retryDeadLetters: true });
    expectRecoveredExactly(world, f);
    // Whether BullMQ's own attempts were enough or the dead-letter retry was needed, one run completed.
    if (f.deadLettered) expect(f.dlqRetried).toBe(true);
    else expect(f.attemptsMade).toBeGreaterThan(1);
  });

  it('with one job attempt: the job fails and is dead-lettered; `analytics dlq retry` re-runs only the failed tenants; nothing is missing', async () => {
    const f = await runTrial(world, { fault: 'postgres-down-60s-dlq', moment: 'late', inject: outage(60_000), retryDeadLetters: true, jobOptions: { attempts: 1 } });
    expect(f.deadLettered).toBe(true);
    expect(f.dlqRetried).toBe(true);
    expectRecoveredExactly(world, f);
    // Only the failed tenants ran again: those committed before the outage were resumed from the ledger.
    const job = (await world.queue.getJob(f.jobId))!;
    // Totals count tasks (tenant x type; `all` is three types).
    const totals = (job.returnvalue as { totals: { resumed: number; succeeded: number; tasks: number; failed: number } }).totals;
    expect(totals.failed).toBe(0);
    expect(totals.resumed).toBeGreaterThanOrEqual(3 * f.tenantsDoneAtFault);
    expect(totals.resumed + totals.succeeded).toBe(totals.tasks);
    expect(totals.succeeded).toBeGreaterThan(0);
  });
});
