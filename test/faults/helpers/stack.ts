import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { TEMPORAL_CLI } from '../../../src/paths';
import { SEARCH_ATTRIBUTES } from '../../../src/temporal/search-attributes';
import { freePort } from '../../helpers/ports';

// A private Redis, Postgres and Temporal dev server for the fault suite: real processes on free
// loopback ports, data in one temporary folder, each of which the suite can kill, stop and start
// again on the same data. Nothing here touches the shared services on 5432/6379/7233.

const PG_BIN = '/usr/lib/postgresql/15/bin';
const IS_ROOT = process.getuid?.() === 0;

/** Polls `probe` until it is true; throws naming `what` after `timeoutMs`. */
export async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 60_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** True while a process with this pid exists (and is not a zombie we reaped). */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Spawned {
  child: ChildProcess;
  exited: Promise<void>;
  output: () => string;
}

function spawnLogged(cmd: string, args: string[], options: { cwd?: string } = {}): Spawned {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, output: () => output };
}

function asPostgres(cmd: string, args: string[]): { status: number | null; output: string } {
  const [file, argv] = IS_ROOT ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export interface PrivatePostgres {
  port: number;
  /** URL of database `analytics` with `?schema=`. */
  url(schema: string): string;
  /** The postmaster's pid while it runs. */
  pid(): Promise<number | undefined>;
  /** `pg_ctl stop -m immediate`: the server dies as in a crash (recovery on the next start). */
  crash(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function startPostgres(root: string): Promise<PrivatePostgres> {
  const port = await freePort();
  const data = join(root, 'pg');
  mkdirSync(data, { mode: 0o700 });
  if (IS_ROOT) {
    const pw = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(root, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
    chownSync(data, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
  }
  const init = asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.output}`);
  const log = join(root, 'pg.log');
  const pg: PrivatePostgres = {
    port,
    url: (schema) => `postgresql://postgres@127.0.0.1:${port}/analytics?schema=${schema}`,
    async pid() {
      try {
        return Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      } catch {
        return undefined;
      }
    },
    async crash() {
      const r = asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      if (r.status !== 0) throw new Error(`pg_ctl stop failed: ${r.output}`);
    },
    async start() {
      // fsync off: the machine does not crash in these trials, only the server (immediate stop),
      // and what it wrote survives in the OS. synchronous_commit stays on, as in production: off,
      // a commit acknowledged just before the crash is lost, and so is its tenant's work.
      const opts = `-c listen_addresses=127.0.0.1 -p ${port} -k ${data} -c max_connections=100 -c fsync=off`;
      const r = asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-l', log, '-w', '-t', '60', '-o', opts, 'start']);
      if (r.status !== 0) throw new Error(`pg_ctl start failed: ${r.output}\n${await readFile(log, 'utf8').catch(() => '')}`);
    },
    async stop() {
      if (!alive(await pg.pid())) return;
      asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    },
  };
  await pg.start();
  const created = spawnSync(`${PG_BIN}/psql`, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-qc', 'CREATE DATABASE analytics'], { encoding: 'utf8' });
  if (created.status !== 0) throw new Error(`CREATE DATABASE failed: ${created.stderr}`);
  return pg;
}

export interface PrivateRedisAof {
  port: number;
  url: string;
  pid(): number | undefined;
  /** SHUTDOWN (the append-only file is flushed), then waits for the process to exit. */
  shutdown(): Promise<void>;
  /** Starts it again on the same folder: the data comes back from the append-only file. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function startRedis(root: string): Promise<PrivateRedisAof> {
  const port = await freePort();
  const dir = join(root, 'redis');
  mkdirSync(dir);
  let current: Spawned | undefined;
  const redis: PrivateRedisAof = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    pid: () => (current && current.child.exitCode === null && current.child.signalCode === null ? current.child.pid : undefined),
    async start() {
      current = spawnLogged('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', dir]);
      const started = current;
      await until('redis-server to accept connections', () => {
        if (started.child.exitCode !== null) throw new Error(`redis-server exited: ${started.output()}`);
        return started.output().includes('Ready to accept connections');
      }, 30_000, 50);
    },
    async shutdown() {
      const r = spawnSync('redis-cli', ['-p', String(port), 'shutdown'], { encoding: 'utf8' });
      if (r.status !== 0 && current?.child.exitCode === null) current.child.kill('SIGTERM');
      await current?.exited;
    },
    async stop() {
      if (redis.pid()) current!.child.kill('SIGTERM');
      await current?.exited;
    },
  };
  await redis.start();
  return redis;
}

export interface PrivateTemporal {
  port: number;
  address: string;
  pid(): number | undefined;
  /** SIGKILL of the dev server. */
  kill9(): Promise<void>;
  /** Starts it again on the same SQLite file and waits until the namespace answers. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function startTemporal(root: string): Promise<PrivateTemporal> {
  const port = await freePort();
  const dbFile = join(root, 'temporal.db');
  let current: Spawned | undefined;
  const sa = SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${k.type === 'KEYWORD' ? 'Keyword' : k.type === 'INT' ? 'Int' : 'Text'}`]);
  const temporal: PrivateTemporal = {
    port,
    address: `127.0.0.1:${port}`,
    pid: () => (current && current.child.exitCode === null && current.child.signalCode === null ? current.child.pid : undefined),
    async start() {
      current = spawnLogged(TEMPORAL_CLI, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--db-filename', dbFile, '--log-level', 'error', ...sa]);
      const started = current;
      await until('the Temporal dev server to answer', async () => {
        if (started.child.exitCode !== null) throw new Error(`temporal exited: ${started.output()}`);
        if (!(await portAnswers(port))) return false;
        const connection = await Connection.connect({ address: temporal.address, connectTimeout: 2_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace: 'default' });
          return true;
        } finally {
          await connection.close();
        }
      }, 60_000, 200);
    },
    async kill9() {
      current?.child.kill('SIGKILL');
      await current?.exited;
    },
    async stop() {
      if (temporal.pid()) current!.child.kill('SIGTERM');
      const timer = setTimeout(() => current?.child.kill('SIGKILL'), 10_000);
      await current?.exited;
      clearTimeout(timer);
    },
  };
  await temporal.start();
  return temporal;
}

export interface FaultStack {
  dir: string;
  pg: PrivatePostgres;
  redis: PrivateRedisAof;
  temporal: PrivateTemporal;
  /** Pids of every process the stack runs now. */
  pids(): Promise<number[]>;
  /** Stops everything and removes the folder; throws when a process outlived it. */
  close(): Promise<void>;
}

export async function startFaultStack(): Promise<FaultStack> {
  const dir = await mkdtemp(join(tmpdir(), 'analytics-faults-'));
  const started: { stop(): Promise<void> }[] = [];
  try {
    const pg = await startPostgres(dir);
    started.push(pg);
    const redis = await startRedis(dir);
    started.push(redis);
    const temporal = await startTemporal(dir);
    started.push(temporal);
    const stack: FaultStack = {
      dir,
      pg,
      redis,
      temporal,
      async pids() {
        return [await pg.pid(), redis.pid(), temporal.pid()].filter((p): p is number => p !== undefined && alive(p));
      },
      async close() {
        const before = await stack.pids();
        await temporal.stop();
        await redis.stop();
        await pg.stop();
        await until('every service process to exit', () => before.every((p) => !alive(p)), 30_000);
        await rm(dir, { recursive: true, force: true });
      },
    };
    return stack;
  } catch (err) {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
