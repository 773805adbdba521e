import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CompletedChunk, PartitionPlan, PlanningActivities, TenantPartition } from '../activities/planning';
import type { AggregateSummary } from '../activities/types';
import { chunkProgressSignal, progressQuery } from './definitions';
import { describeCall } from './describe';
import { AGGREGATION_ACTIVITY, aggregationActivityOptions, PLANNING_ACTIVITY, type ResolvedRunOptions } from './profiles';
import type { AggregationJobData, AggregationProgress, TenantOutcome } from './types';
import { expandPlan, itemKey, type WorkItem } from './work-items';

/** Input of one chunk child: a partition of the job's tenants. Started by aggregationWorkflow as `<workflowId>/chunk-<n>`. */
export interface AggregationChunkInput {
  /** Id of the aggregationWorkflow run this chunk belongs to: prefix of every activity id and key of the ledger of completed chunks. */
  rootWorkflowId: string;
  jobId: string;
  job: AggregationJobData;
  requestedAt: string;
  /** 0-based; the child id says `chunk-<chunkIndex + 1>`. */
  chunkIndex: number;
  chunkCount: number;
  partition: TenantPartition;
  /** Resolved by the parent; `maxConcurrentActivities` is this child's share. */
  options: ResolvedRunOptions;
  /** Carried across continue-as-new; absent on the first run. */
  state?: ChunkState;
}

/** Item status codes, one character per activity call. */
const PENDING = '.';
const DONE = 'd';
const RESUMED = 'r';
const FAILED = 'f';
const SKIPPED = 's';

/** Per (tenant, type) task: summed over its calls. */
export interface TaskTally {
  rowsWritten: number;
  periodsCovered: number;
  /** Most attempts any of the task's calls needed in this run (0: every call was resumed from the ledger). */
  attempts: number;
  errorType?: string;
  message?: string;
}

/** What a chunk child carries into its next run when it continues as new. */
export interface ChunkState {
  plan: Omit<PartitionPlan, 'completed'>;
  /** One status character per work item (see expandPlan for the order). */
  status: string;
  /** Items before it have been started (or settled without running). */
  cursor: number;
  tallies: TaskTally[];
  /** Rows each completed item wrote (0 for the others): what the ledger records on cancellation. */
  itemRows: number[];
  /** Runs of this child so far, this one included. */
  runs: number;
  /** Calls settled when progress was last sent to the parent. */
  reportedAt: number;
}

export interface AggregationChunkResult {
  chunkIndex: number;
  tenants: number;
  tasks: number;
  succeeded: number;
  failed: number;
  rowsWritten: number;
  chunks: { total: number; done: number; failed: number; skipped: number; resumed: number };
  /** Failures first, then by tenant and type; at most `maxOutcomesInResult`. */
  outcomes: TenantOutcome[];
  outcomesOmitted: number;
  /** Runs of the child, continue-as-new included. */
  runs: number;
}

const { planPartition, recordCompletedChunks } = proxyActivities<PlanningActivities>(PLANNING_ACTIVITY);

/**
 * One chunk of an aggregation run: plans its partition of tenants (an activity), then runs one
 * aggregation activity per (tenant, type, chunk of periods) with at most
 * `options.maxConcurrentActivities` in flight. A call that fails for good fails its task and skips
 * the task's later calls; every other task carries on. Continues as new before the history grows
 * past `options.maxHistoryEvents`. When cancelled, records the calls it completed in the ledger so
 * that a later run with the same job id skips them.
 */
