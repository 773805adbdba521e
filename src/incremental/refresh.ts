import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { PERIOD_TYPES, typesOfJob, type AggregateSummary, type AggregationType, type AggregationTypeOrAll, type PeriodType } from '../contract/aggregation';
import { assertZone } from '../aggregation/periods';
import { classifyDatabaseError } from '../aggregation/transient';
import { recordFailedOutcome } from '../db/outcomes';
import { ensurePrepared, executeText, forgetPrepared, resultsOf, sqlStatement } from '../db/sql-prepared';
import { tenantUpsert, type TenantStatementInput } from '../db/sql/tenant';
import { InactiveTenantError } from '../errors/inactive-tenant-error';
import { UnknownTenantError } from '../errors/unknown-tenant-error';
import type { Logger } from '../logger';
import { dirtyBuckets, type ChangeKind, type PendingChange, type StoredPeriod } from './buckets';
import { assertTenantId } from '../aggregation/tenant-id';

// One tenant's incremental refresh (docs/incremental.md), in one transaction: take its pending
// change rows (DELETE ... RETURNING: exactly the rows this transaction folds in; rows committed
// later are not visible to it and stay for the next run), recompute the buckets they dirty with
// the same statement the full path runs, advance the watermarks, commit. A failure rolls the
// whole transaction back, changes included, so nothing is lost or counted twice.
//
// Two round trips per tenant, as many as the full path's: `BEGIN; SET LOCAL ...; SELECT
// pg_advisory_xact_lock(...); EXECUTE consume(...)` and `EXECUTE recompute(...); COMMIT`, each
// one multi-statement simple query over statements PREPAREd once per connection
// (src/db/sql-prepared.ts), with every argument an escaped literal. (A queued job's tenant with
// several recompute statements takes one more: its outcome rows need the earlier ones' counts.)

/** Change kinds each aggregate type folds in. */
export const KINDS_OF_TYPE: Record<AggregationType, readonly ChangeKind[]> = {
  revenue: ['revenue', 'mrr'],
  tournaments: ['tournaments'],
  cohorts: ['cohorts'],
};

export function kindsOfJob(type: AggregationTypeOrAll): ChangeKind[] {
  return typesOfJob(type).flatMap((t) => KINDS_OF_TYPE[t]);
}

export interface IncrementalRequest {
  tenantId: string;
  type: AggregationTypeOrAll;
  /** ISO instant: the newest bucket a change can create, and cohort month numbers up to it. */
  asOf: string;
  /** Key of the outcome rows (the job's workflow id); without one none are written. */
  jobKey?: string;
  attempt?: number;
}

export interface IncrementalResult {
  tenantId: string;
  status: 'succeeded';
  /** Change rows folded in. */
  changes: number;
  rowsWritten: number;
  /** Statements run (0 when nothing was pending). */
  statements: number;
  summaries: AggregateSummary[];
  /** Only parts of a split full recompute carry rows per type; an incremental refresh is never split. */
  rowsByType?: undefined;
}

export interface IncrementalDeps {
  pool: pg.Pool;
  clock: { now(): Date };
  logger: Logger;
}

/**
 * Opens the transaction and serialises refreshes of one tenant (the second waits, then its next
 * statements see everything the first committed): the first statements of the first round trip;
 * the tenant id goes in as an escaped literal since a multi-statement query cannot take
 * parameters. The generic plan is forced for the transaction's prepared statements: the consume
 * statement's custom plan was chosen on every call (planning cost ~0.4 ms a tenant, more than
 * its execution) although its generic plan is the same index scans; the recompute statements
 * settle on their generic plan anyway (as on the full path).
 */
function beginLocked(client: pg.PoolClient, tenantId: string): string {
  return `BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SELECT pg_advisory_xact_lock(hashtextextended(${client.escapeLiteral(`aggregate_changes:${tenantId}`)}, 0))`;
}

/**
 * Consumes the tenant's pending changes of the given kinds, advances the watermark of every
 * (type, period type) they dirty (types the tenant has rows of, and day; cohorts: month), and
 * reads, in the same statement, what the bucket plan needs: the tenant, the period types it has
 * rows of, and the stored periods the changes can reach beyond their own buckets (revenue rows
 * whose MRR a subscription change moves; rows starting after as-of). The watermarks commit with
 * the recomputed rows or not at all.
 */
