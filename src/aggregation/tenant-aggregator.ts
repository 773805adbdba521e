import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { typesOfJob, type AggregateSummary, type AggregationJobData, type AggregationType, type RowsByType, type TenantPart } from '../contract/aggregation';
import { recordFailedOutcome } from '../db/outcomes';
import { named } from '../db/prepared';
import { tenantUpsert, type TenantStatementInput } from '../db/sql/tenant';
import { InactiveTenantError } from '../errors/inactive-tenant-error';
import { UnknownTenantError } from '../errors/unknown-tenant-error';
import type { Logger } from '../logger';
import { createPlanCache, type TypePlan } from './job-plan';
import { slicePlan } from './split';
import { classifyDatabaseError } from './transient';
import { assertTenantId } from './tenant-id';

// One tenant of one job: every requested type over the job's whole range, in one transaction,
// with the tenant's outcome rows written in the same transaction. This is the unit the workflow
// fans out (one activity per tenant) and the unit `aggregate --local` loops over, so both pay
// exactly the same SQL; only the orchestration differs.

export interface TenantRunRequest {
  tenantId: string;
  job: AggregationJobData;
  /** ISO instant the periods and cohort month numbers are computed as of. */
  asOf: string;
  /** Key of the outcome rows (the job's workflow id); without one nothing is recorded or skipped. */
  jobKey?: string;
  /** Attempt number recorded with the outcome. @defaultValue 1 */
  attempt?: number;
  /** One slice of a split tenant's periods; only the last part records the outcome. */
  part?: TenantPart;
}

export interface TenantRunResult {
  tenantId: string;
  /** `resumed`: every type already had a succeeded outcome for this job key; nothing ran. */
  status: 'succeeded' | 'resumed';
  rowsWritten: number;
  summaries: AggregateSummary[];
  /** For a part: rows per type written so far by this part and the ones before it. */
  rowsByType?: RowsByType;
}

export interface TenantAggregatorDeps {
  pool: pg.Pool;
  /** Stamps outcome rows (`recorded_at`), so retention follows the same clock tests pin. */
  clock: { now(): Date };
  logger: Logger;
}

/** The tenant and the types an earlier run of the same job already completed for it: one round trip. */
const LOOKUP = {
  name: 'tenant_lookup',
  text: `
SELECT o.timezone, o.status,
       coalesce((SELECT array_agg(a.type) FROM aggregation_outcomes a
                 WHERE a.job_key = $2 AND a.tenant_id = o.id AND a.status = 'succeeded'), '{}') AS done
FROM organizations o WHERE o.id = $1`,
} as const;

function carriedPlus(carried: RowsByType | undefined, written: Record<AggregationType, number>, plans: readonly TypePlan[]): RowsByType {
  const out: RowsByType = {};
  for (const { type } of plans) out[type] = (carried?.[type] ?? 0) + Number(written[type] ?? 0);
  return out;
}

function rangeOf(plan: TypePlan): { rangeStart: string; rangeEnd: string } {
  if (plan.type === 'cohorts') return { rangeStart: plan.input.bounds[0]!, rangeEnd: plan.input.bounds[plan.input.cohortMonths.length]! };
  return { rangeStart: plan.input.starts[0]!, rangeEnd: plan.input.ends[plan.input.ends.length - 1]! };
}

export function createTenantAggregator({ pool, clock, logger }: TenantAggregatorDeps) {
  const planFor = createPlanCache();

  async function lookup(tenantId: string, jobKey: string | undefined): Promise<{ timezone: string; done: Set<string> }> {
    const res = await pool.query<{ timezone: string; status: string; done: string[] }>({ ...LOOKUP, values: [tenantId, jobKey ?? null] });
    const org = res.rows[0];
    if (!org) throw new UnknownTenantError(tenantId);
    if (org.status !== 'active') throw new InactiveTenantError(tenantId, org.status);
    return { timezone: org.timezone, done: new Set(org.done) };
  }

  async function compute(req: TenantRunRequest): Promise<TenantRunResult> {
    const { tenantId, jobKey } = req;
    const { timezone, done } = await lookup(tenantId, jobKey);
    const whole = planFor(req.job, timezone, req.asOf);
    if (jobKey !== undefined && whole.every((p) => done.has(p.type))) return { tenantId, status: 'resumed', rowsWritten: 0, summaries: [] };
    const { part } = req;
    // A part covers a slice of every type's periods (an earlier part may have none of a type's
    // few periods); the last part has some of each, and records every type's outcome with the
    // periods of the whole range and the rows of all parts.
    const plans = part ? whole.map((p) => slicePlan(p, part.index, part.of)).filter((p) => p.periods > 0) : whole;
    const last = !part || part.index === part.of - 1;
    if (plans.length === 0) return { tenantId, status: 'succeeded', rowsWritten: 0, summaries: [], rowsByType: { ...part?.carried } };
    const input: TenantStatementInput = { tenantId, periods: {} };
    for (const plan of plans) {
      if (plan.type === 'cohorts') input.cohorts = plan.input;
      else input[plan.type] = plan.input;
    }
    for (const plan of whole) input.periods[plan.type] = plan.periods;
    if (jobKey !== undefined && last) input.outcome = { jobKey, attempt: req.attempt ?? 1, recordedAt: clock.now().toISOString(), carriedRows: part?.carried };
    const started = performance.now();
    const res = await pool.query<{ revenue: number; cohorts: number; tournaments: number }>(named(tenantUpsert(input), 'tenant'));
    const durationMs = Math.round(performance.now() - started);
    const written = res.rows[0]!;
    const rowsByType = part ? carriedPlus(part.carried, written, whole) : undefined;
    const summaries: AggregateSummary[] = plans.map((plan) => ({
      tenantId,
      type: plan.type,
      periodType: plan.periodType,
      rowsWritten: Number(written[plan.type]),
      periodsCovered: plan.periods,
      ...rangeOf(plan),
      // One statement computes every type: this is its time.
      durationMs,
    }));
    return { tenantId, status: 'succeeded', rowsWritten: summaries.reduce((n, s) => n + s.rowsWritten, 0), summaries, ...(rowsByType ? { rowsByType } : {}) };
  }

  return {
    /**
     * Aggregates every type the job asks for, for one tenant, in one transaction. Bad input (an
     * unknown or inactive tenant, a bad timezone, bad job fields) throws an InvalidInputError
     * subclass; data errors throw InvalidDataError; connection failures TransientDatabaseError.
     * With a `jobKey`, succeeded types are recorded in the same transaction and a tenant whose
     * every type already succeeded for that key is skipped (`resumed`).
     */
    async aggregateTenant(req: TenantRunRequest): Promise<TenantRunResult> {
      assertTenantId(req.tenantId);
      try {
        const result = await compute(req);
        if (result.status === 'succeeded') logger.debug({ tenantId: req.tenantId, rowsWritten: result.rowsWritten }, 'aggregated tenant');
        return result;
      } catch (raw) {
        const err = classifyDatabaseError(`aggregating tenant ${req.tenantId}`, raw);
        if (err instanceof Error && req.jobKey !== undefined) {
          await recordFailedOutcome(pool, logger, { jobKey: req.jobKey, tenantId: req.tenantId, types: typesOfJob(req.job.type), attempt: req.attempt ?? 1, at: clock.now() }, err);
        }
        throw err;
      }
    },
  };
}

export type TenantAggregator = ReturnType<typeof createTenantAggregator>;
