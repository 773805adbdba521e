import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AggregationRecorder } from '../activities/metrics';
import type { QueueMetrics } from '../queue/metrics';
import type { ChangeBacklog, Freshness, NewestAggregate } from './freshness';

// The project's own Prometheus series, one registry per worker process (never prom-client's
// global one, so two processes in one test runner do not share counters). Counters are
// incremented where the work happens (the aggregation activity, the bridge's job events); queue
// counts and freshness are read when Prometheus scrapes.

export interface WorkerMetricsSources {
  /** BullMQ job counts of the process's queue. */
  queueCounts(): Promise<QueueMetrics>;
  /** Per aggregate type and period type: the newest watermark, and the active tenants missing a pending change. */
  freshness(): Promise<Freshness[]>;
  /** When the newest aggregate row of each type and period type was written (absent: the series is left out). */
  newestAggregates?(): Promise<NewestAggregate[]>;
  /** Pending changes for incremental refresh, per kind (absent: the series are left out). */
  changeBacklog?(): Promise<ChangeBacklog[]>;
  /** The queue's name, a label of the queue series. */
  queueName: string;
}

export interface WorkerMetrics {
  readonly registry: Registry;
  /** Handed to the aggregation activities. */
  readonly recorder: AggregationRecorder;
  /** A BullMQ job settled in this process's bridge: `name` is the job type, `durationMs` from start to end. */
  jobSettled(name: string, outcome: 'completed' | 'failed', durationMs: number): void;
  /** The exposition text (Prometheus text format 0.0.4). */
  render(): Promise<string>;
}

/** Seconds: a tenant's statement takes milliseconds to minutes; a job seconds to hours. */
const TENANT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const JOB_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];

