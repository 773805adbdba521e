// The workflow bundle's entry point: every workflow the worker runs is exported here.
export { pingWorkflow } from './ping';
export { scheduledTriggerWorkflow } from './scheduled-trigger';
