import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { createTemporalWorker } from '../src/temporal/worker';
import { DEFAULT_RUN_OPTIONS } from '../src/workflows/profiles';
import { uniqueSuffix } from './helpers/config';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { activitiesWith, childIdsOf, createTimeSkippingEnv, executionTree } from './helpers/workflow-env';

// A 100,000-tenant job on the time-skipping server with aggregateTenant stubbed and the real
// planning activities over 100,000 organizations: every history (each run of the parent and of
// every chunk child, continue-as-new included) stays within Temporal's limits — 10,240 events and
// 10 MB per history, 256 KB per payload — at the default page size and history budget.

const TENANTS = 100_000;
const MAX_EVENTS = 10_240;
const MAX_HISTORY_BYTES = 10 * 1024 * 1024;
const MAX_PAYLOAD_BYTES = 256 * 1024;
const { History, HistoryEvent } = proto.temporal.api.history.v1;
type IPayloads = proto.temporal.api.common.v1.IPayloads;

let env: TestWorkflowEnvironment;
let t: TestDatabase;
let worker: Worker;
let running: Promise<void>;
const taskQueue = `scale-${uniqueSuffix()}`;
const seen = new Set<string>();

/** Every `Payloads` inside a history event (activity and child inputs and results, markers, continue-as-new input, …). */
function payloadsOf(value: unknown, out: IPayloads[] = []): IPayloads[] {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return out;
  const payloads = (value as IPayloads).payloads;
  if (Array.isArray(payloads)) out.push(value as IPayloads);
  for (const v of Object.values(value as Record<string, unknown>)) {
    if (Array.isArray(v)) v.forEach((x) => payloadsOf(x, out));
    else payloadsOf(v, out);
  }
  return out;
}

const sizeOf = (p: IPayloads) => proto.temporal.api.common.v1.Payloads.encode(p).finish().length;

beforeAll(async () => {
  [env, t] = await Promise.all([createTimeSkippingEnv(), createTestDatabase('scale')]);
  await t.pool.query(
    `INSERT INTO organizations (id, name, timezone, status)
     SELECT 't-' || lpad(n::text, 6, '0'), 'tenant ' || n, 'UTC', 'active' FROM generate_series(1, $1::int) AS n`,
    [TENANTS],
  );
  worker = await createTemporalWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    maxConcurrentLocalActivityExecutions: 100,
    activities: activitiesWith(t.db, {
      async aggregateTenant(input) {
        seen.add(input.tenantId);
        return { tenantId: input.tenantId, status: 'succeeded', rowsWritten: 1 };
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

describe('aggregationWorkflow at 100,000 tenants (time-skipping, aggregateTenant stubbed)', () => {
  it('keeps every history under 10,240 events and 10 MB and every payload under 256 KB, and counts every tenant', { timeout: 600_000 }, async () => {
    // Defaults where the limits depend on them (500 tenants per child, 5,000 events before
    // continuing as new, 20 failed tenants listed); more children and activities at once than
    // the defaults only to finish sooner.
    const options = { maxConcurrentChildren: 4, maxConcurrentActivities: 100 };
    const startedAt = Date.now();
    const handle = await startAggregationWorkflow(
      env.client,
      { job: { type: 'all' }, jobId: `scale-${uniqueSuffix()}`, requestedAt: '2025-11-06T12:00:00.000Z', options },
      { taskQueue },
    );
    const result = await handle.result();
    const elapsedMs = Date.now() - startedAt;

    // 100,000 tenants × 3 types; the stub writes 1 row per tenant.
    expect(result.totals).toEqual({ tenants: TENANTS, tasks: 3 * TENANTS, succeeded: 3 * TENANTS, failed: 0, resumed: 0, rowsWritten: TENANTS });
    expect(result.failedTenants).toEqual([]);
    expect(result.children).toBe(TENANTS / DEFAULT_RUN_OPTIONS.tenantsPerChild);
    expect(seen.size).toBe(TENANTS);

    const tree = await executionTree(env.client, handle.workflowId, handle.firstExecutionRunId);
    const parentRuns = tree.filter((r) => r.workflowId === handle.workflowId);
    expect(parentRuns).toHaveLength(result.runs);
    expect(parentRuns.flatMap((r) => childIdsOf(r.history))).toHaveLength(result.children);

    let mostEvents = 0;
    let mostBytes = 0;
    let largestPayload = 0;
    for (const run of tree) {
      const events = run.history.events!.length;
      const bytes = History.encode(History.fromObject(run.history)).finish().length;
      mostEvents = Math.max(mostEvents, events);
      mostBytes = Math.max(mostBytes, bytes);
      expect(events, `${run.workflowId} (${run.runId}) events`).toBeLessThan(MAX_EVENTS);
      expect(bytes, `${run.workflowId} (${run.runId}) bytes`).toBeLessThan(MAX_HISTORY_BYTES);
      for (const e of run.history.events!) {
        for (const p of payloadsOf(HistoryEvent.toObject(HistoryEvent.fromObject(e)))) largestPayload = Math.max(largestPayload, sizeOf(p));
      }
    }
    expect(largestPayload).toBeLessThan(MAX_PAYLOAD_BYTES);
    // The measurements, for the record (not asserted beyond the limits).
    console.log(
      `scale: ${TENANTS} tenants in ${elapsedMs} ms; ${tree.length} histories (${parentRuns.length} parent runs); ` +
        `most events ${mostEvents}, largest history ${mostBytes} B, largest payload ${largestPayload} B`,
    );
  });
});
