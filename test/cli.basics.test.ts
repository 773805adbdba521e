import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli';

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

  it('db migrate on an up-to-date database applies nothing', async () => {
    const r = await runCli(['db', 'migrate', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { applied: string[]; alreadyApplied: string[] };
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toContain('20261129000000_init');
  });
});
