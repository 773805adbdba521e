import { Redis } from 'ioredis';
import { testConfig, uniqueSuffix } from './config';

/** A Redis connection and a queue name no other test uses; `cleanup` deletes the queue's keys. */
export function createTestRedis(): { redis: Redis; queueName: string; cleanup(): Promise<void> } {
  const redis = new Redis(testConfig.redis.url, { maxRetriesPerRequest: null });
  const queueName = `test-${uniqueSuffix()}`;
  return {
    redis,
    queueName,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `bull:${queueName}*`, 'COUNT', 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}
