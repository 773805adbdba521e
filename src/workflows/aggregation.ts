import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PlanningActivities } from '../activities/planning';
import type {
  AggregationProgress,
  AggregationRunState,
  AggregationWorkflowInput,
  AggregationWorkflowResult,
  FailedTenant,
  TenantPage,
} from '../contract/aggregation';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { aggregationChunkWorkflow, type AggregationChunkResult } from './aggregation-chunk';
import { chunkProgressSignal, progressQuery } from './definitions';
import { describeChunk } from './describe';
import { LOCAL_PLANNING_ACTIVITY, PLANNING_ACTIVITY, resolveRunOptions, type ResolvedRunOptions } from './profiles';
import { FailedTenants, jobSearchAttributes, TenantCount, TenantId } from './search-attributes';

const { planJob, tenantPages } = proxyLocalActivities<PlanningActivities>(LOCAL_PLANNING_ACTIVITY);
const { purgeOutcomes } = proxyActivities<PlanningActivities>({ ...PLANNING_ACTIVITY, heartbeatTimeout: '1 minute' });

/** Error type of the failure a run ends with when tenants failed for good. */
export const TENANTS_FAILED_ERROR = 'TenantsFailedError';

/** Failed tenants a run's details (the Web UI's "current details") name at most. */
const FAILED_NAMED_IN_DETAILS = 10;

/** Pages fetched per planning call, per child slot: enough to keep the window full between calls. */
const PAGES_PER_SLOT = 4;

/**
 * An `aggregation` job as a durable workflow (id `aggregation/<jobId>`). It plans the job (a
 * local activity: validates it, fixes its as-of instant, counts its tenants), then runs a sliding
 * window of chunk children (`<workflowId>/chunk-<n>`, at most `maxConcurrentChildren` at once),
 * each over one page of `tenantsPerChild` tenants in id order, with one aggregation activity per
 * tenant. The parent only ever holds page bounds and totals, and continues as new before its
 * history grows large, so any tenant count keeps every history and payload small. Per-tenant
 * outcomes live in Postgres (`aggregation_outcomes`); the result carries totals and the first
 * failures. When any tenant failed for good, the run fails (`TenantsFailedError`, the result in
 * its details) so the job fails and its next attempt re-runs only those tenants.
 */
