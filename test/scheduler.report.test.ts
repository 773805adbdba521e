import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createEnqueueActivities } from '../src/activities/enqueue';
import { loadConfig } from '../src/config';
import type { AnalyticsQueue } from '../src/queue';
import { createEnqueue, createReportEnqueue } from '../src/queue/enqueue';
import { SCHEDULES, scheduleDefinitions, scheduledJobId } from '../src/scheduler/definitions';
import { createScheduler, type Scheduler } from '../src/scheduler/scheduler';
import { createTemporalWorker } from '../src/temporal/worker';
import { uniqueSuffix } from './helpers/config';
import { createTestQueue } from './fixtures/queue';
import { createTestRedis } from './helpers/redis';
import { createTestNamespace, type TestTemporal } from './helpers/temporal';

// The `scheduled-report` schedule, next to the four aggregation schedules: weekly by default,
// its cron and period type configurable (SCHEDULED_REPORT_CRON, SCHEDULED_REPORT_PERIOD). A
// trigger enqueues a `scheduled-report` job through the real facade, as of the nominal time.
// Schedules are unique per namespace, so the file owns one on the dev server.

describe('the scheduled-report schedule', () => {
  const redis = createTestRedis();
  const taskQueue = `schedrep-${uniqueSuffix()}`;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  let queue: AnalyticsQueue;
  let scheduler: Scheduler;
  const definitions = scheduleDefinitions({ cron: '30 7 * * *', periodType: 'day' });

  beforeAll(async () => {
    const address = inject('temporalAddress');
    connection = await Connection.connect({ address });
    const namespace = await createTestNamespace(new Client({ connection }), 'schedrep');
    client = new Client({ connection, namespace });
    nativeConnection = await NativeConnection.connect({ address });
    queue = createTestQueue(redis.queueName, { address, namespace, taskQueue } as Pick<TestTemporal, 'address' | 'namespace' | 'taskQueue'>);
    await queue.ready();
    worker = await createTemporalWorker({
      connection: nativeConnection,
      namespace,
      taskQueue,
      activities: createEnqueueActivities({ enqueue: createEnqueue(queue), enqueueReport: createReportEnqueue(queue), definitions }),
    });
    running = worker.run();
    scheduler = createScheduler({ client, taskQueue, timezone: 'UTC', definitions });
  });

  afterAll(async () => {
    await scheduler?.destroyScheduler();
    worker?.shutdown();
    await running;
    await queue?.close();
    await redis.cleanup();
    await nativeConnection?.close();
    await connection?.close();
  });

  it('is weekly by default (Mondays 06:00, the last complete week) and configurable from the environment', () => {
    const byDefault = SCHEDULES.find((s) => s.id === 'scheduled-report')!;
    expect([byDefault.cron, byDefault.jobName]).toEqual(['0 6 * * 1', 'scheduled-report']);
    expect(byDefault.job(new Date('2026-11-30T06:00:00Z'))).toEqual({ periodType: 'week', asOf: '2026-11-30T06:00:00.000Z' });
    expect(SCHEDULES.map((s) => s.id)).toEqual(['hourly-aggregation', 'daily-revenue', 'monthly-cohorts', 'weekly-tournaments', 'scheduled-report']);

    const config = loadConfig({ SCHEDULED_REPORT_CRON: '0 8 1 * *', SCHEDULED_REPORT_PERIOD: 'month' });
    expect([config.scheduledReportCron, config.scheduledReportPeriodType]).toEqual(['0 8 1 * *', 'month']);
    expect([loadConfig({}).scheduledReportCron, loadConfig({}).scheduledReportPeriodType]).toEqual(['0 6 * * 1', 'week']);
    expect(() => loadConfig({ SCHEDULED_REPORT_PERIOD: 'year' })).toThrow(/SCHEDULED_REPORT_PERIOD/);
    expect(() => loadConfig({ SCHEDULED_REPORT_CRON: 'weekly' })).toThrow(/SCHEDULED_REPORT_CRON/);
  });

  it('installs with the configured cron, and a trigger enqueues a scheduled-report job as of its nominal time', async () => {
    const installed = await scheduler.initializeScheduler();
    expect(installed.created).toContain('scheduled-report');
    const status = await scheduler.describeTask('scheduled-report');
    expect([status.schedule, status.timezone]).toEqual(['30 7 * * *', 'UTC']);
    // Every day at 07:30 UTC.
    expect(status.nextRunTimes.slice(0, 2).map((t) => new Date(t).toISOString().slice(11))).toEqual(['07:30:00.000Z', '07:30:00.000Z']);

    await scheduler.triggerTask('scheduled-report');
    const job = await vi.waitFor(
      async () => {
        const found = (await queue.queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).find((j) => j.name === 'scheduled-report');
        if (!found) throw new Error('no scheduled-report job enqueued yet');
        return found;
      },
      { timeout: 20_000, interval: 200 },
    );
    const data = job.data as { periodType: string; asOf: string };
    expect(data.periodType).toBe('day');
    expect(job.id).toBe(scheduledJobId('scheduled-report', new Date(data.asOf)));
    // The nominal time of a manual trigger is when it was taken: within the last minute.
    expect(Date.now() - Date.parse(data.asOf)).toBeLessThan(60_000);
  });
});
