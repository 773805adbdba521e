import pg from 'pg';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectionStringOf } from '../src/db/client';
import { runCli } from './helpers/cli';
import { testConfig, uniqueSuffix } from './helpers/config';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { org } from './helpers/fixtures';
import { createTestRedis } from './helpers/redis';
import { seedTenants } from './helpers/seed';
import { startTestWorkers, type TestWorkers } from './helpers/workers';

// Failures an operator can act on, as subprocesses against the real services: one line naming the
// fix, exit 1, no stack.

const noStack = (stderr: string) => expect(stderr, stderr).not.toMatch(/^\s+at /m);
const admin = new pg.Pool({ connectionString: connectionStringOf(testConfig.databaseUrl), max: 1 });
const schemas: string[] = [];

function urlOf(schema: string): string {
  const u = new URL(testConfig.databaseUrl);
  u.searchParams.set('schema', schema);
  return u.toString();
}

afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(s)} CASCADE`);
  await admin.end();
});

describe('an unmigrated database names `analytics db migrate`', () => {
  const suffix = uniqueSuffix();
  const empty = `unmig_${suffix}`;
  const env = () => ({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    QUEUE_NAME: `q-${suffix}`,
    TEMPORAL_TASK_QUEUE: `tq-${suffix}`,
    DATABASE_URL: urlOf(empty),
  });

  beforeAll(async () => {
    schemas.push(empty);
    await admin.query(`CREATE SCHEMA ${pg.escapeIdentifier(empty)}`);
  });

  it.each([
    ['start', ['start', '--once']],
    ['workers', ['workers', '--no-cron']],
    ['seed', ['seed', '--tenants', '1', '--users', '1', '--days', '1']],
    ['aggregate --local', ['aggregate', '--local', '--type', 'revenue', '--period-type', 'day', '--from', '2025-02-01', '--to', '2025-02-02']],
  ])('%s: one line, exit 1', async (_name, args) => {
    const r = await runCli(args, { env: env() });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim()).toBe(`error: the database at ${urlOf(empty)} is not migrated (schema "${empty}" has no _prisma_migrations table): run \`analytics db migrate\``);
    noStack(r.stderr);
    // Nothing was created on the way.
    const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1', [empty]);
    expect(rows[0]!.n).toBe(0);
  });

  it('a schema that does not exist at all says the same (workers)', async () => {
    const missing = `nosuch_${suffix}`;
    const r = await runCli(['workers', '--no-cron'], { env: { ...env(), DATABASE_URL: urlOf(missing) } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim()).toBe(`error: the database at ${urlOf(missing)} is not migrated (schema "${missing}" does not exist): run \`analytics db migrate\``);
  });

  it('a table missing at run time (Prisma P2021 / pg 42P01) names the fix too, not the stack', async () => {
    const t = await createTestDatabase('unmigtbl');
    try {
      await t.pool.query('DROP TABLE organizations CASCADE');
      const r = await runCli(['aggregate', '--local', '--type', 'revenue', '--period-type', 'day', '--from', '2025-02-01', '--to', '2025-02-02'], { env: { DATABASE_URL: t.url } });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^error: the database at .* is not migrated \(relation "[\w.]*organizations" does not exist\): run `analytics db migrate`\n$/);
      noStack(r.stderr);
    } finally {
      await t.drop();
    }
  });
});

