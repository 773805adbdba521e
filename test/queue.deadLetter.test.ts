import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsQueue, BridgeWorker, DeadLetterEntry } from '../src/queue';
import { bundleFixtureWorkflows, createTestQueue, runFixtureWorker, waitFor, waitForState, type RunningWorker } from './fixtures/queue';
import type { FixtureResult } from './fixtures/workflows/bridge';
import { runCli } from './helpers/cli';
import { testConfig } from './helpers/config';
import { createTestRedis } from './helpers/redis';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

describe('dead-letter queue', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let bundle: WorkflowBundleWithSourceMap;
  let temporalWorker: RunningWorker;
  let queue: AnalyticsQueue;
  let bridge: BridgeWorker;
  /** Tenants whose cause the test has fixed. */
  const fixed = new Set<string>();

  const cli = (...args: string[]) => runCli([...args, '--queue', redis.queueName]);

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    bundle = await bundleFixtureWorkflows();
    temporalWorker = await runFixtureWorker(temporal, bundle, {
      checkCause: async (tenantId) => {
        if (!fixed.has(tenantId)) throw new Error(`the cause is not fixed for ${tenantId}`);
        return 'fixed';
      },
    });
    queue = await createTestQueue(redis.queueName, temporal).ready();
    bridge = await queue.createWorker();
  });

  afterAll(async () => {
    await queue.close();
    await temporalWorker.stop();
    await temporal.close();
    await redis.cleanup();
  });

  it('a job that fails every attempt lands there with payload, error and attempts; `dlq retry` succeeds once the cause is fixed', async () => {
    const data = { tenantId: 'cause-retry', type: 'revenue' as const, periodStart: '2025-11-01' };
    const job = await queue.addJob('aggregation', data, { attempts: 2, backoff: { type: 'fixed', delay: 50 } });
    const jobId = job.id!;
    const failed = await waitForState(queue, jobId, 'failed');
    const reason = `workflow aggregation/${redis.queueName}:${jobId} failed: Error: the cause is not fixed for cause-retry`;
    expect(failed.failedReason).toBe(reason);
    expect(failed.attemptsMade).toBe(2);

    const entry = await waitFor('the dead-letter entry', () => queue.deadLetters.get(jobId));
    expect(entry).toMatchObject({
      jobId,
      name: 'aggregation',
      data,
      failedReason: reason,
      attemptsMade: 2,
      failedAt: new Date(failed.finishedOn!).toISOString(),
      opts: {
        attempts: 2,
        backoff: { type: 'fixed', delay: 50 },
        removeOnComplete: { age: 86_400, count: 1_000 },
        removeOnFail: { age: 604_800, count: 5_000 },
        timestamp: job.timestamp,
      },
    });
    expect(entry.stacktrace.length).toBeGreaterThan(0);

    const listed = await cli('dlq', 'list', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as DeadLetterEntry[]).map((e) => [e.jobId, e.attemptsMade, e.failedReason])).toEqual([[jobId, 2, reason]]);
    const table = await cli('dlq', 'list');
    expect(table.stdout).toContain(jobId);
    expect(table.stdout).toMatch(/^job\s+name\s+attempts\s+failed at\s+error$/m);

    // The cause is fixed: the same job, enqueued again, now succeeds.
    fixed.add('cause-retry');
    const retried = await cli('dlq', 'retry', jobId);
    expect(retried.stderr).toBe('');
    expect(retried.code).toBe(0);
    expect(retried.stdout.trim()).toBe(`requeued ${jobId}`);

    const done = await waitForState(queue, jobId, 'completed');
    expect(done.data).toEqual(data);
    // Enqueued again with its original time, which the workflow computes default periods from.
    expect(done.timestamp).toBe(job.timestamp);
    expect((done.returnvalue as FixtureResult).cause).toBe('fixed');
    expect(await queue.deadLetters.get(jobId)).toBeUndefined();
    expect(JSON.parse((await cli('dlq', 'list', '--json')).stdout)).toEqual([]);
    // The same workflow id, a new run after the failed ones.
    expect((await temporal.client.workflow.getHandle(`aggregation/${redis.queueName}:${jobId}`).describe()).status.name).toBe('COMPLETED');
  });

  it('`dlq retry` keeps an entry whose payload is invalid and says why; `dlq purge` removes it and its failed job', async () => {
    const raw = await queue.queue.add('export', { tenantId: 'org_1', type: 'revenue', format: 'xml' }, { jobId: `raw-export-${redis.queueName}` });
    const jobId = raw.id!;
    await waitForState(queue, jobId, 'failed');
    await waitFor('the dead-letter entry', () => queue.deadLetters.get(jobId));

    const retried = await cli('dlq', 'retry', jobId, '--json');
    expect(retried.code).toBe(1);
    expect(JSON.parse(retried.stdout)).toEqual([{ jobId, requeued: false, error: 'invalid "export" job: format: must be one of csv, json (got "xml")' }]);
    expect(await queue.deadLetters.get(jobId)).toBeDefined();
    expect(await (await queue.getJob(jobId))!.getState()).toBe('failed');

    const purged = await cli('dlq', 'purge', jobId, '--json');
    expect(purged.code).toBe(0);
    expect(JSON.parse(purged.stdout)).toEqual({ removed: [jobId] });
    expect(await queue.deadLetters.get(jobId)).toBeUndefined();
    expect(await queue.getJob(jobId)).toBeUndefined();
    // Nothing brings it back.
    await queue.deadLetters.sweep();
    expect(await queue.deadLetters.get(jobId)).toBeUndefined();
  });

  it('usage errors (no ids, or ids and --all) exit 2', async () => {
    const cases: [string[], string][] = [
      [['dlq', 'purge'], 'error: dlq purge: give one or more job ids, or --all\n'],
      [['dlq', 'retry', 'x', '--all'], 'error: dlq retry: give job ids or --all, not both\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toBe(stderr);
    }
  });

  it('a job that failed while no bridge could capture it is swept in when a bridge starts', async () => {
    await bridge.close();
    const connection = { host: testConfig.redis.host, port: testConfig.redis.port, db: testConfig.redis.db, password: testConfig.redis.password };
    // Another consumer fails the job (as when a bridge dies between failing a job and recording it).
    const other = new Worker(redis.queueName, async () => {
      throw new Error('failed elsewhere');
    }, { connection });
    const job = await queue.addJob('aggregation', { type: 'all' }, { attempts: 1 });
    await waitForState(queue, job.id!, 'failed');
    await other.close();
    expect(await queue.deadLetters.get(job.id!)).toBeUndefined();

    bridge = await queue.createWorker();
    const entry = await waitFor('the swept entry', () => queue.deadLetters.get(job.id!));
    expect(entry).toMatchObject({ jobId: job.id, failedReason: 'failed elsewhere', attemptsMade: 1, data: { type: 'all' } });
  });
});
