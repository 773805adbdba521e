import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runProcess } from './helpers/cli';
import { pgConfigOf } from '../src/db/client';
import { PROJECT_ROOT } from '../src/paths';
import { SEARCH_ATTRIBUTES } from '../src/temporal/search-attributes';
import { testConfig, uniqueSuffix } from './helpers/config';

// Docker does not run here, so this checks the files Docker would read: the Dockerfile lints clean
// with hadolint, the compose file validates against the Compose Specification's JSON schema
// (check-jsonschema's vendored copy), both from PyPI through scripts/pytools.sh; the stack has the
// shape the README describes; and the compose stack's init job, run here against the real
// Postgres and Temporal, migrates, registers the search attributes and fails loudly.

const TOOLS = `${PROJECT_ROOT}.local/pytools`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  return runProcess(command, args, { env: { PYTHONPATH: TOOLS, ...options.env }, timeoutMs: options.timeoutMs });
}

const hadolint = (file: string) => run(`${TOOLS}/bin/hadolint`, [file]);
const validateCompose = (file: string) => run(`${TOOLS}/bin/check-jsonschema`, ['--builtin-schema', 'vendor.compose-spec', file]);

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  restart?: string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}

let tmp: string;
let compose: { services: Record<string, ComposeService> };
let dockerfile: string;

beforeAll(async () => {
  // A missing checker is a failed set-up, never a skip.
  const setup = await run('bash', ['scripts/pytools.sh'], { timeoutMs: 180_000 });
  expect(setup.code, setup.stderr).toBe(0);
  tmp = await mkdtemp(join(tmpdir(), 'docker-files-'));
  // YAML -> JSON with the YAML parser check-jsonschema itself uses.
  const parsed = await run('python3', ['-c', 'import json,sys; from ruamel.yaml import YAML; print(json.dumps(YAML(typ="safe").load(open(sys.argv[1]))))', 'docker-compose.yml']);
  expect(parsed.code, parsed.stderr).toBe(0);
  compose = JSON.parse(parsed.stdout);
  dockerfile = await readFile(`${PROJECT_ROOT}Dockerfile`, 'utf8');
}, 200_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('Dockerfile', () => {
  it('lints clean with hadolint, which does flag a bad one', async () => {
    const r = await hadolint('Dockerfile');
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);

    const bad = join(tmp, 'Dockerfile.bad');
    await writeFile(bad, 'FROM node:latest\nRUN cd /app && npm install\n');
    const b = await hadolint(bad);
    expect(b.code).not.toBe(0);
    expect(b.stdout).toContain('DL3007'); // latest
    expect(b.stdout).toContain('DL3003'); // cd
  });

  it('is multi-stage, installs production dependencies only, runs compiled JavaScript as a non-root user', () => {
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runtime = stages.at(-1)!;
    expect(runtime).toContain('npm ci --omit=dev');
    expect(runtime).toContain('COPY --from=build /app/dist ./dist');
    expect(runtime).toMatch(/^USER (?!0\b|root\b)\S+/m);
    expect(runtime).toContain('ENTRYPOINT ["node", "bin/analytics.js"]');
    expect(runtime).toContain('CMD ["workers"]');
    expect(runtime).not.toMatch(/tsx|COPY src/);
    // The build stage compiles with the package build.
    expect(stages[0]).toContain('RUN npm run build');
  });

  it('copies only files that exist, and .dockerignore keeps local state out of the context', async () => {
    for (const line of dockerfile.split('\n').filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      for (const source of line.split(/\s+/).slice(1, -1)) expect(existsSync(`${PROJECT_ROOT}${source}`), source).toBe(true);
    }
    const ignored = (await readFile(`${PROJECT_ROOT}.dockerignore`, 'utf8')).split('\n');
    for (const entry of ['node_modules', 'dist', '.local', 'src/generated', '.git', '.env']) expect(ignored).toContain(entry);
  });
});

