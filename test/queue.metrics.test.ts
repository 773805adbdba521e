import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsQueue, BridgeWorker, QueueMetrics } from '../src/queue';
import { bundleFixtureWorkflows, createTestQueue, runFixtureWorker, waitFor, waitForState, type RunningWorker } from './fixtures/queue';
import { createTestRedis } from './helpers/redis';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// getQueueMetrics and cleanQueue against jobs driven into each state for real: held workflows
// keep jobs active, delays keep them delayed, a pause parks them, bad input fails them.

describe('getQueueMetrics and cleanQueue', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let bundle: WorkflowBundleWithSourceMap;
  let temporalWorker: RunningWorker;
  let queue: AnalyticsQueue;
  let bridge: BridgeWorker | undefined;

  const step = (job: Job) => temporal.client.workflow.getHandle(`aggregation/${redis.queueName}:${job.id}`).signal('step');
  const finish = async (job: Job) => {
    await waitFor('the workflow', () => temporal.client.workflow.getHandle(`aggregation/${redis.queueName}:${job.id}`).describe());
    for (let i = 0; i < 3; i++) await step(job);
  };

  /** The states of these jobs as BullMQ reports them one by one: the oracle the counts must match. */
  async function tally(jobs: Job[]): Promise<QueueMetrics> {
    const t: QueueMetrics = { waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0, paused: 0 };
    const paused = await queue.queue.isPaused();
    for (const j of jobs) {
      const state = await queue.queue.getJobState(j.id!);
      if (state === 'waiting' || state === 'prioritized') t[paused ? 'paused' : 'waiting'] += 1;
      else if (state in t) t[state as keyof QueueMetrics] += 1;
      else throw new Error(`job ${j.id} is ${state}`);
    }
    return t;
  }

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    bundle = await bundleFixtureWorkflows();
    temporalWorker = await runFixtureWorker(temporal, bundle, { checkCause: async () => 'fixed' });
    queue = await createTestQueue(redis.queueName, temporal).ready();
  });

  afterAll(async () => {
    await queue.close();
    await temporalWorker.stop();
    await temporal.close();
    await redis.cleanup();
  });

  it('match reality through waiting, paused, active, completed, failed and delayed', async () => {
    const a = await queue.addJob('aggregation', { tenantId: 'step-a', type: 'revenue' });
    const b = await queue.addJob('aggregation', { tenantId: 'step-b', type: 'revenue' });
    const c = await queue.addJob('aggregation', { tenantId: 'org_c', type: 'revenue' });
    const d = await queue.addJob('aggregation', { tenantId: 'bad-d', type: 'revenue' });
    const e = await queue.addJob('aggregation', { tenantId: 'org_e', type: 'revenue' }, { delay: 3_600_000 });
    const f = await queue.addJob('aggregation', { tenantId: 'org_f', type: 'revenue' }, { priority: 1 });
    const all = [a, b, c, d, e, f];

    // No bridge yet: five ready (one of them prioritized), one delayed.
    let expected: QueueMetrics = { waiting: 5, active: 0, completed: 0, failed: 0, delayed: 1, paused: 0 };
    expect(await queue.getQueueMetrics()).toEqual(expected);
    expect(await tally(all)).toEqual(expected);

    await queue.queue.pause();
    expected = { waiting: 0, active: 0, completed: 0, failed: 0, delayed: 1, paused: 5 };
    expect(await queue.getQueueMetrics()).toEqual(expected);
    expect(await tally(all)).toEqual(expected);
    await queue.queue.resume();

    // The bridge takes the five: two held by their workflows, two complete, one fails for good.
    bridge = await queue.createWorker();
    await Promise.all([waitForState(queue, a.id!, 'active'), waitForState(queue, b.id!, 'active'), waitForState(queue, c.id!, 'completed'), waitForState(queue, f.id!, 'completed'), waitForState(queue, d.id!, 'failed')]);
    expected = { waiting: 0, active: 2, completed: 2, failed: 1, delayed: 1, paused: 0 };
    expect(await queue.getQueueMetrics()).toEqual(expected);
    expect(await tally(all)).toEqual(expected);

    await finish(a);
    await waitForState(queue, a.id!, 'completed');
    expected = { waiting: 0, active: 1, completed: 3, failed: 1, delayed: 1, paused: 0 };
    expect(await queue.getQueueMetrics()).toEqual(expected);

    await (await queue.getJob(e.id!))!.promote();
    await waitForState(queue, e.id!, 'completed');
    await finish(b);
    await waitForState(queue, b.id!, 'completed');
    expected = { waiting: 0, active: 0, completed: 5, failed: 1, delayed: 0, paused: 0 };
    expect(await queue.getQueueMetrics()).toEqual(expected);
    expect(await tally(all)).toEqual(expected);
  });

  it('cleanQueue(graceMs) removes the completed and failed jobs that finished before the grace period, and nothing else', async () => {
    await queue.queue.obliterate({ force: true });
    await queue.deadLetters.queue.obliterate({ force: true });
    bridge ??= await queue.createWorker();
    const oldDone = await queue.addJob('aggregation', { tenantId: 'org_old', type: 'all' });
    const oldFailed = await queue.addJob('aggregation', { tenantId: 'bad-old', type: 'all' });
    await waitForState(queue, oldDone.id!, 'completed');
    await waitForState(queue, oldFailed.id!, 'failed');
    const oldFinishedBy = Date.now();
    await new Promise((r) => setTimeout(r, 200));
    const newFinishedFrom = Date.now();
    const newDone = await queue.addJob('aggregation', { tenantId: 'org_new', type: 'all' });
    const newFailed = await queue.addJob('aggregation', { tenantId: 'bad-new', type: 'all' });
    const active = await queue.addJob('aggregation', { tenantId: 'step-active', type: 'all' });
    await waitForState(queue, newDone.id!, 'completed');
    await waitForState(queue, newFailed.id!, 'failed');
    await waitForState(queue, active.id!, 'active');
    // Parked: no bridge takes new jobs while the queue is paused.
    await queue.queue.pause();
    const waiting = await queue.addJob('aggregation', { tenantId: 'org_waiting', type: 'all' });
    const delayed = await queue.addJob('aggregation', { tenantId: 'org_delayed', type: 'all' }, { delay: 3_600_000 });
    await waitFor('both failures dead-lettered', async () => (await queue.deadLetters.count()) === 2);
    expect((await queue.getJob(oldDone.id!))!.finishedOn).toBeLessThan(oldFinishedBy);
    expect((await queue.getJob(newDone.id!))!.finishedOn).toBeGreaterThanOrEqual(newFinishedFrom);

    // A grace period that ends halfway between the two batches, however long the run took.
    const graceMs = Date.now() - (oldFinishedBy + newFinishedFrom) / 2;
    const cleaned = await queue.cleanQueue(graceMs);
    expect(cleaned).toEqual({ completed: [oldDone.id], failed: [oldFailed.id] });

    expect(await queue.getJob(oldDone.id!)).toBeUndefined();
    expect(await queue.getJob(oldFailed.id!)).toBeUndefined();
    const states = await Promise.all([newDone, newFailed, active, waiting, delayed].map((j) => queue.queue.getJobState(j.id!)));
    expect(states).toEqual(['completed', 'failed', 'active', 'waiting', 'delayed']);
    expect(await queue.getQueueMetrics()).toEqual({ waiting: 0, active: 1, completed: 1, failed: 1, delayed: 1, paused: 1 });
    // The dead-letter queue is not the queue's to clean.
    expect((await queue.listDeadLetters()).map((e) => e.jobId).sort()).toEqual([oldFailed.id, newFailed.id].sort());

    await queue.queue.resume();
    await finish(active);
    await waitForState(queue, active.id!, 'completed');
  });
});
