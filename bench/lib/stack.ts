// One benchmark's own world: a Postgres schema (DATABASE_URL ?schema=), a BullMQ queue name
// (QUEUE_NAME) and a Temporal task queue (TEMPORAL_TASK_QUEUE), seeded through `analytics seed`,
// served by its own `analytics workers --no-cron` subprocess, and removed afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { loadConfig } from '../../src/config';
import { createQueue, type AnalyticsQueue } from '../../src/queue';
import { analytics, analyticsEntry, ROOT, type CliRun } from './cli';

export interface SeedSize {
  tenants: number;
  users: number;
  days: number;
  /** End of the history, exclusive (YYYY-MM-DD, UTC). */
  until: string;
  /** @defaultValue 1 */
  seed?: number;
}

export interface SeedReport {
  size: SeedSize;
  rows: Record<string, number>;
  totalRows: number;
  /** `analytics seed` wall time, including its start-up. */
  ms: number;
}

export interface PeakRss {
  /** VmHWM of the workers process: its peak resident set since it started. */
  peakMb: number;
  /** VmRSS when read. */
  currentMb: number;
}

export const AGGREGATE_TABLES = ['revenue_aggregates', 'user_cohorts', 'tournament_aggregates'] as const;

/** Where the workers' logs go (git-ignored). */
export const LOG_DIR = `${ROOT}.local/bench`;

const live = new Set<BenchStack>();

/** Disposes every stack still open (on SIGINT, or after a failure). */
export async function disposeAll(): Promise<void> {
  await Promise.allSettled([...live].map((s) => s.dispose()));
}

export class BenchStack {
  readonly schema: string;
  readonly queueName: string;
  readonly taskQueue: string;
  readonly databaseUrl: string;
  /** The environment every `analytics` subprocess of this benchmark runs with. */
  readonly env: NodeJS.ProcessEnv;
  readonly pool: pg.Pool;
  seeded: SeedReport | undefined;
  private workers: ChildProcess | undefined;
  private workersExit: Promise<void> | undefined;
  private facade: AnalyticsQueue | undefined;
  private disposing: Promise<void> | undefined;

  private constructor(readonly name: string) {
    const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    this.schema = `bench_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${suffix}`;
    this.queueName = `bench-${name}-${suffix}`;
    this.taskQueue = `bench-${name}-${suffix}`;
    const base = loadConfig(process.env);
    const url = new URL(base.databaseUrl);
    url.searchParams.set('schema', this.schema);
    this.databaseUrl = url.toString();
    this.env = {
      ...process.env,
      DATABASE_URL: this.databaseUrl,
      QUEUE_NAME: this.queueName,
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    };
    const pgUrl = new URL(base.databaseUrl);
    pgUrl.searchParams.delete('schema');
    this.pool = new pg.Pool({ connectionString: pgUrl.toString(), max: 2, options: `-c search_path=${this.schema}` });
    live.add(this);
  }

  /** A new schema with every migration applied (`analytics db migrate`), seeded (`analytics seed`). */
  static async create(name: string, size: SeedSize): Promise<BenchStack> {
    const stack = new BenchStack(name);
    try {
      await analytics(['db', 'migrate'], stack.env);
      await stack.seed(size);
      return stack;
    } catch (err) {
      await stack.dispose();
      throw err;
    }
  }

  async seed(size: SeedSize): Promise<SeedReport> {
    const run: CliRun = await analytics(
      ['seed', '--tenants', String(size.tenants), '--users', String(size.users), '--days', String(size.days), '--until', size.until, '--seed', String(size.seed ?? 1), '--reset', '--json'],
      this.env,
    );
    const out = JSON.parse(run.stdout) as { rows: Record<string, number>; totalRows: number };
    this.seeded = { size, rows: out.rows, totalRows: out.totalRows, ms: run.ms };
    return this.seeded;
  }

