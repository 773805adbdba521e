import { DateTime, IANAZone } from 'luxon';
import { PERIOD_TYPES, type PeriodType } from '../contract/aggregation';
import { InvalidInputError } from '../errors/invalid-input-error';
import { InvalidPeriodError } from '../errors/invalid-period-error';
import { TooManyPeriodsError } from '../errors/too-many-periods-error';

// All calendar logic lives here, in TypeScript with luxon, so the SQL only ever sees lists of
// instants: DST days, ISO weeks and month lengths are decided in one place.

/** A period [start, end) as instants of the tenant-local boundaries. */
export interface Period {
  start: DateTime;
  end: DateTime;
}

/** Largest range a single call may cover. @defaultValue 1000 */
export const DEFAULT_MAX_PERIODS = 1000;

const LUXON_UNIT = { day: 'day', week: 'week', month: 'month', quarter: 'quarter', year: 'year' } as const;
const PLUS_UNIT = { day: 'days', week: 'weeks', month: 'months', quarter: 'quarters', year: 'years' } as const;

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
// An instant must carry its offset (Z or ±hh:mm): a bare local time would be ambiguous on DST days.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export function isPeriodType(value: unknown): value is PeriodType {
  return typeof value === 'string' && (PERIOD_TYPES as readonly string[]).includes(value);
}

export function assertPeriodType(value: unknown, field = 'periodType'): PeriodType {
  if (!isPeriodType(value)) {
    throw new InvalidPeriodError(field, `unknown period type ${JSON.stringify(value)} (expected one of ${PERIOD_TYPES.join(', ')})`);
  }
  return value;
}

/** Throws when `zone` is not an IANA timezone luxon can compute in. */
export function assertZone(zone: string, field = 'timezone'): string {
  if (!IANAZone.isValidZone(zone)) throw new InvalidInputError(field, `${field}: ${JSON.stringify(zone)} is not an IANA timezone`);
  return zone;
}

/**
 * Reads a tenant-local ISO date (`2025-03-09`, that day's local midnight) or an ISO instant with
 * an offset (`2025-03-09T05:00:00Z`), as a DateTime in `zone`.
 */
export function parseBoundary(value: unknown, zone: string, field: string): DateTime {
  if (typeof value !== 'string') throw new InvalidPeriodError(field, `expected an ISO date or instant, got ${JSON.stringify(value)}`);
  let dt: DateTime;
  if (ISO_DATE.test(value)) {
    dt = DateTime.fromISO(value, { zone });
  } else if (ISO_INSTANT.test(value)) {
    dt = DateTime.fromISO(value, { zone, setZone: false });
  } else {
    throw new InvalidPeriodError(field, `${JSON.stringify(value)} is neither an ISO date (YYYY-MM-DD) nor an ISO instant with offset`);
  }
  if (!dt.isValid) throw new InvalidPeriodError(field, `${JSON.stringify(value)} is not a valid date (${dt.invalidExplanation ?? dt.invalidReason ?? 'invalid'})`);
  return dt;
}

/** Start of the period of `periodType` containing `dt`, in dt's zone (weeks start on Monday). */
export function floorToPeriod(dt: DateTime, periodType: PeriodType): DateTime {
  // useLocaleWeeks: false pins ISO weeks whatever the process locale says.
  return dt.startOf(LUXON_UNIT[periodType], { useLocaleWeeks: false });
}

/** Start of the period after the one starting at `start`. */
export function nextPeriodStart(start: DateTime, periodType: PeriodType): DateTime {
  // Floor again: where local midnight does not exist, startOf lands later than 00:00 and plain
  // arithmetic would carry that offset into the next period.
  return floorToPeriod(start.plus({ [PLUS_UNIT[periodType]]: 1 }), periodType);
}

/** The one period of `periodType` that contains `dt`. */
export function periodContaining(dt: DateTime, periodType: PeriodType): Period {
  const start = floorToPeriod(dt, periodType);
  return { start, end: nextPeriodStart(start, periodType) };
}

/**
 * Every period of `periodType` that intersects [from, to): from the period containing `from` to
 * the last one starting before `to`. Throws {@link TooManyPeriodsError} past `maxPeriods`
 * without building the whole list.
 */
export function listPeriods(
  from: DateTime,
  to: DateTime,
  periodType: PeriodType,
  { maxPeriods = DEFAULT_MAX_PERIODS, field = 'periodEnd' }: { maxPeriods?: number; field?: string } = {},
): Period[] {
  const periods: Period[] = [];
  let start = floorToPeriod(from, periodType);
  while (start < to) {
    if (periods.length === maxPeriods) throw new TooManyPeriodsError(field, maxPeriods);
    const end = nextPeriodStart(start, periodType);
    periods.push({ start, end });
    start = end;
  }
  return periods;
}

/** Number of periods {@link listPeriods} would return (bounded by `maxPeriods` the same way). */
export function countPeriods(from: DateTime, to: DateTime, periodType: PeriodType, maxPeriods = DEFAULT_MAX_PERIODS): number {
  return listPeriods(from, to, periodType, { maxPeriods }).length;
}

export interface RangeRequest {
  from: unknown;
  to: unknown;
  periodType: unknown;
  zone: string;
  /** @defaultValue {@link DEFAULT_MAX_PERIODS} */
  maxPeriods?: number;
  /** Names used in error messages. @defaultValue periodStart / periodEnd / periodType */
  fields?: { from: string; to: string; periodType: string };
}

/**
 * Validates and expands a request into its periods: the period type is known, both boundaries
 * parse in the tenant's zone, `to` is after `from`, and the count stays within `maxPeriods`.
 */
export function resolveRange(req: RangeRequest): { periodType: PeriodType; periods: Period[] } {
  const fields = req.fields ?? { from: 'periodStart', to: 'periodEnd', periodType: 'periodType' };
  const periodType = assertPeriodType(req.periodType, fields.periodType);
  const from = parseBoundary(req.from, req.zone, fields.from);
  const to = parseBoundary(req.to, req.zone, fields.to);
  if (to <= from) throw new InvalidPeriodError(fields.to, `must be after ${fields.from} (${String(req.from)} .. ${String(req.to)} is empty)`);
  const periods = listPeriods(from, to, periodType, { maxPeriods: req.maxPeriods ?? DEFAULT_MAX_PERIODS, field: fields.to });
  return { periodType, periods };
}

/** ISO instant (UTC, milliseconds) as the SQL parameters and summaries carry it. */
export function toInstant(dt: DateTime): string {
  return dt.toUTC().toISO()!;
}