const CONSUME = sqlStatement(
  'incremental_consume',
  `
WITH consumed AS (
  DELETE FROM aggregate_changes WHERE tenant_id = $1 AND aggregate_type = ANY($3::text[])
  RETURNING aggregate_type, changed_from, changed_to, recorded_at
),
mrr AS (SELECT min(changed_from) AS from_at FROM consumed WHERE aggregate_type = 'mrr'),
folded AS (
  SELECT CASE aggregate_type WHEN 'mrr' THEN 'revenue' ELSE aggregate_type END AS type, max(recorded_at) AS newest, count(*)::int AS n
  FROM consumed GROUP BY 1
),
marks AS (
  INSERT INTO aggregate_freshness (tenant_id, aggregate_type, period_type, newest_change_at, changes_folded, refreshed_at)
  SELECT $1, f.type, p.pt, f.newest, f.n, $5::timestamptz
  FROM folded f CROSS JOIN LATERAL (
    SELECT 'month'::text AS pt WHERE f.type = 'cohorts'
    UNION ALL
    SELECT pt FROM unnest($4::text[]) AS pt
    WHERE f.type <> 'cohorts' AND (pt = 'day'
      OR (f.type = 'revenue' AND EXISTS (SELECT 1 FROM revenue_aggregates r WHERE r.tenant_id = $1 AND r.period_type = pt))
      OR (f.type = 'tournaments' AND EXISTS (SELECT 1 FROM tournament_aggregates t WHERE t.tenant_id = $1 AND t.period_type = pt)))
  ) p
  ON CONFLICT (tenant_id, aggregate_type, period_type) DO UPDATE SET
    newest_change_at = greatest(aggregate_freshness.newest_change_at, EXCLUDED.newest_change_at),
    changes_folded = aggregate_freshness.changes_folded + EXCLUDED.changes_folded,
    refreshed_at = EXCLUDED.refreshed_at
)
SELECT o.timezone, o.status,
  (SELECT coalesce(json_agg(json_build_array(aggregate_type, changed_from, changed_to, recorded_at)), '[]'::json) FROM consumed) AS changes,
  ARRAY(SELECT pt FROM unnest($4::text[]) AS pt
        WHERE EXISTS (SELECT 1 FROM revenue_aggregates r WHERE r.tenant_id = $1 AND r.period_type = pt)) AS revenue_types,
  ARRAY(SELECT pt FROM unnest($4::text[]) AS pt
        WHERE EXISTS (SELECT 1 FROM tournament_aggregates t WHERE t.tenant_id = $1 AND t.period_type = pt)) AS tournament_types,
  -- Each branch an index range on (tenant_id, period_type, period_start); the MRR one is skipped
  -- outright when no subscription changed.
  (SELECT coalesce(json_agg(json_build_array('revenue', r.period_type, r.period_start, r.period_end)), '[]'::json)
   FROM (SELECT period_type, period_start, period_end FROM revenue_aggregates
         WHERE (SELECT from_at FROM mrr) IS NOT NULL AND tenant_id = $1 AND period_type = ANY($4::text[]) AND period_end > (SELECT from_at FROM mrr)
         UNION
         SELECT period_type, period_start, period_end FROM revenue_aggregates
         WHERE tenant_id = $1 AND period_type = ANY($4::text[]) AND period_start > $2::timestamptz) r) AS revenue_stored,
  (SELECT coalesce(json_agg(json_build_array('tournaments', t.period_type, t.period_start, t.period_end)), '[]'::json)
   FROM tournament_aggregates t
   WHERE t.tenant_id = $1 AND t.period_type = ANY($4::text[]) AND t.period_start > $2::timestamptz) AS tournament_stored
FROM organizations o WHERE o.id = $1`,
);

/** The outcome rows of a queued job's tenant, in the refresh's transaction. */
const OUTCOMES = sqlStatement(
  'incremental_outcomes',
  `
INSERT INTO aggregation_outcomes (job_key, tenant_id, type, status, rows_written, periods, attempts, error_type, message, recorded_at)
SELECT $1, $2, o.type, 'succeeded', o.rows, o.periods, $3::int, NULL, NULL, $4::timestamptz
FROM unnest($5::text[], $6::int[], $7::int[]) AS o(type, rows, periods)
ON CONFLICT (job_key, tenant_id, type) DO UPDATE SET
  status = 'succeeded', rows_written = EXCLUDED.rows_written, periods = EXCLUDED.periods, attempts = EXCLUDED.attempts,
  error_type = NULL, message = NULL, recorded_at = EXCLUDED.recorded_at`,
);

