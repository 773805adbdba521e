import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantId, tenantIdDigits } from '../src/seed/generate';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { runCli } from './helpers/cli';

// `analytics seed` past 999 tenants: ids widen to the count's digits so they still sort in order
// as text, every tenant is written in one pass, and a repeated seed names what already exists.

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('seedscale');
});

afterAll(async () => {
  await t?.drop();
});

const TENANTS = 1234;
const FLAGS = ['seed', '--tenants', String(TENANTS), '--users', '2', '--days', '3', '--seed', '7', '--until', '2025-03-01', '--json'];

describe('tenant ids', () => {
  it('are zero-padded to at least 3 digits, and to the width of the tenant count beyond 999', () => {
    expect(tenantIdDigits(1)).toBe(3);
    expect(tenantIdDigits(999)).toBe(3);
    expect(tenantIdDigits(1000)).toBe(4);
    expect(tenantIdDigits(100_000)).toBe(6);
    expect(tenantId(0)).toBe('tenant-001');
    expect(tenantId(0, 3)).toBe('tenant-001');
    expect(tenantId(998, 999)).toBe('tenant-999');
    expect(tenantId(0, 1200)).toBe('tenant-0001');
    expect(tenantId(1199, 1200)).toBe('tenant-1200');
    expect(tenantId(999, 100_000)).toBe('tenant-001000');
    expect(tenantId(99_999, 100_000)).toBe('tenant-100000');
    // An index past the count still gets an id wide enough for itself.
    expect(tenantId(1000, 3)).toBe('tenant-1001');
  });
});

describe('analytics seed at 1,234 tenants', () => {
  it('writes every tenant once, with ids that sort in tenant order, and refuses a second seed naming what exists', async () => {
    const r = await runCli(FLAGS, { env: { DATABASE_URL: t.url }, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { rows: Record<string, number>; totalRows: number };
    expect(result.rows.organizations).toBe(TENANTS);
    expect(result.rows.users).toBe(2 * TENANTS);
    expect(result.rows.tournaments).toBeGreaterThanOrEqual(TENANTS); // at least one per tenant

    const { rows: orgs } = await t.pool.query<{ id: string; timezone: string; status: string }>(
      'SELECT id, timezone, status FROM organizations ORDER BY id COLLATE "C"',
    );
    expect(orgs).toHaveLength(TENANTS);
    // Written out by hand: 4 digits for 1,234 tenants, in numeric order.
    expect(orgs[0]!.id).toBe('tenant-0001');
    expect(orgs[8]!.id).toBe('tenant-0009');
    expect(orgs[9]!.id).toBe('tenant-0010');
    expect(orgs[98]!.id).toBe('tenant-0099');
    expect(orgs[99]!.id).toBe('tenant-0100');
    expect(orgs[998]!.id).toBe('tenant-0999');
    expect(orgs[999]!.id).toBe('tenant-1000');
    expect(orgs[1233]!.id).toBe('tenant-1234');
    // Text order is numeric order everywhere, and every id is distinct.
    orgs.forEach((o, i) => expect(o.id).toBe(`tenant-${String(i + 1).padStart(4, '0')}`));
    expect(new Set(orgs.map((o) => o.id)).size).toBe(TENANTS);
    // The database's own collation agrees with byte order.
    const { rows: collated } = await t.pool.query<{ id: string }>('SELECT id FROM organizations ORDER BY id');
    expect(collated.map((o) => o.id)).toEqual(orgs.map((o) => o.id));

    // Zones cycle by index through the 6 seed zones, every seventh tenant is suspended:
    // tenant-1234 is index 1233 (1233 % 6 = 3: Asia/Kolkata; 1233 % 7 = 1: active),
    // tenant-1232 is index 1231 (1231 % 6 = 1: America/New_York; 1231 % 7 = 6: suspended).
    expect(orgs[1233]).toMatchObject({ timezone: 'Asia/Kolkata', status: 'active' });
    expect(orgs[1231]).toMatchObject({ timezone: 'America/New_York', status: 'suspended' });
    const { rows: suspended } = await t.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM organizations WHERE status = 'suspended'");
    expect(suspended[0]!.n).toBe(Math.floor(TENANTS / 7)); // 176

    // Child rows carry their tenant's id as prefix, with the same width, and never point across tenants.
    const { rows: strays } = await t.pool.query<{ n: number }>(`
      SELECT (SELECT count(*) FROM users WHERE id NOT LIKE tenant_id || '-u%')
           + (SELECT count(*) FROM payments WHERE id NOT LIKE tenant_id || '-p%')
           + (SELECT count(*) FROM tournament_players tp JOIN users u ON u.id = tp.user_id WHERE u.tenant_id <> tp.tenant_id) AS n`);
    expect(Number(strays[0]!.n)).toBe(0);
    const { rows: perTenant } = await t.pool.query<{ id: string; n: number }>(
      "SELECT tenant_id AS id, count(*)::int AS n FROM users GROUP BY tenant_id HAVING count(*) <> 2",
    );
    expect(perTenant).toEqual([]);

    // A second seed without --reset: the existing ids are named (10 of them, then a count).
    const again = await runCli(FLAGS, { env: { DATABASE_URL: t.url } });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('organizations tenant-0001, tenant-0002,');
    expect(again.stderr).toContain('tenant-0010, and 1224 more already exist');
    // A smaller seed over it (3-digit ids) is refused too: tenant-0001 is its tenant 1.
    const smaller = await runCli(['seed', '--tenants', '3', '--users', '2', '--days', '3', '--until', '2025-03-01'], { env: { DATABASE_URL: t.url } });
    expect(smaller.code).toBe(2);
    expect(smaller.stderr).toContain('organizations tenant-0001, tenant-0002, tenant-0003 already exist');
  });
});
