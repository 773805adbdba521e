import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db';

describe('Prisma client over the pg driver adapter', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('prisma');
  });
  afterAll(async () => {
    await t.drop();
  });

  it('writes and reads rows in the test schema, with bigint cents and instants intact', async () => {
    const signup = new Date('2025-03-09T06:59:59.123Z');
    await t.db.organization.create({ data: { id: 'org_rt', name: 'Round Trip', timezone: 'America/New_York' } });
    await t.db.user.create({ data: { id: 'u1', tenantId: 'org_rt', email: 'a@example.test', createdAt: signup } });
    await t.db.payment.create({
      data: { id: 'p1', tenantId: 'org_rt', userId: 'u1', amountCents: 9_007_199_254_740_993n, status: 'succeeded', createdAt: signup },
    });

    const org = await t.db.organization.findUniqueOrThrow({ where: { id: 'org_rt' }, include: { users: true } });
    expect(org.timezone).toBe('America/New_York');
    expect(org.currency).toBe('USD');
    expect(org.status).toBe('active');
    expect(org.users.map((u) => u.createdAt.toISOString())).toEqual(['2025-03-09T06:59:59.123Z']);
    const payment = await t.db.payment.findUniqueOrThrow({ where: { id: 'p1' } });
    // 2^53 + 1: beyond a JS number, so only a real bigint round trip keeps it.
    expect(payment.amountCents).toBe(9_007_199_254_740_993n);

    // The row really is in this test's schema, not in public.
    const { rows } = await t.pool.query(`SELECT table_schema FROM information_schema.tables WHERE table_name = 'payments' AND table_schema = $1`, [t.schema]);
    expect(rows).toHaveLength(1);
    const count = await t.pool.query<{ n: string }>('SELECT count(*) AS n FROM payments');
    expect(count.rows[0]!.n).toBe('1');
  });
});
