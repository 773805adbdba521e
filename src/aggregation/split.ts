import type { TypePlan } from './job-plan';

// Partitioning of one tenant's range. A job is one activity per tenant over the whole range;
// only a tenant whose rows in the range are many (by an estimate, src/db/row-estimate.ts) is
// split, into `parts` activities over contiguous slices of its periods, run one after another
// in the same lane. Pure: the workflow passes the part, the activity slices its period lists.

/** How a run splits large tenants. */
export interface SplitPolicy {
  /** Estimated raw rows one activity reads at most before the tenant's range is split. */
  rowsPerPart: number;
  /** Parts per tenant at most (a tenant larger than rowsPerPart × maxParts gets bigger parts). */
  maxParts: number;
}

/** Parts for a tenant with `estimatedRows` rows in the job's range: 1 (no split) up to `maxParts`. */
export function partsFor(estimatedRows: number, policy: SplitPolicy): number {
  if (!Number.isFinite(estimatedRows) || estimatedRows <= policy.rowsPerPart || policy.rowsPerPart < 1) return 1;
  return Math.max(1, Math.min(policy.maxParts, Math.ceil(estimatedRows / policy.rowsPerPart)));
}

/** The half-open index range [from, to) of part `index` (0-based) of `of` over `length` items: contiguous, as even as possible, covering every item once. */
export function partRange(length: number, index: number, of: number): { from: number; to: number } {
  if (!Number.isInteger(of) || of < 1 || !Number.isInteger(index) || index < 0 || index >= of) {
    throw new RangeError(`part ${index} of ${of}: expected 0 <= index < of`);
  }
  return { from: Math.floor((length * index) / of), to: Math.floor((length * (index + 1)) / of) };
}

/**
 * The plan of one part: the same type over a contiguous slice of its periods (cohort months for
 * cohorts). A part may be empty when the type has fewer periods than parts (`periods` 0): the
 * caller skips it.
 */
export function slicePlan(plan: TypePlan, index: number, of: number): TypePlan {
  if (of === 1) return plan;
  if (plan.type === 'cohorts') {
    const { cohortMonths, bounds, asOfIndex } = plan.input;
    const { from, to } = partRange(cohortMonths.length, index, of);
    // bounds[i] starts month i+1 and runs on to the month containing as-of: a later slice keeps
    // every bound from its first month on, and as-of's month index moves with it.
    return {
      ...plan,
      periods: to - from,
      input: { cohortMonths: cohortMonths.slice(from, to), bounds: bounds.slice(from), asOfIndex: Math.max(0, asOfIndex - from) },
    };
  }
  const { from, to } = partRange(plan.input.starts.length, index, of);
  return { ...plan, periods: to - from, input: { ...plan.input, starts: plan.input.starts.slice(from, to), ends: plan.input.ends.slice(from, to) } };
}
