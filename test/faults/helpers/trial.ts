import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { expect } from 'vitest';
import { loadConfig } from '../../../src/config';
import { PROJECT_ROOT } from '../../../src/paths';
import { AnalyticsQueue, workflowIdFor } from '../../../src/queue';
import { uniqueSuffix } from '../../helpers/config';
import { BACKFILL, checkStaleWrites, runAnalytics, compareWithClean, prepareFaultData, TENANTS, type Comparison, type FaultData, type StaleCheck } from './data';
import { alive, startFaultStack, until, type FaultStack } from './stack';
import { startWorkers, type WorkersProcess } from './workers';

// One fault file's world: the private stack, the data, real workers, a queue client, and the
// trial loop that runs the backfill, breaks something at a chosen moment, and judges the end.

export const FIGURES_FILE = join(PROJECT_ROOT, 'artifacts', 'faults.json');

/** When in the backfill the fault hits: counted in tenants whose aggregation has committed. */
export const MOMENTS = { start: 0, early: 4, late: 12 } as const;
/** `none`: the trial does not wait for a moment (the fault is in the data, there from the start). */
export type Moment = keyof typeof MOMENTS | 'none';

export interface TrialFigures {
  fault: string;
  moment: Moment;
  jobId: string;
  /** Tenants already committed when the fault hit. */
  tenantsDoneAtFault: number;
  finalState: string;
  attemptsMade: number;
  deadLettered: boolean;
  dlqRetried: boolean;
  /** Fault cleared (service back, workers restarted) → job terminal, ms. */
  recoveryMs: number;
  workflowIds: string[];
  workflowRuns: number;
  completedRuns: number;
  overlappingRuns: number;
  comparison: Comparison;
  stale: StaleCheck;
}

export interface FaultWorld {
  stack: FaultStack;
  data: FaultData;
  env: Record<string, string>;
  queue: AnalyticsQueue;
  workers: WorkersProcess | undefined;
  trials: TrialFigures[];
  startWorkers(): Promise<WorkersProcess>;
  /** Every pid the world started that still runs (services, workers). */
  livePids(): Promise<number[]>;
  close(): Promise<void>;
}

export async function createFaultWorld(extraEnv: Record<string, string> = {}): Promise<FaultWorld> {
  const stack = await startFaultStack();
  let data: FaultData | undefined;
  try {
    data = await prepareFaultData((s) => stack.pg.url(s));
  } catch (err) {
    await stack.close();
    throw err;
  }
  const suffix = uniqueSuffix();
  const env: Record<string, string> = {
    REDIS_URL: stack.redis.url,
    DATABASE_URL: data.url,
    TEMPORAL_ADDRESS: stack.temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: `faults-${suffix}`,
    QUEUE_NAME: `faults-${suffix}`,
    LOG_LEVEL: 'error',
    SHUTDOWN_GRACE_MS: '2000',
    // One tenant at a time, so the backfill lasts long enough to be hit at a chosen moment.
    AGGREGATION_MAX_IN_FLIGHT: '1',
    ...extraEnv,
  };
  const queue = new AnalyticsQueue({ config: loadConfig({ ...process.env, ...env }), queueName: env.QUEUE_NAME });
  await queue.ready();
  const started: WorkersProcess[] = [];
  const world: FaultWorld = {
    stack,
    data,
    env,
    queue,
    workers: undefined,
    trials: [],
    async startWorkers() {
      world.workers = await startWorkers(env);
      started.push(world.workers);
      return world.workers;
    },
    async livePids() {
      return [...(await stack.pids()), ...started.filter((w) => w.running()).map((w) => w.pid)];
    },
    async close() {
      for (const w of started) await w.stop();
      await queue.close().catch(() => {});
      await data?.close();
      const pids = await world.livePids();
      await stack.close();
      await until('every process of the world to exit', () => pids.every((p) => !alive(p)), 30_000);
    },
  };
  return world;
}

async function tenantsDone(world: FaultWorld, jobKey: string): Promise<number> {
  const { rows } = await world.data.pool.query<{ n: number }>(
    `SELECT count(DISTINCT tenant_id)::int AS n FROM aggregation_outcomes WHERE job_key = $1 AND status = 'succeeded'`,
    [jobKey],
  );
  return rows[0]!.n;
}

/** Job state, retried through a Redis that may be restarting. */
async function stateOf(world: FaultWorld, jobId: string): Promise<{ job: Job | undefined; state: string }> {
  const job = await world.queue.getJob(jobId);
  return { job, state: job ? await job.getState() : 'missing' };
}

export async function waitTerminal(world: FaultWorld, jobId: string, timeoutMs: number): Promise<{ job: Job; state: string; at: number }> {
  let last: { job: Job | undefined; state: string } = { job: undefined, state: 'unknown' };
  await until(`job ${jobId} to reach a terminal state (last: ${last.state})`, async () => {
    last = await stateOf(world, jobId);
    return last.state === 'completed' || last.state === 'failed';
  }, timeoutMs, 200);
  return { job: last.job!, state: last.state, at: last.job!.finishedOn ?? Date.now() };
}

