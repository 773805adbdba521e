import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runProcess } from './helpers/cli';
import { pgConfigOf } from '../src/db/client';
import { PROJECT_ROOT } from '../src/paths';
import { deadLetterQueueName, redisOptionsOf } from '../src/queue/options';
import { createScheduler } from '../src/scheduler/scheduler';
import { testConfig, uniqueSuffix } from './helpers/config';

// The package as a user gets it: `npm pack` here (prepack builds dist/), the tarball installed
// into a scratch project outside the repository, and there: the README's "Using it from code"
// blocks type-checked against the published declarations and run against the real Redis,
// Postgres and Temporal, served by `analytics workers` from the installed package (compiled
// JavaScript, workflow bundle built from dist/workflows); a wrong payload must not compile.

const pkg = JSON.parse(await readFile(`${PROJECT_ROOT}package.json`, 'utf8')) as { version: string; devDependencies: Record<string, string> };
const TSC = `${PROJECT_ROOT}node_modules/typescript/bin/tsc`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  return runProcess(command, args, options);
}

/** The ```ts blocks of the README's "Using it from code" section, in order. */
async function readmeBlocks(): Promise<string[]> {
  const readme = await readFile(`${PROJECT_ROOT}README.md`, 'utf8');
  const start = readme.indexOf('## Using it from code\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 3));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

let tmp: string;
let app: string;
let packed: { filename: string; files: { path: string }[] };
const suffix = uniqueSuffix();
const schema = `pkg_${suffix}`.toLowerCase();
let env: Record<string, string>;
let pool: pg.Pool;
let workers: ChildProcess | undefined;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'analytics-package-'));
  app = join(tmp, 'app');
  await mkdir(app);

  const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: PROJECT_ROOT, timeoutMs: 120_000 });
  expect(pack.code, pack.stderr).toBe(0);
  [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')));

  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
  const install = await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', join(tmp, packed.filename), `@types/node@${pkg.devDependencies['@types/node']}`],
    { cwd: app, timeoutMs: 150_000 },
  );
  expect(install.code, install.stderr).toBe(0);

  const u = new URL(testConfig.databaseUrl);
  u.searchParams.set('schema', schema);
  env = {
    DATABASE_URL: u.toString(),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: `pkg-${suffix}`,
    TEMPORAL_TASK_QUEUE: `pkg-${suffix}`,
    QUEUE_NAME: `pkg-${suffix}`,
    EXPORT_DIR: join(tmp, 'exports'),
    REPORT_DIR: join(tmp, 'reports'),
    LOG_LEVEL: 'warn',
  };
  pool = new pg.Pool({ ...pgConfigOf(testConfig.databaseUrl), max: 2 });
}, 300_000);

