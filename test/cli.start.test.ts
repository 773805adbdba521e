import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createScheduler } from '../src/scheduler/scheduler';
import { runCli } from './helpers/cli';
import { uniqueSuffix } from './helpers/config';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { createTestNamespace } from './helpers/temporal';

// README command (1) without the set-up: `analytics start --once` on an empty database seeds the
// demo data, installs the schedules, runs one aggregation through addJob -> BullMQ -> Temporal ->
// Postgres, prints the results and exits 0.

let t: TestDatabase;
let connection: Connection;
let namespace: string;
/** The schedules of a queue other than `analytics` carry its name as a prefix (SCHEDULE_ID_PREFIX's default). */
let idPrefix = '';

beforeAll(async () => {
  t = await createTestDatabase('clistart');
  connection = await Connection.connect({ address: inject('temporalAddress') });
  namespace = await createTestNamespace(new Client({ connection }), 'start', { searchAttributes: true });
});

afterAll(async () => {
  await createScheduler({ client: new Client({ connection, namespace }), taskQueue: 'unused', idPrefix }).destroyScheduler();
  await connection?.close();
  await t?.drop();
});

describe('analytics start --once', () => {
  it('seeds an empty database, aggregates through the queue, prints the results and where to look', async () => {
    const suffix = uniqueSuffix();
    const env = {
      DATABASE_URL: t.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TASK_QUEUE: `tq-${suffix}`,
      QUEUE_NAME: `q-${suffix}`,
      TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    };
    idPrefix = `${env.QUEUE_NAME}-`;
    const r = await runCli(['start', '--once', '--days', '7'], { env, timeoutMs: 180_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('the database has no organizations: seeding demo data (4 tenants');
    // 4 tenants x 3 types: revenue and tournaments 7 daily rows each, cohorts per cohort month.
    expect(r.stdout).toMatch(/4 tenant\(s\), 12\/12 tasks succeeded, 0 failed, \d+ rows written/);
    for (const tenant of ['tenant-001', 'tenant-002', 'tenant-003', 'tenant-004']) {
      expect(r.stdout).toMatch(new RegExp(`^${tenant}\\s+revenue\\s+succeeded\\s+7\\s+7\\s`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^${tenant}\\s+\\S+\\s+7\\s+`, 'm')); // headline: 7 days aggregated
    }
    expect(r.stdout).toContain(`http://127.0.0.1:8233/namespaces/${namespace}/workflows/aggregation%2F`);
    const counts = await t.pool.query<{ revenue: number; tournaments: number; orgs: number }>(
      `SELECT (SELECT count(*)::int FROM revenue_aggregates WHERE period_type = 'day') AS revenue,
              (SELECT count(*)::int FROM tournament_aggregates WHERE period_type = 'day') AS tournaments,
              (SELECT count(*)::int FROM organizations) AS orgs`,
    );
    expect(counts.rows[0]).toEqual({ revenue: 28, tournaments: 28, orgs: 4 });
    const status = await createScheduler({ client: new Client({ connection, namespace }), taskQueue: `tq-${suffix}-schedules`, idPrefix }).getSchedulerStatus();
    expect(status.map((s) => s.name)).toEqual(['hourly-aggregation', 'daily-revenue', 'monthly-cohorts', 'weekly-tournaments', 'scheduled-report']);
    expect(status.map((s) => s.scheduleId)).toEqual(status.map((s) => `${idPrefix}${s.name}`));
    expect(status.every((s) => s.owner?.queue === env.QUEUE_NAME && s.owner.taskQueue === `tq-${suffix}-schedules`)).toBe(true);
  });
});
