import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { loadConfig } from '../src/config';
import { createScheduler, type ScheduleOwner } from '../src/scheduler/scheduler';
import { runCli } from './helpers/cli';
import { uniqueSuffix } from './helpers/config';
import { startTriggerWorker, type TriggerWorker } from './helpers/trigger-worker';

// Two deployments (another queue and task queue) in one namespace: schedule ids carry a prefix
// per deployment, the owner is recorded in each schedule's memo, and a deployment never re-points
// a schedule another one owns. A trigger run links to the job and workflow it enqueued.

const NAMES = ['daily-revenue', 'hourly-aggregation', 'monthly-cohorts', 'scheduled-report', 'weekly-tournaments'];

describe('schedules belong to a deployment', () => {
  const suffix = uniqueSuffix();
  const tqA = `deploy-a-${suffix}-schedules`;
  const tqB = `deploy-b-${suffix}-schedules`;
  let triggers: TriggerWorker;
  let client: Client;
  let ownerA: ScheduleOwner;
  const ownerB: ScheduleOwner = { queue: `qb-${suffix}`, taskQueue: tqB };

  beforeAll(async () => {
    triggers = await startTriggerWorker(tqA, 'deploy');
    client = triggers.client;
    // Deployment A's jobs go to the queue its trigger worker enqueues into.
    ownerA = { queue: triggers.queue.name, taskQueue: tqA };
  });

  afterAll(async () => {
    for await (const s of client.schedule.list()) await client.schedule.getHandle(s.scheduleId).delete();
    await triggers?.close();
  });

  const actionTaskQueue = async (id: string) => {
    const d = await client.schedule.getHandle(id).describe();
    return d.action.type === 'startWorkflow' ? d.action.taskQueue : undefined;
  };

  it('derives the prefix from the queue name unless SCHEDULE_ID_PREFIX says otherwise; the default queue keeps the plain names', () => {
    expect(loadConfig({}).scheduleIdPrefix).toBe('');
    expect(loadConfig({ QUEUE_NAME: 'reports' }).scheduleIdPrefix).toBe('reports-');
    expect(loadConfig({ QUEUE_NAME: 'reports', SCHEDULE_ID_PREFIX: 'eu-' }).scheduleIdPrefix).toBe('eu-');
    expect(() => loadConfig({ SCHEDULE_ID_PREFIX: 'a b' })).toThrow(/SCHEDULE_ID_PREFIX/);
  });

  it('records the owner; another deployment with the same ids leaves them alone, one with its own prefix gets its own', async () => {
    const a = createScheduler({ client, taskQueue: tqA, owner: ownerA });
    expect((await a.initializeScheduler()).created.sort()).toEqual(NAMES);
    const status = await a.describeTask('daily-revenue');
    expect(status).toMatchObject({ name: 'daily-revenue', scheduleId: 'daily-revenue', owner: ownerA });

    // B asks for the same ids: nothing is updated, and every schedule still points at A.
    const warnings: string[] = [];
    const logger = { warn: (_o: unknown, msg: string) => warnings.push(msg), info: () => {} } as never;
    const b = createScheduler({ client, taskQueue: tqB, owner: ownerB, logger });
    const clash = await b.initializeScheduler();
    expect(clash.created).toEqual([]);
    expect(clash.updated).toEqual([]);
    expect(clash.skipped.map((s) => s.scheduleId).sort()).toEqual(NAMES);
    expect(clash.skipped[0]!.owner).toEqual(ownerA);
    expect(warnings).toHaveLength(NAMES.length);
    expect(warnings[0]).toMatch(/belongs to another deployment .*SCHEDULE_ID_PREFIX/);
    for (const id of NAMES) expect(await actionTaskQueue(id)).toBe(tqA);
    // Nor does B delete them.
    await b.destroyScheduler();
    expect((await a.getSchedulerStatus()).map((s) => s.scheduleId).sort()).toEqual(NAMES);

    // A again: its own schedules are updated as before.
    expect((await a.initializeScheduler()).updated.sort()).toEqual(NAMES);

    // B with a prefix of its own: its own five schedules, pointing at B.
    const bPrefixed = createScheduler({ client, taskQueue: tqB, owner: ownerB, idPrefix: 'qb-' });
    expect((await bPrefixed.initializeScheduler()).created.sort()).toEqual(NAMES.map((n) => `qb-${n}`));
    expect(await actionTaskQueue('qb-daily-revenue')).toBe(tqB);
    expect(await bPrefixed.describeTask('daily-revenue')).toMatchObject({ name: 'daily-revenue', scheduleId: 'qb-daily-revenue', owner: ownerB });
    await bPrefixed.stopScheduler();
    expect((await bPrefixed.getSchedulerStatus()).every((s) => !s.enabled)).toBe(true);
    expect((await a.getSchedulerStatus()).every((s) => s.enabled)).toBe(true);
    await bPrefixed.destroyScheduler();
    for (const id of NAMES) expect(await actionTaskQueue(id)).toBe(tqA);
  });

  it('a schedule with no recorded owner belongs to whoever serves its trigger task queue', async () => {
    // As created before owners were recorded: no memo owner.
    const legacy = createScheduler({ client, taskQueue: tqA, idPrefix: 'legacy-' });
    expect((await legacy.initializeScheduler()).created).toHaveLength(NAMES.length);
    expect((await legacy.describeTask('daily-revenue')).owner).toBeNull();
    const b = createScheduler({ client, taskQueue: tqB, owner: ownerB, idPrefix: 'legacy-' });
    expect((await b.initializeScheduler()).skipped).toHaveLength(NAMES.length);
    expect(await actionTaskQueue('legacy-daily-revenue')).toBe(tqA);
    const a = createScheduler({ client, taskQueue: tqA, owner: ownerA, idPrefix: 'legacy-' });
    expect((await a.initializeScheduler()).updated).toHaveLength(NAMES.length);
    // Adopted: the owner now sits in the action's memo (a schedule's own memo cannot change).
    expect((await a.describeTask('daily-revenue')).owner).toEqual(ownerA);
    await a.destroyScheduler();
  });

  it("each trigger run links to the job and the workflow it enqueued (memo and details)", async () => {
    const a = createScheduler({ client, taskQueue: tqA, owner: ownerA });
    await a.initializeScheduler();
    await a.triggerTask('weekly-tournaments');
    // The schedule's info is eventually consistent.
    const workflowId = await vi.waitFor(
      async () => {
        const last = (await a.describeTask('weekly-tournaments')).lastRun;
        if (!last) throw new Error('no run yet');
        return last.workflowId;
      },
      { timeout: 20_000, interval: 100 },
    );
    const run = client.workflow.getHandle(workflowId);
    const result = (await run.result()) as { jobId: string; created: boolean };
    expect(result.created).toBe(true);
    const job = await triggers.queue.getJob(result.jobId);
    expect(job?.data).toMatchObject({ type: 'tournaments', periodType: 'week' });
    const memo = (await run.describe()).memo as Record<string, unknown>;
    // Not the default queue: the bridge starts `aggregation/<queue>:<jobId>`.
    expect(memo).toMatchObject({ jobId: result.jobId, queue: ownerA.queue, jobWorkflowId: `aggregation/${ownerA.queue}:${result.jobId}` });
    const query = await run.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(query.currentDetails).toContain(`aggregation/${ownerA.queue}:${result.jobId}`);
  });

  it('`schedule install` of another deployment leaves the schedules alone and exits 1; `pause` and `unpause`/`resume` without a name need --all', async () => {
    // Each is a subprocess of a few seconds. The default queue (no prefix) on another task queue: A's ids, not A's owner.
    const env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: triggers.namespace, TEMPORAL_TASK_QUEUE: `deploy-c-${suffix}` };
    const [install, pause, resume] = await Promise.all([
      runCli(['schedule', 'install', '--json'], { env }),
      runCli(['schedule', 'pause']),
      runCli(['schedule', 'resume']),
    ]);
    expect(install.code, install.stderr).toBe(1);
    expect((JSON.parse(install.stdout) as { skipped: { scheduleId: string }[] }).skipped.map((x) => x.scheduleId).sort()).toEqual(NAMES);
    expect(install.stderr).toContain(`warning: schedule daily-revenue belongs to another deployment (queue ${ownerA.queue}, task queue ${tqA})`);
    for (const id of NAMES) expect(await actionTaskQueue(id)).toBe(tqA);
    for (const [verb, r] of [['pause', pause], ['resume', resume]] as const) {
      expect(r.code, verb).toBe(2);
      expect(r.stderr, verb).toMatch(/name a schedule .* or pass --all for every one/);
    }
  });
});
