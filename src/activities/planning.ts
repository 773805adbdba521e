import { Context } from '@temporalio/activity';
import { asOfOfJob, planTenantTypes } from '../aggregation/job-plan';
import { withTransientMapping } from '../aggregation/transient';
import { typesOfJob, type AggregationJobData, type TenantPage } from '../contract/aggregation';
import { poolOf, type Db } from '../db/client';
import type { Logger } from '../logger';

export { MAX_JOB_PERIODS, jobPeriods } from '../aggregation/job-plan';

// Planning turns a job into work the workflows can hand out without calendar logic of their own
// (workflow code cannot use luxon) and without lists that grow with the tenant count: the
// parent sees page bounds, a child sees the ids of its own page only. Outcome rows
// (aggregation_outcomes) are the resume ledger: a page lists only tenants not yet done.

export interface PlanJobRequest {
  job: AggregationJobData;
  /** The instant defaults are computed from when the job has no `asOf`. */
  requestedAt: string;
}

export interface JobPlan {
  /** ISO instant the periods and cohort month numbers are computed as of. */
  asOf: string;
  tenantCount: number;
  /** Types per tenant (3 for `all`). */
  typesPerTenant: number;
}

export interface TenantPagesRequest {
  job: AggregationJobData;
  /** Last tenant id of the previous page; null for the first. */
  after: string | null;
  pageSize: number;
  /** Pages to return at most. */
  pages: number;
}

export interface TenantPagesResult {
  pages: TenantPage[];
  /** No tenants after the last page returned. */
  exhausted: boolean;
}

export interface PendingTenantsRequest {
  jobKey: string;
  job: AggregationJobData;
  page: TenantPage;
}

export interface PendingTenantsResult {
  /** Tenants of the page still to aggregate, in id order. */
  tenantIds: string[];
  /** Tenants of the page an earlier run of the job completed for every type. */
  resumed: number;
}

export interface PlanningDeps {
  db: Db;
  logger: Logger;
  clock: { now(): Date };
}

/** Rows one purge statement deletes at most (a heartbeat between batches). */
const PURGE_BATCH = 20_000;

/**
 * Planning activities: built over the database like the rest of createActivities, and spread
 * into it (`...createPlanningActivities({ db, logger, clock })`).
 */
export function createPlanningActivities({ db, logger, clock }: PlanningDeps) {
  const pool = poolOf(db);
  const log = logger.child({ component: 'planning' });

  return {
    /**
     * Validates the job (bad fields throw InvalidInputError subclasses, never retried, before any
     * tenant is touched), fixes its as-of instant and counts its tenants.
     */
    async planJob(req: PlanJobRequest): Promise<JobPlan> {
      const asOf = asOfOfJob(req.job, req.requestedAt);
      planTenantTypes(req.job, 'UTC', asOf);
      const typesPerTenant = typesOfJob(req.job.type).length;
      if (req.job.tenantId !== undefined) return { asOf, tenantCount: 1, typesPerTenant };
      const rows = await withTransientMapping('counting active tenants', async () =>
        (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM organizations WHERE status = 'active'`)).rows,
      );
      return { asOf, tenantCount: rows[0]?.n ?? 0, typesPerTenant };
    },

    /**
     * The next pages of the job's tenants after `after`, as bounds only: the parent's history
     * stays small however many tenants there are. A one-tenant job is one page of that tenant,
     * whatever its status (its activity reports an unknown or inactive tenant).
     */
    async tenantPages(req: TenantPagesRequest): Promise<TenantPagesResult> {
      if (req.job.tenantId !== undefined) {
        return req.after === null ? { pages: [{ afterTenantId: null, lastTenantId: req.job.tenantId, tenants: 1 }], exhausted: true } : { pages: [], exhausted: true };
      }
      const limit = req.pageSize * req.pages;
      const ids = await withTransientMapping('listing active tenants', async () =>
        (
          await pool.query<{ id: string }>({
            name: 'tenant_pages',
            text: `SELECT id FROM organizations WHERE status = 'active' AND ($1::text IS NULL OR id COLLATE "C" > $1::text)
                   ORDER BY id COLLATE "C" LIMIT $2`,
            values: [req.after, limit],
          })
        ).rows.map((r) => r.id),
      );
      const pages: TenantPage[] = [];
      for (let i = 0; i < ids.length; i += req.pageSize) {
        const slice = ids.slice(i, i + req.pageSize);
        pages.push({ afterTenantId: i === 0 ? req.after : ids[i - 1]!, lastTenantId: slice[slice.length - 1]!, tenants: slice.length });
      }
      return { pages, exhausted: ids.length < limit };
    },

    /** The tenants of one page that still need work for this job: those without a succeeded outcome for every type. */
    async pendingTenants(req: PendingTenantsRequest): Promise<PendingTenantsResult> {
      const types = [...typesOfJob(req.job.type)];
      const single = req.job.tenantId !== undefined;
      const rows = await withTransientMapping('listing the tenants of a page', async () =>
        (
          await pool.query<{ id: string; done: boolean }>({
            name: 'pending_tenants',
            text: `SELECT o.id,
                          (SELECT count(*) FROM aggregation_outcomes a
                           WHERE a.job_key = $1 AND a.tenant_id = o.id AND a.status = 'succeeded' AND a.type = ANY($2::text[])) = cardinality($2::text[]) AS done
                   FROM (SELECT id FROM organizations
                         WHERE NOT $5::bool AND status = 'active'
                           AND ($3::text IS NULL OR id COLLATE "C" > $3::text) AND id COLLATE "C" <= $4::text
                         UNION ALL SELECT $4::text WHERE $5::bool) o
                   ORDER BY o.id COLLATE "C"`,
            values: [req.jobKey, types, single ? null : req.page.afterTenantId, req.page.lastTenantId, single],
          })
        ).rows,
      );
      const tenantIds = rows.filter((r) => !r.done).map((r) => r.id);
      return { tenantIds, resumed: rows.length - tenantIds.length };
    },

    /**
     * Deletes outcome rows older than `retentionMs` (by the activity clock), in batches with a
     * heartbeat between them, so the table never grows past what the retention allows.
     */
    async purgeOutcomes(req: { retentionMs: number }): Promise<number> {
      const before = new Date(clock.now().getTime() - req.retentionMs);
      let deleted = 0;
      for (;;) {
        const n = await withTransientMapping('purging expired outcomes', async () =>
          (
            await pool.query({
              name: 'purge_outcomes',
              text: `DELETE FROM aggregation_outcomes WHERE ctid = ANY(ARRAY(
                       SELECT ctid FROM aggregation_outcomes WHERE recorded_at < $1::timestamptz LIMIT $2))`,
              values: [before, PURGE_BATCH],
            })
          ).rowCount ?? 0,
        );
        deleted += n;
        if (n < PURGE_BATCH) break;
        heartbeat(deleted);
      }
      if (deleted > 0) log.info({ deleted, before: before.toISOString() }, 'purged expired outcomes');
      return deleted;
    },
  };
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // called outside an activity (a test): nothing to heartbeat
  }
}

export type PlanningActivities = ReturnType<typeof createPlanningActivities>;
