import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addJob, type AnalyticsQueue } from '../src/queue';
import type { AggregationWorkflowResult } from '../src/contract/aggregation';
import { SCHEDULES } from '../src/scheduler/definitions';
import { createTenantAggregator } from '../src/aggregation/tenant-aggregator';
import { poolOf } from '../src/db/client';
import { waitForState } from './fixtures/queue';
import { startQueuePipeline, type QueuePipeline } from './fixtures/real-workers';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { activity, org, payment, subscription, user } from './helpers/fixtures';
import { expectTenantMatchesOracle, pendingChanges } from './helpers/incremental';
import { createTestRedis } from './helpers/redis';
import { fixedClock, silentLogger } from './helpers/service';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// An incremental aggregation job through the facade, the bridge and the real workflow: only the
// tenants with pending changes run, their aggregates end up equal to the oracle, and an hour
// without changes runs no tenant at all.

const ASOF = '2025-11-10T00:00:00.000Z';
const COHORTS = { from: '2025-10-01', to: '2025-12-01' };

describe('addJob(aggregation, { incremental: true })', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let t: TestDatabase;
  let dir: string;
  let pipeline: QueuePipeline;
  let queue: AnalyticsQueue;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    t = await createTestDatabase('qinc');
    dir = await mkdtemp(join(tmpdir(), 'analytics-incremental-'));
    const q = t.pool;
    for (const [id, zone, status] of [['inc_a', 'UTC', 'active'], ['inc_b', 'America/New_York', 'active'], ['inc_off', 'UTC', 'suspended']] as const) {
      await org(q, id, zone, status);
      await user(q, id, `${id}-u1`, '2025-10-05T08:00:00Z');
      await activity(q, id, `${id}-u1`, '2025-11-03T08:00:00Z');
      await payment(q, id, { id: `${id}-p1`, amountCents: 1000, status: 'succeeded', createdAt: '2025-11-01T10:00:00Z' });
      await subscription(q, id, { id: `${id}-s1`, amountCents: 2000, interval: 'month', startedAt: '2025-10-01T00:00:00Z' });
    }
    const full = createTenantAggregator({ pool: poolOf(t.db), clock: fixedClock(ASOF), logger: silentLogger });
    for (const id of ['inc_a', 'inc_b']) {
      await full.aggregateTenant({ tenantId: id, job: { type: 'all', periodType: 'day', periodStart: '2025-11-01', periodEnd: '2025-11-10', asOf: ASOF }, asOf: ASOF });
    }
    pipeline = await startQueuePipeline(temporal, { db: t.db, databaseUrl: t.url, queueName: redis.queueName, dir });
    queue = pipeline.queue;
  });

  afterAll(async () => {
    await pipeline.stop();
    await t.drop();
    await temporal.close();
    await redis.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const run = async () => {
    const job = await addJob('aggregation', SCHEDULES.find((s) => s.id === 'hourly-aggregation')!.job(new Date(ASOF)) as { type: 'all' });
    const done = await waitForState(queue, job.id!, 'completed', 90_000);
    return done.returnvalue as AggregationWorkflowResult;
  };

  it('the hourly job folds in the pending changes of the active tenants only, then nothing', async () => {
    expect(SCHEDULES.find((s) => s.id === 'hourly-aggregation')!.job(new Date(ASOF))).toEqual({ type: 'all', incremental: true, asOf: ASOF });
    const first = await run();
    expect(first.totals).toMatchObject({ tenants: 2, failed: 0 });
    for (const id of ['inc_a', 'inc_b']) {
      expect(await pendingChanges(t.pool, id)).toBe(0);
      await expectTenantMatchesOracle(t.pool, id, ASOF, COHORTS);
    }
    expect(await pendingChanges(t.pool, 'inc_off')).toBeGreaterThan(0); // kept until the tenant is active again

    // A late refund for an old day of one tenant: only that tenant runs.
    await t.pool.query(`INSERT INTO refunds (id, tenant_id, payment_id, amount_cents, created_at) VALUES ('r-late', 'inc_b', 'inc_b-p1', 400, '2025-11-02T03:00:00Z')`);
    const second = await run();
    expect(second.totals).toMatchObject({ tenants: 1, failed: 0 });
    await expectTenantMatchesOracle(t.pool, 'inc_b', ASOF, COHORTS);

    const idle = await run();
    expect(idle.totals).toMatchObject({ tenants: 0, tasks: 0, failed: 0 });
  });

  it('refuses a range with incremental: true, naming the field', async () => {
    await expect(addJob('aggregation', { type: 'all', incremental: true, periodStart: '2025-11-01' })).rejects.toThrow(/periodStart/);
  });
});
