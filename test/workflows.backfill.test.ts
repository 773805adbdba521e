import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAggregateCommand } from '../src/cli/aggregate';
import { generateTenant } from '../src/seed/generate';
import { AggregationType, JobId, PeriodType, TenantCount, TenantId } from '../src/temporal/search-attributes';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { createTemporalWorker } from '../src/temporal/worker';
import type { AggregationJobData, AggregationWorkflowInput } from '../src/contract/aggregation';
import { activeTenants, dumpAggregates, oracleAggregates } from './helpers/aggregates';
import { withBatchWriter } from './helpers/seed';
import { createTestDatabase } from './helpers/db';
import { runInProcess } from './helpers/cli-in-process';
import { uniqueSuffix } from './helpers/config';
import type { TestDatabase } from './helpers/db';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';
import { activitiesWith, eventually, EventType, eventsOf } from './helpers/workflow-env';

// On the dev server with real Postgres and the real activities: a 90-day backfill of all three
// types over several tenants in different timezones writes exactly the rows `aggregate --local`
// (the aggregation service in-process, no Temporal) writes over the same raw data, and the rows
// of the independent oracle (test/helpers/oracle.ts). Also: a
// duplicate start attaches to the same run, and the run carries what the Web UI shows.

const SEED = { tenants: 4, usersPerTenant: 40, days: 130, seed: 7, untilMs: Date.parse('2025-11-01T00:00:00Z') };
// tenant-001 UTC, tenant-002 America/New_York, tenant-003 Europe/Berlin, tenant-004 Asia/Kolkata
const JOB: AggregationJobData = { type: 'all', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-10-30' };
const REQUESTED_AT = '2025-11-06T12:00:00.000Z';

let temporal: TestTemporal;
let viaWorkflow: TestDatabase;
let viaLocal: TestDatabase;
let worker: Worker;
let running: Promise<void>;

async function seed(t: TestDatabase): Promise<void> {
  await withBatchWriter(t.pool, async (writer) => {
    for (let i = 0; i < SEED.tenants; i++) await generateTenant(SEED, i, writer);
  });
}

beforeAll(async () => {
  [temporal, viaWorkflow, viaLocal] = await Promise.all([connectTestTemporal(), createTestDatabase('bfwf'), createTestDatabase('bflocal')]);
  await Promise.all([seed(viaWorkflow), seed(viaLocal)]);
  worker = await createTemporalWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    activities: activitiesWith(viaWorkflow.db),
  });
  running = worker.run();
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await viaWorkflow?.drop();
  await viaLocal?.drop();
  await temporal?.close();
});

