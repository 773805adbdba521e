import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partRange, partsFor, slicePlan } from '../src/aggregation/split';
import { planTenantTypes } from '../src/aggregation/job-plan';
import type { AggregationJobData } from '../src/contract/aggregation';
import { generateTenant } from '../src/seed/generate';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { createTemporalWorker } from '../src/temporal/worker';
import { activeTenants, dumpAggregates, oracleAggregates } from './helpers/aggregates';
import { uniqueSuffix } from './helpers/config';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { withBatchWriter } from './helpers/seed';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';
import { activitiesWith, EventType, eventsOf } from './helpers/workflow-env';

// A backfill's tenant that is far larger than the others is split into parts by an estimate of
// its rows (the planner's statistics), run one after another; the others stay one activity
// each. Split or not, the rows are the independent oracle's, and the tenant's outcome rows
// count every part's rows and the whole range's periods.

describe('partitioning a tenant range (pure)', () => {
  it('parts grow with the estimate, capped, and one part when under the threshold', () => {
    const policy = { rowsPerPart: 1_000, maxParts: 5 };
    expect(partsFor(0, policy)).toBe(1);
    expect(partsFor(1_000, policy)).toBe(1);
    expect(partsFor(1_001, policy)).toBe(2);
    expect(partsFor(2_999, policy)).toBe(3);
    expect(partsFor(1_000_000, policy)).toBe(5);
    expect(partsFor(Number.NaN, policy)).toBe(1);
  });

  it('slices cover every item once, contiguous and in order, the last never empty', () => {
    for (const length of [1, 2, 3, 7, 90, 365]) {
      for (const of of [1, 2, 3, 4, 24]) {
        const ranges = Array.from({ length: of }, (_, i) => partRange(length, i, of));
        expect(ranges[0]!.from).toBe(0);
        expect(ranges[of - 1]!.to).toBe(length);
        expect(ranges[of - 1]!.to - ranges[of - 1]!.from).toBeGreaterThan(0);
        for (let i = 1; i < of; i++) expect(ranges[i]!.from).toBe(ranges[i - 1]!.to);
      }
    }
    expect(() => partRange(10, 3, 3)).toThrow(RangeError);
  });

  it('a cohort slice keeps the bounds from its first month on and moves the as-of index with it', () => {
    const [cohorts] = planTenantTypes({ type: 'cohorts', periodStart: '2025-01-01', periodEnd: '2025-07-01' }, 'Europe/Berlin', '2025-08-15T00:00:00Z');
    if (cohorts?.type !== 'cohorts') throw new Error('expected a cohorts plan');
    // Jan..Jun, bounds Jan 1 .. Sep 1 (the as-of month August ends it), as-of index 8.
    expect(cohorts.input.cohortMonths).toHaveLength(6);
    expect(cohorts.input.asOfIndex).toBe(8);
    const second = slicePlan(cohorts, 1, 2);
    if (second.type !== 'cohorts') throw new Error('expected a cohorts plan');
    expect(second.input.cohortMonths).toEqual(['2025-04-01', '2025-05-01', '2025-06-01']);
    expect(second.input.bounds[0]).toBe(cohorts.input.bounds[3]);
    expect(second.input.bounds.at(-1)).toBe(cohorts.input.bounds.at(-1));
    expect(second.input.asOfIndex).toBe(5);
    expect(second.periods).toBe(3);
  });
});

const DAYS = { days: 130, seed: 11, untilMs: Date.parse('2025-11-01T00:00:00Z'), tenants: 3 };
// tenant-1 (UTC) has 15 times the users of tenant-2 (America/New_York) and tenant-3 (Europe/Berlin).
const USERS = [150, 10, 10];
const JOB: AggregationJobData = { type: 'all', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-10-30' };
const REQUESTED_AT = '2025-11-06T12:00:00.000Z';

let temporal: TestTemporal;
let t: TestDatabase;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  [temporal, t] = await Promise.all([connectTestTemporal(), createTestDatabase('split')]);
  await withBatchWriter(t.pool, async (writer) => {
    for (let i = 0; i < DAYS.tenants; i++) await generateTenant({ ...DAYS, usersPerTenant: USERS[i]! }, i, writer);
  });
  await t.pool.query('ANALYZE payments, user_activity, tournament_players');
  worker = await createTemporalWorker({ connection: temporal.nativeConnection, namespace: temporal.namespace, taskQueue: temporal.taskQueue, activities: activitiesWith(t.db) });
  running = worker.run();
});

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await t?.drop();
  await temporal?.close();
});

