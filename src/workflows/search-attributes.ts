import type { SearchAttributePair, SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';
import type { AggregationJobData } from '../contract/aggregation';

// Custom search attributes set by the workflows, so an operator can filter runs in the Web UI
// (e.g. `AggregationType = "revenue" AND TenantId = "org_1"`). Defined here, without a runtime
// import of @temporalio/common, so workflow code can use them; src/temporal/search-attributes.ts
// re-exports them for the server set-up (scripts/setup.sh and the test global set-up register
// exactly these).

function key<T extends SearchAttributeType>(name: string, type: T): SearchAttributeKey<T> {
  return { name, type };
}

/** `revenue`, `cohorts`, `tournaments` or `all`: what the job asked for. */
export const AggregationType = key('AggregationType', 'KEYWORD');
/** `day` … `year`; `month` for cohort-only jobs. */
export const PeriodType = key('PeriodType', 'KEYWORD');
/** Tenants the run (or the chunk child) covers. */
export const TenantCount = key('TenantCount', 'INT');
/** Set when a run or chunk covers exactly one tenant. */
export const TenantId = key('TenantId', 'KEYWORD');
/** The originating BullMQ job id (also in the memo as `jobId`). */
export const JobId = key('JobId', 'KEYWORD');
/**
 * Tenants that failed for good, set by the aggregation run when it ends (0 when none), so
 * `FailedTenants > 0` lists every run with failures.
 */
export const FailedTenants = key('FailedTenants', 'INT');

export const SEARCH_ATTRIBUTES = [AggregationType, PeriodType, TenantCount, TenantId, JobId, FailedTenants] as const;

/** The attributes that describe a job, set on its workflow (by the starter and again by the workflow itself). */
export function jobSearchAttributes(job: AggregationJobData, jobId: string): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: AggregationType, value: job.type },
    { key: PeriodType, value: job.type === 'cohorts' ? 'month' : (job.periodType ?? 'day') },
    { key: JobId, value: jobId },
  ];
  if (job.tenantId !== undefined) pairs.push({ key: TenantId, value: job.tenantId });
  return pairs;
}
