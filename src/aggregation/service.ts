import { performance } from 'node:perf_hooks';
import { DateTime } from 'luxon';
import type { AggregateSummary, PeriodType } from '../contract/aggregation';
import { poolOf, type Db } from '../db/client';
import { named } from '../db/prepared';
import { cohortsUpsert } from '../db/sql/cohorts';
import type { PeriodsInput } from '../db/sql/periods';
import { revenueUpsert } from '../db/sql/revenue';
import { tournamentsUpsert } from '../db/sql/tournaments';
import { InactiveTenantError } from '../errors/inactive-tenant-error';
import { InvalidPeriodError } from '../errors/invalid-period-error';
import { UnknownTenantError } from '../errors/unknown-tenant-error';
import type { Logger } from '../logger';
import { planCohortMonths } from './cohort-months';
import {
  assertPeriodType,
  assertZone,
  DEFAULT_MAX_PERIODS,
  parseBoundary,
  periodContaining,
  resolveRange,
  toInstant,
  type Period,
} from './periods';
import { withTransientMapping } from './transient';
import { assertTenantId } from './tenant-id';

/** The clock the service and the activities read; injected so tests can pin "now". */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface AggregationServiceDeps {
  db: Db;
  /** "Now" when no as-of instant is given (cohorts). */
  clock: Clock;
  logger: Logger;
  /** Most periods (or months) one call may cover. @defaultValue 1000 */
  maxPeriods?: number;
}

/** A cohort range: one month (any instant or date inside it) or the months intersecting [from, to). */
export type CohortMonths = string | { from: string; to: string };

interface Tenant {
  id: string;
  timezone: string;
}

/**
 * The aggregation service: validates a request completely (nothing is written for bad input),
 * then computes each (tenant, type) with a single set-based statement, however many periods the
 * range covers. Bad input throws an InvalidInputError subclass (never retried);
 * connection failures throw TransientDatabaseError (retried).
 */
