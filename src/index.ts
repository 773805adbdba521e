// The package's main entry (`import { addJob } from 'analytics-workers'`): the BullMQ-compatible
// queue facade and the scheduler, both with the module-level calls of the original system
// (`initializeQueue()`, `addJob()`, `initializeScheduler()`, `triggerTask()`, …), and the types
// of the aggregation service. The service itself is `analytics-workers/aggregation`; the same
// modules are also `analytics-workers/queue` and `analytics-workers/scheduler`.

export * from './queue';
export * from './scheduler';
export type {
  AggregateSummary,
  AggregationJobData,
  AggregationProgress,
  AggregationType,
  AggregationTypeOrAll,
  AggregationWorkflowResult,
  PeriodType,
} from './contract/aggregation';
export type { AggregationService, AggregationServiceDeps, Clock, CohortMonths } from './aggregation/service';
export type { Period } from './aggregation/periods';
export { loadConfig, type Config } from './config';
export { QueueNotInitializedError } from './errors/queue-not-initialized-error';
export { QueueValidationError } from './errors/queue-validation-error';
export { SchedulerNotInitializedError } from './errors/scheduler-not-initialized-error';
export { UnknownScheduleError } from './errors/unknown-schedule-error';