afterAll(async () => {
  if (workers && workers.exitCode === null) workers.kill('SIGKILL');
  if (env) {
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
    await createScheduler({ client: new Client({ connection, namespace: env.TEMPORAL_NAMESPACE! }), taskQueue: 'unused' })
      .destroyScheduler()
      .catch(() => {});
    await connection.close();
    for (const name of [env.QUEUE_NAME!, deadLetterQueueName(env.QUEUE_NAME!)]) {
      const queue = new Queue(name, { connection: redisOptionsOf(testConfig.redis) });
      await queue.obliterate({ force: true });
      await queue.close();
    }
  }
  await pool?.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await pool?.end();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('npm package', () => {
  it('holds the compiled code, its declarations, the bin and the migrations, and nothing of the development tree', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'bin/analytics.js', 'dist/index.js', 'dist/index.d.ts', 'dist/queue/index.d.ts', 'dist/scheduler/index.d.ts', 'dist/entries/aggregation.d.ts', 'dist/workflows/index.js', 'dist/generated/prisma/client.js', 'dist/docker-init.js', 'docs/data-contract.md', 'prisma/migrations/migration_lock.toml']) {
      expect(files, f).toContain(f);
    }
    expect(files.some((f) => /^prisma\/migrations\/\d+_init\/migration\.sql$/.test(f))).toBe(true);
    expect(files.filter((f) => /^(src|test|bench|scripts|\.local|node_modules)\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('installs without tsx: nothing needs TypeScript at run time', () => {
    expect(existsSync(join(app, 'node_modules/analytics-workers/dist/index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/analytics-workers/src'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
  });

  it("type-checks the README's code against the published declarations; a wrong payload does not compile", async () => {
    const [queueCode, schedulerCode] = await readmeBlocks();
    expect(queueCode).toContain("from 'analytics-workers'");
    expect(schedulerCode).toContain("from 'analytics-workers'");
    await writeFile(join(app, 'readme-queue.ts'), queueCode!);
    await writeFile(join(app, 'readme-scheduler.ts'), schedulerCode!);
    await writeFile(
      join(app, 'entries.ts'),
      [
        "import { createQueue, AnalyticsQueue } from 'analytics-workers/queue';",
        "import { createScheduler, SCHEDULES } from 'analytics-workers/scheduler';",
        "import { createAggregationService, createDb, type AggregationService, type PeriodType } from 'analytics-workers/aggregation';",
        "const periodType: PeriodType = 'week';",
        'let service: AggregationService | undefined;',
        'console.log(typeof createQueue, typeof AnalyticsQueue, typeof createScheduler, SCHEDULES.length, typeof createAggregationService, typeof createDb, periodType, service);',
        '',
      ].join('\n'),
    );
    const tsconfig = { compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, skipLibCheck: true, types: ['node'], outDir: 'out' } };
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['readme-queue.ts', 'readme-scheduler.ts', 'entries.ts'] }));
    const ok = await run(process.execPath, [TSC, '-p', '.'], { cwd: app });
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.code).toBe(0);

    await writeFile(
      join(app, 'wrong.ts'),
      [
        "import { addJob } from 'analytics-workers';",
        "await addJob('aggregation', { type: 'revenu' });",
        "await addJob('aggregation', { type: 'all', tenantId: 42 });",
        "await addJob('export', { type: 'revenue', format: 'csv' });",
        "await addJob('aggregation', { type: 'all', tenant: 'org_123' });",
        '',
      ].join('\n'),
    );
    await writeFile(join(app, 'tsconfig.wrong.json'), JSON.stringify({ ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, noEmit: true }, include: ['wrong.ts'] }));
    const wrong = await run(process.execPath, [TSC, '-p', 'tsconfig.wrong.json'], { cwd: app });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toContain(`wrong.ts(2,31): error TS2820: Type '"revenu"' is not assignable to type`);
    expect(wrong.stdout).toContain("wrong.ts(3,44): error TS2322: Type 'number' is not assignable to type 'string'.");
    expect(wrong.stdout).toMatch(/wrong\.ts\(4,\d+\): error TS2345: .*Property 'tenantId' is missing/s);
    expect(wrong.stdout).toContain("wrong.ts(5,44): error TS2561: Object literal may only specify known properties, but 'tenant' does not exist in type 'AggregationJobData'.");
  });

  it("runs the README's code against the real services, served by the installed `analytics workers`", async () => {
    const bin = join(app, 'node_modules/.bin/analytics');
    // The compose stack's init job, from the installed package: migrations, namespace, search attributes.
    const init = await run(process.execPath, ['node_modules/analytics-workers/dist/docker-init.js'], { cwd: app, env });
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    await pool.query(`INSERT INTO ${pg.escapeIdentifier(schema)}.organizations (id, name, timezone) VALUES ('org_123', 'Org 123', 'America/New_York')`);

    workers = spawn(bin, ['workers'], { cwd: app, env: { ...process.env, ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    workers.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    workers.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => workers!.once('exit', (code) => resolve(code)));
    await expect.poll(() => out.includes('workers running') || workers!.exitCode !== null, { timeout: 60_000, interval: 200 }).toBe(true);
    expect(workers.exitCode, err).toBeNull();

    const queueRun = await run(process.execPath, ['out/readme-queue.js'], { cwd: app, env });
    expect(queueRun.stderr).toBe('');
    expect(queueRun.code).toBe(0);
    expect(queueRun.stdout).toContain('healthy: true');

    const queue = new Queue(env.QUEUE_NAME!, { connection: redisOptionsOf(testConfig.redis) });
    try {
      // The README's five jobs all complete; the revenue job wrote its five days.
      await expect
        .poll(async () => queue.getJobCounts('completed', 'failed'), { timeout: 90_000, interval: 1_000 })
        .toEqual({ completed: 5, failed: 0 });
      const revenue = await pool.query(`SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(schema)}.revenue_aggregates WHERE tenant_id = 'org_123' AND period_type = 'day' AND period_start >= '2025-11-01T04:00:00Z' AND period_start < '2025-11-06T05:00:00Z'`);
      expect(revenue.rows[0]!.n).toBe(5);

      const schedulerRun = await run(process.execPath, ['out/readme-scheduler.js'], { cwd: app, env });
      expect(schedulerRun.stderr).toBe('');
      expect(schedulerRun.code).toBe(0);
      expect(schedulerRun.stdout).toContain("name: 'hourly-aggregation'");
      expect(schedulerRun.stdout).toContain('true false');
      // triggerTask('hourly-aggregation') enqueued one job, which the workers completed.
      await expect
        .poll(async () => (await queue.getJobs(['completed'])).filter((j) => j.id!.startsWith('hourly-aggregation-')).length, { timeout: 60_000, interval: 1_000 })
        .toBe(1);
    } finally {
      await queue.close();
    }

    workers.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
