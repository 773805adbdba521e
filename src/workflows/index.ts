// The workflow bundle's entry point: every workflow the worker runs is exported here.
export { pingWorkflow } from './ping';
export { scheduledTriggerWorkflow } from './scheduled-trigger';
export { aggregationWorkflow } from './aggregation';
export { aggregationChunkWorkflow } from './aggregation-chunk';
export { exportWorkflow } from './export';
export { scheduledReportWorkflow } from './report';
