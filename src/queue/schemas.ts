import { z } from 'zod';
import { AGGREGATION_TYPES, PERIOD_TYPES, type PeriodType } from '../contract/aggregation';
import { MAX_JOB_PERIODS } from '../contract/limits';
import { QueueValidationError, type JobValidationIssue } from '../errors/queue-validation-error';
import type { ExportJobData } from '../workflows/export';
import type { ScheduledReportJobData } from '../workflows/report';
import type { AggregationJobData } from '../contract/aggregation';

// One schema per job type (docs/queue.md, "Job types"). Unknown fields are rejected, and every message
// names the field and the value found there, so a caller can point at the mistake. The same
// check runs in addJob (nothing is enqueued) and in the bridge (a bad job fails once).

export { MAX_JOB_PERIODS };

/** Longest job id (and queue name) accepted. */
export const MAX_JOB_ID_LENGTH = 128;

/**
 * The job id rule: 1–128 characters from `A–Z a–z 0–9 . _ -`, starting with a letter or a digit,
 * and not only digits (BullMQ keeps integer ids for its own counter and refuses them as custom
 * ids). So a job id never contains the `/` that separates a workflow id from its children's
 * suffixes, the `:` of BullMQ's Redis keys, spaces or control characters, and is never empty.
 */
export const JOB_ID_PATTERN = /^(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Queue names use the same characters (they end up in Redis keys and workflow ids). */
export const QUEUE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The job id rule in words, for messages and --help. */
export const JOB_ID_RULE = '1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit, not only digits';

/** The queue name rule in words. */
export const QUEUE_NAME_RULE = '1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit';

/** Why `value` is not a valid job id ({@link JOB_ID_PATTERN}), or undefined when it is one. */
export function jobIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_JOB_ID_LENGTH) return `must be at most ${MAX_JOB_ID_LENGTH} characters (got ${value.length})`;
  if (/^[0-9]+$/.test(value)) return 'must not be only digits (BullMQ keeps integer ids for its own counter)';
  if (!JOB_ID_PATTERN.test(value)) return `must be ${JOB_ID_RULE}`;
  return undefined;
}

/** Why `value` is not a valid queue name ({@link QUEUE_NAME_PATTERN}), or undefined when it is one. */
export function queueNameProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length > MAX_JOB_ID_LENGTH) return `must be at most ${MAX_JOB_ID_LENGTH} characters (got ${value.length})`;
  if (!QUEUE_NAME_PATTERN.test(value)) return `must be ${QUEUE_NAME_RULE}`;
  return undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
// An instant carries its offset: a bare local time would be ambiguous on DST days.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A real calendar date: 2025-02-30 matches the pattern but is no day. */
function isCalendarDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  // setUTCFullYear, not Date.UTC: that one reads years 0-99 as 1900-1999.
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

const boundary = z.string().refine(
  (v) => (ISO_DATE.test(v) && isCalendarDate(v)) || (ISO_INSTANT.test(v) && isCalendarDate(v.slice(0, 10)) && !Number.isNaN(Date.parse(v))),
  { message: 'must be an ISO date (YYYY-MM-DD, tenant-local) or an ISO instant with offset (2025-11-01T00:00:00Z)' },
);
const instant = z.string().refine((v) => ISO_INSTANT.test(v) && !Number.isNaN(Date.parse(v)), {
  message: 'must be an ISO instant with offset (2025-11-01T00:00:00Z)',
});
// Control characters (NUL above all, which Postgres cannot store in text) never reach the database.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const tenantId = z
  .string()
  .trim()
  .min(1, { message: 'must be a non-empty string' })
  .max(200, { message: 'must be at most 200 characters' })
  .refine((v) => !CONTROL_CHARACTER.test(v), { message: 'must not contain control characters (NUL, tab, newline, ...)' });
const aggregationType = z.enum([...AGGREGATION_TYPES, 'all']);
const periodType = z.enum(PERIOD_TYPES);

const HOUR_MS = 3_600_000;

/**
 * The instants a boundary can stand for: an instant is itself; a tenant-local date is its
 * midnight in some zone between UTC+14 (earliest) and UTC-12 (latest).
 */
function instantsOf(boundary: string): [earliest: number, latest: number] {
  if (ISO_INSTANT.test(boundary)) return [Date.parse(boundary), Date.parse(boundary)];
  const midnightUtc = Date.parse(`${boundary}T00:00:00Z`);
  return [midnightUtc - 14 * HOUR_MS, midnightUtc + 12 * HOUR_MS];
}

/**
 * The range must not be empty: rejected here when it is empty in every timezone (any tenant's
 * zone is checked again when the job runs).
 */
