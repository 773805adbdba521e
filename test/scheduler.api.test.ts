import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Config } from '../src/config';
import { SchedulerNotInitializedError } from '../src/errors/scheduler-not-initialized-error';
import { UnknownScheduleError } from '../src/errors/unknown-schedule-error';
import {
  checkCronExpression,
  closeScheduler,
  destroyScheduler,
  getSchedulerStatus,
  initializeScheduler,
  startScheduler,
  stopScheduler,
  triggerTask,
  validateCronExpression,
} from '../src/scheduler';
import { testConfig, uniqueSuffix } from './helpers/config';
import { startTriggerWorker, type TriggerWorker } from './helpers/trigger-worker';

// The module-level scheduler calls as the README writes them (initializeScheduler, startScheduler,
// stopScheduler, getSchedulerStatus, triggerTask('hourly-aggregation'), validateCronExpression,
// destroyScheduler), against the run's Temporal dev server. Schedule ids are unique per namespace,
// so the file owns a namespace; a trigger worker on its own task queue enqueues what the
// schedules fire into a private BullMQ queue on the real Redis, read back here.

const NAMES = ['hourly-aggregation', 'daily-revenue', 'monthly-cohorts', 'weekly-tournaments', 'scheduled-report'];

describe('module-level scheduler API', () => {
  const taskQueue = `schedapi-${uniqueSuffix()}`;
  let triggers: TriggerWorker;
  let config: Config;

  beforeAll(async () => {
    triggers = await startTriggerWorker(taskQueue, 'schedapi');
    config = {
      ...testConfig,
      tz: 'Europe/Berlin',
      temporal: { ...testConfig.temporal, address: inject('temporalAddress'), namespace: triggers.namespace, scheduleTaskQueue: taskQueue },
    };
  });

  afterAll(async () => {
    await closeScheduler();
    await triggers?.close();
  });

  async function scheduleIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const s of triggers.client.schedule.list()) ids.push(s.scheduleId);
    return ids.sort();
  }

  it('rejects every call before initializeScheduler() with SchedulerNotInitializedError', async () => {
    await expect(getSchedulerStatus()).rejects.toBeInstanceOf(SchedulerNotInitializedError);
    await expect(triggerTask('hourly-aggregation')).rejects.toThrow('triggerTask: the scheduler is not initialized; call initializeScheduler() first');
    await expect(startScheduler()).rejects.toBeInstanceOf(SchedulerNotInitializedError);
    await expect(stopScheduler()).rejects.toBeInstanceOf(SchedulerNotInitializedError);
    await expect(destroyScheduler()).rejects.toBeInstanceOf(SchedulerNotInitializedError);
  });

  it('validateCronExpression answers true or false, as the original did; checkCronExpression says why', () => {
    expect(validateCronExpression('0 * * * *')).toBe(true);
    expect(validateCronExpression('0 2 * * 1')).toBe(true);
    expect(validateCronExpression('0 2 * *')).toBe(false);
    expect(validateCronExpression('0 0 0 * * *')).toBe(false); // seconds field
    expect(validateCronExpression('0 0 L * *')).toBe(false); // Quartz
    expect(checkCronExpression('0 2 * *')).toEqual({ valid: false, error: 'expected 5 fields (minute hour day-of-month month day-of-week), got 4' });
  });

  it('initializeScheduler installs the five schedules once, even when called twice at the same time', async () => {
    const [a, b] = await Promise.all([initializeScheduler({ config }), initializeScheduler({ config })]);
    expect(a).toBe(b);
    expect(a.created.sort()).toEqual([...NAMES].sort());
    expect(a.updated).toEqual([]);
    await expect.poll(scheduleIds, { timeout: 15_000 }).toEqual([...NAMES].sort());

    const status = await getSchedulerStatus();
    expect(status.map((s) => [s.name, s.schedule, s.timezone, s.enabled])).toEqual([
      ['hourly-aggregation', '0 * * * *', 'Europe/Berlin', true],
      ['daily-revenue', '0 0 * * *', 'Europe/Berlin', true],
      ['monthly-cohorts', '0 1 1 * *', 'Europe/Berlin', true],
      ['weekly-tournaments', '0 2 * * 1', 'Europe/Berlin', true],
      ['scheduled-report', '0 6 * * 1', 'Europe/Berlin', true],
    ]);
    // The next hourly fire is on the hour, within the next hour.
    const next = Date.parse(status[0]!.nextRunTimes[0]!);
    expect(next % 3_600_000).toBe(0);
    expect(next - Date.now()).toBeLessThanOrEqual(3_600_000);
  });

  it('stopScheduler pauses (one or all) and startScheduler resumes, as getSchedulerStatus shows', async () => {
    await stopScheduler('daily-revenue');
    expect((await getSchedulerStatus()).filter((s) => !s.enabled).map((s) => s.name)).toEqual(['daily-revenue']);
    await stopScheduler();
    expect((await getSchedulerStatus()).map((s) => s.enabled)).toEqual(NAMES.map(() => false));
    await startScheduler();
    expect((await getSchedulerStatus()).map((s) => s.enabled)).toEqual(NAMES.map(() => true));
  });

  it("triggerTask('hourly-aggregation') fires it now: one aggregation job for that nominal time reaches the queue", async () => {
    const before = Date.now();
    await expect(triggerTask('hourly-aggregation')).resolves.toBe(true);
    const hourlyJobs = async () => (await triggers.queue.getJobs(['waiting', 'delayed', 'prioritized'])).filter((j) => j.id!.startsWith('hourly-aggregation-'));
    await expect.poll(async () => (await hourlyJobs()).length, { timeout: 30_000, interval: 500 }).toBe(1);
    const [job] = await hourlyJobs();
    // The hourly job is incremental: every pending change, no range (docs/incremental.md).
    expect(job!.data).toEqual({ type: 'all', incremental: true, asOf: expect.any(String) });
    // Nominal time "now": between the call and the job's arrival.
    const asOf = Date.parse((job!.data as { asOf: string }).asOf);
    expect(asOf).toBeGreaterThanOrEqual(before - 1_000);
    expect(asOf).toBeLessThanOrEqual(Date.now());
    const last = (await getSchedulerStatus()).find((s) => s.name === 'hourly-aggregation')!.lastRun;
    expect(last?.workflowId).toMatch(/^scheduled\/hourly-aggregation-/);
  });

  it('rejects an unknown schedule name with UnknownScheduleError', async () => {
    await expect(triggerTask('hourly-aggregations')).rejects.toBeInstanceOf(UnknownScheduleError);
    await expect(stopScheduler('nightly')).rejects.toThrow('unknown schedule "nightly"');
  });

  it('destroyScheduler deletes the schedules and closes; initializeScheduler may install them again', async () => {
    await destroyScheduler();
    await expect.poll(scheduleIds, { timeout: 15_000 }).toEqual([]);
    await expect(getSchedulerStatus()).rejects.toBeInstanceOf(SchedulerNotInitializedError);

    const again = await initializeScheduler({ config });
    expect(again.created.sort()).toEqual([...NAMES].sort());
    // closeScheduler only disconnects: the schedules stay in Temporal.
    await closeScheduler();
    await expect(getSchedulerStatus()).rejects.toBeInstanceOf(SchedulerNotInitializedError);
    // (Temporal's schedule listing is eventually consistent: poll.)
    await expect.poll(scheduleIds, { timeout: 15_000 }).toEqual([...NAMES].sort());
    await initializeScheduler({ config });
    await destroyScheduler();
    await expect.poll(scheduleIds, { timeout: 15_000 }).toEqual([]);
  });

  it('initializeScheduler reports an unreachable server and leaves nothing initialized', async () => {
    const away = { ...config, temporal: { ...config.temporal, address: '127.0.0.1:1' } };
    await expect(initializeScheduler({ config: away })).rejects.toThrow('initializeScheduler: cannot reach Temporal at 127.0.0.1:1 (TEMPORAL_ADDRESS)');
    await expect(getSchedulerStatus()).rejects.toBeInstanceOf(SchedulerNotInitializedError);
  });
});
