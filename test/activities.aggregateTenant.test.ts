import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities/index';
import type { TenantAggregationInput } from '../src/contract/aggregation';
import { InactiveTenantError, InvalidInputError, NON_RETRYABLE_ERROR_TYPES, UnknownTenantError } from '../src/errors';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { activity, cohortRows, org, payment, revenueRows, user } from './helpers/fixtures';
import { fixedClock, silentLogger } from './helpers/service';

// The real aggregateTenant over Postgres: one call per tenant and job computes every type over the
// whole range in one transaction and records one outcome row per type (the resume ledger), keyed
// by the job; a second call of the same job finds them and does nothing.

let t: TestDatabase;
let activities: ReturnType<typeof createActivities>;
/** The activity clock: it stamps outcome rows, and is far from the job's asOf on purpose. */
const CLOCK = '2030-01-01T00:00:00.000Z';

beforeAll(async () => {
  t = await createTestDatabase('act');
  await org(t.pool, 'beta', 'UTC');
  await org(t.pool, 'alpha', 'Asia/Kolkata');
  await org(t.pool, 'Zeta', 'UTC');
  await org(t.pool, 'paused', 'UTC', 'suspended');
  await org(t.pool, 'gone', 'UTC', 'deleted');
  await org(t.pool, 'mars', 'Mars/Olympus_Mons');
  await payment(t.pool, 'alpha', { id: 'p1', amountCents: 700, status: 'succeeded', createdAt: '2025-03-01T18:29:59.999Z' }); // Mar 1 23:59:59.999 IST
  await user(t.pool, 'alpha', 'u1', '2025-01-15T00:00:00Z');
  await activity(t.pool, 'alpha', 'u1', '2025-03-02T00:00:00Z');
  activities = createActivities({ db: t.db, clock: fixedClock(CLOCK), logger: silentLogger });
});

afterAll(async () => {
  await t?.drop();
});

/** January 1 to March 3 (exclusive) by day: 31 + 28 + 2 = 61 days; cohort months January, February, March. */
const BACKFILL = { type: 'all', periodType: 'day', periodStart: '2025-01-01', periodEnd: '2025-03-03' } as const;

const input = (over: Partial<TenantAggregationInput>): TenantAggregationInput => ({
  jobKey: 'aggregation/job-1',
  tenantId: 'alpha',
  job: BACKFILL,
  asOf: '2025-03-15T00:00:00.000Z',
  ...over,
});

async function outcomes(jobKey: string) {
  const { rows } = await t.pool.query<Record<string, unknown>>(
    `SELECT tenant_id, type, status, rows_written, periods, attempts, error_type, message, recorded_at FROM aggregation_outcomes
     WHERE job_key = $1 ORDER BY tenant_id COLLATE "C", type`,
    [jobKey],
  );
  return rows;
}