export function createWorkerMetrics(sources: WorkerMetricsSources): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const aggregated = new Counter({
    name: 'analytics_tenants_aggregated_total',
    help: 'Tenants whose aggregation of a type succeeded, by type (a tenant of an `all` job counts once per type)',
    labelNames: ['type'],
    registers: [registry],
  });
  const resumed = new Counter({
    name: 'analytics_tenants_resumed_total',
    help: 'Tenants skipped because an earlier run of the same job had completed the type',
    labelNames: ['type'],
    registers: [registry],
  });
  const failed = new Counter({
    name: 'analytics_tenants_failed_total',
    help: 'Tenants whose aggregation of a type failed for good in a run (no attempt follows), by type and error',
    labelNames: ['type', 'error_type'],
    registers: [registry],
  });
  const attemptsFailed = new Counter({
    name: 'analytics_tenant_attempts_failed_total',
    help: 'Failed attempts of tenant aggregations, retried ones included, by type and error',
    labelNames: ['type', 'error_type'],
    registers: [registry],
  });
  const rows = new Counter({
    name: 'analytics_rows_written_total',
    help: 'Aggregate rows inserted or updated, by type',
    labelNames: ['type'],
    registers: [registry],
  });
  const tenantDuration = new Histogram({
    name: 'analytics_tenant_duration_seconds',
    help: 'Time of one tenant aggregation activity (every type of the job, one statement), by outcome',
    labelNames: ['outcome'],
    buckets: TENANT_BUCKETS,
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'analytics_run_duration_seconds',
    help: 'Time from a bridge taking a job to its end (its workflow run), by job name and outcome',
    labelNames: ['job', 'outcome'],
    buckets: JOB_BUCKETS,
    registers: [registry],
  });

  const scrapeErrors = new Counter({
    name: 'analytics_scrape_errors_total',
    help: 'Scrape-time reads that failed (their series are left out of that scrape), by source',
    labelNames: ['source'],
    registers: [registry],
  });
  /** A read at scrape time that fails leaves its series out, instead of failing the whole scrape. */
  const read = async <T>(source: 'queue' | 'freshness' | 'changes' | 'newest', fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch {
      scrapeErrors.inc({ source });
      return undefined;
    }
  };

  new Gauge({
    name: 'analytics_queue_jobs',
    help: 'BullMQ jobs of the queue by state, read at scrape time',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await read('queue', sources.queueCounts);
      if (!counts) return;
      for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed', 'paused'] as const) {
        this.set({ queue: sources.queueName, state }, counts[state]);
      }
    },
  });

  /**
   * A gauge by (type, period type) only, never by tenant, filled at scrape time from one read of
   * `source` (a failed read leaves the series out); `valueOf` returns undefined for no series.
   */
  const byTypeAndPeriodType = <T extends { type: string; periodType: string }>(
    name: string,
    help: string,
    source: 'freshness' | 'newest',
    fn: () => Promise<T[]>,
    valueOf: (row: T, now: number) => number | undefined,
  ) =>
    new Gauge({
      name,
      help: `${help}, read at scrape time`,
      labelNames: ['type', 'period_type'],
      registers: [registry],
      async collect() {
        this.reset();
        const now = Date.now();
        for (const row of (await read(source, fn)) ?? []) {
          const value = valueOf(row, now);
          if (value !== undefined) this.set({ type: row.type, period_type: row.periodType }, value);
        }
      },
    });
  const sinceSeconds = (now: number, at: Date) => Math.max(0, (now - at.getTime()) / 1000);

  if (sources.newestAggregates) {
    byTypeAndPeriodType(
      'analytics_aggregate_age_seconds',
      'Age of the newest aggregate row (now - when it was written) by type and period type, full recomputes included; rows written by other processes show within 10 minutes',
      'newest',
      sources.newestAggregates,
      (n, now) => sinceSeconds(now, n.newestComputedAt),
    );
  }

  // Freshness from the incremental refresh's watermarks (docs/operations.md). One read serves
  // the three series of a scrape (cachedRead shares it).
  byTypeAndPeriodType(
    'analytics_aggregate_staleness_seconds',
    "How far the stalest active tenant's aggregates of a type and period type lag behind the raw rows: now - the oldest captured change not folded in yet (0 when none is missing)",
    'freshness',
    sources.freshness,
    (f, now) => (f.oldestMissingChangeAt ? sinceSeconds(now, f.oldestMissingChangeAt) : 0),
  );
  byTypeAndPeriodType(
    'analytics_stale_tenants',
    'Active tenants whose aggregates of a type and period type miss at least one captured change',
    'freshness',
    sources.freshness,
    (f) => f.staleTenants,
  );
  byTypeAndPeriodType(
    'analytics_last_refresh_age_seconds',
    'Since an incremental run last folded a change into the aggregates of a type and period type: now - the newest refreshed_at of their watermarks (no series before the first)',
    'freshness',
    sources.freshness,
    (f, now) => (f.lastRefreshedAt ? sinceSeconds(now, f.lastRefreshedAt) : undefined),
  );

  if (sources.changeBacklog) {
    const backlog = sources.changeBacklog;
    new Gauge({
      name: 'analytics_pending_changes',
      help: 'Captured raw-table changes no incremental run has folded in yet, by kind (revenue, mrr, tournaments, cohorts), read at scrape time',
      labelNames: ['kind'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const b of (await read('changes', backlog)) ?? []) this.set({ kind: b.kind }, b.pending);
      },
    });
    new Gauge({
      name: 'analytics_oldest_pending_change_age_seconds',
      help: 'Age of the oldest change not yet folded in, by kind: how stale the incrementally refreshed aggregates are at most (no series when nothing is pending)',
      labelNames: ['kind'],
      registers: [registry],
      async collect() {
        this.reset();
        const now = Date.now();
        for (const b of (await read('changes', backlog)) ?? []) this.set({ kind: b.kind }, Math.max(0, (now - b.oldestRecordedAt.getTime()) / 1000));
      },
    });
  }

  const recorder: AggregationRecorder = {
    tenantAggregated(perType, durationMs) {
      for (const { type, rowsWritten } of perType) {
        aggregated.inc({ type });
        rows.inc({ type }, rowsWritten);
      }
      tenantDuration.observe({ outcome: 'succeeded' }, durationMs / 1000);
    },
    tenantResumed(types) {
      for (const type of types) resumed.inc({ type });
    },
    tenantFailed(types, errorType, final, durationMs) {
      for (const type of types) {
        attemptsFailed.inc({ type, error_type: errorType });
        if (final) failed.inc({ type, error_type: errorType });
      }
      tenantDuration.observe({ outcome: 'failed' }, durationMs / 1000);
    },
  };

  return {
    registry,
    recorder,
    jobSettled(name, outcome, durationMs) {
      jobDuration.observe({ job: name, outcome }, Math.max(0, durationMs) / 1000);
    },
    render: () => registry.metrics(),
  };
}
