import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { ping } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1 second' },
});

/** End-to-end health probe: Temporal schedules it, a worker runs it, the activity reaches Postgres. */
export async function pingWorkflow(): Promise<{ databaseTime: string; workerTime: string }> {
  return ping();
}
