import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { activity, cohortRows, org, payment, player, refund, revenueRows, tournament, tournamentRows, user } from './helpers/fixtures';
import { testService } from './helpers/service';

let t: TestDatabase;
const asOf = '2025-02-15T00:00:00Z';

beforeAll(async () => {
  t = await createTestDatabase('idem');
  const q = t.pool;
  await org(q, 'idem', 'UTC');
  await payment(q, 'idem', { id: 'p1', amountCents: 1000, status: 'succeeded', createdAt: '2025-01-05T10:00:00Z' });
  await user(q, 'idem', 'u1', '2025-01-10T10:00:00Z');
  await user(q, 'idem', 'u2', '2025-01-11T10:00:00Z');
  await activity(q, 'idem', 'u1', '2025-02-02T10:00:00Z');
  await tournament(q, 'idem', { id: 't1', format: 'swiss', status: 'in_progress', createdAt: '2025-01-07T10:00:00Z', startedAt: '2025-01-07T11:00:00Z' });
  await player(q, 'idem', 't1', 'u1', '2025-01-07T10:30:00Z');
});

afterAll(async () => {
  await t?.drop();
});

const run = () => testService(t.db).aggregateAll('idem', '2025-01-01', '2025-03-01', 'month', asOf);
const snapshot = async () => ({ revenue: await revenueRows(t.pool, 'idem'), tournaments: await tournamentRows(t.pool, 'idem'), cohorts: await cohortRows(t.pool, 'idem') });
const computedAt = async () =>
  (await t.pool.query<{ table: string; at: Date }>(
    `SELECT 'revenue' AS table, max(computed_at) AS at FROM revenue_aggregates
     UNION ALL SELECT 'tournaments', max(computed_at) FROM tournament_aggregates
     UNION ALL SELECT 'cohorts', max(computed_at) FROM user_cohorts`,
  )).rows;

describe('idempotency', () => {
  it('running twice leaves identical rows (computed_at aside)', async () => {
    const first = await run();
    const before = await snapshot();
    const stampsBefore = await computedAt();
    const second = await run();
    expect(await snapshot()).toEqual(before);
    // Same number of rows written each time: updates in place, no duplicates.
    expect(second.map((s) => s.rowsWritten)).toEqual(first.map((s) => s.rowsWritten));
    expect(before.revenue).toHaveLength(2); // Jan, Feb
    expect(before.tournaments).toHaveLength(2);
    expect(before.cohorts).toHaveLength(2); // January cohort, months 0 and 1; February is empty
    // computed_at is the only column that moves.
    const stampsAfter = await computedAt();
    for (const [i, row] of stampsAfter.entries()) expect(row.at.getTime()).toBeGreaterThanOrEqual(stampsBefore[i]!.at.getTime());
  });

  it('a re-run after raw data changes updates the rows', async () => {
    await run();
    const q = t.pool;
    await payment(q, 'idem', { id: 'p2', amountCents: 500, status: 'succeeded', createdAt: '2025-02-10T10:00:00Z' });
    await refund(q, 'idem', { id: 'r1', paymentId: 'p1', amountCents: 200, createdAt: '2025-02-11T10:00:00Z' });
    await activity(q, 'idem', 'u2', '2025-02-03T10:00:00Z');
    await user(q, 'idem', 'u3', '2025-01-12T10:00:00Z');
    await player(q, 'idem', 't1', 'u2', '2025-01-07T10:40:00Z');
    await q.query(`UPDATE tournaments SET status = 'completed', completed_at = '2025-01-07T12:30:00Z' WHERE id = 't1'`);
    await run();

    const { revenue, tournaments, cohorts } = await snapshot();
    expect(revenue.map((r) => [r.period_start, r.gross_revenue_cents, r.refund_amount_cents, r.total_revenue_cents])).toEqual([
      ['2025-01-01T00:00:00.000Z', '1000', '0', '1000'], // unchanged: the refund is February's
      ['2025-02-01T00:00:00.000Z', '500', '200', '300'],
    ]);
    expect(tournaments[0]).toMatchObject({
      completed_count: 1,
      completion_rate: '100.00',
      total_players: 2,
      avg_players: '2.00',
      avg_duration_minutes: '90.00', // 11:00 -> 12:30
    });
    expect(cohorts).toEqual([
      { cohort_month: '2025-01-01', month_number: 0, cohort_size: 3, retained_users: 3, retention_rate: '100.00' },
      { cohort_month: '2025-01-01', month_number: 1, cohort_size: 3, retained_users: 2, retention_rate: '66.67' }, // u1, u2
    ]);
  });
});