export async function aggregationChunkWorkflow(input: AggregationChunkInput): Promise<AggregationChunkResult> {
  const { options } = input;
  const state = input.state ?? (await initialState(input));
  const { items, tasks } = expandPlan(state.plan);
  const status = state.status.split('');
  const tallies = state.tallies;
  const itemRows = state.itemRows;
  const counts = { [DONE]: 0, [RESUMED]: 0, [FAILED]: 0, [SKIPPED]: 0 } as Record<string, number>;
  for (const c of status) if (c !== PENDING) counts[c]! += 1;
  let currentPeriod: string | null = null;

  const progress = (): AggregationProgress => ({
    total: items.length,
    done: counts[DONE]! + counts[RESUMED]!,
    failed: counts[FAILED]! + counts[SKIPPED]!,
    currentPeriod,
  });
  const reporter = progressReporter(input, progress, state.reportedAt);
  const settle = (i: number, code: string) => {
    status[i] = code;
    counts[code]! += 1;
    const p = progress();
    setCurrentDetails(`${p.done + p.failed}/${p.total} activity calls settled (${p.failed} failed)${currentPeriod ? `; now ${currentPeriod}` : ''}`);
    reporter.maybeReport();
  };
  setHandler(progressQuery, progress);

  const { aggregateTenant } = proxyActivities<Activities>(aggregationActivityOptions(options));
  const maxAttempts = AGGREGATION_ACTIVITY.retry.maximumAttempts;

  async function run(i: number, item: WorkItem): Promise<void> {
    const tally = tallies[item.task]!;
    try {
      const summary = await aggregateTenant.executeWithOptions(
        {
          activityId: `${input.rootWorkflowId}/${item.tenantId}/${item.type}/${item.from}..${item.to}`,
          summary: describeCall(item.type, item.periodType, item.from, item.to, item.tenantId),
        },
        [{ tenantId: item.tenantId, type: item.type, periodType: item.periodType, from: item.from, to: item.to, asOf: state.plan.asOf }],
      );
      tally.rowsWritten += summary.rowsWritten;
      itemRows[i] = summary.rowsWritten;
      tally.periodsCovered += summary.periodsCovered;
      tally.attempts = Math.max(tally.attempts, attemptOf(summary));
      settle(i, DONE);
    } catch (err) {
      // Cancelled with the workflow: the call stays pending, and a resumed run does it again.
      if (isCancellation(err)) return;
      const failure = describeFailure(err, maxAttempts);
      tally.attempts = Math.max(tally.attempts, failure.attempts);
      if (tally.errorType === undefined) {
        tally.errorType = failure.errorType;
        tally.message = failure.message;
      }
      log.warn('aggregation call failed for good', { tenantId: item.tenantId, type: item.type, from: item.from, to: item.to, ...failure });
      settle(i, FAILED);
    }
  }

  let running = 0;
  let startedThisRun = 0;
  try {
    while (state.cursor < items.length) {
      const i = state.cursor;
      const item = items[i]!;
      if (status[i] === PENDING && tallies[item.task]!.errorType === undefined) {
        if (startedThisRun > 0 && historyIsFull(options)) break;
        await condition(() => running < options.maxConcurrentActivities);
      }
      state.cursor += 1;
      if (status[i] !== PENDING) continue;
      // Re-checked after the wait: another call of the same task may have failed meanwhile.
      if (tallies[item.task]!.errorType !== undefined) {
        settle(i, SKIPPED);
        continue;
      }
      running += 1;
      startedThisRun += 1;
      currentPeriod = `${item.type === 'cohorts' ? 'cohort months' : item.periodType} ${item.from}..${item.to}`;
      void run(i, item).finally(() => {
        running -= 1;
      });
    }
    await condition(() => running === 0);
    await reporter.flush();
    if (state.cursor < items.length) {
      const next: ChunkState = { ...state, status: status.join(''), tallies, itemRows, runs: state.runs + 1, reportedAt: reporter.reportedAt() };
      await continueAsNew<typeof aggregationChunkWorkflow>({ ...input, state: next });
    }
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() => recordDone(input, items, status, itemRows));
    }
    throw err;
  }

  // With several children, the parent can be cancelled after this child completed: record its
  // calls too, so a resumed run skips them (the parent clears the ledger once a run completes).
  // patched(): histories from before this step replay on the old path.
  if (input.chunkCount > 1 && patched('record-completed-child-chunks')) await recordDone(input, items, status, itemRows);
  return summarize(input, state, tasks, tallies, progress(), counts);
}

async function initialState(input: AggregationChunkInput): Promise<ChunkState> {
  const plan = await planPartition.executeWithOptions({ summary: `plan chunk ${input.chunkIndex + 1}/${input.chunkCount}: tenants, periods, completed chunks` }, [
    {
      job: input.job,
      requestedAt: input.requestedAt,
      periodsPerActivity: input.options.periodsPerActivity,
      jobKey: input.rootWorkflowId,
      partition: { afterTenantId: input.partition.afterTenantId, lastTenantId: input.partition.lastTenantId },
    },
  ]);
  const { items, tasks } = expandPlan(plan);
  const tallies: TaskTally[] = tasks.map(() => ({ rowsWritten: 0, periodsCovered: 0, attempts: 0 }));
  const completed = new Map<string, CompletedChunk>(plan.completed.map((c) => [itemKey(c), c]));
  const status = items.map((item) => {
    const done = completed.get(itemKey(item));
    if (!done) return PENDING;
    const tally = tallies[item.task]!;
    tally.rowsWritten += done.rowsWritten;
    tally.periodsCovered += item.periods;
    return RESUMED;
  });
  const { completed: _ledger, ...rest } = plan;
  return { plan: rest, status: status.join(''), cursor: 0, tallies, itemRows: items.map(() => 0), runs: 1, reportedAt: -1 };
}

