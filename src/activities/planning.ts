import { DateTime } from 'luxon';
import { floorToPeriod, isPeriodType, listPeriods, parseBoundary, periodContaining, type Period } from '../aggregation/periods';
import { withTransientMapping } from '../aggregation/transient';
import type { Db } from '../db/client';
import { InvalidInputError } from '../errors/invalid-input-error';
import { InvalidPeriodError } from '../errors/invalid-period-error';
import type { Logger } from '../logger';
import type { AggregationJobData } from '../workflows/types';
import { AGGREGATION_TYPES, type AggregationType, type PeriodType } from './types';

// Planning turns a job into work the workflows can hand out without any calendar logic of their
// own (workflow code cannot use luxon): which tenants, and per tenant timezone which ranges of
// whole periods, split into chunks of `periodsPerActivity`. It also keeps the ledger of chunks a
// cancelled run completed (table backfill_chunks), so a later run with the same job key skips them.

/** Most periods one job may span in total (a guard against typos such as 0025-01-01). */
export const MAX_JOB_PERIODS = 20_000;

/** Consecutive whole periods one activity call computes: [from, to) as tenant-local ISO dates. */
export interface PlanChunk {
  from: string;
  to: string;
  periods: number;
}

export interface PlanRange {
  type: AggregationType;
  /** `month` for cohorts (the range selects cohort months). */
  periodType: PeriodType;
  chunks: PlanChunk[];
}

/** Tenants that share a timezone, hence the same ranges. */
export interface PlanSegment {
  timezone: string;
  tenantIds: string[];
  ranges: PlanRange[];
}

/** A slice of the tenants in id order (`COLLATE "C"`): (afterTenantId, lastTenantId]. */
export interface TenantPartition {
  /** Exclusive lower bound; null for the first partition. */
  afterTenantId: string | null;
  /** Inclusive upper bound. */
  lastTenantId: string;
  tenants: number;
  /** Activity calls the partition needs (tenant × type × chunk) when planned now. */
  chunks: number;
}

export interface PlanRequest {
  job: AggregationJobData;
  /** The instant defaults are computed from when the job has no `asOf`. */
  requestedAt: string;
  periodsPerActivity: number;
}

export interface PartitionRequest extends PlanRequest {
  tenantsPerPartition: number;
}

export interface PartitionResult {
  tenantCount: number;
  partitions: TenantPartition[];
}

export interface PartitionPlanRequest extends PlanRequest {
  /** Key of the ledger of completed chunks: the root workflow id. */
  jobKey: string;
  partition: Pick<TenantPartition, 'afterTenantId' | 'lastTenantId'>;
}

/** A chunk recorded in the ledger by a cancelled run. */
export interface CompletedChunk {
  tenantId: string;
  type: AggregationType;
  periodType: PeriodType;
  from: string;
  to: string;
  rowsWritten: number;
}

export interface PartitionPlan {
  /** ISO instant cohorts are computed as of: the job's `asOf`, else `requestedAt`. */
  asOf: string;
  segments: PlanSegment[];
  /** Chunks of this partition that an earlier run with the same job key completed. */
  completed: CompletedChunk[];
}

export interface PlanningDeps {
  db: Db;
  logger: Logger;
}

interface TenantRow {
  id: string;
  timezone: string;
}

const PLUS_UNIT = { day: 'days', week: 'weeks', month: 'months', quarter: 'quarters', year: 'years' } as const;

function isValidZone(zone: string): boolean {
  return DateTime.now().setZone(zone).isValid;
}

function asOfOf(req: PlanRequest): DateTime {
  const raw = req.job.asOf ?? req.requestedAt;
  return parseBoundary(raw, 'UTC', req.job.asOf === undefined ? 'requestedAt' : 'asOf');
}

function typesOf(job: AggregationJobData): readonly AggregationType[] {
  if (job.type === 'all') return AGGREGATION_TYPES;
  if ((AGGREGATION_TYPES as readonly string[]).includes(job.type)) return [job.type];
  throw new InvalidInputError('type', `type: expected one of ${[...AGGREGATION_TYPES, 'all'].join(', ')}, got ${JSON.stringify(job.type)}`);
}

function periodCount(job: AggregationJobData, fallback: number): number {
  const n = job.periods ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_JOB_PERIODS) {
    throw new InvalidInputError('periods', `periods: expected a whole number from 1 to ${MAX_JOB_PERIODS}, got ${JSON.stringify(job.periods)}`);
  }
  return n;
}

/**
 * The periods one job covers for one type in one timezone (DESIGN.md "Jobs"):
 * - no periodStart/periodEnd: the last `periods` (default 1) complete periods before `asOf`, plus
 *   the current one with `includeCurrent`; cohorts: the `periods` (default 2) cohort months
 *   ending with the month that contains `asOf`;
 * - periodStart alone: the one period (cohort month) containing it;
 * - a range: every period intersecting [periodStart, periodEnd).
 */
