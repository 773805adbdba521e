import type { AggregationJobData } from '../contract/aggregation';

/**
 * The four schedules that replace node-cron (README, "Schedules"). Each fires
 * `scheduledTriggerWorkflow`, which enqueues one BullMQ `aggregation` job whose periods come from
 * the schedule's nominal fire time (`asOf`), in each tenant's own timezone.
 */
export interface ScheduleDefinition {
  /** Schedule id in Temporal; also the prefix of every job id it enqueues. */
  id: ScheduleId;
  /** Five-field cron, read in the scheduler's timezone (TZ). */
  cron: string;
  description: string;
  /** The job payload for one nominal fire time. */
  job(nominalTime: Date): AggregationJobData;
}

export const SCHEDULE_IDS = ['hourly-aggregation', 'daily-revenue', 'monthly-cohorts', 'weekly-tournaments'] as const;
export type ScheduleId = (typeof SCHEDULE_IDS)[number];

export const SCHEDULES: readonly ScheduleDefinition[] = [
  {
    id: 'hourly-aggregation',
    cron: '0 * * * *',
    description: "all types, all active tenants: the tenant's current day so far and the previous day; cohorts for the current and previous month",
    // No `periods`: its defaults are what this schedule wants (one previous day; two cohort months).
    job: (t) => ({ type: 'all', periodType: 'day', asOf: t.toISOString(), includeCurrent: true }),
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
];

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