function rangeNotEmpty(data: { periodStart?: string | undefined; periodEnd?: string | undefined }, ctx: z.RefinementCtx): void {
  const { periodStart: start, periodEnd: end } = data;
  if (start === undefined || end === undefined) return;
  const bothDates = ISO_DATE.test(start) && ISO_DATE.test(end);
  const empty = bothDates ? end <= start : instantsOf(end)[1] <= instantsOf(start)[0];
  if (empty) {
    ctx.addIssue({ code: 'custom', path: ['periodEnd'], input: end, message: `must be after periodStart ${JSON.stringify(start)} (the end is exclusive)` });
  }
}

const DAY_MS = 86_400_000;

/** The local day (days since 1970-01-01) a boundary starts on, at the latest over every zone. */
function latestStartDay(boundary: string): number {
  if (ISO_INSTANT.test(boundary)) return Math.floor((Date.parse(boundary) + 14 * HOUR_MS) / DAY_MS);
  return Date.parse(`${boundary}T00:00:00Z`) / DAY_MS;
}

/** The last local day an exclusive end boundary leaves in the range, at the earliest over every zone. */
function earliestLastDay(boundary: string): number {
  if (ISO_INSTANT.test(boundary)) return Math.floor((Date.parse(boundary) - 1 - 12 * HOUR_MS) / DAY_MS);
  return Date.parse(`${boundary}T00:00:00Z`) / DAY_MS - 1;
}

/** A period's ordinal number, so that consecutive periods of a type have consecutive numbers. */
function periodIndex(day: number, periodType: PeriodType): number {
  if (periodType === 'day') return day;
  // 1970-01-01 was a Thursday: ISO weeks start on Mondays, three days earlier.
  if (periodType === 'week') return Math.floor((day + 3) / 7);
  const date = new Date(day * DAY_MS);
  const [year, month] = [date.getUTCFullYear(), date.getUTCMonth()];
  if (periodType === 'month') return year * 12 + month;
  if (periodType === 'quarter') return year * 4 + Math.floor(month / 3);
  return year;
}

/**
 * Periods of `periodType` that intersect [start, end) in every timezone, at least: exact for two
 * dates (tenant-local), a lower bound when an instant is involved (its local day depends on the
 * zone). The planner counts again, exactly, in each tenant's zone.
 */
export function minimumPeriodCount(start: string, end: string, periodType: PeriodType): number {
  return Math.max(0, periodIndex(earliestLastDay(end), periodType) - periodIndex(latestStartDay(start), periodType) + 1);
}

/** A range of more periods than the planner takes is refused here, with the count and the limit. */
function rangeWithinLimit(data: { type: string; periodStart?: string | undefined; periodEnd?: string | undefined; periodType?: PeriodType | undefined }, ctx: z.RefinementCtx): void {
  const { periodStart: start, periodEnd: end } = data;
  if (start === undefined || end === undefined) return;
  const periodType = data.periodType ?? 'day';
  // Cohorts are planned in cohort months whatever the job's period type.
  const types: [string, PeriodType][] = [];
  if (data.type !== 'cohorts') types.push([`${periodType} periods`, periodType]);
  if (data.type === 'cohorts' || data.type === 'all') types.push(['cohort months', 'month']);
  const exact = ISO_DATE.test(start) && ISO_DATE.test(end);
  for (const [what, type] of types) {
    const count = minimumPeriodCount(start, end, type);
    if (count > MAX_JOB_PERIODS) {
      ctx.addIssue({
        code: 'custom',
        path: ['periodEnd'],
        input: end,
        message: `periodStart ${JSON.stringify(start)} .. periodEnd ${JSON.stringify(end)} spans ${exact ? '' : 'at least '}${count} ${what}, more than the limit of ${MAX_JOB_PERIODS} per job`,
      });
      return;
    }
  }
}

/** An incremental job takes every pending change: a range or a period count would be ignored, so it is refused. */
function incrementalHasNoRange(data: Record<string, unknown>, ctx: z.RefinementCtx): void {
  if (data.incremental !== true) return;
  for (const field of ['periodStart', 'periodEnd', 'periodType', 'periods', 'includeCurrent']) {
    if (data[field] === undefined) continue;
    ctx.addIssue({ code: 'custom', path: [field], input: data[field], message: 'must not be set with incremental: true (an incremental run folds in every pending change, whatever its period)' });
  }
}

export const aggregationJobSchema = z
  .strictObject({
    tenantId: tenantId.optional(),
    type: aggregationType,
    periodStart: boundary.optional(),
    periodEnd: boundary.optional(),
    periodType: periodType.optional(),
    asOf: instant.optional(),
    periods: z.number().int().min(1).max(MAX_JOB_PERIODS).optional(),
    includeCurrent: z.boolean().optional(),
    incremental: z.boolean().optional(),
  })
  .superRefine(rangeNotEmpty)
  .superRefine(rangeWithinLimit)
  .superRefine(incrementalHasNoRange);

