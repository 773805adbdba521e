import type { AggregationJobData } from '../contract/aggregation';
import type { ScheduledReportJobData } from '../workflows/report';

/**
 * The schedules that replace node-cron (README, "Schedules"). Each fires
 * `scheduledTriggerWorkflow`, which enqueues one BullMQ job (an `aggregation` job, or for
 * `scheduled-report` a report job) whose periods come from the schedule's nominal fire time
 * (`asOf`), in each tenant's own timezone.
 */
interface ScheduleBase {
  /** Schedule id in Temporal; also the prefix of every job id it enqueues. */
  id: ScheduleId;
  /** Five-field cron, read in the scheduler's timezone (TZ). */
  cron: string;
  description: string;
}
export interface AggregationScheduleDefinition extends ScheduleBase {
  /** The BullMQ job it enqueues. @defaultValue aggregation */
  jobName?: 'aggregation';
  /** The job payload for one nominal fire time. */
  job(nominalTime: Date): AggregationJobData;
}
export interface ReportScheduleDefinition extends ScheduleBase {
  jobName: 'scheduled-report';
  job(nominalTime: Date): ScheduledReportJobData;
}
export type ScheduleDefinition = AggregationScheduleDefinition | ReportScheduleDefinition;

export const SCHEDULE_IDS = ['hourly-aggregation', 'daily-revenue', 'monthly-cohorts', 'weekly-tournaments', 'scheduled-report'] as const;
export type ScheduleId = (typeof SCHEDULE_IDS)[number];

/** How the `scheduled-report` schedule runs; config: SCHEDULED_REPORT_CRON, SCHEDULED_REPORT_PERIOD. */
export interface ReportScheduleOptions {
  /** @defaultValue `0 6 * * 1` (Mondays 06:00, after weekly-tournaments) */
  cron?: string;
  /** @defaultValue week */
  periodType?: 'day' | 'week' | 'month';
}

/** The `scheduled-report` schedule: every active tenant's report on its last complete period. */
export function reportSchedule(options: ReportScheduleOptions = {}): ReportScheduleDefinition {
  const periodType = options.periodType ?? 'week';
  return {
    id: 'scheduled-report',
    jobName: 'scheduled-report',
    cron: options.cron ?? '0 6 * * 1',
    description: `text and HTML report of each active tenant's last complete ${periodType} (missing aggregates computed first)`,
    job: (t) => ({ periodType, asOf: t.toISOString() }),
  };
}

export const SCHEDULES: readonly ScheduleDefinition[] = [
  {
    id: 'hourly-aggregation',
    cron: '0 * * * *',
    description: 'all types, incremental: every pending change of every active tenant folded in (only the buckets the changes dirty are recomputed)',
    // Incremental (docs/incremental.md): an hour without changes costs one query. The full
    // recompute it replaced (today so far and yesterday, two cohort months) is still the job
    // { type: 'all', periodType: 'day', includeCurrent: true } for anyone who wants it.
    job: (t) => ({ type: 'all', incremental: true, asOf: t.toISOString() }),
  },
  {
    id: 'daily-revenue',
    cron: '0 0 * * *',
    description: "revenue for each tenant's last complete day",
    job: (t) => ({ type: 'revenue', periodType: 'day', asOf: t.toISOString() }),
  },
  {
    id: 'monthly-cohorts',
    cron: '0 1 1 * *',
    description: 'cohorts for every cohort month of the last 12 months',
    job: (t) => ({ type: 'cohorts', periodType: 'month', asOf: t.toISOString(), periods: 12 }),
  },
  {
    id: 'weekly-tournaments',
    cron: '0 2 * * 1',
    description: 'tournaments for the last complete ISO week',
    job: (t) => ({ type: 'tournaments', periodType: 'week', asOf: t.toISOString() }),
  },
  reportSchedule(),
];

/** {@link SCHEDULES} with the `scheduled-report` schedule as configured. */
export function scheduleDefinitions(report: ReportScheduleOptions = {}): readonly ScheduleDefinition[] {
  return SCHEDULES.map((d) => (d.id === 'scheduled-report' ? reportSchedule(report) : d));
}

export function scheduleById(id: Exclude<ScheduleId, 'scheduled-report'>): AggregationScheduleDefinition | undefined;
export function scheduleById(id: string): ScheduleDefinition | undefined;
export function scheduleById(id: string): ScheduleDefinition | undefined {
  return SCHEDULES.find((s) => s.id === id);
}

/**
 * The BullMQ job id for one nominal fire time: the same schedule and nominal time always give the
 * same id, so a retried or doubled trigger enqueues nothing new. (BullMQ ids may not contain ':'.)
 */
export function scheduledJobId(scheduleId: string, nominalTime: Date): string {
  const compact = nominalTime.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `${scheduleId}-${compact}`;
}
