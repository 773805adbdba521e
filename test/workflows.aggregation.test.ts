import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AggregationJobData, AggregationRunOptions, AggregationWorkflowResult, TenantAggregationInput, TenantAggregationResult } from '../src/contract/aggregation';
import { InactiveTenantError, InvalidDataError, InvalidInputError, TransientDatabaseError, UnknownTenantError } from '../src/errors';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { createTemporalWorker, workflowBundle } from '../src/temporal/worker';
import { progressQuery } from '../src/workflows/definitions';
import { uniqueSuffix } from './helpers/config';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { activitiesWith, childIdsOf, createTimeSkippingEnv, eventually, EventType, eventsOf, executionTree, runChain } from './helpers/workflow-env';

// aggregationWorkflow and its chunk children on the time-skipping test server: the retry policy
// in simulated time, per-tenant isolation, bounded concurrency, continue-as-new, cancellation and
// resumption from the outcome rows. Planning is the real activity over a real Postgres schema;
// aggregateTenant is replaced, as Temporal's testing guide does, so each test decides how tenants
// behave; where a test needs outcome rows (resumption) the stub calls the real activity, so the
// rows are the ones production writes.

interface Call {
  input: TenantAggregationInput;
  attempt: number;
  isLocal: boolean;
  startedAtMs: number;
  failedAtMs?: number;
}

let env: TestWorkflowEnvironment;
let t: TestDatabase;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `aggregation-${uniqueSuffix()}`;
let calls: Call[] = [];
let planCalls: string[] = [];
let behaviour: (input: TenantAggregationInput, call: Call) => Promise<TenantAggregationResult>;
/** Every run this file started (workflow id and first run id), replayed at the end. */
const ranWorkflows: { workflowId: string; runId: string }[] = [];
const REQUESTED_AT = '2025-11-06T12:00:00.000Z';
/** The real activities over the test schema, for stubs that delegate. */
let real: ReturnType<typeof activitiesWith>;

const ok = (input: TenantAggregationInput, rowsWritten = 7): TenantAggregationResult => ({ tenantId: input.tenantId, status: 'succeeded', rowsWritten });

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
  const handle = await startAggregationWorkflow(env.client, { job, jobId, requestedAt: REQUESTED_AT, options }, { taskQueue });
  ranWorkflows.push({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId });
  return handle;
}

/** The failure a run ended with. */
async function failureOf(handle: Awaited<ReturnType<typeof start>>): Promise<WorkflowFailedError> {
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return err as WorkflowFailedError;
}

/** The TenantsFailedError a run ended with, and the result in its details. */
async function tenantsFailed(handle: Awaited<ReturnType<typeof start>>): Promise<{ failure: ApplicationFailure; result: AggregationWorkflowResult }> {
  const cause = (await failureOf(handle)).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  const failure = cause as ApplicationFailure;
  expect(failure.type).toBe('TenantsFailedError');
  return { failure, result: failure.details![0] as AggregationWorkflowResult };
}

const byTenant = <T extends { tenantId: string }>(xs: T[]) => [...xs].sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));

async function outcomeRows(jobKey: string): Promise<string[]> {
  const { rows } = await t.pool.query<{ tenant_id: string; type: string; status: string; attempts: number }>(
    `SELECT tenant_id, type, status, attempts FROM aggregation_outcomes WHERE job_key = $1 ORDER BY tenant_id COLLATE "C", type`,
    [jobKey],
  );
  return rows.map((r) => `${r.tenant_id} ${r.type} ${r.status} ${r.attempts}`);
}

