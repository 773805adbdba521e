import { UnknownScheduleError } from '../errors/unknown-schedule-error';
import { scheduleById, scheduledJobId, type ScheduleDefinition } from '../scheduler/definitions';
import type { AggregationJobData } from '../contract/aggregation';
import type { ScheduledReportJobData } from '../workflows/report';

/** What the schedule activities need of the queue facade. */
export interface Enqueue {
  /** Adds an `aggregation` job with this id; `created` is false when the id already existed. */
  (data: AggregationJobData, jobId: string): Promise<{ jobId: string; created: boolean }>;
}

/** Adds a `scheduled-report` job with this id, as {@link Enqueue} does an aggregation job. */
export type EnqueueReport = (data: ScheduledReportJobData, jobId: string) => Promise<{ jobId: string; created: boolean }>;

export interface EnqueueActivityDeps {
  enqueue: Enqueue;
  /** Needed by the `scheduled-report` schedule. @defaultValue none (its fires fail with a clear error) */
  enqueueReport?: EnqueueReport;
  /** The schedules whose fires this worker serves. @defaultValue SCHEDULES */
  definitions?: readonly ScheduleDefinition[];
}

export function createEnqueueActivities({ enqueue, enqueueReport, definitions }: EnqueueActivityDeps) {
  return {
    async enqueueScheduledJob(input: { scheduleId: string; nominalTime: string }): Promise<{ jobId: string; created: boolean; nominalTime: string }> {
      const definition = definitions ? definitions.find((d) => d.id === input.scheduleId) : scheduleById(input.scheduleId);
      if (!definition) throw new UnknownScheduleError(input.scheduleId);
      const nominal = new Date(input.nominalTime);
      const jobId = scheduledJobId(definition.id, nominal);
      let result: { jobId: string; created: boolean };
      if (definition.jobName === 'scheduled-report') {
        if (!enqueueReport) throw new Error(`schedule ${definition.id}: this worker cannot enqueue scheduled-report jobs (no enqueueReport given)`);
        result = await enqueueReport(definition.job(nominal), jobId);
      } else {
        result = await enqueue(definition.job(nominal), jobId);
      }
      return { ...result, nominalTime: nominal.toISOString() };
    },
  };
}
