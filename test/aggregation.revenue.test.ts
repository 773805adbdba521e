import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { org, payment, refund, revenueRows, subscription } from './helpers/fixtures';
import { testService } from './helpers/service';

// Every expected value below is worked out by hand from the fixture rows and the metric definitions of docs/data-contract.md.

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('rev');
});
afterAll(async () => {
  await t?.drop();
});

describe('monthly revenue, refunds, payment statuses and MRR (UTC tenant)', () => {
  beforeAll(async () => {
    const q = t.pool;
    await org(q, 'acme', 'UTC');
    // January
    await payment(q, 'acme', { id: 'p1', amountCents: 10000, status: 'succeeded', createdAt: '2025-01-10T12:00:00Z' });
    await payment(q, 'acme', { id: 'p2', amountCents: 2500, status: 'failed', createdAt: '2025-01-15T12:00:00Z' });
    await payment(q, 'acme', { id: 'p3', amountCents: 4000, status: 'pending', createdAt: '2025-01-20T12:00:00Z' });
    await payment(q, 'acme', { id: 'p4', amountCents: 5000, status: 'succeeded', createdAt: '2025-01-31T23:59:59.999Z' });
    // February (p5 exactly at the period start)
    await payment(q, 'acme', { id: 'p5', amountCents: 7000, status: 'succeeded', createdAt: '2025-02-01T00:00:00Z' });
    await payment(q, 'acme', { id: 'p6', amountCents: 3000, status: 'failed', createdAt: '2025-02-14T12:00:00Z' });
    await payment(q, 'acme', { id: 'p7', amountCents: 1500, status: 'failed', createdAt: '2025-02-20T12:00:00Z' });
    // March: only a pending payment
    await payment(q, 'acme', { id: 'p8', amountCents: 1234, status: 'pending', createdAt: '2025-03-05T12:00:00Z' });
    // Refunds of earlier-period payments: p1 (January) refunded in February and in March.
    await refund(q, 'acme', { id: 'r1', paymentId: 'p1', amountCents: 4000, createdAt: '2025-02-03T12:00:00Z' });
    await refund(q, 'acme', { id: 'r2', paymentId: 'p1', amountCents: 6000, createdAt: '2025-03-10T12:00:00Z' });
    await refund(q, 'acme', { id: 'r3', paymentId: 'p5', amountCents: 1000, createdAt: '2025-02-28T23:59:59.999Z' });

    // Subscriptions; "twelfths" = monthly amount x 12 or yearly amount x 1.
    await subscription(q, 'acme', { id: 's1', amountCents: 999, interval: 'month', startedAt: '2024-12-15T00:00:00Z' }); // 11988
    await subscription(q, 'acme', { id: 's2', amountCents: 999, interval: 'year', startedAt: '2025-01-20T00:00:00Z' }); // 999
    // canceled exactly at February's period_end: still counted at Feb end, gone at Mar end
    await subscription(q, 'acme', { id: 's3', amountCents: 1000, interval: 'year', startedAt: '2025-01-05T00:00:00Z', canceledAt: '2025-03-01T00:00:00Z' }); // 1000
    // started exactly at January's period_end: not counted at Jan end (started_at < period_end fails)
    await subscription(q, 'acme', { id: 's4', amountCents: 500, interval: 'month', startedAt: '2025-02-01T00:00:00Z', canceledAt: '2025-03-15T00:00:00Z' }); // 6000
    await subscription(q, 'acme', { id: 's5', amountCents: 2000, interval: 'month', startedAt: '2025-04-30T23:59:59.999Z' }); // 24000
    // started and canceled inside January: never active at any period_end
    await subscription(q, 'acme', { id: 's6', amountCents: 12001, interval: 'year', startedAt: '2025-01-01T00:00:00Z', canceledAt: '2025-01-31T00:00:00Z' });
    await subscription(q, 'acme', { id: 's7', amountCents: 1, interval: 'year', startedAt: '2024-01-01T00:00:00Z' }); // 1
  });

  it('writes one row per month, the empty April included', async () => {
    const summary = await testService(t.db).aggregateRevenue('acme', '2025-01-01', '2025-05-01', 'month');
    expect(summary).toMatchObject({ tenantId: 'acme', type: 'revenue', periodType: 'month', rowsWritten: 4, periodsCovered: 4 });
    expect(summary.rangeStart).toBe('2025-01-01T00:00:00.000Z');
    expect(summary.rangeEnd).toBe('2025-05-01T00:00:00.000Z');

    const rows = await revenueRows(t.pool, 'acme');
    expect(rows).toEqual([
      {
        period_type: 'month',
        period_start: '2025-01-01T00:00:00.000Z',
        period_end: '2025-02-01T00:00:00.000Z',
        // counted: p1 (succeeded), p2 (failed), p4 (succeeded, last ms of January); p3 pending is not
        payment_count: 3,
        payment_success_count: 2,
        payment_success_rate: '66.67', // 100 x 2 / 3 = 66.666...
        gross_revenue_cents: '15000', // 10000 + 5000
        refund_count: 0,
        refund_amount_cents: '0',
        total_revenue_cents: '15000',
        // s1 11988 + s2 999 + s3 1000 + s7 1 = 13988 twelfths = 1165.67 -> 1166
        mrr_cents: '1166',
        arr_cents: '13992', // 12 x 1166
      },
      {
        period_type: 'month',
        period_start: '2025-02-01T00:00:00.000Z',
        period_end: '2025-03-01T00:00:00.000Z',
        payment_count: 3, // p5, p6, p7
        payment_success_count: 1,
        payment_success_rate: '33.33',
        gross_revenue_cents: '7000',
        refund_count: 2, // r1 (of January's p1) and r3
        refund_amount_cents: '5000', // 4000 + 1000
        total_revenue_cents: '2000', // 7000 - 5000
        // s1 11988 + s2 999 + s3 1000 (canceled_at = period_end) + s4 6000 + s7 1 = 19988 -> 1665.67 -> 1666
        mrr_cents: '1666',
        arr_cents: '19992',
      },
      {
        period_type: 'month',
        period_start: '2025-03-01T00:00:00.000Z',
        period_end: '2025-04-01T00:00:00.000Z',
        payment_count: 0, // only pending p8
        payment_success_count: 0,
        payment_success_rate: '0.00',
        gross_revenue_cents: '0',
        refund_count: 1, // r2, of a payment two periods earlier
        refund_amount_cents: '6000',
        total_revenue_cents: '-6000', // net revenue may be negative
        // s1 11988 + s2 999 + s7 1 = 12988 -> 1082.33 -> 1082 (s3, s4 canceled before Apr 1)
        mrr_cents: '1082',
        arr_cents: '12984',
      },
      {
        period_type: 'month',
        period_start: '2025-04-01T00:00:00.000Z',
        period_end: '2025-05-01T00:00:00.000Z',
        payment_count: 0,
        payment_success_count: 0,
        payment_success_rate: '0.00',
        gross_revenue_cents: '0',
        refund_count: 0,
        refund_amount_cents: '0',
        total_revenue_cents: '0',
        // 12988 + s5 24000 (started in the last ms of April) = 36988 -> 3082.33 -> 3082
        mrr_cents: '3082',
        arr_cents: '36984',
      },
    ]);
  });
});