describe('aggregateTenant', () => {
  it('getActiveTenants: ids of active organizations, sorted by code point', async () => {
    expect(await activities.getActiveTenants()).toEqual(['Zeta', 'alpha', 'beta', 'mars']);
  });

  it('computes every type of the job over its whole range in one call and records one outcome row per type with the attempt', async () => {
    // Attempt 2 of the activity, as the retry policy would run it.
    const result = await new MockActivityEnvironment({ attempt: 2 }).run(activities.aggregateTenant, input({}));
    // Revenue and tournaments: 61 day rows each, empty days included. Cohorts: January's cohort
    // (u1) as of March 15 has months 0, 1, 2; February and March are empty cohorts (no rows).
    expect(result).toEqual({ tenantId: 'alpha', status: 'succeeded', rowsWritten: 61 + 61 + 3 });
    const recordedAt = new Date(CLOCK);
    expect(await outcomes('aggregation/job-1')).toEqual([
      { tenant_id: 'alpha', type: 'cohorts', status: 'succeeded', rows_written: 3, periods: 3, attempts: 2, error_type: null, message: null, recorded_at: recordedAt },
      { tenant_id: 'alpha', type: 'revenue', status: 'succeeded', rows_written: 61, periods: 61, attempts: 2, error_type: null, message: null, recorded_at: recordedAt },
      { tenant_id: 'alpha', type: 'tournaments', status: 'succeeded', rows_written: 61, periods: 61, attempts: 2, error_type: null, message: null, recorded_at: recordedAt },
    ]);
    // Periods in the tenant's timezone: the payment at 23:59:59.999 IST counts on March 1.
    const march = (await revenueRows(t.pool, 'alpha', 'day')).slice(-2);
    expect(march.map((r) => [r.period_start, r.gross_revenue_cents])).toEqual([
      ['2025-02-28T18:30:00.000Z', '700'],
      ['2025-03-01T18:30:00.000Z', '0'],
    ]);
    // Cohort month numbers run to the job's asOf, not to the activity clock (2030).
    expect(await cohortRows(t.pool, 'alpha')).toEqual([
      { cohort_month: '2025-01-01', month_number: 0, cohort_size: 1, retained_users: 1, retention_rate: '100.00' },
      { cohort_month: '2025-01-01', month_number: 1, cohort_size: 1, retained_users: 0, retention_rate: '0.00' },
      { cohort_month: '2025-01-01', month_number: 2, cohort_size: 1, retained_users: 1, retention_rate: '100.00' },
    ]);
  });

  it('a second call of the same job finds the outcome rows and runs nothing (resumed); another job key runs again', async () => {
    await t.pool.query(`DELETE FROM revenue_aggregates WHERE tenant_id = 'alpha'`);
    expect(await activities.aggregateTenant(input({}))).toEqual({ tenantId: 'alpha', status: 'resumed', rowsWritten: 0 });
    // Nothing ran: the deleted rows stay deleted, the outcome rows keep attempt 2.
    expect(await revenueRows(t.pool, 'alpha')).toEqual([]);
    expect((await outcomes('aggregation/job-1')).map((r) => r.attempts)).toEqual([2, 2, 2]);

    expect(await activities.aggregateTenant(input({ jobKey: 'aggregation/job-2', job: { ...BACKFILL, type: 'revenue' } }))).toEqual({ tenantId: 'alpha', status: 'succeeded', rowsWritten: 61 });
    expect(await revenueRows(t.pool, 'alpha')).toHaveLength(61);
    expect((await outcomes('aggregation/job-2')).map((r) => `${String(r.type)} ${String(r.status)} ${String(r.attempts)}`)).toEqual(['revenue succeeded 1']);
  });

  it('a tenant with only some types done for the job runs again and records every type', async () => {
    await t.pool.query(
      `INSERT INTO aggregation_outcomes (job_key, tenant_id, type, status, recorded_at) VALUES ('aggregation/job-3', 'beta', 'revenue', 'succeeded', $1)`,
      ['2029-12-31T00:00:00Z'],
    );
    const result = await activities.aggregateTenant(input({ jobKey: 'aggregation/job-3', tenantId: 'beta' }));
    expect(result.status).toBe('succeeded');
    expect((await outcomes('aggregation/job-3')).map((r) => `${String(r.type)} ${String(r.status)}`)).toEqual(['cohorts succeeded', 'revenue succeeded', 'tournaments succeeded']);
  });

  it('bad input throws errors whose names are in NON_RETRYABLE_ERROR_TYPES and records a failed outcome row per type', async () => {
    const unknown = await activities.aggregateTenant(input({ jobKey: 'aggregation/bad', tenantId: 'nobody', job: { ...BACKFILL, type: 'revenue' } })).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownTenantError);
    const paused = await activities.aggregateTenant(input({ jobKey: 'aggregation/bad', tenantId: 'paused' })).catch((e: unknown) => e);
    expect(paused).toBeInstanceOf(InactiveTenantError);
    expect((paused as Error).message).toBe('tenantId: tenant "paused" is suspended, not active');
    const gone = await activities.aggregateTenant(input({ jobKey: 'aggregation/bad', tenantId: 'gone', job: { ...BACKFILL, type: 'cohorts' } })).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(InactiveTenantError);
    const mars = await new MockActivityEnvironment({ attempt: 3 })
      .run(activities.aggregateTenant, input({ jobKey: 'aggregation/bad', tenantId: 'mars', job: { ...BACKFILL, type: 'tournaments' } }))
      .catch((e: unknown) => e);
    expect(mars).toMatchObject({ name: 'InvalidInputError', field: 'organizations.timezone' });
    const badType = await activities.aggregateTenant(input({ jobKey: undefined as never, job: { type: 'weather' as never } })).catch((e: unknown) => e);
    expect(badType).toMatchObject({ name: 'InvalidInputError', field: 'type' });
    const noTenant = await activities.aggregateTenant(input({ tenantId: ' ' })).catch((e: unknown) => e);
    expect(noTenant).toMatchObject({ name: 'InvalidInputError', field: 'tenantId' });
    for (const err of [unknown, paused, gone, mars, badType, noTenant]) {
      expect(err).toBeInstanceOf(InvalidInputError);
      expect(NON_RETRYABLE_ERROR_TYPES).toContain((err as Error).name);
    }

    const failed = (await outcomes('aggregation/bad')).map((r) => [r.tenant_id, r.type, r.status, r.rows_written, r.attempts, r.error_type]);
    expect(failed).toEqual([
      ['gone', 'cohorts', 'failed', 0, 1, 'InactiveTenantError'],
      ['mars', 'tournaments', 'failed', 0, 3, 'InvalidInputError'],
      ['nobody', 'revenue', 'failed', 0, 1, 'UnknownTenantError'],
      ['paused', 'cohorts', 'failed', 0, 1, 'InactiveTenantError'],
      ['paused', 'revenue', 'failed', 0, 1, 'InactiveTenantError'],
      ['paused', 'tournaments', 'failed', 0, 1, 'InactiveTenantError'],
    ]);
    expect((await outcomes('aggregation/bad')).find((r) => r.tenant_id === 'nobody')?.message).toBe('tenantId: unknown tenant "nobody"');
  });

  it('a failure never overwrites a type that already succeeded for the job; the pending types stay pending', async () => {
    const err = await activities.aggregateTenant(input({ job: { ...BACKFILL, periodStart: undefined, periodEnd: undefined, periods: 0 } })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InvalidInputError', field: 'periods' });
    expect((await outcomes('aggregation/job-1')).map((r) => r.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });
});
