import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AggregateSummary, AggregateTenantInput } from '../src/activities/types';
import { InvalidInputError } from '../src/errors/invalid-input-error';
import { TransientDatabaseError } from '../src/errors/transient-database-error';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { createTemporalWorker, workflowBundle } from '../src/temporal/worker';
import { progressQuery } from '../src/workflows/definitions';
import type { AggregationJobData, AggregationRunOptions } from '../src/workflows/types';
import { uniqueSuffix } from './helpers/config';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { activitiesWith, childIdsOf, createTimeSkippingEnv, eventually, EventType, eventsOf, runsOf } from './helpers/workflow-env';

// aggregationWorkflow on the time-skipping test server: the retry policy in simulated time,
// per-tenant isolation, chunking, bounded fan-out, continue-as-new at scale, cancellation and
// resumption. Planning is the real activity over a real Postgres schema; only the aggregation
// activity is replaced, as Temporal's testing guide does, so each test decides how tenants behave.

interface Call {
  input: AggregateTenantInput;
  attempt: number;
  startedAtMs: number;
  failedAtMs?: number;
}

let env: TestWorkflowEnvironment;
let t: TestDatabase;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `aggregation-${uniqueSuffix()}`;
let calls: Call[] = [];
let behaviour: (input: AggregateTenantInput, call: Call) => Promise<AggregateSummary>;
/** Workflow ids this file ran, replayed at the end. */
const ranWorkflows = new Set<string>();

function summary(input: AggregateTenantInput, rowsWritten = 7): AggregateSummary {
  return { tenantId: input.tenantId, type: input.type, periodType: input.periodType, rowsWritten, periodsCovered: 1, rangeStart: input.from, rangeEnd: input.to, durationMs: 1 };
}

/** The only active organizations are `ids` (earlier tests' tenants are marked deleted). */
async function tenants(ids: string[], timezone = 'UTC'): Promise<void> {
  await t.pool.query(`UPDATE organizations SET status = 'deleted'`);
  await t.pool.query(
    `INSERT INTO organizations (id, name, timezone, status) SELECT id, id, $2, 'active' FROM unnest($1::text[]) AS id
     ON CONFLICT (id) DO UPDATE SET status = 'active', timezone = EXCLUDED.timezone`,
    [ids, timezone],
  );
}

async function start(job: AggregationJobData, options?: AggregationRunOptions, jobId = `job-${uniqueSuffix()}`) {
  const handle = await startAggregationWorkflow(env.client, { job, jobId, requestedAt: '2025-11-06T12:00:00.000Z', options }, { taskQueue });
  ranWorkflows.add(handle.workflowId);
  return handle;
}

beforeAll(async () => {
  [env, t] = await Promise.all([createTimeSkippingEnv(), createTestDatabase('wfagg')]);
  worker = await createTemporalWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    maxConcurrentActivityTaskExecutions: 100,
    activities: activitiesWith(t.db, {
      async aggregateTenant(input) {
        const call: Call = { input, attempt: Context.current().info.attempt, startedAtMs: await env.currentTimeMs() };
        calls.push(call);
        try {
          return await behaviour(input, call);
        } catch (err) {
          call.failedAtMs = await env.currentTimeMs();
          throw err;
        }
      },
    }),
  });
  running = worker.run();
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await env?.teardown();
  await t?.drop();
});

beforeEach(() => {
  calls = [];
  behaviour = async (input) => summary(input);
});

