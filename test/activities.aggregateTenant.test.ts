import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities/index';
import type { AggregateTenantInput } from '../src/activities/types';
import { InvalidInputError, NON_RETRYABLE_ERROR_TYPES, UnknownTenantError } from '../src/errors';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { activity, cohortRows, org, payment, revenueRows, user } from './helpers/fixtures';
import { fixedClock, silentLogger } from './helpers/service';

let t: TestDatabase;
let activities: ReturnType<typeof createActivities>;

beforeAll(async () => {
  t = await createTestDatabase('act');
  await org(t.pool, 'beta', 'UTC');
  await org(t.pool, 'alpha', 'Asia/Kolkata');
  await org(t.pool, 'Zeta', 'UTC');
  await org(t.pool, 'paused', 'UTC', 'suspended');
  await org(t.pool, 'gone', 'UTC', 'deleted');
  await payment(t.pool, 'alpha', { id: 'p1', amountCents: 700, status: 'succeeded', createdAt: '2025-03-01T18:29:59.999Z' }); // Mar 1 23:59:59.999 IST
  await user(t.pool, 'alpha', 'u1', '2025-01-15T00:00:00Z');
  await activity(t.pool, 'alpha', 'u1', '2025-03-02T00:00:00Z');
  // The activity's own clock is far away: cohort rows must follow the input's asOf only.
  activities = createActivities({ db: t.db, clock: fixedClock('2030-01-01T00:00:00Z'), logger: silentLogger });
});

afterAll(async () => {
  await t?.drop();
});

const input = (over: Partial<AggregateTenantInput>): AggregateTenantInput => ({
  tenantId: 'alpha',
  type: 'revenue',
  periodType: 'day',
  from: '2025-03-01',
  to: '2025-03-03',
  asOf: '2025-03-15T00:00:00Z',
  ...over,
});

describe('aggregation activities', () => {
  it('getActiveTenants: ids of active organizations, sorted by code point', async () => {
    expect(await activities.getActiveTenants()).toEqual(['Zeta', 'alpha', 'beta']);
  });

  it('aggregateTenant revenue: periods in the tenant timezone', async () => {
    const summary = await activities.aggregateTenant(input({}));
    expect(summary).toMatchObject({ tenantId: 'alpha', type: 'revenue', periodType: 'day', rowsWritten: 2, periodsCovered: 2 });
    expect(summary.rangeStart).toBe('2025-02-28T18:30:00.000Z'); // Mar 1 00:00 IST
    const rows = await revenueRows(t.pool, 'alpha');
    expect(rows.map((r) => [r.period_start, r.gross_revenue_cents])).toEqual([
      ['2025-02-28T18:30:00.000Z', '700'],
      ['2025-03-01T18:30:00.000Z', '0'],
    ]);
  });

  it('aggregateTenant cohorts: from/to select cohort months; month numbers run to asOf, not the wall clock', async () => {
    const summary = await activities.aggregateTenant(input({ type: 'cohorts', from: '2025-01-01', to: '2025-02-01' }));
    expect(summary).toMatchObject({ type: 'cohorts', periodType: 'month', periodsCovered: 1, rowsWritten: 3 });
    expect(await cohortRows(t.pool, 'alpha')).toEqual([
      { cohort_month: '2025-01-01', month_number: 0, cohort_size: 1, retained_users: 1, retention_rate: '100.00' },
      { cohort_month: '2025-01-01', month_number: 1, cohort_size: 1, retained_users: 0, retention_rate: '0.00' },
      { cohort_month: '2025-01-01', month_number: 2, cohort_size: 1, retained_users: 1, retention_rate: '100.00' }, // March
    ]);
  });

  it('aggregateTenant tournaments', async () => {
    const summary = await activities.aggregateTenant(input({ type: 'tournaments', periodType: 'month', from: '2025-01-01', to: '2025-04-01' }));
    expect(summary).toMatchObject({ type: 'tournaments', periodType: 'month', rowsWritten: 3, periodsCovered: 3 });
  });

  it('bad input throws errors whose names are in NON_RETRYABLE_ERROR_TYPES', async () => {
    const unknown = await activities.aggregateTenant(input({ tenantId: 'nobody' })).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownTenantError);
    const badType = await activities.aggregateTenant(input({ type: 'weather' as never })).catch((e: unknown) => e);
    expect(badType).toBeInstanceOf(InvalidInputError);
    const noAsOf = await activities.aggregateTenant(input({ type: 'cohorts', asOf: undefined as never })).catch((e: unknown) => e);
    expect(noAsOf).toBeInstanceOf(InvalidInputError);
    for (const err of [unknown, badType, noAsOf]) expect(NON_RETRYABLE_ERROR_TYPES).toContain((err as Error).name);
  });
});
