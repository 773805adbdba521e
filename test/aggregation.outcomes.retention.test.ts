import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { createTemporalWorker } from '../src/temporal/worker';
import { uniqueSuffix } from './helpers/config';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { org } from './helpers/fixtures';
import { activitiesWith, createTimeSkippingEnv } from './helpers/workflow-env';

// The outcome table (the resume ledger) does not grow with the number of jobs: each run purges
// the rows older than its retention, by the activity clock. 100 ordinary runs of the real
// workflows and activities, one an hour on a fake clock, with a 10-hour retention.

const HOUR_MS = 3_600_000;
const RUNS = 100;
const RETENTION_MS = 10 * HOUR_MS;
const TENANTS = ['r-a', 'r-b', 'r-c'];
const T0 = Date.parse('2026-01-01T00:00:00.000Z');

let env: TestWorkflowEnvironment;
let t: TestDatabase;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `retention-${uniqueSuffix()}`;
/** The activity clock: job k runs (and records and purges) at T0 + k hours. */
let nowMs = T0;

beforeAll(async () => {
  [env, t] = await Promise.all([createTimeSkippingEnv(), createTestDatabase('retain')]);
  for (const id of TENANTS) await org(t.pool, id, 'UTC');
  worker = await createTemporalWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: activitiesWith(t.db, {}, { now: () => new Date(nowMs) }),
  });
  running = worker.run();
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await env?.teardown();
  await t?.drop();
});

describe('aggregation_outcomes retention', () => {
  it('after 100 hourly runs with a 10-hour retention, holds the rows of the last 11 jobs only', { timeout: 300_000 }, async () => {
    // Job k records its rows at T0 + k h and then purges those recorded before T0 + (k − 10) h:
    // jobs k − 10 … k stay, 11 jobs × 3 tenants × 1 type (revenue) = 33 rows at most, ever.
    const bound = 11 * TENANTS.length;
    const jobKeys: string[] = [];
    for (let k = 0; k < RUNS; k++) {
      nowMs = T0 + k * HOUR_MS;
      const handle = await startAggregationWorkflow(
        env.client,
        {
          job: { type: 'revenue', asOf: new Date(nowMs).toISOString() },
          jobId: `hourly-${k}`,
          requestedAt: new Date(nowMs).toISOString(),
          options: { outcomeRetentionMs: RETENTION_MS },
        },
        { taskQueue },
      );
      jobKeys.push(handle.workflowId);
      await handle.result();
      const { rows } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM aggregation_outcomes');
      expect(rows[0]!.n, `after run ${k}`).toBeLessThanOrEqual(bound);
    }
    const { rows } = await t.pool.query<{ job_key: string; n: number }>(
      `SELECT job_key, count(*)::int AS n FROM aggregation_outcomes GROUP BY job_key ORDER BY min(recorded_at)`,
    );
    expect(rows).toEqual(jobKeys.slice(RUNS - 11).map((job_key) => ({ job_key, n: TENANTS.length })));
  });
});
