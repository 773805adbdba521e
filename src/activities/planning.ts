import { Context } from '@temporalio/activity';
import { asOfOfJob, planTenantTypes } from '../aggregation/job-plan';
import { withTransientMapping } from '../aggregation/transient';
import { typesOfJob, type AggregationJobData, type TenantPage } from '../contract/aggregation';
import { parseBoundary } from '../aggregation/periods';
import { partsFor, type SplitPolicy } from '../aggregation/split';
import { poolOf, type Db } from '../db/client';
import { estimateTenantRows } from '../db/row-estimate';
import { isBulkJob } from '../queue/job-class';
import type { Logger } from '../logger';
import { countPendingTenants, pendingTenantIds, purgeUnreachableChanges } from '../incremental/pending';
import { kindsOfJob } from '../incremental/refresh';

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
  /** Split a backfill's large tenants (by estimated rows) into parts; absent: never split. */
  split?: SplitPolicy;
  /** The run's as-of instant (cohorts read activity up to it). */
  asOf?: string;
}

export interface PendingTenantsResult {
  /** Tenants of the page still to aggregate, in id order. */
  tenantIds: string[];
  /** Tenants of the page an earlier run of the job completed for every type. */
  resumed: number;
  /** The pending tenants whose range is split, with their number of parts (the others run as one activity). */
  split?: [tenantId: string, parts: number][];
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

  /** The tenants (of those given) whose estimated rows in the job's range call for more than one part. */
  async function splitLargeTenants(tenantIds: string[], job: AggregationJobData, policy: SplitPolicy, asOf: string | undefined): Promise<[string, number][]> {
    const range = estimateRange(job, asOf ?? clock.now().toISOString());
    if (!range) return [];
    const rows = await withTransientMapping('estimating the rows of the tenants of a page', () => estimateTenantRows(pool, tenantIds, range.from, range.to));
    const split: [string, number][] = [];
    for (const id of tenantIds) {
      const parts = partsFor(rows.get(id) ?? 0, policy);
      if (parts > 1) split.push([id, parts]);
    }
    if (split.length > 0) log.info({ tenants: split.length, parts: split.reduce((n, [, p]) => n + p, 0) }, 'splitting large tenants of a backfill');
    return split;
  }

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
      if (req.job.incremental) {
        // Incremental: only the tenants with pending changes have work (docs/incremental.md).
        const tenantCount = await withTransientMapping('counting tenants with pending changes', async () => {
          const purged = await purgeUnreachableChanges(pool);
          if (purged > 0) log.info({ purged }, 'dropped the pending changes of deleted tenants');
          return countPendingTenants(pool, kindsOfJob(req.job.type));
        });
        return { asOf, tenantCount, typesPerTenant };
      }
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
      const ids = await withTransientMapping('listing active tenants', async () => {
        if (req.job.incremental) return pendingTenantIds(pool, kindsOfJob(req.job.type), req.after, limit);
        return (
          await pool.query<{ id: string }>({
            name: 'tenant_pages',
            text: `SELECT id FROM organizations WHERE status = 'active' AND ($1::text IS NULL OR id COLLATE "C" > $1::text)
                   ORDER BY id COLLATE "C" LIMIT $2`,
            values: [req.after, limit],
          })
        ).rows.map((r) => r.id);
      });
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
      if (req.job.incremental && !single) {
        // No ledger needed: a tenant this job already refreshed has no pending changes left (or
        // new ones, worth folding in). At most the page's count: later arrivals wait for the next run.
        const tenantIds = await withTransientMapping('listing the tenants of a page', () =>
          pendingTenantIds(pool, kindsOfJob(req.job.type), req.page.afterTenantId, req.page.tenants, req.page.lastTenantId),
        );
        return { tenantIds, resumed: 0 };
      }
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
      const split = req.split && isBulkJob('aggregation', req.job) ? await splitLargeTenants(tenantIds, req.job, req.split, req.asOf) : [];
      return { tenantIds, resumed: rows.length - tenantIds.length, ...(split.length > 0 ? { split } : {}) };
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

/** Zones are at most 14 hours from UTC: a margin that covers a local date range in any zone. */
const ZONE_MARGIN_MS = 14 * 3_600_000;

/** The instants a backfill reads raw rows in, for every tenant timezone (cohorts read activity up to as-of). */
function estimateRange(job: AggregationJobData, asOf: string): { from: Date; to: Date } | undefined {
  if (job.periodStart === undefined || job.periodEnd === undefined) return undefined;
  const from = parseBoundary(job.periodStart, 'UTC', 'periodStart').toMillis() - ZONE_MARGIN_MS;
  let to = parseBoundary(job.periodEnd, 'UTC', 'periodEnd').toMillis() + ZONE_MARGIN_MS;
  if (job.type === 'cohorts' || job.type === 'all') to = Math.max(to, Date.parse(asOf));
  return { from: new Date(from), to: new Date(to) };
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // called outside an activity (a test): nothing to heartbeat
  }
}

export type PlanningActivities = ReturnType<typeof createPlanningActivities>;