describe('docker-compose.yml', () => {
  it('validates against the Compose Specification schema, which does reject a broken file', async () => {
    const r = await validateCompose('docker-compose.yml');
    expect(r.stdout).toContain('ok -- validation done');
    expect(r.code).toBe(0);

    const broken = join(tmp, 'compose.broken.yml');
    const text = await readFile(`${PROJECT_ROOT}docker-compose.yml`, 'utf8');
    await writeFile(broken, text.replace('condition: service_completed_successfully', 'condition: when_it_feels_like_it'));
    const b = await validateCompose(broken);
    expect(b.code).not.toBe(0);
    expect(b.stdout + b.stderr).toContain('when_it_feels_like_it');
  });

  it('runs Temporal on maintained images with Postgres persistence, set up by a one-shot schema job', () => {
    const s = compose.services;
    for (const [name, service] of Object.entries(s)) {
      if (!service.image || service.build) continue;
      expect(service.image, name).toMatch(/^[\w./-]+:[\w.-]+$/); // pinned
      expect(service.image, name).not.toMatch(/auto-setup|:latest$/);
    }
    expect(s.temporal!.image).toMatch(/^temporalio\/server:/);
    expect(s['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
    expect(s['temporal-schema']!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(String(s['temporal-schema']!.command)).toContain('update-schema');
    expect(s.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'temporal-postgres' });
    expect(s.temporal!.depends_on).toEqual({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(existsSync(`${PROJECT_ROOT}docker/temporal-dynamicconfig/development-sql.yaml`)).toBe(true);
    expect(s.redis!.command).toEqual(['redis-server', '--appendonly', 'yes']);
  });

  it('starts the workers only after every dependency is healthy and the init job has succeeded', () => {
    const s = compose.services;
    expect(s.workers!.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      temporal: { condition: 'service_healthy' },
      init: { condition: 'service_completed_successfully' },
    });
    // Every service waited on as healthy has a healthcheck to be healthy by.
    for (const [name, service] of Object.entries(s)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(s[dep], `${name} -> ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(s[dep]!.healthcheck, `${dep} (needed by ${name})`).toBeDefined();
      }
    }
    expect(s.init!.entrypoint).toEqual(['node', 'dist/docker-init.js']);
    expect(s.init!.restart).toBe('no');
    expect(s.workers!.healthcheck!.test).toEqual(['CMD', 'node', 'bin/analytics.js', 'health']);
    expect(s.workers!.environment).toMatchObject({ REDIS_URL: 'redis://redis:6379/0', TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(s.workers!.environment!.DATABASE_URL).toContain('@postgres:5432/');
  });
});

describe('the init job (src/docker-init.ts, dist/docker-init.js in the image)', () => {
  const address = inject('temporalAddress');
  let connection: Connection;
  let pool: pg.Pool;
  const schemas: string[] = [];

  beforeAll(async () => {
    connection = await Connection.connect({ address });
    pool = new pg.Pool({ ...pgConfigOf(testConfig.databaseUrl), max: 2 });
  });

  afterAll(async () => {
    for (const schema of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await pool?.end();
    await connection?.close();
  });

  function databaseUrl(): string {
    const schema = `init_${uniqueSuffix()}`.toLowerCase();
    schemas.push(schema);
    const u = new URL(testConfig.databaseUrl);
    u.searchParams.set('schema', schema);
    return u.toString();
  }

  const init = (env: Record<string, string>, args: string[] = []) =>
    run(process.execPath, ['--import', 'tsx', 'src/docker-init.ts', ...args], { env: { LOG_LEVEL: 'warn', ...env } });

  it('migrates, creates the namespace and registers every search attribute; a second run changes nothing', async () => {
    const url = databaseUrl();
    const namespace = `init-${uniqueSuffix()}`;
    const env = { DATABASE_URL: url, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace };
    const first = await init(env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`namespace ${namespace} created`);
    expect(first.stdout).toContain(`added ${SEARCH_ATTRIBUTES.length}`);

    const tables = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('revenue_aggregates', 'user_cohorts', 'tournament_aggregates', '_prisma_migrations')`,
      [new URL(url).searchParams.get('schema')],
    );
    expect(tables.rows[0]!.n).toBe(4);
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    for (const key of SEARCH_ATTRIBUTES) expect(listed.customAttributes?.[key.name], key.name).toBe(encodeSearchAttributeIndexedValueType(key.type));

    const second = await init(env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('0 migrations applied');
    expect(second.stdout).toContain(`namespace ${namespace} exists`);
    expect(second.stdout).toContain('added 0');
  });

  it('fails loudly when Temporal cannot be reached', async () => {
    const r = await init({ DATABASE_URL: databaseUrl(), TEMPORAL_ADDRESS: '127.0.0.1:1' }, ['--wait-ms', '1000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('init failed: cannot reach Temporal at 127.0.0.1:1 (TEMPORAL_ADDRESS)');
  });

  it('fails loudly when a search attribute exists with another type', async () => {
    const namespace = `init-${uniqueSuffix()}`;
    const client = new Client({ connection, namespace });
    await client.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const { JobId } = await import('../src/temporal/search-attributes');
    await expect
      .poll(
        async () => {
          try {
            await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: { [JobId.name]: encodeSearchAttributeIndexedValueType('INT')! } });
            return true;
          } catch {
            return false; // the new namespace is not served yet
          }
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBe(true);
    const r = await init({ DATABASE_URL: databaseUrl(), TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`init failed: search attribute JobId exists in ${namespace} with another type`);
  });
});
