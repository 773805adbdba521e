import { UnknownScheduleError } from '../errors/unknown-schedule-error';
import { scheduleById, scheduledJobId } from '../scheduler/definitions';
import type { AggregationJobData } from '../contract/aggregation';

/** What the schedule activities need of the queue facade. */
export interface Enqueue {
  /** Adds an `aggregation` job with this id; `created` is false when the id already existed. */
  (data: AggregationJobData, jobId: string): Promise<{ jobId: string; created: boolean }>;
}

export function createEnqueueActivities({ enqueue }: { enqueue: Enqueue }) {
  return {
    async enqueueScheduledJob(input: { scheduleId: string; nominalTime: string }): Promise<{ jobId: string; created: boolean; nominalTime: string }> {
      const definition = scheduleById(input.scheduleId);
      if (!definition) throw new UnknownScheduleError(input.scheduleId);
      const nominal = new Date(input.nominalTime);
      const result = await enqueue(definition.job(nominal), scheduledJobId(definition.id, nominal));
      return { ...result, nominalTime: nominal.toISOString() };
    },
  };
}
