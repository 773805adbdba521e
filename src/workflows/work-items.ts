import type { PartitionPlan } from '../activities/planning';
import type { AggregationType, PeriodType } from '../activities/types';

/** One activity call: one tenant, one type, one chunk of consecutive periods. */
export interface WorkItem {
  tenantId: string;
  type: AggregationType;
  periodType: PeriodType;
  /** Tenant-local ISO dates, [from, to). */
  from: string;
  to: string;
  periods: number;
  /** Index of the (tenant, type) task in `tasks`. */
  task: number;
}

/** Identity of a call across runs (and in the ledger of completed chunks). */
export function itemKey(c: { tenantId: string; type: string; periodType: string; from: string; to: string }): string {
  return `${c.tenantId}\u0000${c.type}\u0000${c.periodType}\u0000${c.from}\u0000${c.to}`;
}

/**
 * Lays a plan out as calls, period chunk by period chunk (all tenants' first chunk, then all
 * second chunks…), so progress moves through time the way an operator reads it. Tasks are in
 * tenant id order (code points, as the planner sorts), then type order. Pure and deterministic:
 * every run of the workflow, continue-as-new included, derives the same list from the same plan.
 */
export function expandPlan(plan: Pick<PartitionPlan, 'segments'>): { items: WorkItem[]; tasks: { tenantId: string; type: AggregationType }[] } {
  const tenants: string[] = [];
  for (const seg of plan.segments) tenants.push(...seg.tenantIds);
  tenants.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const tasks: { tenantId: string; type: AggregationType }[] = [];
  const taskIndex = new Map<string, number>();
  const rangesOf = new Map<string, PartitionPlan['segments'][number]['ranges']>();
  for (const seg of plan.segments) for (const id of seg.tenantIds) rangesOf.set(id, seg.ranges);
  for (const tenantId of tenants) {
    for (const range of rangesOf.get(tenantId) ?? []) {
      taskIndex.set(`${tenantId}\u0000${range.type}`, tasks.length);
      tasks.push({ tenantId, type: range.type });
    }
  }
  const items: WorkItem[] = [];
  const depth = Math.max(0, ...plan.segments.flatMap((s) => s.ranges.map((r) => r.chunks.length)));
  for (let c = 0; c < depth; c++) {
    for (const tenantId of tenants) {
      for (const range of rangesOf.get(tenantId) ?? []) {
        const chunk = range.chunks[c];
        if (!chunk) continue;
        items.push({
          tenantId,
          type: range.type,
          periodType: range.periodType,
          from: chunk.from,
          to: chunk.to,
          periods: chunk.periods,
          task: taskIndex.get(`${tenantId}\u0000${range.type}`)!,
        });
      }
    }
  }
  return { items, tasks };
}
