import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { connectionStringOf } from '../src/db/client';
import { readMigrations } from '../src/db/migrate';
import { runCli } from './helpers/cli';
import { testConfig, uniqueSuffix } from './helpers/config';

describe('analytics CLI basics', () => {
  it('--help lists the commands', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['db', 'dev', 'workers', 'start']) expect(r.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('an unknown command is a usage error: exit 2 with a message', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it('an invalid configuration variable stops start-up, exit 2, naming the variable', async () => {
    const r = await runCli(['db', 'migrate'], { env: { REDIS_PORT: 'seventy' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('REDIS_PORT');
  });

  it('db migrate applies every migration to an empty schema, then nothing', async () => {
    const schema = `cli_${uniqueSuffix()}`;
    const url = new URL(testConfig.databaseUrl);
    url.searchParams.set('schema', schema);
    const env = { DATABASE_URL: url.toString() };
    const onDisk = (await readMigrations()).map((m) => m.name);
    try {
      const first = await runCli(['db', 'migrate', '--json'], { env });
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toEqual({ applied: onDisk, alreadyApplied: [] });
      expect(onDisk[0]).toBe('20261129000000_init');
      const second = await runCli(['db', 'migrate', '--json'], { env });
      expect(JSON.parse(second.stdout)).toEqual({ applied: [], alreadyApplied: onDisk });
      const human = await runCli(['db', 'migrate'], { env });
      expect(human.stdout).toContain(`database is up to date (${onDisk.length} migrations applied)`);
    } finally {
      const client = new pg.Client({ connectionString: connectionStringOf(testConfig.databaseUrl) });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      await client.end();
    }
  });
});
