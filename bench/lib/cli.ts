// Runs the `analytics` command as a subprocess, timed from spawn to exit: the compiled package
// (`dist/cli/index.js`, what the npm package and the container image run) by default, or the
// TypeScript sources through tsx (`bin/analytics.js` in this checkout) with `--runtime source`.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The project root, where bin/analytics.js is. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type Runtime = 'compiled' | 'source';
let entry = `${ROOT}bin/analytics.js`;

/** Chooses what every later `analytics` subprocess runs; `compiled` builds dist/ first (`npm run build`). */
export function useRuntime(runtime: Runtime): void {
  if (runtime === 'source') {
    entry = `${ROOT}bin/analytics.js`;
    return;
  }
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0) throw new Error(`npm run build exited ${build.status}`);
  entry = `${ROOT}dist/cli/index.js`;
}

/** The script `analytics` subprocesses run. */
export function analyticsEntry(): string {
  return entry;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, including the process's own start-up. */
  ms: number;
}

export class CliError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly run: CliRun,
  ) {
    super(`analytics ${args.join(' ')} exited ${run.code}: ${(run.stderr.trim() || run.stdout.trim()).slice(-2000)}`);
    this.name = 'CliError';
  }
}

export function runAnalytics(args: readonly string[], env: NodeJS.ProcessEnv, { timeoutMs = 3_600_000 } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [entry, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** {@link runAnalytics}, throwing {@link CliError} unless it exits 0. */
export async function analytics(args: readonly string[], env: NodeJS.ProcessEnv, options: { timeoutMs?: number } = {}): Promise<CliRun> {
  const run = await runAnalytics(args, env, options);
  if (run.code !== 0) throw new CliError(args, run);
  return run;
}
