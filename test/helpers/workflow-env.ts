import proto, { type temporal } from '@temporalio/proto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { inject } from 'vitest';
import { createActivities, systemClock, type Activities, type Clock } from '../../src/activities';
import { createPlanningActivities, type PlanningActivities } from '../../src/activities/planning';
import type { Db } from '../../src/db/client';
import { createLogger } from '../../src/logger';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';

const { EventType, IndexedValueType } = proto.temporal.api.enums.v1;
export { EventType };

type History = temporal.api.history.v1.IHistory;

/**
 * The time-skipping test server (from the path global setup provides), with the project's custom
 * search attributes registered so workflows can set them as they do on the dev server.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
  });
  const types = { KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, INT: IndexedValueType.INDEXED_VALUE_TYPE_INT } as const;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, types[k.type as keyof typeof types]])),
  });
  return env;
}

export type AllActivities = Activities & PlanningActivities;

/**
 * The real activities (aggregation and planning) over `db`, with `overrides` spread over them as
 * Temporal's testing guide does. `clock` stamps outcome rows and drives their purge.
 */
export function activitiesWith(db: Db, overrides: Partial<AllActivities> = {}, clock: Clock = systemClock): AllActivities {
  const logger = createLogger('silent');
  return { ...createActivities({ db, clock, logger }), ...createPlanningActivities({ db, logger, clock }), ...overrides };
}

/** Every run of a workflow id, oldest first, following continue-as-new links back from the latest run. */
export async function runsOf(client: Client, workflowId: string): Promise<{ runId: string; history: History }[]> {
  const runs: { runId: string; history: History }[] = [];
  let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.unshift({ runId, history });
    const started: temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes | null | undefined = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    runId = started?.continuedExecutionRunId || undefined;
  }
  return runs;
}

/**
 * Every run of one execution chain, oldest first, following continue-as-new forward from
 * `firstRunId` (so an earlier, closed chain of a reused workflow id can be read too).
 */
export async function runChain(client: Client, workflowId: string, firstRunId: string): Promise<{ workflowId: string; runId: string; history: History }[]> {
  const runs: { workflowId: string; runId: string; history: History }[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push({ workflowId, runId, history });
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || undefined;
  }
  return runs;
}

/** Every run of a workflow chain and, recursively, of every child chain any of its runs started. */
export async function executionTree(client: Client, workflowId: string, firstRunId: string): Promise<{ workflowId: string; runId: string; history: History }[]> {
  const all: { workflowId: string; runId: string; history: History }[] = [];
  for (const run of await runChain(client, workflowId, firstRunId)) {
    all.push(run);
    for (const e of eventsOf(run.history, EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED)) {
      const child = e.childWorkflowExecutionStartedEventAttributes!.workflowExecution!;
      all.push(...(await executionTree(client, child.workflowId!, child.runId!)));
    }
  }
  return all;
}

export function eventsOf(history: History, type: temporal.api.enums.v1.EventType): temporal.api.history.v1.IHistoryEvent[] {
  return (history.events ?? []).filter((e) => e.eventType === type);
}

/** Ids of the child workflows a history started. */
export function childIdsOf(history: History): string[] {
  return eventsOf(history, EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED).map(
    (e) => e.startChildWorkflowExecutionInitiatedEventAttributes!.workflowId!,
  );
}

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type { WorkflowHandle };
