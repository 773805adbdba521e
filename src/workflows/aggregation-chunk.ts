import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PlanningActivities } from '../activities/planning';
import type { AggregationJobData, AggregationProgress, FailedTenant, RowsByType, TenantAggregationInput, TenantAggregationResult, TenantPage } from '../contract/aggregation';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { chunkProgressSignal, progressQuery } from './definitions';
import { LOCAL_PLANNING_ACTIVITY, localAggregationOptions, regularAggregationOptions, type ResolvedRunOptions } from './profiles';

/** Input of one chunk child: one page of the job's tenants. Started by aggregationWorkflow as `<workflowId>/chunk-<n>`. */
export interface AggregationChunkInput {
  /** Id of the aggregationWorkflow this chunk belongs to: the key of its outcome rows. */
  rootWorkflowId: string;
  jobId: string;
  job: AggregationJobData;
  /** ISO instant the periods and cohort month numbers are computed as of (fixed by the parent). */
  asOf: string;
  /** 0-based; the child id says `chunk-<chunkIndex + 1>`. */
  chunkIndex: number;
  page: TenantPage;
  /** Resolved by the parent; `maxConcurrentActivities` is this child's share. */
  options: ResolvedRunOptions;
  /** Carried across continue-as-new; absent on the first run. */
  state?: ChunkState;
}

/** Counts over the page's tenants (not tasks). */
export interface ChunkTallies {
  /** Tenants of the page the child found to do or already done. */
  tenants: number;
  succeeded: number;
  failed: number;
  /** Tenants an earlier run of the same job had completed. */
  resumed: number;
  rowsWritten: number;
  /** The first failures, at most `maxFailedListed`. */
  failedTenants: FailedTenant[];
  /** Some failure was of a retryable kind (a later attempt of the job may succeed). */
  anyRetryableFailure: boolean;
}

/** What a chunk child carries into its next run when it continues as new. */
export interface ChunkState {
  /** Tenants not started yet, in id order. */
  remaining: string[];
  /** Of those, the ones whose range is split, with their parts (from pendingTenants). */
  split?: [tenantId: string, parts: number][];
  tallies: ChunkTallies;
  /** Runs of this child so far, this one included. */
  runs: number;
  /** Tenants settled when progress was last sent to the parent. */
  reportedAt: number;
}

export interface AggregationChunkResult extends ChunkTallies {
  chunkIndex: number;
  /** Runs of the child, continue-as-new included. */
  runs: number;
}

const { pendingTenants } = proxyLocalActivities<PlanningActivities>(LOCAL_PLANNING_ACTIVITY);

/**
 * One page of an aggregation run: lists the page's tenants that still need work (a local
 * activity; tenants an earlier run of the job completed are skipped), then runs one aggregation
 * activity per tenant — every type, the whole range, one transaction — with at most
 * `options.maxConcurrentActivities` in flight. A tenant that fails for good is counted and the
 * others carry on. Continues as new before its history passes `options.maxHistoryEvents`.
 */
