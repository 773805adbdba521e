import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { activity, cohortRows, org, user } from './helpers/fixtures';
import { testService } from './helpers/service';

// Europe/Berlin, 2025 (CET = UTC+1, CEST = UTC+2 from Mar 30): months are
// Jan [2024-12-31T23:00Z, 2025-01-31T23:00Z), Feb [.., 2025-02-28T23:00Z),
// Mar [.., 2025-03-31T22:00Z), Apr [.., 2025-04-30T22:00Z). As-of: 2025-04-15 (April).
// Expected rows are worked out by hand below.

let t: TestDatabase;
const asOf = '2025-04-15T12:00:00Z';

beforeAll(async () => {
  t = await createTestDatabase('coh');
  const q = t.pool;
  await org(q, 'co', 'Europe/Berlin');
  await user(q, 'co', 'u0', '2024-12-31T22:59:00Z'); // Dec 31 23:59 CET: December cohort, outside the range
  await user(q, 'co', 'u1', '2024-12-31T23:00:00Z'); // Jan 1 00:00 CET: January
  await user(q, 'co', 'u2', '2025-01-15T12:00:00Z'); // January
  await user(q, 'co', 'u3', '2025-01-31T22:59:59.999Z'); // Jan 31 23:59:59.999 CET: January
  await user(q, 'co', 'u4', '2025-01-31T23:00:00Z'); // Feb 1 00:00 CET: February
  await user(q, 'co', 'u5', '2025-02-10T12:00:00Z'); // February
  // March: nobody signs up (an empty cohort: no rows)
  await user(q, 'co', 'u6', '2025-04-02T12:00:00Z'); // April

  await activity(q, 'co', 'u1', '2025-01-20T12:00:00Z'); // month 0 of January: retention 0 is the cohort size anyway
  await activity(q, 'co', 'u1', '2025-02-05T12:00:00Z'); // Feb
  await activity(q, 'co', 'u1', '2025-02-06T12:00:00Z'); // Feb again: still one retained user
  await activity(q, 'co', 'u1', '2025-04-01T10:00:00Z'); // Apr
  await activity(q, 'co', 'u2', '2025-02-28T22:59:59.999Z'); // Feb 28 23:59:59.999 CET: Feb
  await activity(q, 'co', 'u3', '2025-03-31T22:00:00Z'); // Apr 1 00:00 CEST: Apr
  await activity(q, 'co', 'u2', '2025-05-01T10:00:00Z'); // May: after the as-of month, no row for it
  await activity(q, 'co', 'u4', '2025-02-20T12:00:00Z'); // month 0 of February
  await activity(q, 'co', 'u4', '2025-04-30T21:59:00Z'); // Apr 30 23:59 CEST: Apr
  await activity(q, 'co', 'u5', '2025-03-10T12:00:00Z'); // Mar
  await activity(q, 'co', 'u0', '2025-02-10T12:00:00Z'); // a December user: not in any cohort computed here
});

afterAll(async () => {
  await t?.drop();
});

describe('user cohorts', () => {
  it('writes month 0..k up to the as-of month, with gaps, and nothing for an empty cohort', async () => {
    const summary = await testService(t.db).aggregateCohorts('co', { from: '2025-01-01', to: '2025-04-01' }, asOf);
    expect(summary).toMatchObject({ type: 'cohorts', periodType: 'month', rowsWritten: 7, periodsCovered: 3 });
    expect(summary.rangeStart).toBe('2024-12-31T23:00:00.000Z');
    expect(summary.rangeEnd).toBe('2025-03-31T22:00:00.000Z');
    expect(await cohortRows(t.pool, 'co')).toEqual([
      // January: {u1, u2, u3}
      { cohort_month: '2025-01-01', month_number: 0, cohort_size: 3, retained_users: 3, retention_rate: '100.00' },
      { cohort_month: '2025-01-01', month_number: 1, cohort_size: 3, retained_users: 2, retention_rate: '66.67' }, // u1, u2 in Feb
      { cohort_month: '2025-01-01', month_number: 2, cohort_size: 3, retained_users: 0, retention_rate: '0.00' }, // the gap: nobody in Mar
      { cohort_month: '2025-01-01', month_number: 3, cohort_size: 3, retained_users: 2, retention_rate: '66.67' }, // u1, u3 in Apr
      // February: {u4, u5}
      { cohort_month: '2025-02-01', month_number: 0, cohort_size: 2, retained_users: 2, retention_rate: '100.00' },
      { cohort_month: '2025-02-01', month_number: 1, cohort_size: 2, retained_users: 1, retention_rate: '50.00' }, // u5 in Mar
      { cohort_month: '2025-02-01', month_number: 2, cohort_size: 2, retained_users: 1, retention_rate: '50.00' }, // u4 in Apr
      // March: empty, no rows
    ]);
  });

  it('a cohort month that contains as-of has only month 0', async () => {
    const summary = await testService(t.db).aggregateCohorts('co', '2025-04-20', asOf);
    expect(summary).toMatchObject({ rowsWritten: 1, periodsCovered: 1, rangeStart: '2025-03-31T22:00:00.000Z', rangeEnd: '2025-04-30T22:00:00.000Z' });
    const april = (await cohortRows(t.pool, 'co')).filter((r) => r.cohort_month === '2025-04-01');
    expect(april).toEqual([{ cohort_month: '2025-04-01', month_number: 0, cohort_size: 1, retained_users: 1, retention_rate: '100.00' }]);
  });

  it('as-of before the cohort month writes nothing', async () => {
    const summary = await testService(t.db).aggregateCohorts('co', '2025-05-01', asOf);
    expect(summary.rowsWritten).toBe(0);
  });

  it('removes rows of a cohort month that is no longer defined (it became empty)', async () => {
    // A row left from a time when March had a user.
    await t.pool.query(
      `INSERT INTO user_cohorts (tenant_id, cohort_month, month_number, cohort_size, retained_users, retention_rate)
       VALUES ('co', '2025-03-01', 0, 1, 1, 100)`,
    );
    await testService(t.db).aggregateCohorts('co', '2025-03-01', asOf);
    const march = (await cohortRows(t.pool, 'co')).filter((r) => r.cohort_month === '2025-03-01');
    expect(march).toEqual([]);
    // The other months are untouched.
    expect(await cohortRows(t.pool, 'co')).toHaveLength(8);
  });

  it('a run with an older as-of time keeps the later month numbers a newer run wrote', async () => {
    // Newer run (clock: 2025-06-15): February gets months 0..4. Then a late run as of 2025-04-15
    // defines months 0..2 only; months 3 and 4 must stay.
    await testService(t.db).aggregateCohorts('co', '2025-02-01');
    await testService(t.db).aggregateCohorts('co', '2025-02-01', asOf);
    const feb = (await cohortRows(t.pool, 'co')).filter((r) => r.cohort_month === '2025-02-01');
    expect(feb.map((r) => r.month_number)).toEqual([0, 1, 2, 3, 4]);
  });

  it('defaults as-of to the clock', async () => {
    // Clock pinned at 2025-06-15 (see testService): January gets months 0..5.
    await testService(t.db).aggregateCohorts('co', '2025-01-01');
    const jan = (await cohortRows(t.pool, 'co')).filter((r) => r.cohort_month === '2025-01-01');
    expect(jan.map((r) => [r.month_number, r.retained_users])).toEqual([
      [0, 3],
      [1, 2],
      [2, 0],
      [3, 2],
      [4, 1], // u2 in May
      [5, 0],
    ]);
  });
});
