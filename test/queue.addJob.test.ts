import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QueueNotInitializedError } from '../src/errors/queue-not-initialized-error';
import { QueueValidationError } from '../src/errors/queue-validation-error';
import { addJob, AnalyticsQueue, closeQueue, createEnqueue, getQueueMetrics, initializeQueue } from '../src/queue';
import { runCli } from './helpers/cli';
import { testConfig } from './helpers/config';
import { createTestRedis } from './helpers/redis';

const connections = { redis: testConfig.redis, temporal: testConfig.temporal, databaseUrl: testConfig.databaseUrl };

describe('addJob', () => {
  const redis = createTestRedis();
  let queue: AnalyticsQueue;

  /** Every Redis key of the test's queue (and its dead-letter queue). */
  async function keys(): Promise<string[]> {
    return (await redis.redis.keys(`bull:${redis.queueName}*`)).sort();
  }

  beforeAll(async () => {
    queue = await new AnalyticsQueue({ ...connections, queueName: redis.queueName }).ready();
  });
  afterEach(async () => {
    await queue.queue.obliterate({ force: true });
  });
  afterAll(async () => {
    await queue.close();
    await closeQueue();
    await redis.cleanup();
  });

  it('enqueues with the documented defaults: 3 attempts, exponential backoff from 5 s, completed kept 24 h / 1000, failed 7 days / 5000', async () => {
    const job = await queue.addJob('aggregation', { tenantId: 'org_123', type: 'revenue' });
    const stored = await queue.getJob(job.id!);
    expect(stored!.opts).toMatchObject({
      attempts: 3,
      backoff: { type: 'exponential', delay: 5000 },
      removeOnComplete: { age: 86_400, count: 1000 },
      removeOnFail: { age: 604_800, count: 5000 },
    });
    expect(stored!.data).toEqual({ tenantId: 'org_123', type: 'revenue' });
    expect(await stored!.getState()).toBe('waiting');
  });

  it("takes BullMQ's job options over the defaults, and queue-wide defaults from its options", async () => {
    const job = await queue.addJob('export', { tenantId: 'org_1', type: 'all' }, {
      jobId: 'export-org_1',
      attempts: 5,
      backoff: { type: 'fixed', delay: 100 },
      priority: 7,
      delay: 60_000,
      removeOnComplete: true,
      removeOnFail: { count: 10 },
    });
    expect(job.id).toBe('export-org_1');
    const stored = (await queue.getJob('export-org_1'))!;
    expect(stored.opts).toMatchObject({ attempts: 5, backoff: { type: 'fixed', delay: 100 }, priority: 7, delay: 60_000, removeOnComplete: true, removeOnFail: { count: 10 } });
    // The schema's default is applied to the stored payload.
    expect(stored.data).toEqual({ tenantId: 'org_1', type: 'all', format: 'csv' });
    expect(await stored.getState()).toBe('delayed');

    const tuned = await new AnalyticsQueue({ ...connections, queueName: redis.queueName, jobDefaults: { attempts: 7, removeOnComplete: { count: 5 } } }).ready();
    try {
      const other = await tuned.addJob('scheduled-report', {});
      expect((await tuned.getJob(other.id!))!.opts).toMatchObject({ attempts: 7, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: { count: 5 } });
    } finally {
      await tuned.close();
    }
  });

  it('rejects a bad payload naming the field and the value, and enqueues nothing', async () => {
    await queue.addJob('aggregation', { type: 'all' });
    const before = await keys();
    const err = await queue.addJob('aggregation', { type: 'revenue', periodStart: '11/01/2025' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueValidationError);
    expect((err as QueueValidationError).message).toBe(
      'invalid "aggregation" job: periodStart: must be an ISO date (YYYY-MM-DD, tenant-local) or an ISO instant with offset (2025-11-01T00:00:00Z) (got "11/01/2025")',
    );
    expect((err as QueueValidationError).field).toBe('periodStart');
    expect(await keys()).toEqual(before);
    expect(await queue.getQueueMetrics()).toEqual({ waiting: 1, active: 0, completed: 0, failed: 0, delayed: 0, paused: 0 });
  });

  it('addBulk validates every job first: one bad payload rejects the batch', async () => {
    const err = await queue
      .addBulk([
        { name: 'aggregation', data: { type: 'all' } },
        { name: 'export', data: { tenantId: 'org_1', type: 'everything' } as never },
      ])
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('invalid "export" job: jobs[1].type: must be one of revenue, cohorts, tournaments, all (got "everything")');
    expect((await queue.getQueueMetrics()).waiting).toBe(0);

    const jobs = await queue.addBulk([
      { name: 'aggregation', data: { type: 'all' } },
      { name: 'scheduled-report', data: { periodType: 'week' }, opts: { jobId: 'weekly-report' } },
    ]);
    expect(jobs.map((j) => j.id)[1]).toBe('weekly-report');
    expect((await queue.getJob(jobs[0]!.id!))!.opts.attempts).toBe(3);
    expect((await queue.getQueueMetrics()).waiting).toBe(2);
  });

  it('a jobId that exists returns that job and adds nothing; deduplication works as in BullMQ', async () => {
    const first = await queue.addJob('aggregation', { type: 'revenue' }, { jobId: 'nightly-2025-11-01' });
    const second = await queue.addJob('aggregation', { type: 'cohorts' }, { jobId: 'nightly-2025-11-01' });
    expect(second.id).toBe(first.id);
    expect((await queue.getJob('nightly-2025-11-01'))!.data).toEqual({ type: 'revenue' });

    const a = await queue.addJob('aggregation', { type: 'all' }, { deduplication: { id: 'all-tenants' } });
    const b = await queue.addJob('aggregation', { type: 'all' }, { deduplication: { id: 'all-tenants' } });
    expect(b.id).toBe(a.id);
    expect((await queue.getQueueMetrics()).waiting).toBe(2);

    const enqueue = createEnqueue(queue);
    expect(await enqueue({ type: 'revenue', periodType: 'day' }, 'daily-revenue-20251106T000000Z')).toEqual({ jobId: 'daily-revenue-20251106T000000Z', created: true });
    expect(await enqueue({ type: 'revenue', periodType: 'day' }, 'daily-revenue-20251106T000000Z')).toEqual({ jobId: 'daily-revenue-20251106T000000Z', created: false });
    expect((await queue.getQueueMetrics()).waiting).toBe(3);
  });

  it('refuses job ids BullMQ cannot keep with a field-level message, before BullMQ sees them', async () => {
    await expect(queue.addJob('aggregation', { type: 'all' }, { jobId: 'a:b' })).rejects.toThrow(
      'invalid "aggregation" job: jobId: must be 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit, not only digits (got "a:b")',
    );
    await expect(queue.addJob('aggregation', { type: 'all' }, { jobId: '42' })).rejects.toThrow(
      'invalid "aggregation" job: jobId: must not be only digits (BullMQ keeps integer ids for its own counter) (got "42")',
    );
  });

  it('the module-level API works as the original callers use it, once initializeQueue() has run', async () => {
    await expect(addJob('aggregation', { type: 'all' })).rejects.toBeInstanceOf(QueueNotInitializedError);
    const q = await initializeQueue({ ...connections, queueName: redis.queueName });
    expect(await initializeQueue()).toBe(q);
    const job = await addJob('aggregation', { tenantId: 'org_123', type: 'revenue', periodStart: '2025-11-01', periodEnd: '2025-11-06', periodType: 'day' });
    expect((await queue.getJob(job.id!))!.name).toBe('aggregation');
    expect((await getQueueMetrics()).waiting).toBe(1);
    await closeQueue();
    await expect(getQueueMetrics()).rejects.toThrow('getQueueMetrics: the queue is not initialized; call initializeQueue() first');
  });

  it('`analytics job add` enqueues through the same validation; a bad payload is a usage error (exit 2)', async () => {
    const ok = await runCli(['job', 'add', 'aggregation', '--data', '{"type":"cohorts","periodStart":"2025-10-01"}', '--job-id', 'cli-1', '--queue', redis.queueName, '--json']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ jobId: 'cli-1', name: 'aggregation', queue: redis.queueName, data: { type: 'cohorts', periodStart: '2025-10-01' } });
    expect((await queue.getJob('cli-1'))!.data).toEqual({ type: 'cohorts', periodStart: '2025-10-01' });

    const bad = await runCli(['job', 'add', 'export', '--data', '{"tenantId":"org_1","type":"all","format":"pdf"}', '--queue', redis.queueName]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error: invalid "export" job: format: must be one of csv, json (got "pdf")\n');
    const notJson = await runCli(['job', 'add', 'export', '--data', '{tenantId', '--queue', redis.queueName]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/^error: --data must be JSON/);
    expect((await queue.getQueueMetrics()).waiting).toBe(1);
  });
});
