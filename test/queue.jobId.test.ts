import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QueueValidationError } from '../src/errors/queue-validation-error';
import { AnalyticsQueue } from '../src/queue';
import { jobIdProblem } from '../src/queue/schemas';
import { runCli } from './helpers/cli';
import { testConfig } from './helpers/config';
import { createTestRedis } from './helpers/redis';

// The job id rule (docs/queue.md "Job ids"): 1-128 characters from A-Z a-z 0-9 . _ -, starting
// with a letter or digit, not only digits. Checked at addJob, addBulk, addJobOnce and in the CLI,
// with a message naming jobId and the value, before anything reaches Redis. The rule itself, case
// by case: test/queue.jobIdRule.test.ts.

const RULE = 'must be 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit, not only digits';

describe('job ids', () => {
  const redis = createTestRedis();
  let queue: AnalyticsQueue;

  async function keys(): Promise<string[]> {
    return (await redis.redis.keys(`bull:${redis.queueName}*`)).sort();
  }

  beforeAll(async () => {
    queue = await new AnalyticsQueue({ config: testConfig, queueName: redis.queueName }).ready();
  });
  afterEach(async () => {
    await queue.queue.obliterate({ force: true });
  });
  afterAll(async () => {
    await queue.close();
    await redis.cleanup();
  });

  it('addJob refuses each hostile id naming jobId and the value, and enqueues nothing', async () => {
    const before = await keys();
    const cases: [string, string][] = [
      ['X/chunk-1', `jobId: ${RULE} (got "X/chunk-1")`],
      ['', 'jobId: must not be empty (got "")'],
      ['a:b', `jobId: ${RULE} (got "a:b")`],
      ['0', 'jobId: must not be only digits (BullMQ keeps integer ids for its own counter) (got "0")'],
      ['line\nbreak', `jobId: ${RULE} (got "line\\nbreak")`],
    ];
    for (const [jobId, message] of cases) {
      const err = await queue.addJob('aggregation', { type: 'all' }, { jobId }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueueValidationError);
      expect((err as QueueValidationError).field).toBe('jobId');
      expect((err as Error).message).toBe(`invalid "aggregation" job: ${message}`);
    }
    // A 10 kB id: refused, and the message shows only its beginning.
    const huge = await queue.addJob('aggregation', { type: 'all' }, { jobId: 'x'.repeat(10_240) }).catch((e: unknown) => e);
    expect((huge as Error).message).toBe(`invalid "aggregation" job: jobId: must be at most 128 characters (got 10240) (got "${'x'.repeat(116)}...)`);
    expect(await keys()).toEqual(before);
  });

  it('addBulk names the job and its option; addJobOnce refuses before looking the id up', async () => {
    const err = await queue
      .addBulk([
        { name: 'aggregation', data: { type: 'all' }, opts: { jobId: 'fine-1' } },
        { name: 'export', data: { tenantId: 'org_1', type: 'all' }, opts: { jobId: 'bad/id' } },
      ])
      .catch((e: unknown) => e);
    expect((err as QueueValidationError).field).toBe('jobs[1].opts.jobId');
    expect((err as Error).message).toBe(`invalid "export" job: jobs[1].opts.jobId: ${RULE} (got "bad/id")`);
    expect(await queue.getJob('fine-1')).toBeUndefined();
    await expect(queue.addJobOnce('aggregation', { type: 'all' }, 'a:b')).rejects.toThrow(`jobId: ${RULE} (got "a:b")`);
  });

  it('without a jobId the facade assigns a UUID, never BullMQ\'s counter', async () => {
    const jobs = [await queue.addJob('aggregation', { type: 'all' }), await queue.addJob('aggregation', { type: 'all' }, { jobId: undefined })];
    const bulk = await queue.addBulk([{ name: 'aggregation', data: { type: 'all' } }]);
    for (const job of [...jobs, ...bulk]) {
      expect(job.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(jobIdProblem(job.id)).toBeUndefined();
    }
  });

  it('`job add --job-id` checks the rule before connecting (a usage error even with Redis away)', async () => {
    const before = await keys();
    const r = await runCli(['job', 'add', 'aggregation', '--data', '{"type":"all"}', '--job-id', 'X/chunk-1'], { env: { REDIS_URL: 'redis://127.0.0.1:1/0' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: invalid "aggregation" job: jobId: ${RULE} (got "X/chunk-1")\n`);
    const empty = await runCli(['job', 'add', 'aggregation', '--data', '{"type":"all"}', '--job-id', '', '--queue', redis.queueName]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('error: invalid "aggregation" job: jobId: must not be empty (got "")\n');
    expect(await keys()).toEqual(before);
  });

  it('queue names follow the same characters: QUEUE_NAME, --queue and the facade refuse others', async () => {
    const env = await runCli(['metrics'], { env: { QUEUE_NAME: 'a/b' } });
    expect(env.code).toBe(2);
    expect(env.stderr).toBe('error: invalid configuration: QUEUE_NAME: must be 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit (got "a/b")\n');
    const flag = await runCli(['metrics', '--queue', 'with space']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('error: --queue "with space" must be 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit\n');
    expect(() => new AnalyticsQueue({ config: testConfig, queueName: 'a:b' })).toThrow('queue options: queueName "a:b" must be 1-128 characters');
  });
});
