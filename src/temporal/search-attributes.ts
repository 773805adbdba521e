import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes set by the workflows, so an operator can filter runs in the Web UI
 * (e.g. `AggregationType = "revenue" AND TenantId = "org_1"`). scripts/setup.sh and the test
 * global setup register exactly these on the server.
 */
export const AggregationType = defineSearchAttributeKey('AggregationType', SearchAttributeType.KEYWORD);
export const PeriodType = defineSearchAttributeKey('PeriodType', SearchAttributeType.KEYWORD);
export const TenantCount = defineSearchAttributeKey('TenantCount', SearchAttributeType.INT);
export const TenantId = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const JobId = defineSearchAttributeKey('JobId', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [AggregationType, PeriodType, TenantCount, TenantId, JobId] as const;
