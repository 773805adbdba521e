import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AggregationReport } from '../src/cli/aggregate-report';
import { seedTenants } from './helpers/seed';
import { createTestDatabase } from './helpers/db';
import { registerAggregateCommand } from '../src/cli/aggregate';
import { runCli } from './helpers/cli';
import { runInProcess } from './helpers/cli-in-process';
import type { TestDatabase } from './helpers/db';
import { org, revenueRows } from './helpers/fixtures';
import { loadRaw, oracleRevenue } from './helpers/oracle';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('cliagg');
  // tenant-001 in UTC, tenant-002 in America/New_York
  await seedTenants(t.pool, { tenants: 2, usersPerTenant: 30, days: 60, seed: 11, untilMs: Date.parse('2025-03-15T00:00:00Z') });
  await org(t.pool, 'tenant-zzz-suspended', 'UTC', 'suspended');
});

afterAll(async () => {
  await t?.drop();
});

describe('analytics aggregate --local', () => {
  it('aggregates every active tenant and prints the report queued mode prints (ids null); rows match the oracle', async () => {
    const r = await runCli(['aggregate', '--local', '--type', 'revenue', '--period-type', 'day', '--from', '2025-02-01', '--to', '2025-03-01', '--json'], { env: { DATABASE_URL: t.url } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as AggregationReport;
    // The same keys as QueuedAggregationReport (test/cli.aggregate.queued.test.ts); no job, no workflow.
    expect(Object.keys(out).sort()).toEqual(['jobId', 'outcomes', 'outcomesOmitted', 'status', 'totals', 'workflowId']);
    expect(out).toMatchObject({ jobId: null, workflowId: null, status: 'completed', outcomesOmitted: 0 });
    // February 2025: 28 days, one row each, for the 2 active tenants (the suspended one is skipped).
    expect(out.totals).toEqual({ tenants: 2, tasks: 2, succeeded: 2, failed: 0, rowsWritten: 56 });
    expect(out.outcomes).toEqual([
      { tenantId: 'tenant-001', type: 'revenue', status: 'succeeded', rowsWritten: 28, periods: 28, attempts: 1, errorType: null, message: null },
      { tenantId: 'tenant-002', type: 'revenue', status: 'succeeded', rowsWritten: 28, periods: 28, attempts: 1, errorType: null, message: null },
    ]);
    for (const tenantId of ['tenant-001', 'tenant-002']) {
      expect(await revenueRows(t.pool, tenantId, 'day')).toEqual(oracleRevenue(await loadRaw(t.pool, tenantId), 'day', '2025-02-01', '2025-03-01'));
    }
  });

  it('a failed tenant is an outcome, the report says failed, and the exit code is 1 (as queued)', async () => {
    const bad = await createTestDatabase('cliaggbad');
    try {
      await seedTenants(bad.pool, { tenants: 1, usersPerTenant: 5, days: 10, seed: 3, untilMs: Date.parse('2025-03-15T00:00:00Z') });
      await org(bad.pool, 'tenant-bad-zone', 'Mars/Olympus_Mons'); // no such timezone: this tenant cannot be planned
      const r = await runCli(['aggregate', '--local', '--type', 'all', '--period-type', 'day', '--from', '2025-03-01', '--to', '2025-03-08', '--as-of', '2025-03-10T00:00:00Z', '--json'], {
        env: { DATABASE_URL: bad.url },
      });
      expect(r.code, r.stderr).toBe(1);
      const out = JSON.parse(r.stdout) as AggregationReport;
      expect(out).toMatchObject({ jobId: null, workflowId: null, status: 'failed', error: '1 of 2 tenant(s) failed' });
      expect(out.totals).toMatchObject({ tenants: 2, tasks: 6, succeeded: 3, failed: 3 });
      // Failures first, one per type of the failed tenant.
      expect(out.outcomes.slice(0, 3).map((o) => [o.tenantId, o.type, o.status])).toEqual([
        ['tenant-bad-zone', 'cohorts', 'failed'],
        ['tenant-bad-zone', 'revenue', 'failed'],
        ['tenant-bad-zone', 'tournaments', 'failed'],
      ]);
      expect(out.outcomes[0]!.errorType).toMatch(/Error$/);
      const human = await runCli(['aggregate', '--local', '--type', 'revenue', '--period-type', 'day', '--from', '2025-03-01', '--to', '2025-03-08'], { env: { DATABASE_URL: bad.url } });
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(/^tenant-bad-zone\s+revenue\s+-/m);
    } finally {
      await bad.drop();
    }
  });

  it('--type all for one tenant prints a table with one line per type', async () => {
    const r = await runCli(
      ['aggregate', '--local', '--type', 'all', '--tenant', 'tenant-002', '--period-type', 'week', '--from', '2025-01-06', '--to', '2025-03-03', '--as-of', '2025-03-10T00:00:00Z'],
      { env: { DATABASE_URL: t.url } },
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^tenant\s+type\s+period\s+periods\s+rows\s+range \(UTC\)\s+ms\s+status$/);
    expect(lines[1]).toMatch(/^tenant-002\s+revenue\s+week\s+8\s+8\s/);
    // --from/--to are tenant-local dates: New York's week of January 6 starts at 05:00Z.
    expect(lines[1]).toContain('2025-01-06T05:00:00.000Z .. ');
    // Cohort months intersecting [Jan 6, Mar 3): January, February and March.
    expect(lines[2]).toMatch(/^tenant-002\s+cohorts\s+month\s+3\s+\d+\s/);
    expect(lines[3]).toMatch(/^tenant-002\s+tournaments\s+week\s+8\s+8\s/);
    expect(r.stdout).toMatch(/1 tenant\(s\), 3 aggregation\(s\), \d+ rows written, 0 failed/);
  });

  it.each([
    ['--type', ['--type', 'money', '--period-type', 'day', '--from', '2025-02-01', '--to', '2025-02-02']],
    ['--period-type', ['--type', 'revenue', '--period-type', 'hour', '--from', '2025-02-01', '--to', '2025-02-02']],
    ['--from', ['--type', 'revenue', '--period-type', 'day', '--from', '2025-02-30', '--to', '2025-03-02']],
    ['--to', ['--type', 'revenue', '--period-type', 'day', '--from', '2025-02-05', '--to', '2025-02-01']],
    ['--to', ['--type', 'revenue', '--period-type', 'day', '--from', '1900-01-01', '--to', '2100-01-01']], // over the 20,000 periods a job may span
    ['--tenant', ['--type', 'revenue', '--tenant', 'nobody', '--period-type', 'day', '--from', '2025-02-01', '--to', '2025-02-02']],
    ['--tenant', ['--type', 'revenue', '--tenant', 'tenant-zzz-suspended', '--period-type', 'day', '--from', '2025-02-01', '--to', '2025-02-02']],
    ['--as-of', ['--type', 'cohorts', '--tenant', 'tenant-001', '--period-type', 'month', '--from', '2025-02-01', '--to', '2025-03-01', '--as-of', 'tomorrow']],
    ['--type', ['--period-type', 'day', '--from', '2025-02-01', '--to', '2025-02-02']], // missing
  ])('a bad %s exits 2 naming the flag', async (flag, args) => {
    const r = await runInProcess(registerAggregateCommand, ['aggregate', '--local', ...args], { DATABASE_URL: t.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(r.stdout).not.toMatch(/ok$/m);
  });
});
