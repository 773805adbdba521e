import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsQueue } from '../src/queue';
import { PROJECT_ROOT } from '../src/paths';
import { bundleFixtureWorkflows, createTestQueue, runFixtureWorker, waitFor, waitForState, type RunningWorker } from './fixtures/queue';
import type { FixtureResult } from './fixtures/workflows/bridge';
import { createTestRedis } from './helpers/redis';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';

const BRIDGE_PROCESS = fileURLToPath(new URL('./fixtures/bridge-process.ts', import.meta.url));

/** Starts a bridge in its own process and resolves once it takes jobs. */
async function startBridgeProcess(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', BRIDGE_PROCESS, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor('the bridge process to be ready', () => out.includes('ready\n') || (child.exitCode !== null && Promise.reject(new Error(`exited ${child.exitCode}`))), 30_000);
  return child;
}

describe('a bridge worker that dies mid-job', () => {
  const redis = createTestRedis();
  let temporal: TestTemporal;
  let bundle: WorkflowBundleWithSourceMap;
  let temporalWorker: RunningWorker;
  let queue: AnalyticsQueue;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    bundle = await bundleFixtureWorkflows();
    temporalWorker = await runFixtureWorker(temporal, bundle, { checkCause: async () => 'fixed' });
    queue = await createTestQueue(redis.queueName, temporal, { bridge: { lockDurationMs: 2_000, stalledIntervalMs: 1_000 } }).ready();
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await queue.close();
    await temporalWorker.stop();
    await temporal.close();
    await redis.cleanup();
  });

  it('leaves a stalled job that the next bridge re-attaches to the running workflow, starting no second run', async () => {
    child = await startBridgeProcess([redis.queueName, temporal.address, temporal.namespace, temporal.taskQueue]);
    const job = await queue.addJob('aggregation', { tenantId: 'step-stalled', type: 'revenue' });
    const jobId = job.id!;
    await waitForState(queue, jobId, 'active');
    const handle = temporal.client.workflow.getHandle(`aggregation/${redis.queueName}:${jobId}`);
    const { runId } = await waitFor('the workflow', () => handle.describe());
    await handle.signal('step');
    await waitFor('progress mirrored by the first bridge', async () => ((await queue.getJob(jobId))?.progress as { done?: number })?.done === 1);

    child.kill('SIGKILL');
    await once(child, 'exit');
    // Dead without a word: the job still looks active until its lock expires.
    expect(await (await queue.getJob(jobId))!.getState()).toBe('active');

    await queue.createWorker();
    await waitFor('the second bridge to attach', async () => {
      const { logs } = await queue.queue.getJobLogs(jobId);
      return logs.filter((l) => l.startsWith('following workflow')).length === 2;
    });
    await handle.signal('step');
    await handle.signal('step');
    const done = await waitForState(queue, jobId, 'completed');

    expect((done.returnvalue as FixtureResult).steps).toBe(3);
    expect(done.stalledCounter).toBe(1);
    const { logs } = await queue.queue.getJobLogs(jobId);
    expect(logs.filter((l) => l.startsWith('following workflow'))).toEqual([
      `following workflow aggregation/${redis.queueName}:${jobId} (run ${runId}), attempt 1`,
      `following workflow aggregation/${redis.queueName}:${jobId} (run ${runId}), attempt 1`,
    ]);
    const latest = await handle.describe();
    expect(latest.runId).toBe(runId);
    expect(latest.status.name).toBe('COMPLETED');
    // One run under this workflow id: none started by the second bridge.
    const runs = await waitFor('visibility of the run', async () => {
      const found = [];
      for await (const w of temporal.client.workflow.list({ query: `WorkflowId = "aggregation/${redis.queueName}:${jobId}"` })) found.push(w);
      return found.length > 0 && found.every((w) => w.status.name === 'COMPLETED') ? found : undefined;
    });
    expect(runs.map((w) => w.runId)).toEqual([runId]);
  });
});