describe('who runs the jobs', () => {
  let t: TestDatabase;
  let workers: TestWorkers;
  const redis = createTestRedis();
  const orphanQueue = redis.queueName;
  const orphanTaskQueue = `tq-nobody-${uniqueSuffix()}`;
  let queue: Queue;

  beforeAll(async () => {
    t = await createTestDatabase('clierr');
    workers = await startTestWorkers(t.url, { address: inject('temporalAddress') });
    queue = new Queue(orphanQueue, { connection: { host: testConfig.redis.host, port: testConfig.redis.port } });
  });

  afterAll(async () => {
    await workers?.proc.shutdown();
    await queue?.close();
    await redis.cleanup();
    await t?.drop();
  });

  it('a queued aggregate with no bridge on its queue says so and exits 1; the job stays queued', async () => {
    const started = Date.now();
    const r = await runCli(
      ['aggregate', '--type', 'revenue', '--period-type', 'day', '--from', '2025-02-01', '--to', '2025-02-02', '--bridge-timeout', '2', '--json'],
      { env: { ...workers.env, QUEUE_NAME: orphanQueue } },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: no bridge is running for queue ${orphanQueue}: start \`analytics workers\` \\(job [\\w-]+ waited \\d+ s and stays queued`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await queue.getJobCounts('wait')).toEqual({ wait: 1 });
  });

  it('queued, a failed tenant gives exit 1 and the report --local prints, with the job and workflow ids', async () => {
    await seedTenants(t.pool, { tenants: 1, usersPerTenant: 5, days: 10, seed: 3, untilMs: Date.parse('2025-03-15T00:00:00Z') });
    await org(t.pool, 'tenant-bad-zone', 'Mars/Olympus_Mons');
    const args = ['aggregate', '--type', 'revenue', '--period-type', 'day', '--from', '2025-03-01', '--to', '2025-03-08', '--json'];
    const queued = await runCli([...args, '--timeout', '150'], { env: workers.env, timeoutMs: 180_000 });
    expect(queued.code, queued.stderr).toBe(1);
    const local = await runCli([...args, '--local'], { env: workers.env });
    expect(local.code, local.stderr).toBe(1);
    const [q, l] = [JSON.parse(queued.stdout) as Record<string, unknown>, JSON.parse(local.stdout) as Record<string, unknown>];
    expect(Object.keys(q).sort()).toEqual(Object.keys(l).sort());
    expect(q).toMatchObject({ jobId: expect.any(String), workflowId: expect.stringMatching(/^aggregation\//), status: 'failed', totals: { tenants: 2, tasks: 2, succeeded: 1, failed: 1 } });
    expect(l).toMatchObject({ jobId: null, workflowId: null, status: 'failed', totals: { tenants: 2, tasks: 2, succeeded: 1, failed: 1 } });
    const pick = (r: Record<string, unknown>) => (r.outcomes as { tenantId: string; type: string; status: string }[]).map((o) => [o.tenantId, o.type, o.status]);
    expect(pick(q)).toEqual(pick(l));
  }, 200_000);

  it('health: workers polling and a bridge connected is healthy (exit 0)', async () => {
    await expect
      .poll(
        async () => {
          const r = await runCli(['health', '--json'], { env: workers.env });
          return { code: r.code, report: JSON.parse(r.stdout) as { problems: string[]; workers: { pollers: number; bridges: number } } };
        },
        { timeout: 60_000, interval: 500 },
      )
      .toMatchObject({ code: 0, report: { problems: [], workers: { pollers: expect.any(Number), bridges: 1 } } });
  });

  it('health: no worker polling the task queue, and waiting jobs with no bridge, are reported (exit 1)', async () => {
    // The orphan queue holds the job the first test left; nothing polls the orphan task queue.
    const env = { ...workers.env, QUEUE_NAME: orphanQueue, TEMPORAL_TASK_QUEUE: orphanTaskQueue };
    const json = await runCli(['health', '--json'], { env });
    expect(json.code, json.stderr).toBe(1);
    const report = JSON.parse(json.stdout) as { healthy: boolean; problems: string[]; workers: unknown };
    expect(report.healthy).toBe(true); // every service answers...
    expect(report.workers).toEqual({ taskQueue: orphanTaskQueue, pollers: 0, bridges: 0 });
    expect(report.problems).toEqual([
      `no worker polling the task queue ${orphanTaskQueue}: start \`analytics workers\``,
      `1 waiting job(s) but no bridge on queue ${orphanQueue}: start \`analytics workers\``,
    ]);
    const human = await runCli(['health'], { env });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^workers\s+MISSING\s+0 polling task queue /m);
    expect(human.stdout).toMatch(/^bridges\s+MISSING\s+0 connected to queue /m);
    expect(human.stdout).toContain('\nDEGRADED at ');
  });
});
