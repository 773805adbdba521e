import type { AggregationJobData } from '../contract/aggregation';

// One-line summaries shown in the Web UI (workflow and child static summaries, activity
// summaries), so an operator finds "revenue backfill for tenant X" at a glance.

function periodsOf(job: AggregationJobData): string {
  const unit = job.type === 'cohorts' ? 'cohort month' : (job.periodType ?? 'day');
  if (job.periodStart !== undefined && job.periodEnd !== undefined) return `backfill ${unit} ${job.periodStart}..${job.periodEnd}`;
  if (job.periodStart !== undefined) return `${unit} of ${job.periodStart}`;
  if (job.periodEnd !== undefined) return `${unit} before ${job.periodEnd}`;
  const n = job.periods ?? (job.type === 'cohorts' ? 2 : 1);
  const asOf = job.asOf !== undefined ? ` as of ${job.asOf}` : '';
  if (job.type === 'cohorts') return `last ${n} cohort months${asOf}`;
  return `last ${n === 1 ? '' : `${n} `}complete ${unit}${n === 1 ? '' : 's'}${job.includeCurrent ? ' and the current one' : ''}${asOf}`;
}

/** E.g. `revenue backfill day 2025-08-01..2025-10-30 for tenant org_1`. */
export function describeJob(job: AggregationJobData): string {
  const what = job.type === 'all' ? 'all types' : job.type;
  const who = job.tenantId !== undefined ? `tenant ${job.tenantId}` : 'all active tenants';
  return `${what} ${periodsOf(job)} for ${who}`;
}

/** E.g. `revenue backfill day 2025-08-01..2025-10-30 for all active tenants: chunk 2, 500 tenants after org_0500 through org_1000`. */
export function describeChunk(job: AggregationJobData, chunkIndex: number, tenants: number, afterTenantId: string | null, lastTenantId: string): string {
  if (job.tenantId !== undefined) return describeJob(job);
  const from = afterTenantId === null ? '' : ` after ${afterTenantId}`;
  return `${describeJob(job)}: chunk ${chunkIndex + 1}, ${tenants} tenant${tenants === 1 ? '' : 's'}${from} through ${lastTenantId}`;
}
