import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlanningActivities, jobPeriods, MAX_JOB_PERIODS } from '../src/activities/planning';
import { asOfOfJob } from '../src/aggregation/job-plan';
import type { AggregationJobData, PeriodType } from '../src/contract/aggregation';
import { createLogger } from '../src/logger';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { org } from './helpers/fixtures';
import { fixedClock } from './helpers/service';

// What the aggregation workflows ask of planning: the job's periods per tenant timezone
// (jobPeriods), a validated plan (planJob), pages of tenants as bounds only (tenantPages), the
// tenants of a page still to do by the outcome rows (pendingTenants), and the purge of expired
// outcome rows (purgeOutcomes). Expected values are worked out by hand from a calendar.

const REQUESTED_AT = '2025-11-06T12:00:00.000Z'; // a Thursday

/** The job's periods in `zone` as `[start, end)` local dates (or local date-times where a day is not midnight-to-midnight). */
function periods(job: AggregationJobData, zone: string, periodType: PeriodType = job.periodType ?? 'day', cohorts = false, asOf = REQUESTED_AT): string[] {
  return jobPeriods(job, cohorts, periodType, zone, DateTime.fromISO(asOf, { zone })).map((p) => `${p.start.toISODate()}..${p.end.toISODate()}`);
}

describe('jobPeriods: the periods of a job in one timezone', () => {
  it('defaults to the last complete day in the tenant timezone', () => {
    // 12:00Z is 02:00 on the 7th in Kiritimati (+14), 04:00 on the 6th in Los Angeles (-8).
    expect(periods({ type: 'revenue' }, 'Pacific/Kiritimati')).toEqual(['2025-11-06..2025-11-07']);
    expect(periods({ type: 'revenue' }, 'America/Los_Angeles')).toEqual(['2025-11-05..2025-11-06']);
    expect(periods({ type: 'revenue' }, 'UTC')).toEqual(['2025-11-05..2025-11-06']);
  });

  it('takes the last complete ISO week, several months plus the current one, and the current and previous cohort months', () => {
    expect(periods({ type: 'tournaments', periodType: 'week' }, 'UTC')).toEqual(['2025-10-27..2025-11-03']);
    expect(periods({ type: 'revenue', periodType: 'month', periods: 3, includeCurrent: true }, 'Europe/Berlin')).toEqual([
      '2025-08-01..2025-09-01',
      '2025-09-01..2025-10-01',
      '2025-10-01..2025-11-01',
      '2025-11-01..2025-12-01',
    ]);
    expect(periods({ type: 'cohorts' }, 'Asia/Tokyo', 'month', true)).toEqual(['2025-10-01..2025-11-01', '2025-11-01..2025-12-01']);
    expect(periods({ type: 'cohorts', periods: 3 }, 'UTC', 'month', true)).toEqual(['2025-09-01..2025-10-01', '2025-10-01..2025-11-01', '2025-11-01..2025-12-01']);
  });

  it('reads periodStart alone as the one period containing it, periodEnd alone as the one ending there, and a range as every period intersecting it', () => {
    expect(periods({ type: 'revenue', periodType: 'week', periodStart: '2025-11-05' }, 'UTC')).toEqual(['2025-11-03..2025-11-10']);
    expect(periods({ type: 'revenue', periodEnd: '2025-11-05' }, 'UTC')).toEqual(['2025-11-04..2025-11-05']);
    expect(periods({ type: 'revenue', periodType: 'quarter', periodStart: '2025-02-15', periodEnd: '2025-08-01' }, 'UTC')).toEqual([
      '2025-01-01..2025-04-01',
      '2025-04-01..2025-07-01',
      '2025-07-01..2025-10-01',
    ]);
    // Cohorts take the months a day range touches.
    expect(periods({ type: 'all', periodStart: '2025-10-20', periodEnd: '2025-11-03' }, 'UTC', 'month', true)).toEqual([
      '2025-10-01..2025-11-01',
      '2025-11-01..2025-12-01',
    ]);
  });

  it('covers a whole backfill in one list (one activity per tenant): 95 days from 2025-01-01', () => {
    // January 31 + February 28 + March 31 + April 1..5 = 95 days.
    const all = periods({ type: 'revenue', periodStart: '2025-01-01', periodEnd: '2025-04-06' }, 'UTC');
    expect(all).toHaveLength(95);
    expect([all[0], all[30], all[58], all[94]]).toEqual(['2025-01-01..2025-01-02', '2025-01-31..2025-02-01', '2025-02-28..2025-03-01', '2025-04-05..2025-04-06']);
  });

  it('uses local midnights: Berlin has a 25-hour day on 2025-10-26', () => {
    const [, dst] = jobPeriods({ type: 'revenue', periodStart: '2025-10-25', periodEnd: '2025-10-27' }, false, 'day', 'Europe/Berlin', DateTime.fromISO(REQUESTED_AT));
    expect([dst!.start.toUTC().toISO(), dst!.end.toUTC().toISO()]).toEqual(['2025-10-25T22:00:00.000Z', '2025-10-26T23:00:00.000Z']);
  });

  it('rejects bad periods with the InvalidInputError family, naming the field', () => {
    expect(() => periods({ type: 'revenue', periods: 0 }, 'UTC')).toThrow(expect.objectContaining({ name: 'InvalidInputError', field: 'periods' }));
    expect(() => periods({ type: 'revenue', periods: MAX_JOB_PERIODS + 1 }, 'UTC')).toThrow(expect.objectContaining({ name: 'InvalidInputError', field: 'periods' }));
    expect(() => periods({ type: 'revenue', periodStart: '2025-03-01', periodEnd: '2025-02-01' }, 'UTC')).toThrow(
      expect.objectContaining({ name: 'InvalidPeriodError', field: 'periodEnd' }),
    );
    // 0025 instead of 2025: 730,000 days, past the 20,000-period guard.
    expect(() => periods({ type: 'revenue', periodStart: '0025-01-01', periodEnd: '2025-01-01' }, 'UTC')).toThrow(
      expect.objectContaining({ name: 'TooManyPeriodsError', field: 'periodEnd' }),
    );
  });
});