export const exportJobSchema = z
  .strictObject({
    tenantId,
    type: aggregationType,
    periodType: periodType.optional(),
    periodStart: boundary.optional(),
    periodEnd: boundary.optional(),
    format: z.enum(['csv', 'json']).default('csv'),
  })
  .superRefine(rangeNotEmpty);

export const scheduledReportJobSchema = z.strictObject({
  tenantId: tenantId.optional(),
  periodType: z.enum(['day', 'week', 'month']).optional(),
  asOf: instant.optional(),
});

// The schemas and the workflows' input types must describe the same payloads.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree: [
  Same<z.output<typeof aggregationJobSchema>, AggregationJobData>,
  Same<z.output<typeof exportJobSchema>, Required<Pick<ExportJobData, 'format'>> & ExportJobData>,
  Same<z.output<typeof scheduledReportJobSchema>, ScheduledReportJobData>,
] = [true, true, true];
void agree;

/** The payload schema of each job type. */
export const JOB_SCHEMAS = {
  aggregation: aggregationJobSchema,
  export: exportJobSchema,
  'scheduled-report': scheduledReportJobSchema,
} as const;

export type JobName = keyof typeof JOB_SCHEMAS;
export const JOB_NAMES = Object.keys(JOB_SCHEMAS) as JobName[];

/** What callers pass for each job type (as `addJob`'s `data`). */
export interface JobData {
  aggregation: AggregationJobData;
  export: ExportJobData;
  'scheduled-report': ScheduledReportJobData;
}

/** What each job type's payload is once validated (defaults applied, e.g. export `format`). */
export interface JobPayloads {
  aggregation: AggregationJobData;
  export: ExportJobData & { format: 'csv' | 'json' };
  'scheduled-report': ScheduledReportJobData;
}

export function isJobName(name: unknown): name is JobName {
  return typeof name === 'string' && Object.hasOwn(JOB_SCHEMAS, name);
}

/**
 * Validates a job's name and payload; returns the payload with defaults applied or throws
 * {@link QueueValidationError} listing every field at fault with the value found there.
 */
export function validateJob<N extends JobName>(name: N, data: unknown): JobPayloads[N];
export function validateJob(name: string, data: unknown): JobPayloads[JobName];
export function validateJob(name: string, data: unknown): JobPayloads[JobName] {
  if (!isJobName(name)) {
    throw new QueueValidationError(name, [{ field: 'name', value: name, problem: `unknown job type (expected one of ${JOB_NAMES.join(', ')})` }]);
  }
  const parsed = JOB_SCHEMAS[name].safeParse(data, { reportInput: true });
  if (parsed.success) return parsed.data as JobPayloads[JobName];
  throw new QueueValidationError(name, parsed.error.issues.flatMap((issue) => toIssues(issue, data)));
}

/**
 * Throws {@link QueueValidationError} naming `jobId` and the value (cut short when long) unless
 * `jobId` follows the job id rule ({@link JOB_ID_PATTERN}). `field` is the path shown (`jobId`,
 * or `jobs[3].opts.jobId` in a batch).
 */
export function assertJobId(jobName: string, jobId: unknown, field = 'jobId'): asserts jobId is string {
  const problem = jobIdProblem(jobId);
  if (problem !== undefined) throw new QueueValidationError(jobName, [{ field, value: jobId, problem }]);
}

function toIssues(issue: z.core.$ZodIssue, data: unknown): JobValidationIssue[] {
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(payload)';
  const value = 'input' in issue ? issue.input : undefined;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        field: [...issue.path.map(String), key].join('.'),
        value: (data as Record<string, unknown>)[key],
        problem: 'unknown field',
      }));
    case 'invalid_value':
      if (value === undefined) return [{ field, value, problem: 'is required' }];
      return [{ field, value, problem: `must be one of ${issue.values.map(String).join(', ')}` }];
    case 'invalid_type':
      if (value === undefined && issue.path.length > 0) return [{ field, value, problem: 'is required' }];
      return [{ field, value, problem: `must be ${article(issue.expected === 'int' ? 'whole number' : issue.expected)}` }];
    case 'too_small':
      return [{ field, value, problem: issue.origin === 'string' ? issue.message : `must be at least ${String(issue.minimum)}` }];
    case 'too_big':
      return [{ field, value, problem: issue.origin === 'string' ? issue.message : `must be at most ${String(issue.maximum)}` }];
    default:
      return [{ field, value, problem: issue.message }];
  }
}

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}
