import { spawn } from 'node:child_process';
import pg from 'pg';
import { pgConfigOf } from '../../../src/db/client';
import { migrate } from '../../../src/db/migrate';
import { PROJECT_ROOT } from '../../../src/paths';
import { seedTenants } from '../../helpers/seed';

// The backfill every trial runs, its data, and the clean run it is judged against: the same seed
// in two schemas, one aggregated in-process by `analytics aggregate --local` (no queue, no
// Temporal, no faults), the other through the queue while the trial breaks things.

export const TENANTS = 20;
export const BACKFILL = {
  type: 'all',
  periodType: 'day',
  periodStart: '2023-07-01',
  periodEnd: '2024-07-01',
  // Cohort month numbers run up to this instant in both runs (never the wall clock).
  asOf: '2024-07-15T00:00:00.000Z',
} as const;
const SEED = { tenants: TENANTS, usersPerTenant: 120, days: 400, seed: 10, untilMs: Date.parse('2024-07-10T00:00:00Z') };

export const AGGREGATE_TABLES = ['revenue_aggregates', 'user_cohorts', 'tournament_aggregates'] as const;
const TYPE_OF: Record<(typeof AGGREGATE_TABLES)[number], string> = { revenue_aggregates: 'revenue', user_cohorts: 'cohorts', tournament_aggregates: 'tournaments' };
const KEY_OF: Record<(typeof AGGREGATE_TABLES)[number], string[]> = {
  revenue_aggregates: ['tenant_id', 'period_type', 'period_start'],
  user_cohorts: ['tenant_id', 'cohort_month', 'month_number'],
  tournament_aggregates: ['tenant_id', 'period_type', 'period_start'],
};