describe('aggregationWorkflow (time-skipping)', () => {
  it('retries a failing tenant 5 s and 10 s (simulated) after each failure, gives up after 3 attempts, never retries bad input, and the other tenants succeed', async () => {
    await tenants(['t-bad', 't-flaky', 't-ok-1', 't-ok-2', 't-recovers']);
    behaviour = async (input, call) => {
      if (input.tenantId === 't-flaky') throw new TransientDatabaseError('database unavailable (connection refused)');
      if (input.tenantId === 't-bad') throw new InvalidInputError('periodStart', 'periodStart: "2025-13-01" is not a valid date');
      if (input.tenantId === 't-recovers' && call.attempt === 1) throw new TransientDatabaseError('connection reset');
      return summary(input);
    };
    const handle = await start({ type: 'revenue', periodType: 'day', periodStart: '2025-11-01', periodEnd: '2025-11-04' });
    const result = await handle.result();

    const attemptsOf = (tenantId: string) => calls.filter((c) => c.input.tenantId === tenantId).sort((a, b) => a.attempt - b.attempt);
    const flaky = attemptsOf('t-flaky');
    expect(flaky.map((c) => c.attempt)).toEqual([1, 2, 3]);
    // Attempt 2 starts 5 s after attempt 1 failed, attempt 3 10 s after attempt 2 failed (simulated
    // time; the small excess is the test server's own processing).
    const gap1 = flaky[1]!.startedAtMs - flaky[0]!.failedAtMs!;
    const gap2 = flaky[2]!.startedAtMs - flaky[1]!.failedAtMs!;
    expect(gap1).toBeGreaterThanOrEqual(5_000);
    expect(gap1).toBeLessThan(6_000);
    expect(gap2).toBeGreaterThanOrEqual(10_000);
    expect(gap2).toBeLessThan(11_000);
    expect(attemptsOf('t-bad').map((c) => c.attempt)).toEqual([1]);
    expect(attemptsOf('t-recovers').map((c) => c.attempt)).toEqual([1, 2]);
    expect(attemptsOf('t-ok-1').map((c) => c.attempt)).toEqual([1]);

    expect(result.totals).toEqual({ tenants: 5, tasks: 5, succeeded: 3, failed: 2, rowsWritten: 21 });
    expect(result.outcomes).toEqual([
      { tenantId: 't-bad', type: 'revenue', status: 'failed', errorType: 'InvalidInputError', message: 'periodStart: "2025-13-01" is not a valid date', attempts: 1 },
      { tenantId: 't-flaky', type: 'revenue', status: 'failed', errorType: 'TransientDatabaseError', message: 'database unavailable (connection refused)', attempts: 3 },
      { tenantId: 't-ok-1', type: 'revenue', status: 'succeeded', rowsWritten: 7, periodsCovered: 1, attempts: 1 },
      { tenantId: 't-ok-2', type: 'revenue', status: 'succeeded', rowsWritten: 7, periodsCovered: 1, attempts: 1 },
      { tenantId: 't-recovers', type: 'revenue', status: 'succeeded', rowsWritten: 7, periodsCovered: 1, attempts: 2 },
    ]);
    expect(result.outcomesOmitted).toBe(0);
    expect(result.chunks).toEqual({ total: 5, done: 3, failed: 2, skipped: 0, resumed: 0 });
    expect(await handle.query(progressQuery)).toEqual({ total: 5, done: 3, failed: 2, currentPeriod: null });
  });

  it('splits a 90-day backfill into calls of 30 periods per tenant and type, tenant-local dates, cohorts by month', async () => {
    await tenants(['t-berlin'], 'Europe/Berlin');
    const handle = await start(
      { type: 'all', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-10-30' },
      { periodsPerActivity: 30 },
    );
    const result = await handle.result();
    const seen = calls.map((c) => `${c.input.type} ${c.input.periodType} ${c.input.from}..${c.input.to} asOf ${c.input.asOf}`).sort();
    // 2025-08-01 + 30 days = 08-31, + 30 = 09-30, + 30 = 10-30; cohort months Aug, Sep, Oct in one call.
    expect(seen).toEqual([
      'cohorts month 2025-08-01..2025-11-01 asOf 2025-11-06T12:00:00.000Z',
      'revenue day 2025-08-01..2025-08-31 asOf 2025-11-06T12:00:00.000Z',
      'revenue day 2025-08-31..2025-09-30 asOf 2025-11-06T12:00:00.000Z',
      'revenue day 2025-09-30..2025-10-30 asOf 2025-11-06T12:00:00.000Z',
      'tournaments day 2025-08-01..2025-08-31 asOf 2025-11-06T12:00:00.000Z',
      'tournaments day 2025-08-31..2025-09-30 asOf 2025-11-06T12:00:00.000Z',
      'tournaments day 2025-09-30..2025-10-30 asOf 2025-11-06T12:00:00.000Z',
    ]);
    expect(result.totals).toEqual({ tenants: 1, tasks: 3, succeeded: 3, failed: 0, rowsWritten: 49 });
    expect(result.chunks).toEqual({ total: 7, done: 7, failed: 0, skipped: 0, resumed: 0 });
  });

  it('after a call fails for good, skips the later chunks of that tenant and type only', async () => {
    await tenants(['t-a', 't-b']);
    behaviour = async (input) => {
      if (input.tenantId === 't-a' && input.type === 'revenue' && input.from === '2025-08-11') throw new InvalidInputError('tenantId', 'tenantId: boom');
      return summary(input);
    };
    const result = await (await start({ type: 'revenue', periodStart: '2025-08-01', periodEnd: '2025-08-31' }, { periodsPerActivity: 10, maxConcurrentActivities: 1 })).result();
    // t-a: 08-01 ok, 08-11 fails, 08-21 skipped; t-b: all three.
    expect(calls.map((c) => `${c.input.tenantId} ${c.input.from}`).sort()).toEqual(['t-a 2025-08-01', 't-a 2025-08-11', 't-b 2025-08-01', 't-b 2025-08-11', 't-b 2025-08-21']);
    expect(result.chunks).toEqual({ total: 6, done: 4, failed: 1, skipped: 1, resumed: 0 });
    expect(result.outcomes.map((o) => `${o.tenantId} ${o.status}`)).toEqual(['t-a failed', 't-b succeeded']);
  });

  it('keeps at most maxConcurrentActivities calls in flight', async () => {
    await tenants(Array.from({ length: 12 }, (_, i) => `t-c${String(i).padStart(2, '0')}`));
    let inFlight = 0;
    let most = 0;
    behaviour = async (input) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 150));
      inFlight -= 1;
      return summary(input);
    };
    const result = await (await start({ type: 'revenue' }, { maxConcurrentActivities: 3 })).result();
    expect(result.totals.succeeded).toBe(12);
    // The worker would run 100 at once; the workflow schedules 3 at a time, and does use all 3.
    expect(most).toBe(3);
  });

  it('fails the run when the job itself is bad, naming the field, without retrying the planning', async () => {
    await tenants(['t-any']);
    const handle = await start({ type: 'revenue', periodStart: '2025-02-30', periodEnd: '2025-03-05' });
    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InvalidPeriodError');
    expect((cause as ApplicationFailure).message).toMatch(/^planning the job failed: periodStart: /);
    const history = await handle.fetchHistory();
    expect(eventsOf(history, EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED).map((e) => e.activityTaskStartedEventAttributes?.attempt)).toEqual([1]);
    expect(calls).toEqual([]);
  });

  it('fans out over 5,000 tenants in chunk children that continue as new, each history bounded', async () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => `t-${String(i).padStart(5, '0')}`);
    await tenants(ids);
    const maxHistoryEvents = 1_500;
    const handle = await start({ type: 'revenue' }, { tenantsPerChild: 1_000, maxConcurrentChildren: 2, maxConcurrentActivities: 100, maxHistoryEvents });
    const result = await handle.result();

    expect(result.totals).toEqual({ tenants: 5_000, tasks: 5_000, succeeded: 5_000, failed: 0, rowsWritten: 35_000 });
    expect(result.outcomes).toHaveLength(2_000);
    expect(result.outcomesOmitted).toBe(3_000);
    // Every tenant was aggregated exactly once.
    expect(new Set(calls.map((c) => c.input.tenantId)).size).toBe(5_000);
    expect(calls).toHaveLength(5_000);

    const parent = await handle.fetchHistory();
    const children = childIdsOf(parent);
    expect(children).toEqual([1, 2, 3, 4, 5].map((n) => `${handle.workflowId}/chunk-${n}`));
    // The parent sees each child start and end and about ten progress signals from it, however
    // many tenants the child has: tens of events per child, not thousands.
    expect(parent.events!.length).toBeLessThan(children.length * 60);
    let runs = 0;
    for (const id of children) {
      const chain = await runsOf(env.client, id);
      runs += chain.length;
      // 1,000 calls take ~4,000 events: more than one run each, none past the budget (plus the
      // calls already in flight when the budget was reached).
      expect(chain.length).toBeGreaterThan(1);
      for (const run of chain) expect(run.history.events!.length).toBeLessThan(maxHistoryEvents + 500);
    }
    expect(runs).toBeGreaterThan(5);
  });

  it('reports live progress, stops on cancellation, records what it completed, and a restart with the same job id skips it', async () => {
    await tenants(['t-r1', 't-r2', 't-r3', 't-r4']);
    const jobId = `resume-${uniqueSuffix()}`;
    const job: AggregationJobData = { type: 'revenue', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-10-30' };
    const options: AggregationRunOptions = { periodsPerActivity: 10, maxConcurrentActivities: 2 };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    behaviour = async (input) => {
      if (calls.length > 12) await gate;
      return summary(input);
    };
    try {
      const first = await start(job, options, jobId);
      // 4 tenants × 9 chunks of 10 days = 36 calls, chunk by chunk: 12 complete (chunks 08-01,
      // 08-11 and 08-21 of every tenant), then the gate holds the next two (chunk 08-31..09-10).
      const child = env.client.workflow.getHandle(`${first.workflowId}/chunk-1`);
      const exact = await eventually(async () => {
        const p = await child.query(progressQuery).catch(() => undefined);
        return p?.done === 12 ? p : undefined;
      }, 'the chunk child to have 12 calls done');
      expect(exact).toEqual({ total: 36, done: 12, failed: 0, currentPeriod: 'day 2025-08-31..2025-09-10' });
      // The parent hears from its child every tenth of the way (12 = 3 × ceil(36 / 10)).
      const live = await eventually(async () => {
        const p = await first.query(progressQuery);
        return p.done === 12 ? p : undefined;
      }, 'the parent to report 12 calls done');
      expect(live).toMatchObject({ total: 36, done: 12, failed: 0 });
      // Sent when the 12th call settled: the call just started then was of chunk 08-21 or 08-31.
      expect(live.currentPeriod).toMatch(/^day 2025-08-(21\.\.2025-08-31|31\.\.2025-09-10)$/);
      await resumeAfterCancel(first, job, options, jobId);
    } finally {
      release();
    }
  });

  it('a resumed run also skips a chunk child that had completed before the parent was cancelled', async () => {
    await tenants(['t-m1', 't-m2', 't-m3', 't-m4']);
    const jobId = `resume-multi-${uniqueSuffix()}`;
    const job: AggregationJobData = { type: 'revenue', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-08-21' };
    // Two children of two tenants; each tenant has 2 calls of 10 days. The second child waits.
    const options: AggregationRunOptions = { periodsPerActivity: 10, tenantsPerChild: 2 };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    behaviour = async (input) => {
      if (input.tenantId === 't-m3' || input.tenantId === 't-m4') await gate;
      return summary(input);
    };
    try {
      const first = await start(job, options, jobId);
      const child1 = env.client.workflow.getHandle(`${first.workflowId}/chunk-1`);
      await eventually(async () => ((await child1.describe().catch(() => undefined))?.status.name === 'COMPLETED' ? true : undefined), 'child 1 to complete');
      await first.cancel();
      await first.result().catch(() => undefined);
      const { rows: ledger } = await t.pool.query<{ tenant_id: string }>('SELECT tenant_id FROM backfill_chunks WHERE job_key = $1 ORDER BY 1', [first.workflowId]);
      expect(ledger.map((r) => r.tenant_id)).toEqual(['t-m1', 't-m1', 't-m2', 't-m2']);

      calls = [];
      behaviour = async (input) => summary(input);
      const result = await (await start(job, options, jobId)).result();
      expect(calls.map((c) => c.input.tenantId).sort()).toEqual(['t-m3', 't-m3', 't-m4', 't-m4']);
      expect(result.chunks).toEqual({ total: 8, done: 4, failed: 0, skipped: 0, resumed: 4 });
      expect(result.totals).toMatchObject({ tenants: 4, tasks: 4, succeeded: 4, failed: 0 });
    } finally {
      release();
    }
  });

  async function resumeAfterCancel(first: Awaited<ReturnType<typeof start>>, job: AggregationJobData, options: AggregationRunOptions, jobId: string) {
    await first.cancel();
    const err = await first.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await env.client.workflow.getHandle(`${first.workflowId}/chunk-1`).describe()).status.name).toBe('CANCELLED');
    const { rows: ledger } = await t.pool.query<{ tenant_id: string; range_from: string }>(
      'SELECT tenant_id, range_from FROM backfill_chunks WHERE job_key = $1',
      [first.workflowId],
    );
    expect(ledger).toHaveLength(12);
    const doneBefore = new Set(ledger.map((r) => `${r.tenant_id} ${r.range_from}`));

    calls = [];
    behaviour = async (input) => summary(input);
    const second = await start(job, options, jobId);
    expect(second.workflowId).toBe(first.workflowId);
    const result = await second.result();
    const redone = calls.filter((c) => doneBefore.has(`${c.input.tenantId} ${c.input.from}`));
    expect(redone).toEqual([]);
    expect(calls).toHaveLength(24);
    expect(result.chunks).toEqual({ total: 36, done: 24, failed: 0, skipped: 0, resumed: 12 });
    expect(result.totals).toMatchObject({ tenants: 4, tasks: 4, succeeded: 4, failed: 0, rowsWritten: 36 * 7 });
    const { rows: left } = await t.pool.query('SELECT 1 FROM backfill_chunks WHERE job_key = $1', [first.workflowId]);
    expect(left).toEqual([]);
  }

  it('replays every history this file produced without non-determinism', async () => {
    const histories: { workflowId: string; history: Awaited<ReturnType<typeof runsOf>>[number]['history'] }[] = [];
    for (const workflowId of ranWorkflows) {
      for (const run of await runsOf(env.client, workflowId)) histories.push({ workflowId, history: run.history });
      for (const child of childIdsOf((await runsOf(env.client, workflowId)).at(-1)!.history)) {
        for (const run of await runsOf(env.client, child)) histories.push({ workflowId: child, history: run.history });
      }
    }
    expect(histories.length).toBeGreaterThan(20);
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
    let replayed = 0;
    for await (const r of results) {
      expect(r.error, `${r.workflowId}: ${String(r.error)}`).toBeUndefined();
      replayed += 1;
    }
    expect(replayed).toBe(histories.length);
  });
});
