import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sleepWorkflow } from './fixtures/workflows/sleep';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('the time-skipping test server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: inject('temporalTestServerPath') } },
    });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('sleeps a simulated day in a few real seconds', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'sleep',
      workflowsPath: fileURLToPath(new URL('./fixtures/workflows/sleep.ts', import.meta.url)),
    });
    const realStart = Date.now();
    const result = await worker.runUntil(env.client.workflow.execute(sleepWorkflow, { args: [DAY_MS], taskQueue: 'sleep', workflowId: 'sleep-a-day' }));
    const realElapsed = Date.now() - realStart;
    // Workflow time moved a full day (and a little for the tasks themselves)...
    expect(result.wokeAt - result.startedAt).toBeGreaterThanOrEqual(DAY_MS);
    expect(result.wokeAt - result.startedAt).toBeLessThan(DAY_MS + 60_000);
    // ...while the real clock cannot have: this is the behaviour under test, not a speed benchmark.
    expect(realElapsed).toBeLessThan(DAY_MS / 1000);
  });
});
