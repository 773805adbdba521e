// Kept for existing imports: the shapes live in src/contract.
export {
  aggregationWorkflowId,
  type AggregationJobData,
  type AggregationProgress,
  type AggregationRunOptions,
  type AggregationWorkflowInput,
  type AggregationWorkflowResult,
  type FailedTenant,
} from '../contract/aggregation';