  /** Starts `analytics workers --no-cron` on this stack and waits for its banner. */
  async startWorkers({ timeoutMs = 120_000 } = {}): Promise<void> {
    if (this.workers) return;
    mkdirSync(LOG_DIR, { recursive: true });
    const log = createWriteStream(`${LOG_DIR}/${this.schema}.workers.log`, { flags: 'a' });
    const child = spawn(process.execPath, [analyticsEntry(), 'workers', '--no-cron', '--shutdown-grace-ms', '5000'], {
      cwd: ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.workers = child;
    this.workersExit = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr.pipe(log);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`analytics workers did not start within ${timeoutMs} ms; see ${log.path}`)), timeoutMs);
      child.stdout.on('data', (d: Buffer) => {
        log.write(d);
        out += d.toString();
        if (out.includes('workers running')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`analytics workers exited ${code} before it was ready; see ${log.path}`));
      });
    });
  }

  /** Peak and current resident set of the workers subprocess (Linux /proc). */
  workersRss(): PeakRss | undefined {
    const pid = this.workers?.pid;
    if (pid === undefined || this.workers?.exitCode !== null) return undefined;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
      return { peakMb: Math.round(kb('VmHWM') / 1024), currentMb: Math.round(kb('VmRSS') / 1024) };
    } catch {
      return undefined;
    }
  }

  /** SIGTERM (a graceful stop), then SIGKILL after 30 s. Only ever the subprocess this stack started. */
  async stopWorkers(): Promise<void> {
    const child = this.workers;
    if (!child) return;
    this.workers = undefined;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await this.workersExit;
      clearTimeout(killed);
    }
  }

  /** The BullMQ-compatible facade on this stack's queue (opened once). */
  async queue(): Promise<AnalyticsQueue> {
    if (!this.facade) {
      this.facade = createQueue({ config: loadConfig(this.env) });
      await this.facade.ready();
    }
    return this.facade;
  }

  /** `analytics <args>` with this stack's environment; throws unless it exits 0. */
  cli(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<CliRun> {
    return analytics(args, this.env, options);
  }

  /** Empties the aggregate tables, so every timed run inserts its rows (none is an update). */
  async truncateAggregates(): Promise<void> {
    await this.pool.query(`TRUNCATE ${AGGREGATE_TABLES.join(', ')}`);
  }

  /** Row counts of the aggregate tables and a digest of their contents (computed_at left out). */
  async aggregateDigest(): Promise<{ rows: Record<string, number>; md5: string }> {
    const rows: Record<string, number> = {};
    const parts: string[] = [];
    for (const table of AGGREGATE_TABLES) {
      const { rows: r } = await this.pool.query<{ n: number; md5: string | null }>(
        `SELECT count(*)::int AS n, md5(string_agg(j, '|' ORDER BY j)) AS md5 FROM (SELECT (to_jsonb(x) - 'computed_at')::text AS j FROM ${table} x) s`,
      );
      rows[table] = r[0]!.n;
      parts.push(r[0]!.md5 ?? '');
    }
    return { rows, md5: parts.join('.') };
  }

  /**
   * Stops the workers, terminates any workflow of this stack still running (an aborted run),
   * removes the queue and its dead-letter queue from Redis and drops the schema.
   */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      await this.stopWorkers().catch(() => {});
      try {
        const q = await this.queue();
        const client = await q.temporalClient();
        for await (const w of client.workflow.list({ query: `TaskQueue = '${this.taskQueue}' AND ExecutionStatus = 'Running'` })) {
          await client.workflow.getHandle(w.workflowId, w.runId).terminate('benchmark cleanup').catch(() => {});
        }
        await q.queue.obliterate({ force: true }).catch(() => {});
        await q.deadLetters.queue.obliterate({ force: true }).catch(() => {});
        await q.close();
      } catch {
        // best effort: the run's own results are already recorded
      }
      await this.pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(this.schema)} CASCADE`).catch(() => {});
      await this.pool.end().catch(() => {});
      live.delete(this);
    })();
    return this.disposing;
  }
}