export function createAggregationService({ db, clock, logger, maxPeriods = DEFAULT_MAX_PERIODS }: AggregationServiceDeps) {
  const pool = poolOf(db);
  async function loadTenant(tenantId: unknown): Promise<Tenant> {
    assertTenantId(tenantId);
    const org = await withTransientMapping('loading the tenant', async () =>
      (await pool.query<{ timezone: string; status: string }>({ name: 'service_tenant', text: 'SELECT timezone, status FROM organizations WHERE id = $1', values: [tenantId] })).rows[0],
    );
    if (!org) throw new UnknownTenantError(tenantId);
    if (org.status !== 'active') throw new InactiveTenantError(tenantId, org.status);
    return { id: tenantId, timezone: assertZone(org.timezone, 'organizations.timezone') };
  }

  function parseAsOf(asOf: string | Date | undefined, zone: string): DateTime {
    if (asOf === undefined) return DateTime.fromJSDate(clock.now(), { zone });
    if (asOf instanceof Date) {
      if (Number.isNaN(asOf.getTime())) throw new InvalidPeriodError('asOf', 'is an invalid Date');
      return DateTime.fromJSDate(asOf, { zone });
    }
    return parseBoundary(asOf, zone, 'asOf');
  }

  function cohortRange(months: CohortMonths, zone: string): Period[] {
    if (typeof months === 'string') return [periodContaining(parseBoundary(months, zone, 'cohortMonth'), 'month')];
    return resolveRange({ from: months.from, to: months.to, periodType: 'month', zone, maxPeriods }).periods;
  }

  function periodsInput(tenant: Tenant, periodType: PeriodType, periods: Period[]): PeriodsInput {
    return {
      tenantId: tenant.id,
      periodType,
      starts: periods.map((p) => toInstant(p.start)),
      ends: periods.map((p) => toInstant(p.end)),
    };
  }

  async function runPeriodic(type: 'revenue' | 'tournaments', tenant: Tenant, periodType: PeriodType, periods: Period[]): Promise<AggregateSummary> {
    const started = performance.now();
    const input = periodsInput(tenant, periodType, periods);
    const sql = type === 'revenue' ? revenueUpsert(input) : tournamentsUpsert(input);
    const rowsWritten = await withTransientMapping(`${type} aggregation for ${tenant.id}`, async () => (await pool.query(named(sql, type))).rowCount ?? 0);
    return finish({
      tenantId: tenant.id,
      type,
      periodType,
      rowsWritten,
      periodsCovered: periods.length,
      rangeStart: input.starts[0]!,
      rangeEnd: input.ends[input.ends.length - 1]!,
      durationMs: Math.round(performance.now() - started),
    });
  }

  async function runCohorts(tenant: Tenant, months: Period[], asOf: DateTime): Promise<AggregateSummary> {
    const started = performance.now();
    const plan = planCohortMonths(months, asOf, maxPeriods);
    const rows = await withTransientMapping(`cohorts aggregation for ${tenant.id}`, async () =>
      (await pool.query<{ written: number; deleted: number }>(
        named(cohortsUpsert({ tenantId: tenant.id, cohortMonths: plan.cohortMonths, bounds: plan.bounds, asOfIndex: plan.asOfIndex }), 'cohorts'),
      )).rows,
    );
    const { written, deleted } = rows[0] ?? { written: 0, deleted: 0 };
    if (deleted > 0) logger.info({ tenantId: tenant.id, deleted }, 'removed cohort rows that are no longer defined');
    return finish({
      tenantId: tenant.id,
      type: 'cohorts',
      periodType: 'month',
      rowsWritten: Number(written),
      periodsCovered: months.length,
      rangeStart: plan.bounds[0]!,
      rangeEnd: plan.bounds[months.length]!,
      durationMs: Math.round(performance.now() - started),
    });
  }

  function finish(summary: AggregateSummary): AggregateSummary {
    logger.info(summary, 'aggregated');
    return summary;
  }

  async function periodic(type: 'revenue' | 'tournaments', tenantId: string, periodStart: string, periodEnd: string, periodType: PeriodType | string) {
    assertPeriodType(periodType);
    const tenant = await loadTenant(tenantId);
    const range = resolveRange({ from: periodStart, to: periodEnd, periodType, zone: tenant.timezone, maxPeriods });
    return runPeriodic(type, tenant, range.periodType, range.periods);
  }

  return {
    /** Ids of organizations with status `active`, sorted by code point. */
    async getActiveTenants(): Promise<string[]> {
      const rows = await withTransientMapping('listing active tenants', async () =>
        (await pool.query<{ id: string }>(`SELECT id FROM organizations WHERE status = 'active' ORDER BY id COLLATE "C"`)).rows,
      );
      return rows.map((r) => r.id);
    },

    /** Revenue for every `periodType` period intersecting [periodStart, periodEnd) in the tenant's timezone. */
    aggregateRevenue(tenantId: string, periodStart: string, periodEnd: string, periodType: PeriodType | string): Promise<AggregateSummary> {
      return periodic('revenue', tenantId, periodStart, periodEnd, periodType);
    },

    /** Tournaments for every `periodType` period intersecting [periodStart, periodEnd). */
    aggregateTournaments(tenantId: string, periodStart: string, periodEnd: string, periodType: PeriodType | string): Promise<AggregateSummary> {
      return periodic('tournaments', tenantId, periodStart, periodEnd, periodType);
    },

    /**
     * Cohort rows for one cohort month (a date or instant inside it) or the months intersecting
     * {from, to}, with month numbers up to the month containing `asOf`.
     * @param asOf - ISO instant or Date; @defaultValue the clock's now
     */
    async aggregateCohorts(tenantId: string, cohortMonths: CohortMonths, asOf?: string | Date): Promise<AggregateSummary> {
      const tenant = await loadTenant(tenantId);
      const months = cohortRange(cohortMonths, tenant.timezone);
      return runCohorts(tenant, months, parseAsOf(asOf, tenant.timezone));
    },

    /**
     * All three types over one range: revenue and tournaments per `periodType` period, cohorts for
     * the months intersecting the range. Validates everything before writing anything.
     */
    async aggregateAll(
      tenantId: string,
      periodStart: string,
      periodEnd: string,
      periodType: PeriodType | string,
      asOf?: string | Date,
    ): Promise<AggregateSummary[]> {
      assertPeriodType(periodType);
      const tenant = await loadTenant(tenantId);
      const range = resolveRange({ from: periodStart, to: periodEnd, periodType, zone: tenant.timezone, maxPeriods });
      const months = cohortRange({ from: periodStart, to: periodEnd }, tenant.timezone);
      const asOfDt = parseAsOf(asOf, tenant.timezone);
      planCohortMonths(months, asOfDt, maxPeriods); // validates the as-of distance up front
      const summaries: AggregateSummary[] = [];
      summaries.push(await runPeriodic('revenue', tenant, range.periodType, range.periods));
      summaries.push(await runCohorts(tenant, months, asOfDt));
      summaries.push(await runPeriodic('tournaments', tenant, range.periodType, range.periods));
      return summaries;
    },
  };
}

export type AggregationService = ReturnType<typeof createAggregationService>;
