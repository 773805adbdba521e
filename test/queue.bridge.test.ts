import { WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsQueue, BridgeWorker } from '../src/queue';
import { bundleFixtureWorkflows, createTestQueue, runFixtureWorker, waitFor, waitForState, type RunningWorker } from './fixtures/queue';
import type { FixtureResult } from './fixtures/workflows/bridge';
import { runCli } from './helpers/cli';
import { createTestRedis } from './helpers/redis';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

// The bridge's mechanics against real Redis and the Temporal dev server, with stand-in workflows
// the test can steer (test/fixtures/workflows/bridge.ts).

describe('bridge worker: each job runs as its Temporal workflow', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let bundle: WorkflowBundleWithSourceMap;
  let temporalWorker: RunningWorker;
  let queue: AnalyticsQueue;
  let bridge: BridgeWorker;

  const workflow = (jobId: string, queueName = redis.queueName) => temporal.client.workflow.getHandle(`aggregation/${queueName}:${jobId}`);
  const step = (jobId: string) => workflow(jobId).signal('step');

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    bundle = await bundleFixtureWorkflows();
    temporalWorker = await runFixtureWorker(temporal, bundle, { checkCause: async () => 'fixed' });
    queue = await createTestQueue(redis.queueName, temporal).ready();
    bridge = await queue.createWorker();
  });

  afterAll(async () => {
    await queue.close();
    await temporalWorker.stop();
    await temporal.close();
    await redis.cleanup();
  });

  it('runs the job as workflow aggregation/<queue>:<jobId>, mirrors its progress into the job, and completes with its result', async () => {
    const data = { tenantId: 'step-progress', type: 'revenue' as const, periodStart: '2025-11-01', periodEnd: '2025-11-06', periodType: 'day' as const };
    const job = await queue.addJob('aggregation', data);
    const jobId = job.id!;
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);

    await waitFor('the progress of step 0', async () => {
      const j = await queue.getJob(jobId);
      return JSON.stringify(j?.progress) === JSON.stringify({ total: 3, done: 0, failed: 0, currentPeriod: 'step 1 of 3' });
    });
    expect(await (await queue.getJob(jobId))!.getState()).toBe('active');
    const description = await workflow(jobId).describe();
    expect(description.type).toBe('aggregationWorkflow');
    expect(description.taskQueue).toBe(temporal.taskQueue);
    expect(description.status.name).toBe('RUNNING');

    await step(jobId);
    await waitFor('the progress of step 1', async () => {
      const j = await queue.getJob(jobId);
      return (j?.progress as { done?: number } | undefined)?.done === 1;
    });
    await step(jobId);
    await step(jobId);

    const finished = await waitForState(queue, jobId, 'completed');
    const result = finished.returnvalue as FixtureResult;
    expect(result).toEqual({
      workflowId: `aggregation/${redis.queueName}:${jobId}`,
      jobId,
      requestedAt: new Date(job.timestamp).toISOString(),
      echo: data,
      steps: 3,
    });
    expect(finished.progress).toEqual({ total: 3, done: 3, failed: 0, currentPeriod: null });
    const { logs } = await queue.queue.getJobLogs(jobId);
    expect(logs[0]).toBe(`following workflow aggregation/${redis.queueName}:${jobId} (run ${description.runId}), attempt 1`);
    expect(logs).toContain('progress: 0/3 settled (0 done, 0 failed); now step 1 of 3');
    expect(logs).toContain('progress: 1/3 settled (1 done, 0 failed); now step 2 of 3');
    expect(logs).toContain('progress: 3/3 settled (3 done, 0 failed)');
    expect(logs[logs.length - 1]).toBe(`workflow aggregation/${redis.queueName}:${jobId} completed`);
    expect(finished.attemptsMade).toBe(1);
  });

  it('the same jobId added twice is one job and one workflow run, even after the job is gone from Redis', async () => {
    const jobId = `dup-${redis.queueName}`;
    const data = { tenantId: 'step-dup', type: 'all' as const };
    const first = await queue.addJob('aggregation', data, { jobId });
    await waitForState(queue, jobId, 'active');
    const second = await queue.addJob('aggregation', { type: 'revenue' }, { jobId });
    expect(second.id).toBe(first.id);
    // BullMQ kept the first job's payload; the second add changed nothing.
    expect((await queue.getJob(jobId))!.data).toEqual(data);
    const { runId } = await waitFor('the workflow', () => workflow(jobId).describe());
    for (let i = 0; i < 3; i++) await step(jobId);
    const done = await waitForState(queue, jobId, 'completed');
    expect((await queue.getQueueMetrics()).completed).toBeGreaterThanOrEqual(1);

    // The job leaves Redis (as removeOnComplete does after 24 h); the id comes back: the bridge
    // attaches to the completed run and returns its result instead of running it again.
    await done.remove();
    await queue.addJob('aggregation', data, { jobId });
    const again = await waitForState(queue, jobId, 'completed');
    expect(again.returnvalue).toEqual(done.returnvalue);
    const latest = await workflow(jobId).describe();
    expect(latest.runId).toBe(runId);
    expect(latest.status.name).toBe('COMPLETED');
  });

  it('a workflow that fails for good fails the job once, with the workflow error, despite attempts left', async () => {
    const job = await queue.addJob('aggregation', { tenantId: 'bad-tenant', type: 'revenue' }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } });
    const failed = await waitForState(queue, job.id!, 'failed');
    expect(failed.failedReason).toBe(`workflow aggregation/${redis.queueName}:${job.id} failed: InvalidInputError: tenantId: fixture tenant bad-tenant is bad input`);
    expect(failed.attemptsMade).toBe(1);
  });

  it('a payload that reaches the queue without addJob fails once, without retries, with the message addJob gives', async () => {
    const bad = { type: 'revenu', tenantId: 'org_1', color: 'blue' };
    const rejected = await queue.addJob('aggregation', bad as never).catch((err: Error) => err);
    expect(rejected).toBeInstanceOf(Error);
    expect((rejected as Error).message).toBe(
      'invalid "aggregation" job: type: must be one of revenue, cohorts, tournaments, all (got "revenu"); color: unknown field (got "blue")',
    );
    // Around the facade, straight into BullMQ, with retries allowed.
    const raw = await queue.queue.add('aggregation', bad, { jobId: `raw-${redis.queueName}`, attempts: 3 });
    const failed = await waitForState(queue, raw.id!, 'failed');
    expect(failed.failedReason).toBe((rejected as Error).message);
    expect(failed.attemptsMade).toBe(1);
    await expect(workflow(raw.id!).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('cancelling an active job cancels its workflow; the job fails as cancelled and is not retried or dead-lettered', async () => {
    const job = await queue.addJob('aggregation', { tenantId: 'step-cancel', type: 'revenue' }, { attempts: 3 });
    await waitForState(queue, job.id!, 'active');
    await waitFor('the workflow', () => workflow(job.id!).describe());
    const r = await queue.cancelJob(job.id!);
    expect(r).toEqual({ jobId: job.id, state: 'active', removed: false, workflowCancelled: true });
    const failed = await waitForState(queue, job.id!, 'failed');
    expect(failed.failedReason).toBe(`cancelled: job ${job.id} (workflow aggregation/${redis.queueName}:${job.id}): the workflow was cancelled`);
    expect(failed.attemptsMade).toBe(1);
    expect((await workflow(job.id!).describe()).status.name).toBe('CANCELLED');
    await queue.deadLetters.sweep();
    expect(await queue.deadLetters.get(job.id!)).toBeUndefined();
  });

  it("BullMQ's own worker.cancelJob cancels the workflow too", async () => {
    const job = await queue.addJob('aggregation', { tenantId: 'step-abort', type: 'cohorts' });
    await waitForState(queue, job.id!, 'active');
    await waitFor('the workflow', () => workflow(job.id!).describe());
    expect(bridge.worker.cancelJob(job.id!, 'operator said so')).toBe(true);
    const failed = await waitForState(queue, job.id!, 'failed');
    expect(failed.failedReason).toBe(`cancelled: job ${job.id} (workflow aggregation/${redis.queueName}:${job.id}): cancelled through the worker (operator said so)`);
    expect((await workflow(job.id!).describe()).status.name).toBe('CANCELLED');
  });

  it('cancelling a job that has not started removes it, and no workflow is ever started', async () => {
    const job = await queue.addJob('aggregation', { tenantId: 'org_9', type: 'revenue' }, { delay: 3_600_000 });
    const r = await queue.cancelJob(job.id!);
    expect(r).toEqual({ jobId: job.id, state: 'delayed', removed: true, workflowCancelled: false });
    expect(await queue.getJob(job.id!)).toBeUndefined();
    await expect(workflow(job.id!).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('a job removed from Redis behind the bridge\'s back (obliterate) has its workflow cancelled', async () => {
    const other = await createTestQueue(`${redis.queueName}-obliterated`, temporal).ready();
    try {
      await other.createWorker();
      const job = await other.addJob('aggregation', { tenantId: 'step-obliterate', type: 'revenue' });
      await waitForState(other, job.id!, 'active');
      await waitFor('the workflow', () => workflow(job.id!, other.name).describe());
      await other.queue.obliterate({ force: true });
      await waitFor('the workflow to be cancelled', async () => (await workflow(job.id!, other.name).describe()).status.name === 'CANCELLED');
    } finally {
      await other.close();
    }
  });

  it('runs 5 jobs at a time (and 2 more that are not backfills) and starts at most 10 a second by default, all configurable', async () => {
    expect(bridge.worker.concurrency).toBe(5 + 2);
    expect(bridge.worker.opts.limiter).toEqual({ max: 10, duration: 1000 });
    const tuned = await queue.createWorker({ concurrency: 2, reservedSlots: 1, limiter: { max: 3, durationMs: 500 } });
    try {
      expect(tuned.worker.concurrency).toBe(2 + 1);
      expect(tuned.worker.opts.limiter).toEqual({ max: 3, duration: 500 });
    } finally {
      await tuned.close();
    }
  });

  it('`analytics job show` and `analytics job cancel` work on the same jobs', async () => {
    const job = await queue.addJob('aggregation', { tenantId: 'step-cli', type: 'revenue' });
    await waitForState(queue, job.id!, 'active');
    await waitFor('progress mirrored', async () => (await queue.getJob(job.id!))?.progress !== 0);
    const env = { TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace };
    const shown = await runCli(['job', 'show', job.id!, '--queue', redis.queueName, '--json'], { env });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      jobId: job.id,
      name: 'aggregation',
      state: 'active',
      data: { tenantId: 'step-cli', type: 'revenue' },
      progress: { total: 3, done: 0, failed: 0 },
      logs: [expect.stringMatching(new RegExp(`^following workflow aggregation/${redis.queueName}:${job.id} `)), 'progress: 0/3 settled (0 done, 0 failed); now step 1 of 3'],
    });
    const cancelled = await runCli(['job', 'cancel', job.id!, '--queue', redis.queueName], { env });
    expect(cancelled.stderr).toBe('');
    expect(cancelled.stdout).toBe(`job ${job.id} (active): workflow cancelled\n`);
    const failed = await waitForState(queue, job.id!, 'failed');
    expect(failed.failedReason).toMatch(/^cancelled: /);
    const missing = await runCli(['job', 'show', 'no-such-job', '--queue', redis.queueName], { env });
    expect(missing.code).toBe(1);
  });

  it('a closing bridge hands its job back; the next bridge re-attaches to the same run and completes it', async () => {
    const job = await queue.addJob('aggregation', { tenantId: 'step-handover', type: 'tournaments' });
    await waitForState(queue, job.id!, 'active');
    const { runId } = await waitFor('the workflow', () => workflow(job.id!).describe());
    await bridge.close();
    // Back in the queue at once, its workflow untouched.
    expect(await (await queue.getJob(job.id!))!.getState()).toBe('waiting');
    expect((await workflow(job.id!).describe()).status.name).toBe('RUNNING');

    bridge = await queue.createWorker();
    await waitForState(queue, job.id!, 'active');
    for (let i = 0; i < 3; i++) await step(job.id!);
    const done = await waitForState(queue, job.id!, 'completed');
    expect((done.returnvalue as FixtureResult).steps).toBe(3);
    const latest = await workflow(job.id!).describe();
    expect(latest.runId).toBe(runId);
    const { logs } = await queue.queue.getJobLogs(job.id!);
    expect(logs.filter((l) => l.startsWith(`following workflow aggregation/${redis.queueName}:${job.id} (run ${runId})`))).toHaveLength(2);
  });
});
