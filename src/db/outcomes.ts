import type pg from 'pg';
import type { Logger } from '../logger';

// The per-tenant outcome table (aggregation_outcomes): the failed-attempt write both aggregation
// paths share (a succeeded outcome is written by each path's own statement, in its transaction),
// and the reads for the CLI and the queue's callers (the workflow result carries totals and the
// first failures only).

/** Longest error message kept in an outcome row. */
const MAX_MESSAGE_CHARS = 1_000;

const RECORD_FAILED = {
  name: 'outcome_failed',
  text: `
INSERT INTO aggregation_outcomes (job_key, tenant_id, type, status, rows_written, periods, attempts, error_type, message, recorded_at)
SELECT $1, $2, t.type, 'failed', 0, 0, $4::int, $5, $6, $7::timestamptz FROM unnest($3::text[]) AS t(type)
ON CONFLICT (job_key, tenant_id, type) DO UPDATE SET
  status = 'failed', attempts = EXCLUDED.attempts, error_type = EXCLUDED.error_type, message = EXCLUDED.message, recorded_at = EXCLUDED.recorded_at
  WHERE aggregation_outcomes.status <> 'succeeded'`,
} as const;

/**
 * Records a failed attempt of a tenant's types (never over a succeeded row). Best effort: the
 * database may be the reason the attempt failed, so an error here is logged, not thrown.
 */
export async function recordFailedOutcome(
  pool: Pick<pg.Pool, 'query'>,
  logger: Logger,
  outcome: { jobKey: string; tenantId: string; types: readonly string[]; attempt: number; at: Date },
  err: Error,
): Promise<void> {
  try {
    await pool.query({
      ...RECORD_FAILED,
      values: [outcome.jobKey, outcome.tenantId, [...outcome.types], outcome.attempt, err.name, err.message.slice(0, MAX_MESSAGE_CHARS), outcome.at],
    });
  } catch (recordErr) {
    logger.debug({ err: recordErr, tenantId: outcome.tenantId }, 'could not record the failed outcome');
  }
}

export interface OutcomeRow {
  tenantId: string;
  type: string;
  status: 'succeeded' | 'failed';
  rowsWritten: number;
  periods: number;
  attempts: number;
  errorType: string | null;
  message: string | null;
}

export interface JobOutcomes {
  /** Tasks (tenant × type) by status. */
  succeeded: number;
  failed: number;
  tenants: number;
  failedTenants: number;
  rowsWritten: number;
  /** Failures first, then by tenant and type; at most the limit asked for. */
  rows: OutcomeRow[];
}

/** Counts and the first `limit` outcome rows of one job (its workflow id). */
export async function readJobOutcomes(pool: pg.Pool, jobKey: string, limit = 50): Promise<JobOutcomes> {
  const [counts, rows] = await Promise.all([
    pool.query<{ succeeded: number; failed: number; tenants: number; failed_tenants: number; rows_written: string }>(
      `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE status = 'failed')::int AS failed,
              count(DISTINCT tenant_id)::int AS tenants,
              count(DISTINCT tenant_id) FILTER (WHERE status = 'failed')::int AS failed_tenants,
              coalesce(sum(rows_written), 0)::text AS rows_written
       FROM aggregation_outcomes WHERE job_key = $1`,
      [jobKey],
    ),
    pool.query<{ tenant_id: string; type: string; status: 'succeeded' | 'failed'; rows_written: number; periods: number; attempts: number; error_type: string | null; message: string | null }>(
      `SELECT tenant_id, type, status, rows_written, periods, attempts, error_type, message
       FROM aggregation_outcomes WHERE job_key = $1
       ORDER BY status = 'failed' DESC, tenant_id COLLATE "C", type LIMIT $2`,
      [jobKey, limit],
    ),
  ]);
  const c = counts.rows[0]!;
  return {
    succeeded: c.succeeded,
    failed: c.failed,
    tenants: c.tenants,
    failedTenants: c.failed_tenants,
    rowsWritten: Number(c.rows_written),
    rows: rows.rows.map((r) => ({
      tenantId: r.tenant_id,
      type: r.type,
      status: r.status,
      rowsWritten: r.rows_written,
      periods: r.periods,
      attempts: r.attempts,
      errorType: r.error_type,
      message: r.message,
    })),
  };
}
