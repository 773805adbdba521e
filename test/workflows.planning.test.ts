import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanningActivities, planRanges, type PlanRequest } from '../src/activities/planning';
import { createLogger } from '../src/logger';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { org } from './helpers/fixtures';

// What the aggregation workflow runs for a job: the planning activities that turn a job into
// tenant partitions and per-timezone chunks of periods. Expected values are worked out by hand
// from a calendar.

const REQUESTED_AT = '2025-11-06T12:00:00.000Z'; // a Thursday
const req = (job: PlanRequest['job'], periodsPerActivity = 30): PlanRequest => ({ job, requestedAt: REQUESTED_AT, periodsPerActivity });

describe('planRanges: a job in one timezone', () => {
  it('defaults to the last complete day in the tenant timezone', () => {
    // 12:00Z is 02:00 on the 7th in Kiritimati (+14), 04:00 on the 6th in Los Angeles (-8).
    expect(planRanges(req({ type: 'revenue' }), 'Pacific/Kiritimati')).toEqual([
      { type: 'revenue', periodType: 'day', chunks: [{ from: '2025-11-06', to: '2025-11-07', periods: 1 }] },
    ]);
    expect(planRanges(req({ type: 'revenue' }), 'America/Los_Angeles')[0]!.chunks).toEqual([{ from: '2025-11-05', to: '2025-11-06', periods: 1 }]);
    expect(planRanges(req({ type: 'revenue' }), 'UTC')[0]!.chunks).toEqual([{ from: '2025-11-05', to: '2025-11-06', periods: 1 }]);
  });

  it('takes the last complete ISO week, several months plus the current one, and the current and previous cohort months', () => {
    expect(planRanges(req({ type: 'tournaments', periodType: 'week' }), 'UTC')[0]!.chunks).toEqual([{ from: '2025-10-27', to: '2025-11-03', periods: 1 }]);
    expect(planRanges(req({ type: 'revenue', periodType: 'month', periods: 3, includeCurrent: true }), 'Europe/Berlin')[0]!.chunks).toEqual([
      { from: '2025-08-01', to: '2025-12-01', periods: 4 },
    ]);
    expect(planRanges(req({ type: 'cohorts' }), 'Asia/Tokyo')).toEqual([
      { type: 'cohorts', periodType: 'month', chunks: [{ from: '2025-10-01', to: '2025-12-01', periods: 2 }] },
    ]);
    // The job's own asOf wins over requestedAt (schedules set it to their nominal time).
    expect(planRanges(req({ type: 'revenue', asOf: '2025-03-01T00:30:00Z' }), 'UTC')[0]!.chunks).toEqual([{ from: '2025-02-28', to: '2025-03-01', periods: 1 }]);
  });

  it('reads periodStart alone as the one period containing it, and a range as every period intersecting it', () => {
    expect(planRanges(req({ type: 'revenue', periodType: 'week', periodStart: '2025-11-05' }), 'UTC')[0]!.chunks).toEqual([
      { from: '2025-11-03', to: '2025-11-10', periods: 1 },
    ]);
    expect(planRanges(req({ type: 'revenue', periodType: 'quarter', periodStart: '2025-02-15', periodEnd: '2025-08-01' }), 'UTC')[0]!.chunks).toEqual([
      { from: '2025-01-01', to: '2025-10-01', periods: 3 },
    ]);
    // 'all' with days: cohorts take the months the range touches.
    expect(planRanges(req({ type: 'all', periodStart: '2025-10-20', periodEnd: '2025-11-03' }), 'UTC').map((r) => [r.type, r.chunks])).toEqual([
      ['revenue', [{ from: '2025-10-20', to: '2025-11-03', periods: 14 }]],
      ['cohorts', [{ from: '2025-10-01', to: '2025-12-01', periods: 2 }]],
      ['tournaments', [{ from: '2025-10-20', to: '2025-11-03', periods: 14 }]],
    ]);
  });

  it('splits a backfill into calls of periodsPerActivity periods', () => {
    // 2025-01-01 + 95 days = 2025-04-06.
    expect(planRanges(req({ type: 'revenue', periodStart: '2025-01-01', periodEnd: '2025-04-06' }, 30), 'UTC')[0]!.chunks).toEqual([
      { from: '2025-01-01', to: '2025-01-31', periods: 30 },
      { from: '2025-01-31', to: '2025-03-02', periods: 30 },
      { from: '2025-03-02', to: '2025-04-01', periods: 30 },
      { from: '2025-04-01', to: '2025-04-06', periods: 5 },
    ]);
  });

  it('rejects bad job fields with the InvalidInputError family, naming the field', () => {
    expect(() => planRanges(req({ type: 'revenue', periods: 0 }), 'UTC')).toThrow(expect.objectContaining({ name: 'InvalidInputError', field: 'periods' }));
    expect(() => planRanges(req({ type: 'revenue', periodType: 'fortnight' as never }), 'UTC')).toThrow(expect.objectContaining({ name: 'InvalidPeriodError', field: 'periodType' }));
    expect(() => planRanges(req({ type: 'revenue', periodStart: '2025-03-01', periodEnd: '2025-02-01' }), 'UTC')).toThrow(
      expect.objectContaining({ name: 'InvalidPeriodError', field: 'periodEnd' }),
    );
    expect(() => planRanges(req({ type: 'everything' as never }), 'UTC')).toThrow(expect.objectContaining({ name: 'InvalidInputError', field: 'type' }));
  });

  it('plans a tenant with an invalid timezone in UTC (its activity then reports the bad timezone for that tenant alone)', () => {
    expect(planRanges(req({ type: 'revenue' }), 'Mars/Olympus_Mons')[0]!.chunks).toEqual([{ from: '2025-11-05', to: '2025-11-06', periods: 1 }]);
  });
});

