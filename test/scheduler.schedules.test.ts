import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduler, type Scheduler } from '../src/scheduler/scheduler';
import { scheduledJobId } from '../src/scheduler/definitions';
import { uniqueSuffix } from './helpers/config';
import { completedScheduledRuns } from './helpers/schedules';
import { startTriggerWorker, type TriggerWorker } from './helpers/trigger-worker';

// Schedules are unique per namespace, so this file owns a namespace of its own on the dev server.
// The trigger workflows enqueue into a BullMQ queue on the real Redis; what arrives is read back.

describe('Temporal Schedules', () => {
  const taskQueue = `sched-${uniqueSuffix()}`;
  let triggers: TriggerWorker;
  let client: Client;
  let queue: TriggerWorker['queue'];
  let scheduler: Scheduler;

  beforeAll(async () => {
    triggers = await startTriggerWorker(taskQueue, 'sched');
    ({ client, queue } = triggers);
    scheduler = createScheduler({ client, taskQueue, timezone: 'UTC' });
  });

  afterAll(async () => {
    await scheduler?.destroyScheduler();
    await triggers?.close();
  });

  async function scheduleIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const s of client.schedule.list()) ids.push(s.scheduleId);
    return ids.sort();
  }

  it('initializeScheduler twice leaves exactly the five schedules with the current spec', async () => {
    const first = await scheduler.initializeScheduler();
    expect(first.created.sort()).toEqual(['daily-revenue', 'hourly-aggregation', 'monthly-cohorts', 'scheduled-report', 'weekly-tournaments']);
    // A second run with a changed definition (another timezone) updates in place.
    const berlin = createScheduler({ client, taskQueue, timezone: 'Europe/Berlin' });
    const second = await berlin.initializeScheduler();
    expect(second.created).toEqual([]);
    expect(second.updated.sort()).toEqual(['daily-revenue', 'hourly-aggregation', 'monthly-cohorts', 'scheduled-report', 'weekly-tournaments']);
    // Temporal's listing is eventually consistent: poll until it shows the five.
    await expect.poll(scheduleIds, { timeout: 15_000 }).toEqual(['daily-revenue', 'hourly-aggregation', 'monthly-cohorts', 'scheduled-report', 'weekly-tournaments']);
    const status = await berlin.getSchedulerStatus();
    expect(status.map((s) => [s.name, s.schedule, s.timezone, s.enabled])).toEqual([
      ['hourly-aggregation', '0 * * * *', 'Europe/Berlin', true],
      ['daily-revenue', '0 0 * * *', 'Europe/Berlin', true],
      ['monthly-cohorts', '0 1 1 * *', 'Europe/Berlin', true],
      ['weekly-tournaments', '0 2 * * 1', 'Europe/Berlin', true],
      ['scheduled-report', '0 6 * * 1', 'Europe/Berlin', true],
    ]);
    await scheduler.initializeScheduler(); // back to UTC for the tests below
  });

  it('next run times follow the cron in a non-UTC timezone across a DST change', async () => {
    // America/New_York springs forward on 2027-03-14 at 02:00 (EST -5 -> EDT -4).
    const ny = createScheduler({ client, taskQueue, timezone: 'America/New_York', startAt: new Date('2027-03-12T00:00:00Z') });
    await ny.initializeScheduler();
    const daily = await ny.describeTask('daily-revenue');
    expect(daily.timezone).toBe('America/New_York');
    // Local midnight, written out by hand: EST until the 14th's 02:00, EDT afterwards.
    expect(daily.nextRunTimes.slice(0, 4)).toEqual([
      '2027-03-12T05:00:00.000Z',
      '2027-03-13T05:00:00.000Z',
      '2027-03-14T05:00:00.000Z',
      '2027-03-15T04:00:00.000Z',
    ]);
    const weekly = await ny.describeTask('weekly-tournaments');
    // Mondays 02:00 local: 2027-03-15 is after the change (EDT), so 06:00Z; the one before is 2027-03-08 EST (07:00Z) but precedes startAt.
    expect(weekly.nextRunTimes.slice(0, 2)).toEqual(['2027-03-15T06:00:00.000Z', '2027-03-22T06:00:00.000Z']);
    const hourly = await ny.describeTask('hourly-aggregation');
    expect(hourly.nextRunTimes[0]).toBe('2027-03-12T00:00:00.000Z');
    await scheduler.initializeScheduler();
  });

  it('pause and unpause show in the status', async () => {
    // The status comes from Temporal's schedule listing, which is eventually consistent: wait for it.
    const enabled = async () => (await scheduler.getSchedulerStatus()).filter((s) => s.enabled).map((s) => s.name).sort();
    await scheduler.stopScheduler('daily-revenue');
    await expect.poll(enabled, { timeout: 15_000, interval: 200 }).toEqual(['hourly-aggregation', 'monthly-cohorts', 'scheduled-report', 'weekly-tournaments']);
    await scheduler.startScheduler('daily-revenue');
    await expect.poll(enabled, { timeout: 15_000, interval: 200 }).toEqual(['daily-revenue', 'hourly-aggregation', 'monthly-cohorts', 'scheduled-report', 'weekly-tournaments']);
  });

  it('a backfill over 7 past days enqueues 7 distinct jobs, one per nominal day; repeating it enqueues nothing new', async () => {
    const from = new Date('2026-01-01T00:00:00Z');
    const to = new Date('2026-01-08T00:00:00Z');
    const runs = () => completedScheduledRuns(client, 'daily-revenue', from, to);
    await scheduler.backfillTask('daily-revenue', from, to);
    const expectedIds = [1, 2, 3, 4, 5, 6, 7].map((d) => scheduledJobId('daily-revenue', new Date(Date.UTC(2026, 0, d))));
    expect(expectedIds[0]).toBe('daily-revenue-20260101T000000Z');
    // The schedules are live: the hourly one may fire meanwhile, so look at daily-revenue jobs only.
    const ids = async () =>
      (await queue.getJobs(['waiting', 'delayed', 'prioritized']))
        .map((j) => j.id!)
        .filter((id) => id.startsWith('daily-revenue-'))
        .sort();
    await expect.poll(ids, { timeout: 30_000, interval: 500 }).toEqual(expectedIds);
    const job = await queue.getJob('daily-revenue-20260103T000000Z');
    expect(job!.data).toEqual({ type: 'revenue', periodType: 'day', asOf: '2026-01-03T00:00:00.000Z' });

    await expect.poll(runs, { timeout: 30_000, interval: 500 }).toBe(7);

    // The same nominal times again (a doubled trigger): once its seven trigger runs have
    // completed (each tried to enqueue its job), still exactly seven jobs.
    await scheduler.backfillTask('daily-revenue', from, to);
    await expect.poll(runs, { timeout: 30_000, interval: 500 }).toBe(14);
    expect(await ids()).toEqual(expectedIds);
  });
});
