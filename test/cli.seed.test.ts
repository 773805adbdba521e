import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/db';
import { registerSeedCommand } from '../src/cli/seed';
import { runCli } from './helpers/cli';
import { runInProcess } from './helpers/cli-in-process';
import type { TestDatabase } from './helpers/db';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('cliseed');
});

afterAll(async () => {
  await t?.drop();
});

const FLAGS = ['seed', '--tenants', '2', '--users', '25', '--days', '40', '--seed', '3', '--until', '2025-03-01', '--json'];

/** A digest of every raw row, to compare two seeded data sets. */
async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, key] of [
    ['organizations', 'id'],
    ['users', 'id'],
    ['user_activity', 'tenant_id, user_id, occurred_at'],
    ['subscriptions', 'id'],
    ['payments', 'id'],
    ['refunds', 'id'],
    ['tournaments', 'id'],
    ['tournament_players', 'tournament_id, user_id'],
  ] as const) {
    const { rows } = await t.pool.query<{ digest: string }>(
      `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY ${key}), '')) AS digest FROM (SELECT * FROM ${table}) x`,
    );
    out[table] = rows[0]!.digest;
  }
  return out;
}

describe('analytics seed', () => {
  it('is deterministic: the same flags give the same rows; without --reset existing tenants are refused', async () => {
    const first = await runCli(FLAGS, { env: { DATABASE_URL: t.url } });
    expect(first.code).toBe(0);
    const result = JSON.parse(first.stdout) as { rows: Record<string, number>; totalRows: number; options: { until: string } };
    expect(result.options.until).toBe('2025-03-01T00:00:00.000Z');
    expect(result.rows.organizations).toBe(2);
    expect(result.rows.users).toBe(50);
    for (const table of ['user_activity', 'subscriptions', 'payments', 'tournaments', 'tournament_players']) {
      expect(result.rows[table], table).toBeGreaterThan(0);
    }
    const { rows: counted } = await t.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM payments');
    expect(counted[0]!.n).toBe(result.rows.payments);
    // Realistic spread: every payment status, both billing intervals, tenants in different zones.
    const { rows: spread } = await t.pool.query(`
      SELECT (SELECT array_agg(DISTINCT status ORDER BY status) FROM payments) AS statuses,
             (SELECT array_agg(DISTINCT "interval" ORDER BY "interval") FROM subscriptions) AS intervals,
             (SELECT array_agg(timezone ORDER BY id) FROM organizations) AS zones`);
    expect(spread[0]).toEqual({ statuses: ['failed', 'pending', 'succeeded'], intervals: ['month', 'year'], zones: ['UTC', 'America/New_York'] });
    const digest = await fingerprint();

    const again = await runCli(FLAGS, { env: { DATABASE_URL: t.url } });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exist.*--reset/);

    const reset = await runCli([...FLAGS, '--reset'], { env: { DATABASE_URL: t.url } });
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout).rows).toEqual(result.rows);
    expect(await fingerprint()).toEqual(digest);
  });

  it.each([
    ['--tenants', ['--tenants', '0']],
    ['--users', ['--users', 'many']],
    ['--days', ['--days', '-5']],
    ['--until', ['--until', '2025-13-01']],
  ])('a bad %s exits 2 naming the flag', async (flag, args) => {
    const r = await runInProcess(registerSeedCommand, ['seed', ...args], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
  });
});