describe('MRR is rounded once, half away from zero', () => {
  beforeAll(async () => {
    const q = t.pool;
    await org(q, 'rounding', 'UTC');
    // Three yearly subscriptions of 2 cents: 2/12 = 0.1667 each, which would round to 0 one by one.
    for (const id of ['y1', 'y2', 'y3']) {
      await subscription(q, 'rounding', { id, amountCents: 2, interval: 'year', startedAt: '2025-01-01T00:00:00Z' });
    }
    // From February also a yearly 999 (999/12 = 83.25).
    await subscription(q, 'rounding', { id: 'y4', amountCents: 999, interval: 'year', startedAt: '2025-02-10T00:00:00Z' });
  });

  it('sums in exact fractions, then rounds', async () => {
    await testService(t.db).aggregateRevenue('rounding', '2025-01-01', '2025-03-01', 'month');
    const rows = await revenueRows(t.pool, 'rounding');
    expect(rows.map((r) => [r.period_start, r.mrr_cents, r.arr_cents])).toEqual([
      ['2025-01-01T00:00:00.000Z', '1', '12'], // 6/12 = 0.5 -> 1 (half away from zero; banker's rounding would give 0)
      ['2025-02-01T00:00:00.000Z', '84', '1008'], // (6 + 999)/12 = 83.75 -> 84 (per-subscription rounding: 0+0+0+83 = 83)
    ]);
  });
});