describe('a backfill with one large tenant', () => {
  it('splits only the large tenant, and writes exactly the oracle rows with whole-range outcomes', async () => {
    const [tenants, counts] = await Promise.all([
      activeTenants(t.pool),
      t.pool.query<{ tenant_id: string; n: number }>(
        `SELECT tenant_id, sum(n)::int AS n FROM (
           SELECT tenant_id, count(*) AS n FROM payments GROUP BY 1 UNION ALL
           SELECT tenant_id, count(*) FROM user_activity GROUP BY 1 UNION ALL
           SELECT tenant_id, count(*) FROM tournament_players GROUP BY 1) x GROUP BY 1 ORDER BY 1`,
      ),
    ]);
    const [large, ...small] = counts.rows;
    expect(tenants).toHaveLength(3);
    // Parts of about a quarter of the large tenant's rows over its whole history (the backfill
    // covers 90 of its 130 days, and cohorts read activity up to as-of): 2 to 4 parts for it,
    // while each small tenant has a few percent of one part's rows.
    const rowsPerPart = Math.ceil(large!.n / 4);
    for (const s of small) expect(s.n).toBeLessThan(rowsPerPart / 2);

    const jobId = `split-${uniqueSuffix()}`;
    const handle = await startAggregationWorkflow(
      temporal.client,
      { job: JOB, jobId, requestedAt: REQUESTED_AT, options: { splitRowsPerActivity: rowsPerPart } },
      { taskQueue: temporal.taskQueue },
    );
    const result = await handle.result();

    const got = await dumpAggregates(t.pool);
    expect(got).toEqual(await oracleAggregates(t.pool, tenants, { periodType: 'day', from: '2025-08-01', to: '2025-10-30', asOf: REQUESTED_AT }));
    expect(got.revenue).toHaveLength(3 * 90);
    expect(result.totals).toEqual({ tenants: 3, tasks: 9, succeeded: 9, failed: 0, resumed: 0, rowsWritten: 2 * 3 * 90 + got.cohorts.length });

    // The chunk ran pendingTenants, the large tenant's parts and one activity per small tenant.
    const markers = eventsOf(await temporal.client.workflow.getHandle(`${handle.workflowId}/chunk-1`).fetchHistory(), EventType.EVENT_TYPE_MARKER_RECORDED).filter(
      (e) => e.markerRecordedEventAttributes!.markerName === 'core_local_activity',
    );
    const parts = markers.length - 1 - small.length;
    expect(parts).toBeGreaterThanOrEqual(2);
    expect(parts).toBeLessThanOrEqual(4);

    // One outcome row per (tenant, type): rows of every part, periods of the whole range.
    const outcomes = await t.pool.query<{ tenant_id: string; type: string; status: string; rows_written: number; periods: number }>(
      `SELECT tenant_id, type, status, rows_written, periods FROM aggregation_outcomes WHERE job_key = $1 ORDER BY tenant_id, type`,
      [handle.workflowId],
    );
    const cohortRows = (id: string) => got.cohorts.filter((r) => r.tenant_id === id).length;
    expect(outcomes.rows).toEqual(
      tenants.flatMap((id) => [
        { tenant_id: id, type: 'cohorts', status: 'succeeded', rows_written: cohortRows(id), periods: 3 },
        { tenant_id: id, type: 'revenue', status: 'succeeded', rows_written: 90, periods: 90 },
        { tenant_id: id, type: 'tournaments', status: 'succeeded', rows_written: 90, periods: 90 },
      ]),
    );
  });
});