export async function aggregationChunkWorkflow(input: AggregationChunkInput): Promise<AggregationChunkResult> {
  const { options } = input;
  const state = input.state ?? (await initialState(input));
  const { tallies } = state;
  const queue = state.remaining;
  const progress = (): AggregationProgress => ({
    total: tallies.tenants,
    done: tallies.succeeded + tallies.resumed,
    failed: tallies.failed,
    currentPeriod: null,
  });
  const reporter = progressReporter(input, progress, state.reportedAt);
  setHandler(progressQuery, progress);
  const showDetails = () => {
    const p = progress();
    setCurrentDetails(`${p.done + p.failed}/${p.total} tenants settled (${p.failed} failed)`);
  };
  showDetails();

  const aggregate =
    options.activityKind === 'regular'
      ? proxyActivities<Activities>(regularAggregationOptions(options)).aggregateTenant
      : proxyLocalActivities<Activities>(localAggregationOptions(options)).aggregateTenant;

  const settle = (result: TenantAggregationResult | undefined, tenantId: string, err?: unknown) => {
    if (result?.status === 'resumed') tallies.resumed += 1;
    else if (result) {
      tallies.succeeded += 1;
      tallies.rowsWritten += result.rowsWritten;
    } else {
      const failure = describeFailure(err);
      tallies.failed += 1;
      tallies.anyRetryableFailure ||= failure.retryable;
      if (tallies.failedTenants.length < options.maxFailedListed) {
        tallies.failedTenants.push({ tenantId, errorType: failure.errorType, message: failure.message, attempts: failure.attempts });
      }
      log.warn('tenant failed', { tenantId, errorType: failure.errorType, message: failure.message });
    }
    showDetails();
    reporter.maybeReport();
  };

  // A fixed set of lanes, each taking the next tenant when its previous one settles: no
  // semaphore to re-check on every activation, and the fewest promises per tenant (every promise
  // in workflow code costs a captured stack trace in the SDK's sandbox).
  const lanes = Math.max(1, Math.min(options.maxConcurrentActivities, queue.length));
  let next = 0;
  const mustContinueAsNew = () => workflowInfo().historyLength >= options.maxHistoryEvents || workflowInfo().continueAsNewSuggested;
  const partsOf = new Map(state.split ?? []);
  /** A split tenant: its parts one after another (the last records the outcome). */
  const runParts = async (base: TenantAggregationInput, of: number): Promise<TenantAggregationResult> => {
    let rowsWritten = 0;
    let carried: RowsByType | undefined;
    for (let index = 0; ; index++) {
      const result = await aggregate({ ...base, part: { index, of, ...(carried ? { carried } : {}) } });
      if (result.status === 'resumed' || index === of - 1) return { ...result, rowsWritten: rowsWritten + result.rowsWritten };
      rowsWritten += result.rowsWritten;
      carried = result.rowsByType;
    }
  };
  const lane = async (): Promise<void> => {
    while (next < queue.length && !mustContinueAsNew()) {
      const tenantId = queue[next++]!;
      const base = { jobKey: input.rootWorkflowId, tenantId, job: input.job, asOf: input.asOf };
      const of = partsOf.get(tenantId);
      try {
        // No extra async layer for the usual unsplit tenant: every promise in workflow code costs a captured stack.
        settle(await (of === undefined ? aggregate(base) : runParts(base, of)), tenantId);
      } catch (err) {
        if (isCancellation(err)) throw err;
        settle(undefined, tenantId, err);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  await reporter.flush();

  if (next < queue.length) {
    const remaining = queue.slice(next);
    const left = new Set(remaining);
    const stillSplit = (state.split ?? []).filter(([id]) => left.has(id));
    return continueAsNew<typeof aggregationChunkWorkflow>({
      ...input,
      state: { remaining, ...(stillSplit.length > 0 ? { split: stillSplit } : {}), tallies, runs: state.runs + 1, reportedAt: reporter.reportedAt() },
    });
  }
  return { ...tallies, chunkIndex: input.chunkIndex, runs: state.runs };
}

async function initialState(input: AggregationChunkInput): Promise<ChunkState> {
  const pending = await pendingTenants.executeWithOptions({ ...LOCAL_PLANNING_ACTIVITY, summary: `list the tenants of chunk ${input.chunkIndex + 1} still to do` }, [
    {
      jobKey: input.rootWorkflowId,
      job: input.job,
      page: input.page,
      asOf: input.asOf,
      split: { rowsPerPart: input.options.splitRowsPerActivity, maxParts: input.options.maxPartsPerTenant },
    },
  ]);
  return {
    remaining: pending.tenantIds,
    ...(pending.split ? { split: pending.split } : {}),
    tallies: {
      tenants: pending.tenantIds.length + pending.resumed,
      succeeded: 0,
      failed: 0,
      resumed: pending.resumed,
      rowsWritten: 0,
      failedTenants: [],
      anyRetryableFailure: false,
    },
    runs: 1,
    reportedAt: -1,
  };
}

const NON_RETRYABLE = new Set<string>(NON_RETRYABLE_ERROR_TYPES);

/** Error type, message, attempts and whether a later attempt of the job could succeed. */
export function describeFailure(err: unknown): { errorType: string; message: string; attempts: number; retryable: boolean } {
  // A regular activity's failure arrives as an ActivityFailure around its cause; a local
  // activity's arrives as the bare cause (sdk-core does not wrap it: temporalio/sdk-core#449).
  const wrapped = err instanceof ActivityFailure;
  const cause = wrapped ? err.cause : err;
  if (wrapped || cause instanceof ApplicationFailure || cause instanceof TimeoutFailure) {
    const detail = cause instanceof ApplicationFailure ? (cause.details?.[0] as { attempt?: unknown } | undefined) : undefined;
    const attempts = typeof detail?.attempt === 'number' ? detail.attempt : 1;
    if (cause instanceof ApplicationFailure) {
      const errorType = cause.type ?? 'Error';
      return { errorType, message: cause.message, attempts, retryable: !cause.nonRetryable && !NON_RETRYABLE.has(errorType) };
    }
    if (cause instanceof TimeoutFailure) return { errorType: 'TimeoutFailure', message: `activity ${cause.timeoutType ?? ''} timeout`.replace('  ', ' '), attempts, retryable: true };
    return { errorType: (cause as Error | undefined)?.name ?? 'ActivityFailure', message: (cause as Error | undefined)?.message ?? (err as Error).message, attempts, retryable: true };
  }
  const e = err as { name?: string; message?: string };
  return { errorType: e?.name ?? 'Error', message: e?.message ?? String(err), attempts: 1, retryable: true };
}

/**
 * Sends the chunk's progress to the parent each time another tenth of its tenants has settled (a
 * signal per tenant would bloat the parent's history), one signal in flight at a time; a signal
 * that completes while more has settled is followed by one with the latest numbers.
 */
function progressReporter(input: AggregationChunkInput, progress: () => AggregationProgress, initiallyReportedAt: number) {
  const parent = workflowInfo().parent;
  let reportedAt = initiallyReportedAt;
  let inFlight: Promise<void> | undefined;
  let again = false;
  const send = () => {
    if (!parent) return;
    const p = progress();
    reportedAt = p.done + p.failed;
    inFlight = getExternalWorkflowHandle(parent.workflowId, parent.runId)
      .signal(chunkProgressSignal, { ...p, chunkIndex: input.chunkIndex })
      .catch((err: unknown) => {
        if (!isCancellation(err)) log.warn('could not report progress to the parent', { error: String(err) });
      })
      .finally(() => {
        inFlight = undefined;
        if (again) {
          again = false;
          send();
        }
      });
  };
  return {
    maybeReport() {
      const p = progress();
      const step = Math.max(1, Math.ceil(p.total / 10));
      const settled = p.done + p.failed;
      const crossed = reportedAt < 0 || Math.floor(settled / step) > Math.floor(reportedAt / step);
      if (!crossed) return;
      if (inFlight) again = true;
      else send();
    },
    reportedAt: () => reportedAt,
    async flush() {
      while (inFlight) await inFlight;
    },
  };
}
