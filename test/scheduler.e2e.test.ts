import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createScheduler, type Scheduler } from '../src/scheduler/scheduler';
import { scheduledJobId } from '../src/scheduler/definitions';
import { generateTenant } from '../src/seed/generate';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { revenueRows } from './helpers/fixtures';
import { loadRaw, oracleRevenue } from './helpers/oracle';
import { completedScheduledRuns } from './helpers/schedules';
import { createTestNamespace } from './helpers/temporal';
import { startTestWorkers, type TestWorkers } from './helpers/workers';

// The whole path the schedules take, on the dev server: schedule -> trigger workflow -> BullMQ job
// (through the facade) -> bridge -> aggregation workflow -> activities -> Postgres rows. In a
// namespace of its own, because schedule ids are unique per namespace.

let t: TestDatabase;
let connection: Connection;
let workers: TestWorkers;
let scheduler: Scheduler;
let client: Client;
const ZONES: Record<string, string> = { 'tenant-001': 'UTC', 'tenant-002': 'America/New_York' };

/** The tenant's last complete local day at `nominal`, as [start, end) tenant-local ISO dates. */
function lastCompleteDay(nominal: Date, zone: string): [string, string] {
  const today = DateTime.fromJSDate(nominal, { zone }).startOf('day');
  return [today.minus({ days: 1 }).toISODate()!, today.toISODate()!];
}

beforeAll(async () => {
  t = await createTestDatabase('sched_e2e');
  await withBatchWriter(t.pool, async (writer) => {
    // Tenants 0 and 1 of the generator live in UTC and America/New_York; history up to tomorrow.
    const until = Date.parse(`${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`);
    const options = { tenants: 2, usersPerTenant: 25, days: 30, seed: 3, untilMs: until };
    for (let i = 0; i < options.tenants; i++) await generateTenant(options, i, writer);
  });
  const { rows } = await t.pool.query<{ id: string; timezone: string }>('SELECT id, timezone FROM organizations ORDER BY id');
  expect(Object.fromEntries(rows.map((r) => [r.id, r.timezone]))).toEqual(ZONES);
  const address = inject('temporalAddress');
  connection = await Connection.connect({ address });
  const namespace = await createTestNamespace(new Client({ connection }), 'e2e', { searchAttributes: true });
  workers = await startTestWorkers(t.url, { address, namespace }, { cron: true });
  client = new Client({ connection, namespace });
  // The test's own queue name gives its schedules a prefix of their own (SCHEDULE_ID_PREFIX's default).
  scheduler = createScheduler({ client, taskQueue: workers.config.temporal.scheduleTaskQueue, timezone: 'UTC', idPrefix: workers.config.scheduleIdPrefix });
});

afterAll(async () => {
  await scheduler?.destroyScheduler();
  await workers?.proc.shutdown();
  await connection?.close();
  await t?.drop();
});

async function completedJob(jobId: string) {
  const queue = workers.proc.queue;
  await expect.poll(async () => (await queue.getJob(jobId))?.getState(), { timeout: 60_000, interval: 250 }).toBe('completed');
  return (await queue.getJob(jobId))!;
}

describe('schedules through the whole stack', () => {
  it('the workers installed the five schedules on start-up', async () => {
    const status = await scheduler.getSchedulerStatus();
    expect(status.map((s) => `${s.name} ${s.enabled}`)).toEqual(['hourly-aggregation true', 'daily-revenue true', 'monthly-cohorts true', 'weekly-tournaments true', 'scheduled-report true']);
  });

  it('trigger daily-revenue -> one BullMQ job -> workflow -> each tenant\'s last complete day, equal to the oracle', async () => {
    const before = Date.now();
    await scheduler.triggerTask('daily-revenue');
    const queue = workers.proc.queue;
    const find = async () => (await queue.queue.getJobs(['waiting', 'active', 'completed', 'failed'])).find((j) => j.id!.startsWith('daily-revenue-'));
    await expect.poll(find, { timeout: 30_000 }).toBeDefined();
    const job = await completedJob((await find())!.id!);
    const nominal = new Date(job.data.asOf as string);
    expect(nominal.getTime()).toBeGreaterThanOrEqual(before - 2_000);
    expect(job.id).toBe(scheduledJobId('daily-revenue', nominal));
    expect(job.returnvalue).toMatchObject({ totals: { tenants: 2, tasks: 2, succeeded: 2, failed: 0, rowsWritten: 2 } });
    for (const [tenantId, zone] of Object.entries(ZONES)) {
      const [from, to] = lastCompleteDay(nominal, zone);
      const expected = oracleRevenue(await loadRaw(t.pool, tenantId), 'day', from, to);
      const rows = (await revenueRows(t.pool, tenantId, 'day')).filter((r) => r.period_start === expected[0]!.period_start);
      expect(rows).toEqual(expected);
    }
  });

  it('a backfill over 7 past days enqueues 7 distinct jobs and produces 7 days of rows per tenant', async () => {
    await t.pool.query('DELETE FROM revenue_aggregates');
    const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const nominals = [7, 6, 5, 4, 3, 2, 1].map((d) => new Date(today - d * 86_400_000));
    const runs = () => completedScheduledRuns(client, scheduler.scheduleIdOf('daily-revenue'), nominals[0]!, new Date(today));
    await scheduler.backfillTask('daily-revenue', nominals[0]!, new Date(today));
    const jobs = await Promise.all(nominals.map((n) => completedJob(scheduledJobId('daily-revenue', n))));
    expect(new Set(jobs.map((j) => j.id)).size).toBe(7);
    for (const [tenantId, zone] of Object.entries(ZONES)) {
      const days = nominals.map((n) => lastCompleteDay(n, zone));
      const rows = await revenueRows(t.pool, tenantId, 'day');
      const raw = await loadRaw(t.pool, tenantId);
      // Seven distinct days, each the tenant's last complete day at one nominal time.
      expect(rows).toEqual(days.flatMap(([from, to]) => oracleRevenue(raw, 'day', from, to)));
    }

    await expect.poll(runs, { timeout: 30_000, interval: 500 }).toBe(7);

    // The same nominal times again (a doubled trigger): once its seven trigger runs have completed
    // (each tried to enqueue its job), the facade has added nothing new.
    await scheduler.backfillTask('daily-revenue', nominals[0]!, new Date(today));
    await expect.poll(runs, { timeout: 30_000, interval: 500 }).toBe(14);
    const all = await workers.proc.queue.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    const backfilled = all.filter((j) => nominals.some((n) => j.id === scheduledJobId('daily-revenue', n)));
    expect(backfilled).toHaveLength(7);
    for (const j of backfilled) expect(j.attemptsMade).toBe(1);
  });
});
