// Kept for existing imports: the shapes live in src/contract.
export {
  AGGREGATION_TYPES,
  PERIOD_TYPES,
  type AggregateSummary,
  type AggregationType,
  type AggregationTypeOrAll,
  type PeriodType,
} from '../contract/aggregation';
