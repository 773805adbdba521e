import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PartitionResult, PlanningActivities } from '../activities/planning';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { aggregationChunkWorkflow, type AggregationChunkResult } from './aggregation-chunk';
import { chunkProgressSignal, progressQuery } from './definitions';
import { describeChunk } from './describe';
import { PLANNING_ACTIVITY, resolveRunOptions } from './profiles';
import { jobSearchAttributes, TenantCount, TenantId } from './search-attributes';
import type { AggregationProgress, AggregationWorkflowInput, AggregationWorkflowResult, TenantOutcome } from './types';

const { partitionTenants, forgetCompletedChunks } = proxyActivities<PlanningActivities>(PLANNING_ACTIVITY);

/**
 * An `aggregation` job as a durable workflow (id `aggregation/<jobId>`): partitions the tenants
 * (an activity) and runs one chunk child per partition (`<workflowId>/chunk-<n>`, at most
 * `maxConcurrentChildren` at a time), each fanning out one activity per (tenant, type, chunk of
 * periods). Children keep the parent's history small (tens of events per 500 tenants) and continue
 * as new themselves, so a run over 10,000+ tenants stays within Temporal's limits. Per-tenant
 * failures are outcomes, not workflow failures; bad job input fails the workflow, naming the field.
 */
export async function aggregationWorkflow(input: AggregationWorkflowInput): Promise<AggregationWorkflowResult> {
  const { workflowId } = workflowInfo();
  const options = resolveRunOptions(input.options);
  tagRun(input);

  const chunks: AggregationProgress[] = [];
  let currentPeriod: string | null = null;
  const progress = (): AggregationProgress => ({
    total: chunks.reduce((n, c) => n + c.total, 0),
    done: chunks.reduce((n, c) => n + c.done, 0),
    failed: chunks.reduce((n, c) => n + c.failed, 0),
    currentPeriod,
  });
  const showDetails = () => {
    const p = progress();
    setCurrentDetails(`${p.done + p.failed}/${p.total} activity calls settled (${p.failed} failed)${currentPeriod ? `; now ${currentPeriod}` : ''}`);
  };
  const settled = new Set<number>();
  setHandler(progressQuery, progress);
  setHandler(chunkProgressSignal, (p) => {
    if (settled.has(p.chunkIndex) || !chunks[p.chunkIndex]) return;
    chunks[p.chunkIndex] = { total: p.total, done: p.done, failed: p.failed, currentPeriod: p.currentPeriod };
    if (p.currentPeriod) currentPeriod = p.currentPeriod;
    showDetails();
  });

  let partitioning: PartitionResult;
  try {
    partitioning = await partitionTenants.executeWithOptions({ summary: `partition the tenants into chunks of ${options.tenantsPerChild}` }, [
      { job: input.job, requestedAt: input.requestedAt, periodsPerActivity: options.periodsPerActivity, tenantsPerPartition: options.tenantsPerChild },
    ]);
  } catch (err) {
    throw planningFailure(err);
  }
  const { partitions, tenantCount } = partitioning;
  upsertSearchAttributes([{ key: TenantCount, value: tenantCount }]);
  for (const p of partitions) chunks.push({ total: p.chunks, done: 0, failed: 0, currentPeriod: null });
  showDetails();

  const childrenAtOnce = Math.max(1, Math.min(options.maxConcurrentChildren, partitions.length));
  const childOptions = { ...options, maxConcurrentActivities: Math.max(1, Math.floor(options.maxConcurrentActivities / childrenAtOnce)) };
  const results: AggregationChunkResult[] = [];
  const childFailures: AggregationWorkflowResult['childFailures'] = [];
  const failedTasksOfFailedChildren: number[] = [];

  async function runChild(index: number): Promise<void> {
    const partition = partitions[index]!;
    const childId = `${workflowId}/chunk-${index + 1}`;
    const single = input.job.tenantId ?? (partition.tenants === 1 ? partition.lastTenantId : undefined);
    try {
      const result = await executeChild(aggregationChunkWorkflow, {
        workflowId: childId,
        args: [
          {
            rootWorkflowId: workflowId,
            jobId: input.jobId,
            job: input.job,
            requestedAt: input.requestedAt,
            chunkIndex: index,
            chunkCount: partitions.length,
            partition,
            options: childOptions,
          },
        ],
        memo: { jobId: input.jobId, chunk: index + 1 },
        typedSearchAttributes: [
          ...jobSearchAttributes(input.job, input.jobId).filter((p) => p.key.name !== TenantId.name),
          { key: TenantCount, value: partition.tenants },
          ...(single !== undefined ? [{ key: TenantId, value: single }] : []),
        ],
        staticSummary: describeChunk(input.job, index, partitions.length, partition.tenants, partition.lastTenantId),
      });
      results[index] = result;
      chunks[index] = {
        total: result.chunks.total,
        done: result.chunks.done + result.chunks.resumed,
        failed: result.chunks.failed + result.chunks.skipped,
        currentPeriod: null,
      };
    } catch (err) {
      // The run itself is being cancelled: the main loop reports it.
      if (isCancellation(err) && CancellationScope.current().consideredCancelled) return;
      const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
      childFailures.push({
        workflowId: childId,
        errorType: cause instanceof ApplicationFailure ? (cause.type ?? 'Error') : ((cause as Error | undefined)?.name ?? 'Error'),
        message: (cause as Error | undefined)?.message ?? String(err),
      });
      failedTasksOfFailedChildren.push(partition.tenants * typeCount(input));
      chunks[index] = { total: partition.chunks, done: 0, failed: partition.chunks, currentPeriod: null };
      log.error('chunk child did not complete', { childId, error: String(err) });
    } finally {
      settled.add(index);
      showDetails();
    }
  }

  let next = 0;
  let running = 0;
  const inFlight = new Set<Promise<void>>();
  try {
    while (next < partitions.length) {
      await condition(() => running < childrenAtOnce);
      const index = next++;
      running += 1;
      const child: Promise<void> = runChild(index).finally(() => {
        running -= 1;
        inFlight.delete(child);
      });
      inFlight.add(child);
    }
    await condition(() => running === 0);
  } catch (err) {
    // Cancellation reaches the children too; wait for them to record what they completed.
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => Promise.allSettled([...inFlight]));
    throw err;
  }

  const resumed = results.reduce((n, r) => n + (r?.chunks.resumed ?? 0), 0);
  if (resumed > 0) {
    // The ledger of the cancelled run(s) has served its purpose; a later run recomputes everything.
    await forgetCompletedChunks({ jobKey: workflowId }).catch((err: unknown) => log.warn('could not clear the ledger', { error: String(err) }));
  }
  currentPeriod = null;
  showDetails();
  return assemble(input, workflowId, tenantCount, options.maxOutcomesInResult, results, childFailures, failedTasksOfFailedChildren);
}

