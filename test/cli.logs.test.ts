import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../src/paths';
import { runCli } from './helpers/cli';
import { uniqueSuffix } from './helpers/config';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { seedTenants } from './helpers/seed';

// How log lines look: JSON lines with ISO times when stderr is not a terminal, readable lines in
// one (a real terminal: tmux), printed above a progress bar instead of across it; never on stdout.

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ANSI = /\x1b\[/; // eslint-disable-line no-control-regex

function jsonLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      expect(() => JSON.parse(l), l).not.toThrow();
      return JSON.parse(l) as Record<string, unknown>;
    });
}

describe('logs when stderr is not a terminal', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('clilogs');
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('`workers` logs valid JSON lines with ISO times on stderr, the Temporal core\'s included; stdout has the banner only', async () => {
    const suffix = uniqueSuffix();
    const child = spawn(process.execPath, [`${PROJECT_ROOT}bin/analytics.js`, 'workers', '--no-cron'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, LOG_LEVEL: 'debug', DATABASE_URL: t.url, TEMPORAL_ADDRESS: inject('temporalAddress'), QUEUE_NAME: `q-${suffix}`, TEMPORAL_TASK_QUEUE: `tq-${suffix}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await expect.poll(() => stdout, { timeout: 60_000 }).toContain('workers running');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = jsonLines(stderr);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.time, JSON.stringify(line)).toMatch(ISO);
      expect(typeof line.level).toBe('number');
      expect(typeof line.msg).toBe('string');
    }
    // Forwarded from the SDK (its TS side and its Rust core), not printed to the console.
    expect(lines.some((l) => l.component === 'temporal' && l.sdkComponent === 'worker')).toBe(true);
    expect(lines.some((l) => l.component === 'temporal' && l.sdkComponent === 'core')).toBe(true);
    expect(lines.map((l) => l.msg)).toContain('shutting down: no new jobs; active jobs may finish');
    expect(stdout).toContain('analytics-workers: BullMQ facade');
    expect(stdout).not.toMatch(/"level"|\bDEBUG\b|\bWARN\b/);
    expect(stdout).not.toMatch(ANSI);
  });

  it('a progress bar draws nothing into a pipe; the lines logged meanwhile are JSON', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/progress-logs.ts'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('finished\n');
    const lines = jsonLines(r.stderr);
    expect(lines.map((l) => l.msg)).toEqual([...Array.from({ length: 7 }, (_, i) => `step ${i + 1} done`), 'step 7 warned', ...Array.from({ length: 13 }, (_, i) => `step ${i + 8} done`)]);
    for (const line of lines) expect(line.time).toMatch(ISO);
    expect(r.stderr).not.toMatch(ANSI);
  });

  it('LOG_FORMAT=pretty gives readable lines in a pipe too; a bad LOG_FORMAT is a usage error naming it', async () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/progress-logs.ts', 'pretty'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => /^\d{4}-/.test(l));
    expect(lines).toHaveLength(21);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}step 1 done {2}service=fixture step=1$/);
    expect(r.stderr).toMatch(/WARN {2}step 7 warned {2}service=fixture\n {4}Error: a warning with a stack\n {4,}at /);
    const bad = await runCli(['health'], { env: { LOG_FORMAT: 'xml' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('LOG_FORMAT');
  });
});

describe('logs in a terminal (tmux)', () => {
  const session = `logs-${uniqueSuffix()}`;
  const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });

  afterAll(() => {
    tmux('kill-session', '-t', session);
  });

  it('are readable lines printed above the progress bar, which stays whole', async () => {
    expect(tmux('-V').status, 'tmux is needed for this test (apt-get install tmux)').toBe(0);
    const command = `cd ${PROJECT_ROOT} && ${process.execPath} --import tsx test/fixtures/progress-logs.ts; echo EXIT=$?; sleep 60`;
    expect(tmux('new-session', '-d', '-s', session, '-x', '150', '-y', '60', command).status).toBe(0);
    let screen = '';
    await expect
      .poll(
        () => {
          screen = tmux('capture-pane', '-p', '-J', '-t', session, '-S', '-').stdout;
          return screen;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toMatch(/EXIT=\d+/);
    expect(screen, screen).toContain('EXIT=0');
    const lines = screen.split('\n').map((l) => l.trimEnd());
    const logLines = lines.filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
    expect(logLines.filter((l) => / INFO {2}step \d+ done {2}service=fixture step=\d+$/.test(l)).map((l) => /step (\d+) done/.exec(l)![1])).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i + 1)),
    );
    expect(logLines.some((l) => /WARN {2}step 7 warned/.test(l))).toBe(true);
    // The bar: one line, whole, after every log line, and no glyph of it on any other line.
    const barLines = lines.filter((l) => /[█░]/.test(l));
    expect(barLines, screen).toEqual([`work |${'█'.repeat(40)}| 20/20 steps`]);
    const bar = lines.indexOf(barLines[0]!);
    expect(lines.findLastIndex((l) => /^\d{4}-\d\d-\d\dT/.test(l))).toBeLessThan(bar);
    expect(lines[bar + 1]).toBe('finished');
    expect(screen).not.toContain('{"level"');
  }, 60_000);

  it('`start --once` at LOG_LEVEL=debug: the workers\' and the Temporal core\'s lines are readable, above the job\'s bar', async () => {
    const t = await createTestDatabase('clilogstty');
    const name = `${session}-start`;
    try {
      await seedTenants(t.pool, { tenants: 2, usersPerTenant: 10, days: 40, seed: 9, untilMs: Date.now() });
      const suffix = uniqueSuffix();
      const env = `DATABASE_URL='${t.url}' TEMPORAL_ADDRESS='${inject('temporalAddress')}' QUEUE_NAME=q-${suffix} TEMPORAL_TASK_QUEUE=tq-${suffix} LOG_LEVEL=debug`;
      const command = `cd ${PROJECT_ROOT} && env ${env} ${process.execPath} bin/analytics.js start --once --days 3; echo EXIT=$?; sleep 120`;
      expect(tmux('new-session', '-d', '-s', name, '-x', '200', '-y', '60', command).status).toBe(0);
      tmux('set-option', '-t', name, 'history-limit', '100000');
      let screen = '';
      await expect
        .poll(
          () => {
            screen = tmux('capture-pane', '-p', '-J', '-t', name, '-S', '-').stdout;
            return screen;
          },
          { timeout: 150_000, interval: 500 },
        )
        .toMatch(/EXIT=\d+/);
      expect(screen, screen.slice(-3000)).toContain('EXIT=0');
      const lines = screen.split('\n').map((l) => l.trimEnd());
      expect(lines.filter((l) => /[█░]/.test(l))).toEqual([expect.stringMatching(/^[\w-]+ \|█{40}\| 2\/2 tasks \| 0 failed \| done$/)]);
      expect(lines.some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z DEBUG .* component=temporal sdkComponent=core /.test(l))).toBe(true);
      expect(screen).toContain('2 tenant(s), 6/6 tasks succeeded, 0 failed');
      expect(screen).not.toContain('{"level"');
    } finally {
      tmux('kill-session', '-t', name);
      await t.drop();
    }
  }, 200_000);
});