export function jobPeriods(job: AggregationJobData, cohorts: boolean, periodType: PeriodType, zone: string, asOf: DateTime): Period[] {
  const max = { maxPeriods: MAX_JOB_PERIODS };
  if (job.periodStart === undefined && job.periodEnd === undefined) {
    const current = floorToPeriod(asOf.setZone(zone), periodType);
    if (cohorts) {
      const months = periodCount(job, 2);
      return listPeriods(floorToPeriod(current.minus({ months: months - 1 }), 'month'), current.plus({ months: 1 }), 'month', max);
    }
    const n = periodCount(job, 1);
    const from = floorToPeriod(current.minus({ [PLUS_UNIT[periodType]]: n }), periodType);
    const to = job.includeCurrent ? periodContaining(current, periodType).end : current;
    return listPeriods(from, to, periodType, max);
  }
  if (job.periodEnd === undefined) return [periodContaining(parseBoundary(job.periodStart, zone, 'periodStart'), periodType)];
  const end = parseBoundary(job.periodEnd, zone, 'periodEnd');
  if (job.periodStart === undefined) return [periodContaining(end.minus({ milliseconds: 1 }), periodType)];
  const start = parseBoundary(job.periodStart, zone, 'periodStart');
  if (end <= start) throw new InvalidPeriodError('periodEnd', `must be after periodStart (${job.periodStart} .. ${job.periodEnd} is empty)`);
  return listPeriods(start, end, periodType, { ...max, field: 'periodEnd' });
}

/** Consecutive runs of at most `size` periods, as tenant-local dates. */
export function chunkPeriods(periods: Period[], size: number): PlanChunk[] {
  const chunks: PlanChunk[] = [];
  for (let i = 0; i < periods.length; i += size) {
    const slice = periods.slice(i, i + size);
    chunks.push({ from: slice[0]!.start.toISODate()!, to: slice[slice.length - 1]!.end.toISODate()!, periods: slice.length });
  }
  return chunks;
}

/** Every type's ranges for tenants in `zone` (an invalid zone plans in UTC; the activity then reports the tenant's bad timezone). */
export function planRanges(req: PlanRequest, zone: string): PlanRange[] {
  const size = req.periodsPerActivity;
  if (!Number.isInteger(size) || size < 1) throw new InvalidInputError('periodsPerActivity', `periodsPerActivity: expected a positive whole number, got ${size}`);
  const jobPeriodType = req.job.periodType ?? 'day';
  if (!isPeriodType(jobPeriodType)) throw new InvalidPeriodError('periodType', `unknown period type ${JSON.stringify(jobPeriodType)}`);
  const asOf = asOfOf(req);
  const effectiveZone = isValidZone(zone) ? zone : 'UTC';
  return typesOf(req.job).map((type) => {
    const cohorts = type === 'cohorts';
    const periodType: PeriodType = cohorts ? 'month' : jobPeriodType;
    return { type, periodType, chunks: chunkPeriods(jobPeriods(req.job, cohorts, periodType, effectiveZone, asOf), size) };
  });
}

function chunkCount(ranges: PlanRange[]): number {
  return ranges.reduce((n, r) => n + r.chunks.length, 0);
}

/**
 * Planning activities: built over the database like the rest of createActivities, and spread
 * into it (`...createPlanningActivities({ db, logger })`).
 */
