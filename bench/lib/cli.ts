// Runs the installed `analytics` command (bin/analytics.js) as a subprocess, timed from spawn to exit.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The project root, where bin/analytics.js is. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const ANALYTICS_BIN = `${ROOT}bin/analytics.js`;

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
    const child = spawn(process.execPath, [ANALYTICS_BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