describe('days across a DST change (America/New_York)', () => {
  beforeAll(async () => {
    const q = t.pool;
    await org(q, 'ny', 'America/New_York');
    await payment(q, 'ny', { id: 'ny1', amountCents: 100, status: 'succeeded', createdAt: '2025-03-09T04:59:59.999Z' }); // Mar 8 23:59:59.999 EST
    await payment(q, 'ny', { id: 'ny2', amountCents: 200, status: 'succeeded', createdAt: '2025-03-09T05:00:00Z' }); // Mar 9 00:00 EST
    await payment(q, 'ny', { id: 'ny3', amountCents: 300, status: 'succeeded', createdAt: '2025-03-10T03:59:59.999Z' }); // Mar 9 23:59:59.999 EDT
    await payment(q, 'ny', { id: 'ny4', amountCents: 400, status: 'succeeded', createdAt: '2025-03-10T04:00:00Z' }); // Mar 10 00:00 EDT
    // Mar 10 00:30 EDT; a fixed UTC-5 day would put it on Mar 9
    await payment(q, 'ny', { id: 'ny5', amountCents: 500, status: 'failed', createdAt: '2025-03-10T04:30:00Z' });
    // Mar 9 23:30 EDT: counted in MRR at the end of Mar 9
    await subscription(q, 'ny', { id: 'nys', amountCents: 1000, interval: 'month', startedAt: '2025-03-10T03:30:00Z' });
  });

  it('stores the local boundaries as instants: a 23-hour day', async () => {
    await testService(t.db).aggregateRevenue('ny', '2025-03-08', '2025-03-11', 'day');
    const rows = await revenueRows(t.pool, 'ny');
    expect(rows.map((r) => [r.period_start, r.period_end, r.payment_count, r.payment_success_count, r.payment_success_rate, r.gross_revenue_cents, r.mrr_cents])).toEqual([
      ['2025-03-08T05:00:00.000Z', '2025-03-09T05:00:00.000Z', 1, 1, '100.00', '100', '0'],
      ['2025-03-09T05:00:00.000Z', '2025-03-10T04:00:00.000Z', 2, 2, '100.00', '500', '1000'], // 200 + 300
      ['2025-03-10T04:00:00.000Z', '2025-03-11T04:00:00.000Z', 2, 1, '50.00', '400', '1000'],
    ]);
  });
});

describe('ISO weeks across the year boundary (Europe/Berlin)', () => {
  beforeAll(async () => {
    const q = t.pool;
    await org(q, 'berlin', 'Europe/Berlin');
    await payment(q, 'berlin', { id: 'b1', amountCents: 1000, status: 'succeeded', createdAt: '2024-12-29T22:59:59.999Z' }); // Sun Dec 29 23:59:59.999 CET
    await payment(q, 'berlin', { id: 'b2', amountCents: 2000, status: 'succeeded', createdAt: '2024-12-29T23:00:00Z' }); // Mon Dec 30 00:00 CET
    await payment(q, 'berlin', { id: 'b3', amountCents: 3000, status: 'succeeded', createdAt: '2025-01-01T12:00:00Z' });
    await payment(q, 'berlin', { id: 'b4', amountCents: 4000, status: 'failed', createdAt: '2025-01-05T22:30:00Z' }); // Sun Jan 5 23:30 CET
    await payment(q, 'berlin', { id: 'b5', amountCents: 5000, status: 'succeeded', createdAt: '2025-01-05T23:00:00Z' }); // Mon Jan 6 00:00 CET
  });

  it('puts Mon 2024-12-30 .. Mon 2025-01-06 (2025-W01) in one period', async () => {
    // A Wednesday start still floors to its Monday (2024-12-25 -> 2024-12-23).
    await testService(t.db).aggregateRevenue('berlin', '2024-12-25', '2025-01-13', 'week');
    const rows = await revenueRows(t.pool, 'berlin');
    expect(rows.map((r) => [r.period_type, r.period_start, r.period_end, r.payment_count, r.payment_success_rate, r.gross_revenue_cents])).toEqual([
      ['week', '2024-12-22T23:00:00.000Z', '2024-12-29T23:00:00.000Z', 1, '100.00', '1000'],
      ['week', '2024-12-29T23:00:00.000Z', '2025-01-05T23:00:00.000Z', 3, '66.67', '5000'], // b2 + b3; b4 failed
      ['week', '2025-01-05T23:00:00.000Z', '2025-01-12T23:00:00.000Z', 1, '100.00', '5000'],
    ]);
  });
});