export async function aggregationWorkflow(input: AggregationWorkflowInput): Promise<AggregationWorkflowResult> {
  const { workflowId } = workflowInfo();
  const options = resolveRunOptions(input.options);
  const state = input.state ? { ...input.state, runs: input.state.runs + 1 } : await firstState(input);

  /** Progress of the children running now, by chunk index. */
  const running = new Map<number, AggregationProgress>();
  const progress = (): AggregationProgress => {
    let done = state.tenantsDone;
    let failed = state.tenantsFailed;
    for (const p of running.values()) {
      done += p.done;
      failed += p.failed;
    }
    return { total: state.tenantCount, done, failed, currentPeriod: null };
  };
  const showDetails = () => {
    const p = progress();
    setCurrentDetails(`${p.done + p.failed}/${p.total} tenants settled (${p.failed} failed); ${state.childrenStarted} chunk children started`);
  };
  setHandler(progressQuery, progress);
  setHandler(chunkProgressSignal, (p) => {
    if (!running.has(p.chunkIndex)) return; // late, from a child that has settled
    running.set(p.chunkIndex, { total: p.total, done: p.done, failed: p.failed, currentPeriod: null });
    showDetails();
  });
  showDetails();

  // No wider than the pages the job has: a job of one page gets every in-flight slot.
  const window = Math.max(1, Math.min(options.maxConcurrentChildren, Math.ceil(state.tenantCount / Math.max(1, options.tenantsPerChild))));
  const childOptions: ResolvedRunOptions = { ...options, maxConcurrentActivities: Math.max(1, Math.floor(options.maxConcurrentActivities / window)) };
  const pages: TenantPage[] = [];
  const mustContinueAsNew = () => workflowInfo().historyLength >= options.maxHistoryEvents || workflowInfo().continueAsNewSuggested;

  async function runChild(page: TenantPage, index: number): Promise<void> {
    const childId = `${workflowId}/chunk-${index + 1}`;
    const single = input.job.tenantId ?? (page.tenants === 1 ? page.lastTenantId : undefined);
    try {
      const child = await startChild(aggregationChunkWorkflow, {
        workflowId: childId,
        args: [{ rootWorkflowId: workflowId, jobId: input.jobId, job: input.job, asOf: state.asOf, chunkIndex: index, page, options: childOptions }],
        memo: { jobId: input.jobId, chunk: index + 1 },
        typedSearchAttributes: [
          ...jobSearchAttributes(input.job, input.jobId).filter((p) => p.key.name !== TenantId.name),
          { key: TenantCount, value: page.tenants },
          ...(single !== undefined ? [{ key: TenantId, value: single }] : []),
        ],
        staticSummary: describeChunk(input.job, index, page.tenants, page.afterTenantId, page.lastTenantId),
      });
      addChild(state, await child.result(), options.maxFailedListed);
    } catch (err) {
      // The run itself is being cancelled: the caller reports it.
      if (isCancellation(err) && CancellationScope.current().consideredCancelled) throw err;
      const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
      const errorType = cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : ((cause as Error | undefined)?.name ?? 'Error');
      const message = `${childId} (${page.tenants} tenants through ${page.lastTenantId}) did not complete: ${(cause as Error | undefined)?.message ?? String(err)}`;
      log.error('chunk child did not complete', { childId, error: String(err) });
      addLostPage(state, page, { tenantId: page.lastTenantId, errorType, message, attempts: 1 }, options.maxFailedListed);
    } finally {
      running.delete(index);
      showDetails();
    }
  }

  const children = new Set<Promise<void>>();
  try {
    for (;;) {
      if (pages.length === 0 && !state.exhausted) {
        const next = await tenantPages.executeWithOptions({ ...LOCAL_PLANNING_ACTIVITY, summary: `list the next ${window * PAGES_PER_SLOT} pages of tenants` }, [
          { job: input.job, after: state.cursor, pageSize: options.tenantsPerChild, pages: window * PAGES_PER_SLOT },
        ]);
        pages.push(...next.pages);
        if (next.pages.length > 0) state.cursor = next.pages[next.pages.length - 1]!.lastTenantId;
        state.exhausted = next.exhausted;
      }
      if (pages.length === 0) break;
      await condition(() => running.size < window);
      if (mustContinueAsNew()) break;
      const page = pages.shift()!;
      const index = state.childrenStarted++;
      running.set(index, { total: page.tenants, done: 0, failed: 0, currentPeriod: null });
      const child: Promise<void> = runChild(page, index).finally(() => children.delete(child));
      children.add(child);
    }
    await Promise.all([...children]);
  } catch (err) {
    // Cancellation reaches the children too; let them settle before the run ends as cancelled.
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => Promise.allSettled([...children]));
    throw err;
  }

  if (pages.length > 0 || !state.exhausted) {
    // Pages fetched but not started are fetched again by the next run.
    if (pages.length > 0) {
      state.cursor = pages[0]!.afterTenantId;
      state.exhausted = false;
    }
    return continueAsNew<typeof aggregationWorkflow>({ ...input, state });
  }

  await purgeOutcomes
    .executeWithOptions({ ...PLANNING_ACTIVITY, heartbeatTimeout: '1 minute', summary: 'purge expired outcome rows' }, [{ retentionMs: options.outcomeRetentionMs }])
    .catch((err: unknown) => log.warn('could not purge expired outcomes; the next run will', { error: String(err) }));

  const result = resultOf(input, workflowId, state);
  const failedCount = result.failedTenants.length + result.failedTenantsOmitted;
  // Runs recorded before the attribute existed replay without it.
  if (patched('failed-tenants-search-attribute')) upsertSearchAttributes([{ key: FailedTenants, value: failedCount }]);
  showDetails();
  if (failedCount > 0) setCurrentDetails(failedDetails(result));
  if (result.totals.failed > 0) {
    const listed = result.failedTenants.slice(0, 3).map((f) => `${f.tenantId} (${f.errorType}: ${f.message})`);
    const more = result.failedTenants.length + result.failedTenantsOmitted - listed.length;
    const failedTenants = result.failedTenants.length + result.failedTenantsOmitted;
    throw ApplicationFailure.create({
      type: TENANTS_FAILED_ERROR,
      message: `${failedTenants} of ${result.totals.tenants} tenants failed: ${listed.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
      details: [result],
      // Only bad input or bad data failed: another attempt of the job would fail the same way.
      nonRetryable: !state.anyRetryableFailure,
    });
  }
  return result;
}

/** The run's final details when tenants failed: how many, then the first ones by name with their errors. */
function failedDetails(result: AggregationWorkflowResult): string {
  const failed = result.failedTenants.length + result.failedTenantsOmitted;
  const named = result.failedTenants.slice(0, FAILED_NAMED_IN_DETAILS);
  const lines = named.map((f) => `- ${f.tenantId}: ${f.errorType} after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}: ${f.message.slice(0, 200)}`);
  const more = failed - named.length;
  return [
    `**${failed} of ${result.totals.tenants} tenants failed** (FailedTenants = ${failed}; every outcome in aggregation_outcomes, job key ${result.workflowId})`,
    ...lines,
    ...(more > 0 ? [`- and ${more} more`] : []),
  ].join('\n');
}

async function firstState(input: AggregationWorkflowInput): Promise<AggregationRunState> {
  tagRun(input);
  let plan;
  try {
    plan = await planJob.executeWithOptions({ ...LOCAL_PLANNING_ACTIVITY, summary: 'validate the job and count its tenants' }, [
      { job: input.job, requestedAt: input.requestedAt },
    ]);
  } catch (err) {
    throw planningFailure(err);
  }
  upsertSearchAttributes([{ key: TenantCount, value: plan.tenantCount }]);
  return {
    asOf: plan.asOf,
    tenantCount: plan.tenantCount,
    cursor: null,
    exhausted: false,
    childrenStarted: 0,
    totals: { tenants: plan.tenantCount, tasks: 0, succeeded: 0, failed: 0, resumed: 0, rowsWritten: 0 },
    failedTenants: [],
    anyRetryableFailure: false,
    runs: 1,
    tenantsDone: 0,
    tenantsFailed: 0,
    typesPerTenant: plan.typesPerTenant,
  };
}

function addChild(state: AggregationRunState, r: AggregationChunkResult, maxListed: number): void {
  const t = state.typesPerTenant;
  state.totals.tasks += r.tenants * t;
  state.totals.succeeded += r.succeeded * t;
  state.totals.failed += r.failed * t;
  state.totals.resumed += r.resumed * t;
  state.totals.rowsWritten += r.rowsWritten;
  state.tenantsDone += r.succeeded + r.resumed;
  state.tenantsFailed += r.failed;
  state.anyRetryableFailure ||= r.anyRetryableFailure;
  state.failedTenants.push(...r.failedTenants.slice(0, Math.max(0, maxListed - state.failedTenants.length)));
}

function addLostPage(state: AggregationRunState, page: TenantPage, failure: FailedTenant, maxListed: number): void {
  state.totals.tasks += page.tenants * state.typesPerTenant;
  state.totals.failed += page.tenants * state.typesPerTenant;
  state.tenantsFailed += page.tenants;
  state.anyRetryableFailure = true;
  if (state.failedTenants.length < maxListed) state.failedTenants.push(failure);
}

function resultOf(input: AggregationWorkflowInput, workflowId: string, state: AggregationRunState): AggregationWorkflowResult {
  return {
    workflowId,
    jobId: input.jobId,
    totals: { ...state.totals, tenants: state.tenantsDone + state.tenantsFailed },
    failedTenants: state.failedTenants,
    failedTenantsOmitted: Math.max(0, state.tenantsFailed - state.failedTenants.length),
    children: state.childrenStarted,
    runs: state.runs,
  };
}

/** Memo and search attributes, unless the starter already set them (src/temporal/start-aggregation.ts does). */
function tagRun(input: AggregationWorkflowInput): void {
  const info = workflowInfo();
  if (info.memo?.jobId !== input.jobId) upsertMemo({ jobId: input.jobId });
  const missing = jobSearchAttributes(input.job, input.jobId).filter((p) => info.typedSearchAttributes.get(p.key) !== p.value);
  if (missing.length > 0) upsertSearchAttributes(missing);
}

/** A planning failure fails the run: bad input as a non-retryable error of the same type, naming the field. */
function planningFailure(err: unknown): unknown {
  // A local activity's failure is the bare ApplicationFailure, not an ActivityFailure around it (temporalio/sdk-core#449).
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (isCancellation(err) || !(cause instanceof ApplicationFailure)) return err;
  const badInput = (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(cause.type ?? '');
  return ApplicationFailure.create({ type: cause.type ?? undefined, message: `planning the job failed: ${cause.message}`, nonRetryable: badInput, cause: cause });
}