/** Workflow executions of the job: ids, runs, and whether two runs were open at once. */
async function workflowsOf(world: FaultWorld, jobId: string): Promise<{ ids: string[]; runs: number; completed: number; overlapping: number }> {
  const client = await world.queue.temporalClient();
  const runs: { id: string; start: number; close: number; status: string }[] = [];
  await until('the job\'s workflow runs to be closed in visibility', async () => {
    runs.length = 0;
    for await (const w of client.workflow.list({ query: `WorkflowType = 'aggregationWorkflow' AND JobId = '${jobId}'` })) {
      runs.push({ id: w.workflowId, start: w.startTime.getTime(), close: w.closeTime?.getTime() ?? Number.POSITIVE_INFINITY, status: w.status.name });
    }
    return runs.length > 0 && runs.every((r) => r.status !== 'RUNNING');
  }, 60_000, 250);
  runs.sort((a, b) => a.start - b.start);
  let overlapping = 0;
  for (let i = 1; i < runs.length; i++) if (runs[i]!.start < runs[i - 1]!.close) overlapping++;
  return { ids: [...new Set(runs.map((r) => r.id))], runs: runs.length, completed: runs.filter((r) => r.status === 'COMPLETED').length, overlapping };
}

export interface TrialSpec {
  fault: string;
  moment: Moment;
  /** Breaks something and repairs it; resolves with the time the fault was cleared. */
  inject(world: FaultWorld): Promise<number>;
  /** After the job is terminal: run the dead-letter retry when it ended failed. @defaultValue false */
  retryDeadLetters?: boolean;
  /** BullMQ options of the job (attempts, backoff). @defaultValue the queue's defaults */
  jobOptions?: { attempts?: number };
  terminalTimeoutMs?: number;
}

/** Runs one trial from empty aggregates to the checks' figures (the test asserts on them). */
export async function runTrial(world: FaultWorld, spec: TrialSpec): Promise<TrialFigures> {
  await world.data.reset();
  const jobId = `${spec.fault}-${spec.moment}-${uniqueSuffix()}`.replace(/[^A-Za-z0-9._-]/g, '-');
  const jobKey = workflowIdFor('aggregation', jobId, world.queue.name);
  await world.queue.addJob('aggregation', { ...BACKFILL }, { ...spec.jobOptions, jobId });
  const threshold = spec.moment === 'none' ? -1 : MOMENTS[spec.moment];
  if (threshold >= 0) await until(`the backfill to reach moment "${spec.moment}"`, async () => {
    const { state } = await stateOf(world, jobId);
    if (state === 'completed' || state === 'failed') throw new Error(`job ${jobId} ended (${state}) before moment "${spec.moment}"`);
    if (state !== 'active') return false;
    if (threshold === 0) {
      const client = await world.queue.temporalClient();
      return (await client.workflow.getHandle(jobKey).describe()).status.name === 'RUNNING';
    }
    return (await tenantsDone(world, jobKey)) >= threshold;
  }, 120_000, 25);
  const doneAtFault = await tenantsDone(world, jobKey);
  const clearedAt = await spec.inject(world);
  let end = await waitTerminal(world, jobId, spec.terminalTimeoutMs ?? 300_000);
  let deadLettered = false;
  let dlqRetried = false;
  if (end.state === 'failed') {
    await until('the failed job in the dead-letter queue', async () => (await world.queue.listDeadLetters()).some((e) => e.jobId === jobId), 60_000, 200);
    deadLettered = true;
    if (spec.retryDeadLetters) {
      // What an operator runs: `analytics dlq retry <jobId>` (the facade's retryDeadLetters).
      const r = await runAnalytics(['dlq', 'retry', jobId, '--queue', world.queue.name], world.env, 60_000);
      if (r.code !== 0) throw new Error(`analytics dlq retry exited ${r.code}: ${r.stdout}${r.stderr}`);
      dlqRetried = true;
      end = await waitTerminal(world, jobId, spec.terminalTimeoutMs ?? 300_000);
    }
  }
  const wf = await workflowsOf(world, jobId);
  const figures: TrialFigures = {
    fault: spec.fault,
    moment: spec.moment,
    jobId,
    tenantsDoneAtFault: doneAtFault,
    finalState: end.state,
    attemptsMade: end.job.attemptsMade,
    deadLettered,
    dlqRetried,
    recoveryMs: Math.max(0, end.at - clearedAt),
    workflowIds: wf.ids,
    workflowRuns: wf.runs,
    completedRuns: wf.completed,
    overlappingRuns: wf.overlapping,
    comparison: await compareWithClean(world.data.pool),
    stale: await checkStaleWrites(world.data.pool, jobKey),
  };
  world.trials.push(figures);
  return figures;
}

/** Writes this file's figures into artifacts/faults.json under `section` (other sections kept). */
export function recordFigures(section: string, figures: unknown): void {
  mkdirSync(join(PROJECT_ROOT, 'artifacts'), { recursive: true });
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(FIGURES_FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    // first section of a run
  }
  all[section] = { recordedAt: new Date().toISOString(), ...(figures as object) };
  writeFileSync(FIGURES_FILE, `${JSON.stringify(all, null, 2)}\n`);
}

export { TENANTS };

/**
 * What every trial must end with: the job completed, as one workflow id with one completed run
 * and no two runs open at once, every aggregate equal to the clean run's, and no row written by an
 * attempt older than the one the ledger names.
 */
export function expectRecoveredExactly(world: FaultWorld, f: TrialFigures): void {
  expect(f.finalState, JSON.stringify(f)).toBe('completed');
  expect(f.workflowIds).toEqual([workflowIdFor('aggregation', f.jobId, world.queue.name)]);
  expect(f.completedRuns).toBe(1);
  expect(f.overlappingRuns).toBe(0);
  expect(f.comparison).toMatchObject({ missing: 0, wrong: 0, extra: 0 });
  expect(f.stale).toEqual({ staleOutcomeWrites: 0, rowsNotFromFinalAttempt: 0 });
}
