import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaultWorld, expectRecoveredExactly, recordFigures, runTrial, type FaultWorld, type Moment } from './helpers/trial';

// kill -9 of the workers, a Redis shutdown and restart from its append-only file, and kill -9 of
// the Temporal server with a restart on its SQLite file, each at three moments of a 20-tenant,
// one-year daily `all` backfill. After each: the job completed, as one workflow id with one
// completed run and no two runs open at once, every aggregate equal to the clean run's, and no
// row written by an attempt older than the one the ledger names.

let world: FaultWorld;

beforeAll(async () => {
  world = await createFaultWorld();
  await world.startWorkers();
});

afterAll(async () => {
  if (!world) return;
  recordFigures('processes', { trials: world.trials });
  await world.close();
  expect(await world.livePids()).toEqual([]);
});

const MOMENTS: Moment[] = ['start', 'early', 'late'];

describe('kill -9 of the workers mid-backfill', () => {
  it.each(MOMENTS)('at moment %s: a new worker process finishes the job exactly', async (moment) => {
    const f = await runTrial(world, {
      fault: 'workers-kill9',
      moment,
      async inject(w) {
        await w.workers!.kill9();
        await w.startWorkers();
        return Date.now();
      },
    });
    expectRecoveredExactly(world, f);
  });
});

describe('Redis shut down and restarted from its append-only file mid-backfill', () => {
  it.each(MOMENTS)('at moment %s: the job survives in Redis and completes exactly', async (moment) => {
    const f = await runTrial(world, {
      fault: 'redis-restart',
      moment,
      async inject(w) {
        await w.stack.redis.shutdown();
        await w.stack.redis.start();
        return Date.now();
      },
    });
    expectRecoveredExactly(world, f);
  });
});

describe('kill -9 of the Temporal server, restarted on its database file, mid-backfill', () => {
  it.each(MOMENTS)('at moment %s: the workflow resumes from its history and completes exactly', async (moment) => {
    const f = await runTrial(world, {
      fault: 'temporal-kill9',
      moment,
      async inject(w) {
        await w.stack.temporal.kill9();
        await w.stack.temporal.start();
        return Date.now();
      },
    });
    expectRecoveredExactly(world, f);
  });
});
