import type { AggregateSummary, AggregationTypeOrAll } from '../contract/aggregation';
import { typesOfJob } from '../contract/aggregation';
import type { OutcomeRow } from '../db/outcomes';

/**
 * What `analytics aggregate --json` prints, queued or `--local`: how the run ended, totals over
 * (tenant, type) tasks, and per-tenant outcomes. A local run has no job and no workflow (null).
 */
export interface AggregationReport {
  jobId: string | null;
  workflowId: string | null;
  status: 'completed' | 'failed';
  /** Why the run failed (the job's failure message; locally, how many tenants failed). */
  error?: string;
  totals: { tenants: number; tasks: number; succeeded: number; failed: number; rowsWritten: number };
  /** Failures first, then by tenant and type; at most {@link OUTCOMES_LISTED}. */
  outcomes: OutcomeRow[];
  outcomesOmitted: number;
}

/** Outcome rows a report lists at most. */
export const OUTCOMES_LISTED = 50;

/** Failures first, then tenant and type in code-point order (as `aggregation_outcomes` is read). */
function byOutcome(a: OutcomeRow, b: OutcomeRow): number {
  if (a.status !== b.status) return a.status === 'failed' ? -1 : 1;
  if (a.tenantId !== b.tenantId) return a.tenantId < b.tenantId ? -1 : 1;
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

/** The report of an in-process run: one outcome per (tenant, type), a failed tenant failing each of its types. */
export function localReport(
  tenants: number,
  summaries: AggregateSummary[],
  failures: { tenantId: string; type: AggregationTypeOrAll; errorType: string; message: string }[],
): AggregationReport {
  const rows: OutcomeRow[] = [
    ...summaries.map((s) => ({
      tenantId: s.tenantId,
      type: s.type,
      status: 'succeeded' as const,
      rowsWritten: s.rowsWritten,
      periods: s.periodsCovered,
      attempts: 1,
      errorType: null,
      message: null,
    })),
    ...failures.flatMap((f) =>
      typesOfJob(f.type).map((type) => ({ tenantId: f.tenantId, type, status: 'failed' as const, rowsWritten: 0, periods: 0, attempts: 1, errorType: f.errorType, message: f.message })),
    ),
  ].sort(byOutcome);
  const failed = rows.filter((r) => r.status === 'failed').length;
  const failedTenants = new Set(failures.map((f) => f.tenantId)).size;
  return {
    jobId: null,
    workflowId: null,
    status: failed > 0 ? 'failed' : 'completed',
    ...(failed > 0 ? { error: `${failedTenants} of ${tenants} tenant(s) failed` } : {}),
    totals: { tenants, tasks: rows.length, succeeded: rows.length - failed, failed, rowsWritten: rows.reduce((n, r) => n + r.rowsWritten, 0) },
    outcomes: rows.slice(0, OUTCOMES_LISTED),
    outcomesOmitted: Math.max(0, rows.length - OUTCOMES_LISTED),
  };
}
