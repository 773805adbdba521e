import { z } from 'zod';
import { AGGREGATION_TYPES, PERIOD_TYPES } from '../activities/types';
import { QueueValidationError, type JobValidationIssue } from '../errors/queue-validation-error';
import type { ExportJobData } from '../workflows/export';
import type { ScheduledReportJobData } from '../workflows/report';
import type { AggregationJobData } from '../workflows/types';

// One schema per job type (DESIGN.md "Jobs"). Unknown fields are rejected, and every message
// names the field and the value found there, so a caller can point at the mistake. The same
// check runs in addJob (nothing is enqueued) and in the bridge (a bad job fails once).

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
// An instant carries its offset: a bare local time would be ambiguous on DST days.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A real calendar date: 2025-02-30 matches the pattern but is no day. */
function isCalendarDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

const boundary = z.string().refine(
  (v) => (ISO_DATE.test(v) && isCalendarDate(v)) || (ISO_INSTANT.test(v) && isCalendarDate(v.slice(0, 10)) && !Number.isNaN(Date.parse(v))),
  { message: 'must be an ISO date (YYYY-MM-DD, tenant-local) or an ISO instant with offset (2025-11-01T00:00:00Z)' },
);
const instant = z.string().refine((v) => ISO_INSTANT.test(v) && !Number.isNaN(Date.parse(v)), {
  message: 'must be an ISO instant with offset (2025-11-01T00:00:00Z)',
});
const tenantId = z.string().trim().min(1, { message: 'must be a non-empty string' }).max(200, { message: 'must be at most 200 characters' });
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

export const aggregationJobSchema = z
  .strictObject({
    tenantId: tenantId.optional(),
    type: aggregationType,
    periodStart: boundary.optional(),
    periodEnd: boundary.optional(),
    periodType: periodType.optional(),
    asOf: instant.optional(),
    periods: z.number().int().min(1).max(20_000).optional(),
    includeCurrent: z.boolean().optional(),
  })
  .superRefine(rangeNotEmpty);

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