/** Runs `node bin/analytics.js <args>` with `env`; resolves with its exit code and output. */
export function runAnalytics(args: string[], env: Record<string, string>, timeoutMs = 300_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${PROJECT_ROOT}bin/analytics.js`, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`analytics ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface FaultData {
  /** The schema the trials aggregate into. */
  url: string;
  pool: pg.Pool;
  /** Rows of the clean run, per table. */
  cleanRows: Record<string, number>;
  /** Empties the aggregates, the outcome ledger and the audit of the faults schema. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Seeds `faults` and `clean` alike and aggregates `clean` with `aggregate --local`. In `faults`
 * a trigger copies every write of the outcome ledger into `outcome_audit` (test instrumentation:
 * it only observes), so a check can tell which attempt's statement landed last.
 */
export async function prepareFaultData(urlOf: (schema: string) => string): Promise<FaultData> {
  const url = urlOf('faults');
  const cleanUrl = urlOf('clean');
  await migrate(url);
  await migrate(cleanUrl);
  const pool = new pg.Pool({ ...pgConfigOf(url), max: 3 });
  pool.on('error', () => {}); // Postgres is stopped on purpose in some trials.
  const cleanPool = new pg.Pool({ ...pgConfigOf(cleanUrl), max: 2 });
  try {
    await seedTenants(pool, SEED);
    await seedTenants(cleanPool, SEED);
  } finally {
    await cleanPool.end();
  }
  await pool.query(`
    CREATE TABLE outcome_audit (seq bigserial PRIMARY KEY, job_key text, tenant_id text, type text, status text, attempts int,
                                recorded_at timestamptz, xid xid8 DEFAULT pg_current_xact_id(), at timestamptz DEFAULT clock_timestamp());
    CREATE FUNCTION faults.audit_outcome() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO faults.outcome_audit (job_key, tenant_id, type, status, attempts, recorded_at)
      VALUES (NEW.job_key, NEW.tenant_id, NEW.type, NEW.status, NEW.attempts, NEW.recorded_at);
      RETURN NEW;
    END $$;
    CREATE TRIGGER audit_outcome AFTER INSERT OR UPDATE ON aggregation_outcomes FOR EACH ROW EXECUTE FUNCTION faults.audit_outcome();`);
  const clean = await runAnalytics(
    ['aggregate', '--local', '--type', BACKFILL.type, '--period-type', BACKFILL.periodType, '--from', BACKFILL.periodStart, '--to', BACKFILL.periodEnd, '--as-of', BACKFILL.asOf, '--json'],
    { DATABASE_URL: cleanUrl, LOG_LEVEL: 'warn' },
  );
  if (clean.code !== 0) throw new Error(`the clean run failed (${clean.code}): ${clean.stderr}`);
  const cleanRows: Record<string, number> = {};
  for (const table of AGGREGATE_TABLES) cleanRows[table] = Number((await pool.query(`SELECT count(*) FROM clean.${table}`)).rows[0].count);
  return {
    url,
    pool,
    cleanRows,
    async reset() {
      await pool.query(`TRUNCATE revenue_aggregates, user_cohorts, tournament_aggregates, aggregation_outcomes, outcome_audit`);
    },
    async close() {
      await pool.end();
    },
  };
}

export interface Comparison {
  /** Rows of the clean run absent from the faults schema. */
  missing: number;
  /** Rows present in both with a different value in some column (computed_at aside). */
  wrong: number;
  /** Rows the clean run does not have. */
  extra: number;
  perTable: Record<string, { missing: number; wrong: number; extra: number }>;
}

/** The faults schema against the clean run, every column but computed_at; `skipTenants` left out of both. */
export async function compareWithClean(pool: pg.Pool, skipTenants: string[] = []): Promise<Comparison> {
  const result: Comparison = { missing: 0, wrong: 0, extra: 0, perTable: {} };
  for (const table of AGGREGATE_TABLES) {
    const { rows: cols } = await pool.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'clean' AND table_name = $1 AND column_name <> 'computed_at' ORDER BY ordinal_position`,
      [table],
    );
    const list = cols.map((c) => pg.escapeIdentifier(c.column_name)).join(', ');
    const key = KEY_OF[table].map((k) => `a.${k} = b.${k}`).join(' AND ');
    const { rows } = await pool.query<{ missing: string; wrong: string; extra: string }>(
      `WITH c AS (SELECT ${list} FROM clean.${table} WHERE tenant_id <> ALL($1::text[])),
            f AS (SELECT ${list} FROM faults.${table} WHERE tenant_id <> ALL($1::text[])),
            c_only AS (SELECT * FROM c EXCEPT SELECT * FROM f),
            f_only AS (SELECT * FROM f EXCEPT SELECT * FROM c)
       SELECT (SELECT count(*) FROM c_only a WHERE NOT EXISTS (SELECT 1 FROM f b WHERE ${key})) AS missing,
              (SELECT count(*) FROM c_only a WHERE EXISTS (SELECT 1 FROM f b WHERE ${key})) AS wrong,
              (SELECT count(*) FROM f_only a WHERE NOT EXISTS (SELECT 1 FROM c b WHERE ${key})) AS extra`,
      [skipTenants],
    );
    const r = { missing: Number(rows[0]!.missing), wrong: Number(rows[0]!.wrong), extra: Number(rows[0]!.extra) };
    result.perTable[table] = r;
    result.missing += r.missing;
    result.wrong += r.wrong;
    result.extra += r.extra;
  }
  return result;
}

export interface StaleCheck {
  /** Succeeded writes of a (tenant, type) outcome that landed after a write begun later. */
  staleOutcomeWrites: number;
  /** Aggregate rows not written by the transaction that recorded their tenant's final success. */
  rowsNotFromFinalAttempt: number;
}

/**
 * No tenant-period written by a stale attempt after a newer one: (1) the ledger's succeeded
 * writes for each (job, tenant, type), in the order they landed, began in that order too
 * (recorded_at is taken when an attempt starts its statement); (2) every aggregate row is from the
 * same transaction as its tenant's final succeeded outcome (aggregates and outcome are one
 * statement), so nothing landed on the rows after the attempt the ledger names.
 */
export async function checkStaleWrites(pool: pg.Pool, jobKey: string): Promise<StaleCheck> {
  const { rows: stale } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM (
       SELECT recorded_at < max(recorded_at) OVER (PARTITION BY tenant_id, type ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS older
       FROM outcome_audit WHERE job_key = $1 AND status = 'succeeded') s WHERE older`,
    [jobKey],
  );
  let notFinal = 0;
  for (const table of AGGREGATE_TABLES) {
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${table} r
       LEFT JOIN aggregation_outcomes o ON o.job_key = $1 AND o.tenant_id = r.tenant_id AND o.type = $2 AND o.status = 'succeeded'
       WHERE o.tenant_id IS NULL OR NOT (r.xmin = o.xmin)`,
      [jobKey, TYPE_OF[table]],
    );
    notFinal += Number(rows[0]!.n);
  }
  return { staleOutcomeWrites: Number(stale[0]!.n), rowsNotFromFinalAttempt: notFinal };
}
