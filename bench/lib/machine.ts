// What the figures were measured on: cores, memory, versions, and the code's commit.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config';
import { TEMPORAL_CLI } from '../../src/paths';
import { ROOT } from './cli';

export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGb: number;
  loadAverage1m: number;
  os: string;
  node: string;
  postgres: string;
  redis: string;
  temporalCli: string;
  commit: string;
  /** Files changed in the working tree when the run started (uncommitted work was measured). */
  uncommittedFiles: number;
}

function tryExec(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

export async function describeMachine(): Promise<Machine> {
  const config = loadConfig(process.env);
  const url = new URL(config.databaseUrl);
  url.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  await client.end();
  const redis = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const info = await redis.info('server');
  await redis.quit();
  const status = tryExec('git', ['status', '--porcelain']);
  // A tree exported from git (git archive) has no repository: BENCH_SOURCE_COMMIT names its commit.
  const commit = tryExec('git', ['rev-parse', '--short', 'HEAD']);
  return {
    nproc: Number(tryExec('nproc', [])) || os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: rows[0]!.v,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    temporalCli: existsSync(TEMPORAL_CLI) ? tryExec(TEMPORAL_CLI, ['--version']) : 'unknown',
    commit: commit === 'unknown' ? (process.env.BENCH_SOURCE_COMMIT ?? 'unknown') : commit,
    uncommittedFiles: status === 'unknown' || status === '' ? 0 : status.split('\n').length,
  };
}