function typeCount(input: AggregationWorkflowInput): number {
  return input.job.type === 'all' ? 3 : 1;
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
  if (isCancellation(err) || !(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return err;
  const cause = err.cause;
  const badInput = (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(cause.type ?? '');
  return ApplicationFailure.create({ type: cause.type ?? undefined, message: `planning the job failed: ${cause.message}`, nonRetryable: badInput, cause: err });
}

function assemble(
  input: AggregationWorkflowInput,
  workflowId: string,
  tenantCount: number,
  maxOutcomes: number,
  results: AggregationChunkResult[],
  childFailures: AggregationWorkflowResult['childFailures'],
  failedTasksOfFailedChildren: number[],
): AggregationWorkflowResult {
  const done = results.filter((r): r is AggregationChunkResult => r !== undefined);
  const sum = (f: (r: AggregationChunkResult) => number) => done.reduce((n, r) => n + f(r), 0);
  const lostTasks = failedTasksOfFailedChildren.reduce((n, t) => n + t, 0);
  const failures: TenantOutcome[] = done.flatMap((r) => r.outcomes.filter((o) => o.status === 'failed'));
  const successes: TenantOutcome[] = done.flatMap((r) => r.outcomes.filter((o) => o.status === 'succeeded'));
  const outcomes = [...failures, ...successes].slice(0, maxOutcomes);
  return {
    workflowId,
    jobId: input.jobId,
    totals: {
      tenants: tenantCount,
      tasks: sum((r) => r.tasks) + lostTasks,
      succeeded: sum((r) => r.succeeded),
      failed: sum((r) => r.failed) + lostTasks,
      rowsWritten: sum((r) => r.rowsWritten),
    },
    outcomes,
    outcomesOmitted: failures.length + successes.length - outcomes.length + sum((r) => r.outcomesOmitted),
    chunks: {
      total: sum((r) => r.chunks.total),
      done: sum((r) => r.chunks.done),
      failed: sum((r) => r.chunks.failed),
      skipped: sum((r) => r.chunks.skipped),
      resumed: sum((r) => r.chunks.resumed),
    },
    childFailures,
  };
}

