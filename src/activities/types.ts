// The contract between the aggregation service (activities) and the workflows that call it.
// Plain serialisable data only: these cross Temporal's payload boundary.

export const AGGREGATION_TYPES = ['revenue', 'cohorts', 'tournaments'] as const;
export type AggregationType = (typeof AGGREGATION_TYPES)[number];
/** What a job asks for: one type, or all three. */
export type AggregationTypeOrAll = AggregationType | 'all';

export const PERIOD_TYPES = ['day', 'week', 'month', 'quarter', 'year'] as const;
export type PeriodType = (typeof PERIOD_TYPES)[number];

/**
 * One tenant, one type, a range of whole periods. `from`/`to` are tenant-local ISO dates
 * (YYYY-MM-DD) or ISO instants; `to` is exclusive. For cohorts the range selects cohort months
 * and `asOf` (an ISO instant, taken from the workflow's clock) bounds the month numbers.
 */
export interface AggregateTenantInput {
  tenantId: string;
  type: AggregationType;
  periodType: PeriodType;
  from: string;
  to: string;
  /** ISO instant; "now" for cohort month numbers. Always passed by workflows (never the activity's wall clock). */
  asOf: string;
}

export interface AggregateSummary {
  tenantId: string;
  type: AggregationType;
  periodType: PeriodType;
  /** Rows inserted or updated. */
  rowsWritten: number;
  /** Periods (or cohort months) covered by the range. */
  periodsCovered: number;
  /** First period start and last period end as ISO instants. */
  rangeStart: string;
  rangeEnd: string;
  durationMs: number;
}