interface ConsumedRow {
  timezone: string;
  status: string;
  changes: [ChangeKind, string, string, string][];
  revenue_types: PeriodType[];
  tournament_types: PeriodType[];
  revenue_stored: [StoredPeriod['type'], PeriodType, string, string][];
  tournament_stored: [StoredPeriod['type'], PeriodType, string, string][];
}

const iso = (t: string) => new Date(t).toISOString();

export function createIncrementalRefresher({ pool, clock, logger }: IncrementalDeps) {
  async function refresh(req: IncrementalRequest): Promise<IncrementalResult> {
    const { tenantId } = req;
    const types = typesOfJob(req.type);
    const client = await pool.connect();
    let released = false;
    try {
      const now = clock.now().toISOString();
      await ensurePrepared(client, [CONSUME]);
      // Round trip 1: the transaction, the lock, the consume. If the text fails part way, the
      // transaction (if BEGIN ran) is aborted and the catch below rolls it back.
      const opened = client.query<ConsumedRow>(`${beginLocked(client, tenantId)}; ${executeText(client, CONSUME, [tenantId, req.asOf, kindsOfJob(req.type), PERIOD_TYPES, now])}`);
      try {
        const results = resultsOf(await opened);
        const row = results[results.length - 1]!.rows[0];
        if (!row) throw new UnknownTenantError(tenantId);
        if (row.status !== 'active') throw new InactiveTenantError(tenantId, row.status);
        const zone = assertZone(row.timezone, 'organizations.timezone');
        const changes: PendingChange[] = row.changes.map(([kind, from, to, recordedAt]) => ({ kind, from: iso(from), to: iso(to), recordedAt: iso(recordedAt) }));
        const started = performance.now();
        const plan = dirtyBuckets(
          changes,
          {
            zone,
            revenueTypes: row.revenue_types,
            tournamentTypes: row.tournament_types,
            stored: [...row.revenue_stored, ...row.tournament_stored].map(([type, periodType, start, end]) => ({ type, periodType, start: iso(start), end: iso(end) })),
          },
          req.asOf,
        );
        const written: Record<AggregationType, number> = { revenue: 0, cohorts: 0, tournaments: 0 };
        const periods: Record<AggregationType, number> = { revenue: 0, cohorts: 0, tournaments: 0 };
        const rounds = Math.max(plan.revenue.length, plan.tournaments.length, plan.cohorts ? 1 : 0);
        const inputs: TenantStatementInput[] = [];
        for (let i = 0; i < rounds; i++) {
          // Each round is the full path's own statement (src/db/sql/tenant.ts) over one contiguous run per type.
          const input: TenantStatementInput = { tenantId, periods: {} };
          const revenue = plan.revenue[i];
          const tournaments = plan.tournaments[i];
          if (revenue) {
            input.revenue = revenue;
            input.periods.revenue = revenue.starts.length;
            periods.revenue += revenue.starts.length;
          }
          if (tournaments) {
            input.tournaments = tournaments;
            input.periods.tournaments = tournaments.starts.length;
            periods.tournaments += tournaments.starts.length;
          }
          if (i === 0 && plan.cohorts) {
            const { months, ...cohorts } = plan.cohorts;
            input.cohorts = cohorts;
            input.periods.cohorts = months;
            periods.cohorts = months;
          }
          inputs.push(input);
        }
        // Round trip 2: every recompute statement and COMMIT in one text; the rows each wrote
        // are its result.
        const recompute = async (batch: readonly TenantStatementInput[], tail: readonly string[]) => {
          const statements = batch.map((input) => {
            const sql = tenantUpsert(input);
            return { statement: sqlStatement('incremental_tenant', sql.text), values: sql.values };
          });
          await ensurePrepared(client, statements.map((s) => s.statement), true);
          const text = [...statements.map((s) => executeText(client, s.statement, s.values)), ...tail].join('; ');
          const results = resultsOf(await client.query<{ revenue: number; cohorts: number; tournaments: number }>(text));
          for (const r of results.slice(0, statements.length)) for (const t of types) written[t] += Number(r.rows[0]![t]);
        };
        const last = inputs[inputs.length - 1];
        if (req.jobKey === undefined) {
          await recompute(inputs, ['COMMIT']);
        } else if (!last) {
          // A queued job's tenant with nothing to recompute (a concurrent run took its changes): its outcome rows.
          await ensurePrepared(client, [OUTCOMES], true);
          const zeros = types.map(() => 0);
          await client.query(`${executeText(client, OUTCOMES, [req.jobKey, tenantId, req.attempt ?? 1, now, [...types], zeros, zeros])}; COMMIT`);
        } else {
          // A queued job's tenant: the last recompute statement also writes the outcome rows of
          // every type of the job (as the full path's statement does), with the rows of the rounds
          // before it, which therefore run first (several rounds: a tenant with rows of several
          // period types, or dirty periods far apart), in one more round trip.
          if (inputs.length > 1) await recompute(inputs.slice(0, -1), []);
          const extra = types.filter((t) => last[t] === undefined).map((type) => ({ type, rows: written[type], periods: periods[type] }));
          const carriedRows = Object.fromEntries(types.filter((t) => last[t] !== undefined).map((t) => [t, written[t]]));
          const lastWithOutcome: TenantStatementInput = { ...last, periods: { ...periods }, outcome: { jobKey: req.jobKey, attempt: req.attempt ?? 1, recordedAt: now, carriedRows, extra } };
          // Its result counts its own rows only (the outcome rows add the carried ones).
          await recompute([lastWithOutcome], ['COMMIT']);
        }
        const durationMs = Math.round(performance.now() - started);
        const summaries: AggregateSummary[] = [];
        for (const t of types) {
          const runs = t === 'cohorts' ? [] : plan[t];
          if (t === 'cohorts' ? !plan.cohorts : runs.length === 0) continue;
          summaries.push({
            tenantId,
            type: t,
            periodType: t === 'cohorts' ? 'month' : runs[0]!.periodType,
            rowsWritten: written[t],
            periodsCovered: periods[t],
            rangeStart: t === 'cohorts' ? plan.cohorts!.bounds[0]! : runs.map((r) => r.starts[0]!).sort()[0]!,
            rangeEnd: t === 'cohorts' ? plan.cohorts!.bounds[plan.cohorts!.months]! : runs.map((r) => r.ends[r.ends.length - 1]!).sort().pop()!,
            durationMs,
          });
        }
        return { tenantId, status: 'succeeded', changes: changes.length, rowsWritten: types.reduce((n, t) => n + written[t], 0), statements: rounds, summaries };
      } catch (err) {
        // 26000 invalid_sql_statement_name: a prepared statement is gone (DEALLOCATE, DISCARD):
        // prepare again on the next use.
        if ((err as { code?: string }).code === '26000') forgetPrepared(client);
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection is broken: drop it rather than hand it back to the pool.
          client.release(rollbackErr as Error);
          released = true;
        }
        throw err;
      }
    } finally {
      if (!released) client.release();
    }
  }

  async function recordFailure(req: IncrementalRequest, err: Error): Promise<void> {
    if (req.jobKey === undefined) return;
    await recordFailedOutcome(pool, logger, { jobKey: req.jobKey, tenantId: req.tenantId, types: typesOfJob(req.type), attempt: req.attempt ?? 1, at: clock.now() }, err);
  }

  return {
    /**
     * Folds one tenant's pending changes into its aggregates, in one transaction (see the top of
     * this file). Throws UnknownTenantError / InactiveTenantError (the changes stay pending),
     * InvalidDataError for bad data, TransientDatabaseError when the database is unreachable.
     */
    async refreshTenant(req: IncrementalRequest): Promise<IncrementalResult> {
      assertTenantId(req.tenantId);
      try {
        const result = await refresh(req);
        if (result.changes > 0) logger.debug({ tenantId: req.tenantId, changes: result.changes, rowsWritten: result.rowsWritten }, 'refreshed tenant incrementally');
        return result;
      } catch (raw) {
        const err = classifyDatabaseError(`refreshing tenant ${req.tenantId} incrementally`, raw);
        if (err instanceof Error) await recordFailure(req, err);
        throw err;
      }
    },
  };
}

export type IncrementalRefresher = ReturnType<typeof createIncrementalRefresher>;