function historyIsFull(options: ResolvedRunOptions): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength >= options.maxHistoryEvents;
}

/** The attempt that produced a result, as reported by the worker's attempt interceptor (1 when absent). */
function attemptOf(summary: AggregateSummary): number {
  const attempt = (summary as AggregateSummary & { attempt?: unknown }).attempt;
  return typeof attempt === 'number' ? attempt : 1;
}

export function describeFailure(err: unknown, maxAttempts: number): { errorType: string; message: string; attempts: number } {
  if (err instanceof ActivityFailure) {
    const cause = err.cause;
    const detail = cause instanceof ApplicationFailure ? (cause.details?.[0] as { attempt?: unknown } | undefined) : undefined;
    const attempts = typeof detail?.attempt === 'number' ? detail.attempt : err.retryState === 'MAXIMUM_ATTEMPTS_REACHED' ? maxAttempts : 1;
    if (cause instanceof ApplicationFailure) return { errorType: cause.type ?? 'Error', message: cause.message, attempts };
    if (cause instanceof TimeoutFailure) return { errorType: 'TimeoutFailure', message: `activity ${cause.timeoutType ?? ''} timeout`.replace('  ', ' '), attempts };
    return { errorType: cause?.name ?? 'ActivityFailure', message: cause?.message ?? err.message, attempts };
  }
  const e = err as { name?: string; message?: string };
  return { errorType: e?.name ?? 'Error', message: e?.message ?? String(err), attempts: 1 };
}

async function recordDone(input: AggregationChunkInput, items: WorkItem[], status: string[], itemRows: number[]): Promise<void> {
  const chunks: CompletedChunk[] = [];
  items.forEach((item, i) => {
    if (status[i] === DONE) chunks.push({ tenantId: item.tenantId, type: item.type, periodType: item.periodType, from: item.from, to: item.to, rowsWritten: itemRows[i] ?? 0 });
  });
  if (chunks.length > 0) {
    await recordCompletedChunks.executeWithOptions({ summary: `record ${chunks.length} completed calls for a later run to skip` }, [
      { jobKey: input.rootWorkflowId, chunks },
    ]);
  }
}

function summarize(
  input: AggregationChunkInput,
  state: ChunkState,
  tasks: { tenantId: string; type: WorkItem['type'] }[],
  tallies: TaskTally[],
  progress: AggregationProgress,
  counts: Record<string, number>,
): AggregationChunkResult {
  const outcomes: TenantOutcome[] = tasks.map(({ tenantId, type }, k) => {
    const t = tallies[k]!;
    return t.errorType !== undefined
      ? { tenantId, type, status: 'failed', errorType: t.errorType, message: t.message ?? '', attempts: t.attempts }
      : { tenantId, type, status: 'succeeded', rowsWritten: t.rowsWritten, periodsCovered: t.periodsCovered, attempts: t.attempts };
  });
  const failedOutcomes = outcomes.filter((o) => o.status === 'failed');
  const listed = [...failedOutcomes, ...outcomes.filter((o) => o.status === 'succeeded')].slice(0, input.options.maxOutcomesInResult);
  return {
    chunkIndex: input.chunkIndex,
    tenants: new Set(tasks.map((t) => t.tenantId)).size,
    tasks: tasks.length,
    succeeded: outcomes.length - failedOutcomes.length,
    failed: failedOutcomes.length,
    rowsWritten: tallies.reduce((n, t) => n + t.rowsWritten, 0),
    chunks: { total: progress.total, done: counts[DONE]!, failed: counts[FAILED]!, skipped: counts[SKIPPED]!, resumed: counts[RESUMED]! },
    outcomes: listed,
    outcomesOmitted: outcomes.length - listed.length,
    runs: state.runs,
  };
}

/**
 * Sends the chunk's progress to the parent each time another tenth of the calls has settled (a
 * signal per call would bloat the parent's history), one signal in flight at a time; a signal
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
