import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from '../../../src/paths';
import { until } from './stack';

// `analytics workers --no-cron` as a real subprocess (Temporal worker + bridge), pointed at the
// private stack. The pid is the worker itself: bin/analytics.js runs the sources in-process.

export interface WorkersProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** SIGKILL, and wait for the exit. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful drain), SIGKILL after `graceMs`; waits for the exit. */
  stop(graceMs?: number): Promise<void>;
  running(): boolean;
}

export async function startWorkers(env: Record<string, string>): Promise<WorkersProcess> {
  const child = spawn(process.execPath, [`${PROJECT_ROOT}bin/analytics.js`, 'workers', '--no-cron'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-50_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const w: WorkersProcess = {
    child,
    pid: child.pid!,
    output: () => out,
    running,
    async kill9() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (!running()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await until('`analytics workers` to run', () => {
      if (!running()) throw new Error(`workers exited (${child.exitCode}):\n${out}`);
      return out.includes('workers running');
    }, 90_000, 50);
  } catch (err) {
    await w.kill9();
    throw err;
  }
  return w;
}
