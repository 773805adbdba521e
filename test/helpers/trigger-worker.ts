import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { Queue } from 'bullmq';
import { inject } from 'vitest';
import { createEnqueueActivities } from '../../src/activities/enqueue';
import { createTemporalWorker } from '../../src/temporal/worker';
import type { AggregationJobData } from '../../src/contract/aggregation';
import { testConfig } from './config';
import { createTestRedis } from './redis';
import { createTestNamespace } from './temporal';

export interface TriggerWorker {
  /** A namespace of the test's own (schedule ids are unique per namespace). */
  namespace: string;
  /** A client on that namespace. */
  client: Client;
  /** Where the trigger workflows enqueue: a private BullMQ queue, read back by the test. */
  queue: Queue<AggregationJobData>;
  close(): Promise<void>;
}

/**
 * A Temporal worker serving the schedules' trigger workflows on `taskQueue` in a fresh namespace,
 * enqueueing into a private BullMQ queue with a stand-in for the facade (Queue.add with an
 * existing id returns the existing job).
 */
export async function startTriggerWorker(taskQueue: string, namespacePrefix: string): Promise<TriggerWorker> {
  const address = inject('temporalAddress');
  const redis = createTestRedis();
  const connection = await Connection.connect({ address });
  const namespace = await createTestNamespace(new Client({ connection }), namespacePrefix);
  const nativeConnection = await NativeConnection.connect({ address });
  const { host, port, db } = testConfig.redis;
  const queue = new Queue<AggregationJobData>(redis.queueName, { connection: { host, port, db } });
  const enqueue = async (data: AggregationJobData, jobId: string) => {
    const existed = await queue.getJob(jobId);
    await queue.add('aggregation', data, { jobId });
    return { jobId, created: !existed };
  };
  const worker = await createTemporalWorker({ connection: nativeConnection, namespace, taskQueue, activities: createEnqueueActivities({ enqueue }) });
  const running = worker.run();
  return {
    namespace,
    client: new Client({ connection, namespace }),
    queue,
    async close() {
      worker.shutdown();
      await running;
      await queue.obliterate({ force: true });
      await queue.close();
      await redis.cleanup();
      await nativeConnection.close();
      await connection.close();
    },
  };
}
