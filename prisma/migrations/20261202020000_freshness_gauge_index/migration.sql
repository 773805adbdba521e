-- The freshness gauge of /metrics (src/metrics/freshness.ts, docs/operations.md) reads the newest
-- refreshed_at of every (aggregate type, period type) at each scrape: with this index one
-- backward index probe each, instead of a scan of aggregate_freshness (one row per tenant, type
-- and period type: over a million at 100,000 tenants). Its cost: a watermark update changes
-- refreshed_at, so it is no longer a HOT update (a new entry in this index and the primary key
-- per watermark row a refresh advances).

-- CreateIndex
CREATE INDEX "aggregate_freshness_aggregate_type_period_type_refreshed_at_idx" ON "aggregate_freshness"("aggregate_type", "period_type", "refreshed_at");