describe('the planning activities over Postgres', () => {
  let t: TestDatabase;
  const NOW = '2025-11-06T12:00:00.000Z';
  const planning = () => createPlanningActivities({ db: t.db, logger: createLogger('silent'), clock: fixedClock(NOW) });

  beforeAll(async () => {
    t = await createTestDatabase('planning');
    for (const [id, zone] of [['b-2', 'UTC'], ['B-1', 'Europe/Berlin'], ['a-3', 'UTC'], ['c-4', 'Asia/Tokyo'], ['c-5', 'UTC']] as const) await org(t.pool, id, zone);
    await org(t.pool, 'a-0-suspended', 'UTC', 'suspended');
    await org(t.pool, 'b-9-deleted', 'UTC', 'deleted');
  });
  afterAll(async () => {
    await t?.drop();
  });

  async function outcome(jobKey: string, tenantId: string, type: string, status: 'succeeded' | 'failed', recordedAt = NOW): Promise<void> {
    await t.pool.query(`INSERT INTO aggregation_outcomes (job_key, tenant_id, type, status, recorded_at) VALUES ($1, $2, $3, $4, $5)`, [jobKey, tenantId, type, status, recordedAt]);
  }

  it('planJob fixes the as-of instant (the job asOf wins over requestedAt), counts the active tenants and the types per tenant', async () => {
    expect(await planning().planJob({ job: { type: 'all' }, requestedAt: REQUESTED_AT })).toEqual({ asOf: REQUESTED_AT, tenantCount: 5, typesPerTenant: 3 });
    expect(await planning().planJob({ job: { type: 'revenue', asOf: '2025-03-01T00:30:00+01:00' }, requestedAt: REQUESTED_AT })).toEqual({
      asOf: '2025-02-28T23:30:00.000Z',
      tenantCount: 5,
      typesPerTenant: 1,
    });
    // A named tenant is one tenant whatever its status: its activity says why it cannot be aggregated.
    expect(await planning().planJob({ job: { type: 'cohorts', tenantId: 'a-0-suspended' }, requestedAt: REQUESTED_AT })).toEqual({
      asOf: REQUESTED_AT,
      tenantCount: 1,
      typesPerTenant: 1,
    });
    expect(asOfOfJob({ type: 'revenue' }, '2025-11-06T13:00:00+01:00')).toBe(REQUESTED_AT);
  });

  it('planJob rejects bad job fields before any tenant is touched, naming the field', async () => {
    const plan = (job: Partial<AggregationJobData>, requestedAt = REQUESTED_AT) => planning().planJob({ job: { type: 'revenue', ...job } as AggregationJobData, requestedAt });
    await expect(plan({ periods: 0 })).rejects.toMatchObject({ name: 'InvalidInputError', field: 'periods' });
    await expect(plan({ periodType: 'fortnight' as never })).rejects.toMatchObject({ name: 'InvalidPeriodError', field: 'periodType' });
    await expect(plan({ periodStart: '2025-02-30', periodEnd: '2025-03-05' })).rejects.toMatchObject({ name: 'InvalidPeriodError', field: 'periodStart' });
    await expect(plan({ periodStart: '2025-03-01', periodEnd: '2025-02-01' })).rejects.toMatchObject({ name: 'InvalidPeriodError', field: 'periodEnd' });
    await expect(plan({ type: 'everything' as never })).rejects.toMatchObject({ name: 'InvalidInputError', field: 'type' });
    await expect(plan({ asOf: 'yesterday' })).rejects.toMatchObject({ name: 'InvalidPeriodError', field: 'asOf' });
    await expect(plan({}, 'not a time')).rejects.toMatchObject({ name: 'InvalidPeriodError', field: 'requestedAt' });
  });

  it('tenantPages: the active tenants in code-point order, as page bounds, until exhausted', async () => {
    const p = planning();
    const job = { type: 'all' } as const;
    // Code points: 'B' < 'a' < 'b' < 'c'; suspended and deleted tenants are not listed.
    expect(await p.tenantPages({ job, after: null, pageSize: 2, pages: 2 })).toEqual({
      pages: [
        { afterTenantId: null, lastTenantId: 'a-3', tenants: 2 },
        { afterTenantId: 'a-3', lastTenantId: 'c-4', tenants: 2 },
      ],
      exhausted: false,
    });
    expect(await p.tenantPages({ job, after: 'c-4', pageSize: 2, pages: 2 })).toEqual({ pages: [{ afterTenantId: 'c-4', lastTenantId: 'c-5', tenants: 1 }], exhausted: true });
    // Five tenants filling the limit exactly: not known to be exhausted until the next call finds none.
    expect(await p.tenantPages({ job, after: null, pageSize: 5, pages: 1 })).toEqual({ pages: [{ afterTenantId: null, lastTenantId: 'c-5', tenants: 5 }], exhausted: false });
    expect(await p.tenantPages({ job, after: 'c-5', pageSize: 5, pages: 1 })).toEqual({ pages: [], exhausted: true });
    // A bound between ids works too (a cursor need not be an existing id).
    expect(await p.tenantPages({ job, after: 'a', pageSize: 10, pages: 1 })).toEqual({ pages: [{ afterTenantId: 'a', lastTenantId: 'c-5', tenants: 4 }], exhausted: true });
  });

  it('tenantPages and pendingTenants: a one-tenant job is one page of that tenant, whatever its status or existence', async () => {
    const p = planning();
    for (const tenantId of ['a-0-suspended', 'nobody']) {
      const job = { type: 'revenue', tenantId } as const;
      const first = await p.tenantPages({ job, after: null, pageSize: 500, pages: 8 });
      expect(first).toEqual({ pages: [{ afterTenantId: null, lastTenantId: tenantId, tenants: 1 }], exhausted: true });
      expect(await p.tenantPages({ job, after: tenantId, pageSize: 500, pages: 8 })).toEqual({ pages: [], exhausted: true });
      expect(await p.pendingTenants({ jobKey: 'single', job, page: first.pages[0]! })).toEqual({ tenantIds: [tenantId], resumed: 0 });
    }
    await outcome('single-done', 'nobody', 'revenue', 'succeeded');
    expect(await p.pendingTenants({ jobKey: 'single-done', job: { type: 'revenue', tenantId: 'nobody' }, page: { afterTenantId: null, lastTenantId: 'nobody', tenants: 1 } })).toEqual({
      tenantIds: [],
      resumed: 1,
    });
  });

  it('pendingTenants: the tenants of a page without a succeeded outcome for every type of this job key', async () => {
    const p = planning();
    // Page (a-3, c-5]: b-2, c-4, c-5.
    const page = { afterTenantId: 'a-3', lastTenantId: 'c-5', tenants: 3 };
    for (const type of ['revenue', 'cohorts', 'tournaments']) await outcome('job-p', 'b-2', type, 'succeeded');
    await outcome('job-p', 'c-4', 'revenue', 'succeeded');
    await outcome('job-p', 'c-4', 'cohorts', 'succeeded');
    await outcome('job-p', 'c-4', 'tournaments', 'failed');
    // Another job's outcomes and a tenant outside the page do not count.
    for (const type of ['revenue', 'cohorts', 'tournaments']) await outcome('job-other', 'c-5', type, 'succeeded');
    for (const type of ['revenue', 'cohorts', 'tournaments']) await outcome('job-p', 'a-3', type, 'succeeded');

    expect(await p.pendingTenants({ jobKey: 'job-p', job: { type: 'all' }, page })).toEqual({ tenantIds: ['c-4', 'c-5'], resumed: 1 });
    // For revenue alone c-4 is done too.
    expect(await p.pendingTenants({ jobKey: 'job-p', job: { type: 'revenue' }, page })).toEqual({ tenantIds: ['c-5'], resumed: 2 });
    expect(await p.pendingTenants({ jobKey: 'job-p', job: { type: 'tournaments' }, page })).toEqual({ tenantIds: ['c-4', 'c-5'], resumed: 1 });
    // The first page, (null, a-3]: B-1 and a-3 (the suspended a-0 is not listed).
    expect(await p.pendingTenants({ jobKey: 'job-p', job: { type: 'all' }, page: { afterTenantId: null, lastTenantId: 'a-3', tenants: 2 } })).toEqual({
      tenantIds: ['B-1'],
      resumed: 1,
    });
  });

  it('purgeOutcomes deletes the rows recorded before now − retention (by the activity clock), in batches', async () => {
    await t.pool.query('DELETE FROM aggregation_outcomes');
    const hour = 3_600_000;
    // 45,000 expired rows (more than two purge batches), one exactly at the cut-off, two newer.
    await t.pool.query(
      `INSERT INTO aggregation_outcomes (job_key, tenant_id, type, status, recorded_at)
       SELECT 'old', 't-' || n, 'revenue', 'succeeded', $1::timestamptz FROM generate_series(1, 45000) AS n`,
      ['2025-11-05T11:59:59.999Z'],
    );
    await outcome('edge', 'a-3', 'revenue', 'succeeded', '2025-11-05T12:00:00.000Z');
    await outcome('new', 'a-3', 'revenue', 'succeeded', '2025-11-06T11:00:00.000Z');
    await outcome('new', 'b-2', 'revenue', 'failed', NOW);
    expect(await planning().purgeOutcomes({ retentionMs: 24 * hour })).toBe(45_000);
    const left = await t.pool.query<{ job_key: string; n: number }>('SELECT job_key, count(*)::int AS n FROM aggregation_outcomes GROUP BY 1 ORDER BY 1');
    expect(left.rows).toEqual([
      { job_key: 'edge', n: 1 },
      { job_key: 'new', n: 2 },
    ]);
    expect(await planning().purgeOutcomes({ retentionMs: 24 * hour })).toBe(0);
    expect(await planning().purgeOutcomes({ retentionMs: 0 })).toBe(2); // recorded before NOW: edge and new/a-3
  });
});
