import type pg from 'pg';

// Reads of the per-tenant outcome table (aggregation_outcomes), for the CLI and the queue's
// callers: the workflow result carries totals and the first failures only.

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
