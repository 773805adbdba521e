import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../src/paths';
import { buildProgram } from '../src/cli/commands';
import { runCli } from './helpers/cli';

// Every command of the real binary answers --help (exit 0, its own usage line). The list of
// commands comes from the program itself, so a new command is covered without editing this file.

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((c) => {
    const path = [...prefix, c.name()];
    return [path, ...commandPaths(c, path)];
  });
}

async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size) results.push(...(await Promise.all(items.slice(i, i + size).map(run))));
  return results;
}

describe('analytics --help', () => {
  const paths = commandPaths(buildProgram());

  it('knows the commands the issues ask for', () => {
    const names = paths.map((p) => p.join(' '));
    for (const expected of [
      'workers', 'start', 'job add', 'aggregate', 'schedule list', 'schedule describe', 'schedule trigger', 'schedule pause',
      'schedule unpause', 'schedule backfill', 'metrics', 'health', 'dlq list', 'dlq retry', 'dlq purge', 'seed', 'db migrate', 'dev stop',
      'job list', 'queue clean', 'queue pause', 'queue resume',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('the README\'s CLI table has a row for every command', () => {
    const readme = readFileSync(`${PROJECT_ROOT}README.md`, 'utf8');
    const section = readme.slice(readme.indexOf('\n## CLI\n'), readme.indexOf('\n## Architecture\n'));
    const rows = section.split('\n').filter((l) => l.startsWith('| `analytics '));
    const leaves = paths.filter((p) => !paths.some((q) => q.length > p.length && p.every((part, i) => q[i] === part)));
    for (const path of leaves) {
      const documented = rows.some((row) => row.includes(`\`analytics ${path[0]}`) && (path.length === 1 || new RegExp(`\\b${path[path.length - 1]}\\b`).test(row)));
      expect(documented, path.join(' ')).toBe(true);
    }
  });

  it('every command answers --help as a subprocess', async () => {
    const results = await inBatches(paths, 4, async (path) => ({ path, r: await runCli([...path, '--help']) }));
    for (const { path, r } of results) {
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toContain(`Usage: analytics ${path.join(' ')}`);
    }
  }, 120_000);
});