describe('the planning activities over Postgres', () => {
  let t: TestDatabase;
  const planning = () => createPlanningActivities({ db: t.db, logger: createLogger('silent') });

  beforeAll(async () => {
    t = await createTestDatabase('planning');
    for (const [id, zone] of [['b-2', 'UTC'], ['B-1', 'Europe/Berlin'], ['a-3', 'UTC'], ['c-4', 'Asia/Tokyo'], ['c-5', 'UTC']] as const) await org(t.pool, id, zone);
    await org(t.pool, 'a-0-suspended', 'UTC', 'suspended');
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('partitions the active tenants in code-point order and counts their calls', async () => {
    const job = { type: 'all', periodStart: '2025-10-01', periodEnd: '2025-12-01' } as const;
    const result = await planning().partitionTenants({ job, requestedAt: REQUESTED_AT, periodsPerActivity: 30, tenantsPerPartition: 2 });
    // Code points: 'B' < 'a' < 'b' < 'c'. Per tenant: 61 days = 3 calls each for revenue and
    // tournaments, 1 for the two cohort months: 7.
    expect(result).toEqual({
      tenantCount: 5,
      partitions: [
        { afterTenantId: null, lastTenantId: 'a-3', tenants: 2, chunks: 14 },
        { afterTenantId: 'a-3', lastTenantId: 'c-4', tenants: 2, chunks: 14 },
        { afterTenantId: 'c-4', lastTenantId: 'c-5', tenants: 1, chunks: 7 },
      ],
    });
    const plan = await planning().planPartition({ job, requestedAt: REQUESTED_AT, periodsPerActivity: 30, jobKey: 'k', partition: result.partitions[1]! });
    expect(plan.segments.map((s) => [s.timezone, s.tenantIds])).toEqual([
      ['UTC', ['b-2']],
      ['Asia/Tokyo', ['c-4']],
    ]);
    expect(plan.asOf).toBe(REQUESTED_AT);
    expect(plan.completed).toEqual([]);
  });

  it('keeps a ledger of completed chunks per job key and partition, idempotently, until forgotten', async () => {
    const p = planning();
    const chunk = (tenantId: string, from: string) => ({ tenantId, type: 'revenue' as const, periodType: 'day' as const, from, to: '2025-10-31', rowsWritten: 30 });
    expect(await p.recordCompletedChunks({ jobKey: 'job-1', chunks: [chunk('b-2', '2025-10-01'), chunk('c-5', '2025-10-01')] })).toBe(2);
    expect(await p.recordCompletedChunks({ jobKey: 'job-1', chunks: [chunk('b-2', '2025-10-01')] })).toBe(0);
    await p.recordCompletedChunks({ jobKey: 'job-2', chunks: [chunk('b-2', '2025-10-01')] });
    const job = { type: 'revenue', periodStart: '2025-10-01', periodEnd: '2025-10-31' } as const;
    const plan = await p.planPartition({ job, requestedAt: REQUESTED_AT, periodsPerActivity: 30, jobKey: 'job-1', partition: { afterTenantId: 'a-3', lastTenantId: 'c-4' } });
    expect(plan.completed).toEqual([chunk('b-2', '2025-10-01')]);
    expect(await p.forgetCompletedChunks({ jobKey: 'job-1' })).toBe(2);
    expect((await t.pool.query('SELECT job_key FROM backfill_chunks')).rows).toEqual([{ job_key: 'job-2' }]);
  });

  it('plans a named tenant whatever its status, so its activity reports why it cannot be aggregated', async () => {
    const job = { type: 'revenue', tenantId: 'a-0-suspended' } as const;
    const result = await planning().partitionTenants({ job, requestedAt: REQUESTED_AT, periodsPerActivity: 30, tenantsPerPartition: 500 });
    expect(result).toEqual({ tenantCount: 1, partitions: [{ afterTenantId: null, lastTenantId: 'a-0-suspended', tenants: 1, chunks: 1 }] });
    const unknown = await planning().planPartition({
      job: { type: 'revenue', tenantId: 'nobody' },
      requestedAt: REQUESTED_AT,
      periodsPerActivity: 30,
      jobKey: 'k',
      partition: { afterTenantId: null, lastTenantId: 'nobody' },
    });
    expect(unknown.segments).toEqual([{ timezone: 'UTC', tenantIds: ['nobody'], ranges: [{ type: 'revenue', periodType: 'day', chunks: [{ from: '2025-11-05', to: '2025-11-06', periods: 1 }] }] }]);
  });
});