export function createPlanningActivities({ db, logger }: PlanningDeps) {
  const log = logger.child({ component: 'planning' });

  /** The job's tenants in (afterTenantId, lastTenantId], or the one tenant it names (whatever its status: the activity reports an unknown or inactive tenant). */
  async function loadTenants(job: AggregationJobData, bounds?: Pick<TenantPartition, 'afterTenantId' | 'lastTenantId'>): Promise<TenantRow[]> {
    if (job.tenantId !== undefined) {
      const rows = await withTransientMapping('loading the tenant', () =>
        db.$queryRaw<TenantRow[]>`SELECT id, timezone FROM organizations WHERE id = ${job.tenantId}`,
      );
      return [rows[0] ?? { id: job.tenantId, timezone: 'UTC' }];
    }
    const after = bounds?.afterTenantId ?? null;
    const last = bounds?.lastTenantId ?? null;
    return withTransientMapping('listing active tenants', () =>
      db.$queryRaw<TenantRow[]>`
        SELECT id, timezone FROM organizations
        WHERE status = 'active'
          AND (${after}::text IS NULL OR id COLLATE "C" > ${after}::text)
          AND (${last}::text IS NULL OR id COLLATE "C" <= ${last}::text)
        ORDER BY id COLLATE "C"`,
    );
  }

  /** Chunks the ledger holds for this job key and partition (recorded by a cancelled run). */
  async function completedChunks(req: PartitionPlanRequest): Promise<CompletedChunk[]> {
    const after = req.job.tenantId === undefined ? req.partition.afterTenantId : null;
    const last = req.job.tenantId ?? req.partition.lastTenantId;
    const rows = await withTransientMapping('reading completed chunks', () =>
      db.$queryRaw<{ tenant_id: string; type: AggregationType; period_type: PeriodType; range_from: string; range_to: string; rows_written: number }[]>`
        SELECT tenant_id, type, period_type, range_from, range_to, rows_written FROM backfill_chunks
        WHERE job_key = ${req.jobKey}
          AND (${after}::text IS NULL OR tenant_id COLLATE "C" > ${after}::text)
          AND tenant_id COLLATE "C" <= ${last}::text`,
    );
    return rows.map((r) => ({ tenantId: r.tenant_id, type: r.type, periodType: r.period_type, from: r.range_from, to: r.range_to, rowsWritten: r.rows_written }));
  }

  return {
    /**
     * Splits the job's tenants into partitions of `tenantsPerPartition` (one chunk child each)
     * and counts the activity calls each needs. Returns bounds, not tenant lists, so the parent's
     * history stays small however many tenants there are. Bad job fields throw InvalidInputError
     * subclasses (never retried).
     */
    async partitionTenants(req: PartitionRequest): Promise<PartitionResult> {
      const tenants = await loadTenants(req.job);
      const perZone = new Map<string, number>();
      const chunksOf = (zone: string) => {
        let n = perZone.get(zone);
        if (n === undefined) perZone.set(zone, (n = chunkCount(planRanges(req, zone))));
        return n;
      };
      if (tenants.length === 0) chunksOf('UTC'); // validates the job even when nothing matches
      const partitions: TenantPartition[] = [];
      for (let i = 0; i < tenants.length; i += req.tenantsPerPartition) {
        const slice = tenants.slice(i, i + req.tenantsPerPartition);
        partitions.push({
          afterTenantId: i === 0 ? null : tenants[i - 1]!.id,
          lastTenantId: slice[slice.length - 1]!.id,
          tenants: slice.length,
          chunks: slice.reduce((n, t) => n + chunksOf(t.timezone), 0),
        });
      }
      log.info({ tenants: tenants.length, partitions: partitions.length }, 'partitioned tenants');
      return { tenantCount: tenants.length, partitions };
    },

    /** The tenants of one partition grouped by timezone, each group's chunked ranges, and the chunks the ledger says are done. */
    async planPartition(req: PartitionPlanRequest): Promise<PartitionPlan> {
      const tenants = await loadTenants(req.job, req.partition);
      const byZone = new Map<string, string[]>();
      for (const t of tenants) {
        const ids = byZone.get(t.timezone);
        if (ids) ids.push(t.id);
        else byZone.set(t.timezone, [t.id]);
      }
      const segments = [...byZone].map(([timezone, tenantIds]) => ({ timezone, tenantIds, ranges: planRanges(req, timezone) }));
      const completed = await completedChunks(req);
      return { asOf: asOfOf(req).toUTC().toISO()!, segments, completed };
    },

    /** Records chunks a run completed before it was cancelled, so the next run with the same key skips them. Idempotent. */
    async recordCompletedChunks(req: { jobKey: string; chunks: CompletedChunk[] }): Promise<number> {
      if (req.chunks.length === 0) return 0;
      const written = await withTransientMapping('recording completed chunks', () =>
        db.$executeRaw`
          INSERT INTO backfill_chunks (job_key, tenant_id, type, period_type, range_from, range_to, rows_written)
          SELECT ${req.jobKey}, c."tenantId", c.type, c."periodType", c."from", c."to", c."rowsWritten"
          FROM jsonb_to_recordset(${JSON.stringify(req.chunks)}::jsonb)
            AS c("tenantId" text, type text, "periodType" text, "from" text, "to" text, "rowsWritten" integer)
          ON CONFLICT DO NOTHING`,
      );
      log.info({ jobKey: req.jobKey, chunks: req.chunks.length, written }, 'recorded completed chunks');
      return written;
    },

    /** Drops the ledger of a job key once a run with that key has completed. */
    async forgetCompletedChunks(req: { jobKey: string }): Promise<number> {
      return withTransientMapping('forgetting completed chunks', () => db.$executeRaw`DELETE FROM backfill_chunks WHERE job_key = ${req.jobKey}`);
    },
  };
}

export type PlanningActivities = ReturnType<typeof createPlanningActivities>;