describe('aggregationWorkflow on the dev server with real Postgres', () => {
  const jobId = `backfill-${uniqueSuffix()}`;
  const input: AggregationWorkflowInput = { job: JOB, jobId, requestedAt: REQUESTED_AT };

  it('backfills 90 days × 3 types × 4 tenants to exactly the rows `aggregate --local` writes; a duplicate start attaches to the same run', async () => {
    const first = await startAggregationWorkflow(temporal.client, input, { taskQueue: temporal.taskQueue });
    const again = await startAggregationWorkflow(temporal.client, input, { taskQueue: temporal.taskQueue });
    expect(again.firstExecutionRunId).toBe(first.firstExecutionRunId);
    const result = await first.result();

    const local = await runInProcess(
      registerAggregateCommand,
      ['aggregate', '--local', '--type', 'all', '--period-type', 'day', '--from', '2025-08-01', '--to', '2025-10-30', '--as-of', REQUESTED_AT, '--json'],
      { DATABASE_URL: viaLocal.url },
    );
    expect(local.code, local.stderr).toBe(0);

    const [got, want] = await Promise.all([dumpAggregates(viaWorkflow.pool), dumpAggregates(viaLocal.pool)]);
    // 90 daily rows per tenant (empty days included); cohorts Aug, Sep, Oct up to the as-of month
    // November: 4 + 3 + 2 month numbers per non-empty cohort.
    expect(got.revenue).toHaveLength(4 * 90);
    expect(got.tournaments).toHaveLength(4 * 90);
    expect(got.cohorts.length).toBeGreaterThan(0);
    expect(got.cohorts.length).toBeLessThanOrEqual(4 * 9);
    expect(got).toEqual(want);
    // ...and both equal the independent oracle over the same raw rows.
    expect(got).toEqual(await oracleAggregates(viaWorkflow.pool, await activeTenants(viaWorkflow.pool), { periodType: 'day', from: '2025-08-01', to: '2025-10-30', asOf: REQUESTED_AT }));

    // One activity per tenant for all three types; every aggregate row counted once.
    expect(result.totals).toEqual({ tenants: 4, tasks: 12, succeeded: 12, failed: 0, resumed: 0, rowsWritten: 2 * 4 * 90 + got.cohorts.length });
    expect(result).toMatchObject({ failedTenants: [], failedTenantsOmitted: 0, children: 1, runs: 1 });

    // Started again after completion: still the one run, and its result.
    const afterwards = await startAggregationWorkflow(temporal.client, input, { taskQueue: temporal.taskQueue });
    expect(afterwards.firstExecutionRunId).toBe(first.firstExecutionRunId);
    expect(await afterwards.result()).toEqual(result);
    const runs = await eventually(async () => {
      const n = await temporal.client.workflow.count(`WorkflowId = '${first.workflowId}'`);
      return n.count === 1 ? n.count : undefined;
    }, 'visibility to list the run');
    expect(runs).toBe(1);
  });

  it('carries the memo, search attributes and summaries the Web UI shows', async () => {
    const parent = temporal.client.workflow.getHandle(`aggregation/${jobId}`);
    const d = await parent.describe();
    expect(d.memo).toEqual({ jobId });
    expect(d.typedSearchAttributes.get(AggregationType)).toBe('all');
    expect(d.typedSearchAttributes.get(PeriodType)).toBe('day');
    expect(d.typedSearchAttributes.get(JobId)).toBe(jobId);
    expect(d.typedSearchAttributes.get(TenantCount)).toBe(4);
    expect(d.typedSearchAttributes.get(TenantId)).toBeUndefined();
    expect(await d.staticSummary()).toBe('all types backfill day 2025-08-01..2025-10-30 for all active tenants');

    const child = temporal.client.workflow.getHandle(`aggregation/${jobId}/chunk-1`);
    const c = await child.describe();
    expect(c.memo).toEqual({ jobId, chunk: 1 });
    expect(c.typedSearchAttributes.get(TenantCount)).toBe(4);
    expect(c.typedSearchAttributes.get(JobId)).toBe(jobId);
    expect(await c.staticSummary()).toBe('all types backfill day 2025-08-01..2025-10-30 for all active tenants: chunk 1, 4 tenants through tenant-004');

    // One local activity per tenant (every type, the whole range): one marker each in the child's history.
    const markers = eventsOf(await child.fetchHistory(), EventType.EVENT_TYPE_MARKER_RECORDED).filter(
      (e) => e.markerRecordedEventAttributes!.markerName === 'core_local_activity',
    );
    // pendingTenants, then the four tenants.
    expect(markers).toHaveLength(1 + 4);
  });

  it('sets TenantId on a single-tenant run and its child, so the Web UI finds "revenue backfill for tenant X"', async () => {
    const single = await startAggregationWorkflow(
      temporal.client,
      { job: { ...JOB, type: 'revenue', tenantId: 'tenant-002' }, jobId: `single-${uniqueSuffix()}`, requestedAt: REQUESTED_AT },
      { taskQueue: temporal.taskQueue },
    );
    const result = await single.result();
    expect(result.totals).toEqual({ tenants: 1, tasks: 1, succeeded: 1, failed: 0, resumed: 0, rowsWritten: 90 });
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const w of temporal.client.workflow.list({ query: `TenantId = 'tenant-002' AND AggregationType = 'revenue' AND JobId = '${result.jobId}'` })) ids.push(w.workflowId);
      return ids.length === 2 ? ids.sort() : undefined;
    }, 'both runs to be listed by TenantId');
    expect(found).toEqual([single.workflowId, `${single.workflowId}/chunk-1`]);
    expect(await (await single.describe()).staticSummary()).toBe('revenue backfill day 2025-08-01..2025-10-30 for tenant tenant-002');
  });
});
