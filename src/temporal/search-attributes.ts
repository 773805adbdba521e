/**
 * Custom search attributes set by the workflows, so an operator can filter runs in the Web UI
 * (e.g. `AggregationType = "revenue" AND TenantId = "org_1"`). scripts/setup.sh and the test
 * global setup register exactly these on the server. The keys live with the workflow code, which
 * sets them; this module is their name for Node code.
 */
export { AggregationType, FailedTenants, JobId, PeriodType, SEARCH_ATTRIBUTES, TenantCount, TenantId } from '../workflows/search-attributes';
