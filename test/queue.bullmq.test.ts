import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from './helpers/config';
import { createTestRedis } from './helpers/redis';

describe('BullMQ on the local Redis', () => {
  const t = createTestRedis();
  const connection = { host: testConfig.redis.host, port: testConfig.redis.port, db: testConfig.redis.db, password: testConfig.redis.password };
  let queue: Queue;
  let events: QueueEvents;
  let worker: Worker;

  beforeAll(async () => {
    queue = new Queue(t.queueName, { connection });
    events = new QueueEvents(t.queueName, { connection });
    await events.waitUntilReady();
    worker = new Worker(t.queueName, async (job) => ({ sum: (job.data as { a: number; b: number }).a + (job.data as { a: number; b: number }).b }), { connection });
  });
  afterAll(async () => {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await t.cleanup();
  });

  it('runs a job through Redis and returns its result', async () => {
    const job = await queue.add('round-trip', { a: 20, b: 22 }, { jobId: 'rt-1' });
    const result = await job.waitUntilFinished(events, 10_000);
    expect(result).toEqual({ sum: 42 });
    const stored = await queue.getJob('rt-1');
    expect(await stored!.getState()).toBe('completed');
    expect(await queue.getJobCounts('completed')).toEqual({ completed: 1 });
    // Redis really keeps it: another connection sees the job hash.
    expect(await t.redis.hget(`bull:${t.queueName}:rt-1`, 'name')).toBe('round-trip');
  });
});