beforeAll(async () => {
  [env, t] = await Promise.all([createTimeSkippingEnv(), createTestDatabase('wfagg')]);
  real = activitiesWith(t.db);
  worker = await createTemporalWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    maxConcurrentActivityTaskExecutions: 100,
    maxConcurrentLocalActivityExecutions: 100,
    activities: activitiesWith(t.db, {
      async planJob(req) {
        planCalls.push(req.job.type);
        return real.planJob(req);
      },
      async aggregateTenant(input) {
        const info = Context.current().info;
        const call: Call = { input, attempt: info.attempt, isLocal: info.isLocal, startedAtMs: await env.currentTimeMs() };
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
  planCalls = [];
  behaviour = async (input) => ok(input);
});

const attemptsOf = (tenantId: string) => calls.filter((c) => c.input.tenantId === tenantId).sort((a, b) => a.attempt - b.attempt);

describe('aggregationWorkflow (time-skipping)', () => {
  it('retries a failing tenant 5 s and 10 s after each failure, gives up after 3 attempts, never retries bad input, the others succeed, and the run fails naming the failed tenants', async () => {
    await tenants(['t-bad', 't-flaky', 't-ok-1', 't-ok-2', 't-recovers']);
    behaviour = async (input, call) => {
      if (input.tenantId === 't-flaky') throw new TransientDatabaseError('database unavailable (connection refused)');
      if (input.tenantId === 't-bad') throw new InvalidInputError('periodStart', 'periodStart: "2025-13-01" is not a valid date');
      if (input.tenantId === 't-recovers' && call.attempt === 1) throw new TransientDatabaseError('connection reset');
      return ok(input);
    };
    const handle = await start({ type: 'revenue', periodType: 'day', periodStart: '2025-11-01', periodEnd: '2025-11-04' });
    const { failure, result } = await tenantsFailed(handle);

    const flaky = attemptsOf('t-flaky');
    expect(flaky.map((c) => c.attempt)).toEqual([1, 2, 3]);
    // Attempt 2 starts 5 s after attempt 1 failed, attempt 3 10 s after attempt 2 failed, on the
    // test server's clock (the backoff waits in the worker, so this takes 15 s of real time; see
    // AGGREGATION_LOCAL_RETRY_THRESHOLD); the small excess is the worker's own processing.
    const gap1 = flaky[1]!.startedAtMs - flaky[0]!.failedAtMs!;
    const gap2 = flaky[2]!.startedAtMs - flaky[1]!.failedAtMs!;
    expect(gap1).toBeGreaterThanOrEqual(5_000);
    expect(gap1).toBeLessThan(6_000);
    expect(gap2).toBeGreaterThanOrEqual(10_000);
    expect(gap2).toBeLessThan(11_000);
    expect(attemptsOf('t-bad').map((c) => c.attempt)).toEqual([1]);
    expect(attemptsOf('t-recovers').map((c) => c.attempt)).toEqual([1, 2]);
    expect(attemptsOf('t-ok-1').map((c) => c.attempt)).toEqual([1]);
    expect(attemptsOf('t-ok-2').map((c) => c.attempt)).toEqual([1]);
    // Local activities by default; each call gets the job's fixed as-of and its workflow id as the outcome key.
    expect(new Set(calls.map((c) => c.isLocal))).toEqual(new Set([true]));
    expect(new Set(calls.map((c) => `${c.input.jobKey} ${c.input.asOf}`))).toEqual(new Set([`${handle.workflowId} ${REQUESTED_AT}`]));

    // One revenue task per tenant; 3 succeeded × 7 rows.
    expect(result.totals).toEqual({ tenants: 5, tasks: 5, succeeded: 3, failed: 2, resumed: 0, rowsWritten: 21 });
    expect(byTenant(result.failedTenants)).toEqual([
      { tenantId: 't-bad', errorType: 'InvalidInputError', message: 'periodStart: "2025-13-01" is not a valid date', attempts: 1 },
      { tenantId: 't-flaky', errorType: 'TransientDatabaseError', message: 'database unavailable (connection refused)', attempts: 3 },
    ]);
    expect(result).toMatchObject({ workflowId: handle.workflowId, failedTenantsOmitted: 0, children: 1, runs: 1 });
    expect(failure.message).toMatch(/^2 of 5 tenants failed: /);
    expect(failure.message).toContain('t-bad (InvalidInputError: periodStart: "2025-13-01" is not a valid date)');
    expect(failure.message).toContain('t-flaky (TransientDatabaseError: database unavailable (connection refused))');
    // A transient failure may pass on the job's next attempt: the failure is retryable.
    expect(failure.nonRetryable).toBe(false);
    expect(await handle.query(progressQuery)).toEqual({ total: 5, done: 3, failed: 2, currentPeriod: null });
  });

  it('fails non-retryably when every failure is bad input or bad data, caps the failed list, and counts the rest', async () => {
    await tenants(['u-1', 'u-2', 'u-3', 'u-4', 'u-ok']);
    behaviour = async (input) => {
      if (input.tenantId === 'u-1') throw new UnknownTenantError('u-1');
      if (input.tenantId === 'u-2') throw new InactiveTenantError('u-2', 'suspended');
      if (input.tenantId === 'u-3') throw new InvalidDataError('numeric field overflow', '22003');
      if (input.tenantId === 'u-4') throw new InvalidInputError('organizations.timezone', 'organizations.timezone: "Mars/Olympus_Mons" is not an IANA timezone');
      return ok(input, 2);
    };
    const handle = await start({ type: 'all' }, { maxFailedListed: 2 });
    const { failure, result } = await tenantsFailed(handle);
    expect(failure.nonRetryable).toBe(true);
    // Every call made once: none of these errors is retried.
    expect(calls.map((c) => `${c.input.tenantId} ${c.attempt}`).sort()).toEqual(['u-1 1', 'u-2 1', 'u-3 1', 'u-4 1', 'u-ok 1']);
    // 'all' is 3 tasks per tenant: 5 tenants = 15 tasks, 4 failed tenants = 12 failed tasks.
    expect(result.totals).toEqual({ tenants: 5, tasks: 15, succeeded: 3, failed: 12, resumed: 0, rowsWritten: 2 });
    expect(result.failedTenants).toHaveLength(2);
    expect(result.failedTenantsOmitted).toBe(2);
    const types = new Map([
      ['u-1', 'UnknownTenantError'],
      ['u-2', 'InactiveTenantError'],
      ['u-3', 'InvalidDataError'],
      ['u-4', 'InvalidInputError'],
    ]);
    for (const f of result.failedTenants) expect(f.errorType).toBe(types.get(f.tenantId));
    expect(failure.message).toMatch(/^4 of 5 tenants failed: .*; and 2 more$/);
  });

  it('a one-tenant job for an unknown tenant fails non-retryably through the real activity, which records the failure', async () => {
    await tenants(['w-1']);
    behaviour = (input) => real.aggregateTenant(input);
    const handle = await start({ type: 'revenue', tenantId: 'nobody' });
    const { failure, result } = await tenantsFailed(handle);
    expect(failure.nonRetryable).toBe(true);
    expect(result.failedTenants).toEqual([{ tenantId: 'nobody', errorType: 'UnknownTenantError', message: 'tenantId: unknown tenant "nobody"', attempts: 1 }]);
    expect(result.totals).toEqual({ tenants: 1, tasks: 1, succeeded: 0, failed: 1, resumed: 0, rowsWritten: 0 });
    expect(await outcomeRows(handle.workflowId)).toEqual(['nobody revenue failed 1']);
  });

  it('runs the tenant activities as regular activities when asked, with the same retry policy', async () => {
    await tenants(['g-1', 'g-2']);
    behaviour = async (input, call) => {
      if (input.tenantId === 'g-2' && call.attempt < 3) throw new TransientDatabaseError('connection reset');
      return ok(input, 4);
    };
    const handle = await start({ type: 'revenue' }, { activityKind: 'regular' });
    const result = await handle.result();
    expect(result.totals).toEqual({ tenants: 2, tasks: 2, succeeded: 2, failed: 0, resumed: 0, rowsWritten: 8 });
    expect(new Set(calls.map((c) => c.isLocal))).toEqual(new Set([false]));
    const g2 = attemptsOf('g-2');
    expect(g2.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(g2[1]!.startedAtMs - g2[0]!.failedAtMs!).toBeGreaterThanOrEqual(5_000);
    expect(g2[2]!.startedAtMs - g2[1]!.failedAtMs!).toBeGreaterThanOrEqual(10_000);
    const [child] = await runChain(env.client, `${handle.workflowId}/chunk-1`, (await env.client.workflow.getHandle(`${handle.workflowId}/chunk-1`).describe()).runId);
    const scheduled = eventsOf(child!.history, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name);
    expect(scheduled).toEqual(['aggregateTenant', 'aggregateTenant']);
  });

  it('keeps at most maxConcurrentActivities in flight over all its children, and uses them all', async () => {
    // 24 tenants in 6 children of 4; 3 children at once, each with 6 / 3 = 2 activities.
    await tenants(Array.from({ length: 24 }, (_, i) => `t-c${String(i).padStart(2, '0')}`));
    const limit = 6;
    let inFlight = 0;
    let most = 0;
    let fill!: () => void;
    const full = new Promise<void>((r) => (fill = r));
    behaviour = async (input) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      if (inFlight >= limit) fill();
      // The first calls wait until `limit` are in flight at once; a guard, not a pace.
      let guard: NodeJS.Timeout | undefined;
      await Promise.race([full, new Promise((_, reject) => (guard = setTimeout(() => reject(new Error(`only ${most} calls were ever in flight`)), 30_000)))]);
      clearTimeout(guard);
      inFlight -= 1;
      return ok(input);
    };
    const handle = await start({ type: 'revenue' }, { maxConcurrentActivities: limit, tenantsPerChild: 4, maxConcurrentChildren: 3 });
    const result = await handle.result();
    expect(result.totals.succeeded).toBe(24);
    expect(result.children).toBe(6);
    // The worker would run 100 at once; the workflows schedule 6 at a time, and do use all 6.
    expect(most).toBe(limit);
    expect(childIdsOf(await handle.fetchHistory())).toEqual([1, 2, 3, 4, 5, 6].map((n) => `${handle.workflowId}/chunk-${n}`));
  });

  it('fails the run when the job itself is bad, naming the field, without retrying the planning or starting a child', async () => {
    await tenants(['t-any']);
    const handle = await start({ type: 'revenue', periodStart: '2025-02-30', periodEnd: '2025-03-05' });
    const cause = (await failureOf(handle)).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('InvalidPeriodError');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    expect((cause as ApplicationFailure).message).toMatch(/^planning the job failed: periodStart: /);
    expect(planCalls).toEqual(['revenue']);
    expect(childIdsOf(await handle.fetchHistory())).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('continues as new, parent and children, when their histories reach maxHistoryEvents, and still runs every tenant exactly once', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `t-n${String(i).padStart(2, '0')}`);
    await tenants(ids);
    const maxHistoryEvents = 20;
    const jobId = `can-${uniqueSuffix()}`;
    const chunk1 = `aggregation/${jobId}/chunk-1`;
    // A child sees its history grow only when a new workflow task starts; local activities keep
    // one task open (the SDK heartbeats it every few seconds). t-n05 is held until chunk-1's
    // history on the server has passed the budget; with one activity per child at a time the
    // rest of the page waits behind it, so chunk-1 must continue as new mid-page.
    behaviour = async (input) => {
      if (input.tenantId === 't-n05') {
        await eventually(
          async () => ((await env.client.workflow.getHandle(chunk1).fetchHistory()).events!.length >= maxHistoryEvents ? true : undefined),
          'chunk-1 history to pass the budget',
        );
      }
      return ok(input);
    };
    const handle = await start({ type: 'all' }, { tenantsPerChild: 20, maxConcurrentChildren: 2, maxConcurrentActivities: 2, maxHistoryEvents }, jobId);
    const result = await handle.result();
    expect(result.totals).toEqual({ tenants: 60, tasks: 180, succeeded: 180, failed: 0, resumed: 0, rowsWritten: 420 });
    expect(result.children).toBe(3);
    expect(result.runs).toBeGreaterThan(1);
    expect(calls.map((c) => c.input.tenantId).sort()).toEqual(ids);
    const tree = await executionTree(env.client, handle.workflowId, handle.firstExecutionRunId);
    const parentRuns = tree.filter((r) => r.workflowId === handle.workflowId);
    expect(parentRuns).toHaveLength(result.runs);
    // Children numbered on across the parent's runs, each started once.
    expect(parentRuns.flatMap((r) => childIdsOf(r.history))).toEqual([1, 2, 3].map((n) => `${handle.workflowId}/chunk-${n}`));
    const chunk1Runs = tree.filter((r) => r.workflowId === chunk1);
    expect(chunk1Runs.length).toBeGreaterThan(1);
    // The later runs start from the carried state: they list no tenants again.
    for (const run of chunk1Runs.slice(1)) {
      const names = eventsOf(run.history, EventType.EVENT_TYPE_MARKER_RECORDED).map((e) => Buffer.from(e.markerRecordedEventAttributes!.details!.data!.payloads![0]!.data!).toString());
      expect(names.some((n) => n.includes('"pendingTenants"'))).toBe(false);
    }
    expect(await handle.query(progressQuery)).toEqual({ total: 60, done: 60, failed: 0, currentPeriod: null });
  });

  it('reports live progress, stops on cancellation, and a restart with the same job id runs only the tenants without a succeeded outcome', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `t-r${String(i + 1).padStart(2, '0')}`);
    await tenants(ids);
    const jobId = `resume-${uniqueSuffix()}`;
    // Three days by day: the real activity writes 3 revenue rows per tenant.
    const job: AggregationJobData = { type: 'revenue', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-08-04' };
    const options: AggregationRunOptions = { maxConcurrentActivities: 2, maxConcurrentChildren: 1 };
    const held = new Set(['t-r05', 't-r06']);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // r01..r04 really run (and write their outcome rows); r05 and r06 hang until cancelled.
    behaviour = async (input) => {
      if (!held.has(input.tenantId)) return real.aggregateTenant(input);
      await Promise.race([gate, Context.current().cancelled]);
      throw new Error('released without cancellation');
    };
    try {
      const first = await start(job, options, jobId);
      const child = env.client.workflow.getHandle(`${first.workflowId}/chunk-1`);
      expect(
        await eventually(async () => {
          const p = await child.query(progressQuery).catch(() => undefined);
          return p?.done === 4 ? p : undefined;
        }, 'the chunk child to have 4 tenants done'),
      ).toEqual({ total: 10, done: 4, failed: 0, currentPeriod: null });
      // The child reports every tenth of its tenants (here every tenant) to the parent.
      expect(
        await eventually(async () => {
          const p = await first.query(progressQuery);
          return p.done === 4 ? p : undefined;
        }, 'the parent to report 4 tenants done'),
      ).toEqual({ total: 10, done: 4, failed: 0, currentPeriod: null });
      await eventually(async () => (calls.filter((c) => held.has(c.input.tenantId)).length === 2 ? true : undefined), 'both held tenants to be in flight');

      await first.cancel();
      expect((await failureOf(first)).cause).toBeInstanceOf(CancelledFailure);
      expect((await child.describe()).status.name).toBe('CANCELLED');
      expect(await outcomeRows(first.workflowId)).toEqual(['t-r01', 't-r02', 't-r03', 't-r04'].map((id) => `${id} revenue succeeded 1`));

      calls = [];
      behaviour = (input) => real.aggregateTenant(input);
      const second = await start(job, options, jobId);
      expect(second.workflowId).toBe(first.workflowId);
      expect(second.firstExecutionRunId).not.toBe(first.firstExecutionRunId);
      const result = await second.result();
      expect(calls.map((c) => c.input.tenantId).sort()).toEqual(ids.slice(4));
      expect(result.totals).toEqual({ tenants: 10, tasks: 10, succeeded: 6, failed: 0, resumed: 4, rowsWritten: 6 * 3 });
      expect(await outcomeRows(first.workflowId)).toEqual(ids.map((id) => `${id} revenue succeeded 1`));
      expect(await second.query(progressQuery)).toEqual({ total: 10, done: 10, failed: 0, currentPeriod: null });
    } finally {
      release();
    }
  });

  it('after a run fails on bad data, a restart with the same job id runs only the failed tenant, across chunk children', async () => {
    await tenants(['f-1', 'f-2', 'f-3', 'f-4']);
    await t.pool.query(`UPDATE organizations SET timezone = 'Mars/Olympus_Mons' WHERE id = 'f-3'`);
    const jobId = `refail-${uniqueSuffix()}`;
    const job: AggregationJobData = { type: 'all', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-08-03' };
    // Two children: (f-1, f-2) and (f-3, f-4).
    const options: AggregationRunOptions = { tenantsPerChild: 2 };
    behaviour = (input) => real.aggregateTenant(input);
    const first = await start(job, options, jobId);
    const { failure, result: failed } = await tenantsFailed(first);
    expect(failure.nonRetryable).toBe(true);
    expect(failed.failedTenants).toEqual([
      { tenantId: 'f-3', errorType: 'InvalidInputError', message: 'organizations.timezone: "Mars/Olympus_Mons" is not an IANA timezone', attempts: 1 },
    ]);
    expect(failed.totals).toMatchObject({ tenants: 4, tasks: 12, succeeded: 9, failed: 3, resumed: 0 });
    const types = ['cohorts', 'revenue', 'tournaments'];
    expect(await outcomeRows(first.workflowId)).toEqual(
      ['f-1', 'f-2', 'f-3', 'f-4'].flatMap((id) => types.map((type) => `${id} ${type} ${id === 'f-3' ? 'failed' : 'succeeded'} 1`)),
    );

    // The data is fixed; the job's next attempt re-runs f-3 alone.
    await t.pool.query(`UPDATE organizations SET timezone = 'UTC' WHERE id = 'f-3'`);
    calls = [];
    const second = await start(job, options, jobId);
    const result = await second.result();
    expect(calls.map((c) => c.input.tenantId)).toEqual(['f-3']);
    expect(result.totals).toMatchObject({ tenants: 4, tasks: 12, succeeded: 3, failed: 0, resumed: 9 });
    expect(result.failedTenants).toEqual([]);
    expect(result.children).toBe(2);
    expect(await outcomeRows(first.workflowId)).toEqual(['f-1', 'f-2', 'f-3', 'f-4'].flatMap((id) => types.map((type) => `${id} ${type} succeeded 1`)));
  });

  it('replays every history this file produced without non-determinism', async () => {
    const histories: { workflowId: string; history: Awaited<ReturnType<typeof runChain>>[number]['history'] }[] = [];
    for (const { workflowId, runId } of ranWorkflows) {
      for (const run of await executionTree(env.client, workflowId, runId)) histories.push({ workflowId: run.workflowId, history: run.history });
    }
    expect(histories.length).toBeGreaterThan(30);
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, histories);
    let replayed = 0;
    for await (const r of results) {
      expect(r.error, `${r.workflowId}: ${String(r.error)}`).toBeUndefined();
      replayed += 1;
    }
    expect(replayed).toBe(histories.length);
  });
});
