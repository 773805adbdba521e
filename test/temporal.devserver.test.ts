import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type Clock } from '../src/activities';
import { createLogger } from '../src/logger';
import { createTemporalWorker } from '../src/temporal/worker';
import { pingWorkflow } from '../src/workflows/ping';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

describe('a workflow with an activity on the Temporal dev server', () => {
  let temporal: TestTemporal;
  let t: TestDatabase;
  let worker: Worker;
  let running: Promise<void>;
  const fixedClock: Clock = { now: () => new Date('2026-01-02T03:04:05.000Z') };

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    t = await createTestDatabase('ping');
    worker = await createTemporalWorker({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      activities: createActivities({ db: t.db, clock: fixedClock, logger: createLogger('silent') }),
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker.shutdown();
    await running;
    await t.drop();
    await temporal.close();
  });

  it('runs pingWorkflow: the activity reaches Postgres and the history records it', async () => {
    const before = Date.now();
    const handle = await temporal.client.workflow.start(pingWorkflow, { taskQueue: temporal.taskQueue, workflowId: `ping-${temporal.taskQueue}` });
    const result = await handle.result();
    expect(result.workerTime).toBe('2026-01-02T03:04:05.000Z');
    const dbTime = Date.parse(result.databaseTime);
    expect(dbTime).toBeGreaterThanOrEqual(before - 5_000);
    expect(dbTime).toBeLessThanOrEqual(Date.now() + 5_000);
    const history = await handle.fetchHistory();
    const types = (history.events ?? []).map((e) => e.eventType);
    const { temporal: proto } = await import('@temporalio/proto');
    expect(types).toContain(proto.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });
});
