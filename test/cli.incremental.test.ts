import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAggregateCommand } from '../src/cli/aggregate';
import { registerIncrementalCommands } from '../src/cli/incremental';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { runInProcess } from './helpers/cli-in-process';
import { activity, org, payment, subscription, tournament, user } from './helpers/fixtures';
import { expectTenantMatchesOracle, pendingChanges } from './helpers/incremental';

// `aggregate --incremental --local`, `freshness` and `verify` through the CLI, against a real
// database; the results are checked against the oracle, not against the CLI's own output.

const ASOF = '2025-04-10T00:00:00.000Z';
let t: TestDatabase;

const register = (program: Command) => {
  registerAggregateCommand(program);
  registerIncrementalCommands(program);
};
const cli = (...args: string[]) => runInProcess(register, args, { DATABASE_URL: t.url });

beforeAll(async () => {
  t = await createTestDatabase('cliinc');
  for (const [id, zone] of [['acme', 'America/New_York'], ['beta', 'Australia/Sydney']] as const) {
    await org(t.pool, id, zone);
    await user(t.pool, id, `${id}-u1`, '2025-03-09T07:00:00Z');
    await activity(t.pool, id, `${id}-u1`, '2025-04-02T10:00:00Z');
    await payment(t.pool, id, { id: `${id}-p1`, amountCents: 1_500, status: 'succeeded', createdAt: '2025-03-09T06:59:59.999Z' });
    await subscription(t.pool, id, { id: `${id}-s1`, amountCents: 1_200, interval: 'year', startedAt: '2025-03-01T00:00:00Z' });
    await tournament(t.pool, id, { id: `${id}-t1`, format: 'swiss', status: 'completed', createdAt: '2025-03-10T00:00:00Z', startedAt: '2025-03-10T00:00:00Z', completedAt: '2025-03-10T01:30:00Z' });
  }
  for (const periodType of ['day', 'month']) {
    const r = await cli('aggregate', '--local', '--type', 'all', '--period-type', periodType, '--from', '2025-03-01', '--to', '2025-04-10', '--as-of', ASOF);
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(async () => {
  await t?.drop();
});

describe('analytics aggregate --incremental --local', () => {
  it('folds in pending changes, advances the watermarks, and leaves nothing pending', async () => {
    await payment(t.pool, 'acme', { id: 'acme-late', amountCents: 990, status: 'succeeded', createdAt: '2025-03-02T05:00:00Z' }); // a late row for an old day
    await t.pool.query(`UPDATE subscriptions SET canceled_at = '2025-03-20T00:00:00Z' WHERE id = 'beta-s1'`);
    const r = await cli('aggregate', '--incremental', '--local', '--type', 'all', '--as-of', ASOF, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { status: string; totals: { tenants: number; failed: number } };
    expect(report.status).toBe('completed');
    expect(report.totals).toMatchObject({ tenants: 2, failed: 0 });
    for (const id of ['acme', 'beta']) {
      expect(await pendingChanges(t.pool, id)).toBe(0);
      await expectTenantMatchesOracle(t.pool, id, ASOF, { from: '2025-03-01', to: '2025-05-01' });
    }

    const fresh = await cli('freshness', '--json');
    expect(fresh.code, fresh.stderr).toBe(0);
    const f = JSON.parse(fresh.stdout) as { watermarks: { tenantId: string; type: string; periodType: string }[]; totals: { pendingChanges: number } };
    expect(f.totals.pendingChanges).toBe(0);
    expect(f.watermarks.map((w) => `${w.tenantId} ${w.type} ${w.periodType}`)).toEqual(expect.arrayContaining(['acme revenue day', 'acme revenue month', 'beta revenue day', 'beta cohorts month']));
    const table = await cli('freshness', '--tenant', 'acme');
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('newest change folded');

    const again = await cli('aggregate', '--incremental', '--local', '--type', 'all', '--as-of', ASOF);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('no pending changes');
  });

  it('refuses dates with --incremental, and asks for them without it', async () => {
    const r = await cli('aggregate', '--incremental', '--local', '--type', 'all', '--from', '2025-03-01');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--from: not allowed with --incremental');
    const missing = await cli('aggregate', '--local', '--type', 'all', '--from', '2025-03-01', '--to', '2025-03-02');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("required option '--period-type <type>' not specified");
  });
});

describe('analytics verify', () => {
  it('exits 0 on a clean database, 1 with a planted wrong row (which it names)', async () => {
    await cli('aggregate', '--incremental', '--local', '--type', 'all', '--as-of', ASOF);
    const clean = await cli('verify', '--as-of', ASOF, '--json');
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    const ok = JSON.parse(clean.stdout) as { differences: unknown[]; rowsChecked: number; tenants: number };
    expect(ok.differences).toEqual([]);
    expect(ok.tenants).toBe(2);
    expect(ok.rowsChecked).toBeGreaterThan(80);

    await t.pool.query(
      `UPDATE revenue_aggregates SET gross_revenue_cents = gross_revenue_cents + 1 WHERE tenant_id = 'beta' AND period_type = 'month' AND period_start = '2025-02-28T13:00:00Z'`,
    );
    await t.pool.query(`UPDATE user_cohorts SET retained_users = 0, retention_rate = 0 WHERE tenant_id = 'acme' AND month_number = 1`);
    const bad = await cli('verify', '--tenant', 'beta', '--as-of', ASOF, '--json');
    expect(bad.code).toBe(1);
    expect((JSON.parse(bad.stdout) as { differences: unknown[] }).differences).toEqual([
      { tenantId: 'beta', type: 'revenue', key: 'month 2025-02-28T13:00:00.000Z', column: 'gross_revenue_cents', stored: 1501, expected: 1500 },
    ]);
    const all = await cli('verify', '--as-of', ASOF);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain('gross_revenue_cents');
    expect(all.stdout).toContain('retained_users');
    expect(all.stdout).toContain('3 difference(s)'); // the revenue column, and the cohort cell's two
    const sampled = await cli('verify', '--sample', '1000', '--as-of', ASOF, '--json');
    expect(sampled.code).toBe(1);
  });
});
