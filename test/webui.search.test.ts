import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { PROJECT_ROOT, TEMPORAL_CLI } from '../src/paths';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { createTemporalWorker } from '../src/temporal/worker';
import { createTestDatabase } from './helpers/db';
import { uniqueSuffix } from './helpers/config';
import type { TestDatabase } from './helpers/db';
import { org } from './helpers/fixtures';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';
import { activitiesWith, eventually } from './helpers/workflow-env';
import { runProcess } from './helpers/cli';

// An operator looking for "the revenue backfill for tenant X" in the Temporal Web UI: a real
// headless Chromium opens the dev server's UI with a search-attribute query, finds the run, reads
// its status, and saves screenshots under artifacts/ (git-ignored) for a human to look at.

const ARTIFACTS = join(PROJECT_ROOT, 'artifacts');
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

let temporal: TestTemporal;
let t: TestDatabase;
let worker: Worker;
let running: Promise<void>;
let browser: BrowserContext;
let profileDir: string;

beforeAll(async () => {
  [temporal, t] = await Promise.all([connectTestTemporal(), createTestDatabase('webui')]);
  await org(t.pool, 'tenant-ui-berlin', 'Europe/Berlin');
  await org(t.pool, 'tenant-ui-tokyo', 'Asia/Tokyo');
  await org(t.pool, 'tenant-ui-mars', 'Mars/Olympus_Mons'); // no such timezone: this tenant fails
  worker = await createTemporalWorker({
    connection: temporal.nativeConnection,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    activities: activitiesWith(t.db),
  });
  running = worker.run();
  await mkdir(join(PROJECT_ROOT, '.local'), { recursive: true });
  profileDir = await mkdtemp(join(PROJECT_ROOT, '.local', 'chromium-profile-'));
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1600, height: 1000 },
  });
});

afterAll(async () => {
  await browser?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running;
  await t?.drop();
  await temporal?.close();
});

describe('the Temporal Web UI', () => {
  it('finds a revenue backfill for one tenant by search attributes and shows it completed', async () => {
    const jobId = `ui-${uniqueSuffix()}`;
    const handle = await startAggregationWorkflow(
      temporal.client,
      {
        job: { type: 'revenue', periodType: 'day', periodStart: '2025-08-01', periodEnd: '2025-10-30', tenantId: 'tenant-ui-berlin' },
        jobId,
        requestedAt: '2025-11-06T12:00:00.000Z',
      },
      { taskQueue: temporal.taskQueue },
    );
    const result = await handle.result();
    expect(result.totals.succeeded).toBe(1);
    // A run without failures says so: FailedTenants = 0.
    expect((await handle.describe()).searchAttributes.FailedTenants).toEqual([0]);
    // Visibility is eventually consistent: wait until the server lists it before asking the UI.
    await eventually(
      async () => ((await temporal.client.workflow.count(`JobId = '${jobId}'`)).count === 2 ? true : undefined),
      'visibility to list the run and its child',
    );

    const query = `TenantId = "tenant-ui-berlin" AND AggregationType = "revenue" AND JobId = "${jobId}"`;
    const page = await browser.newPage();
    await page.goto(`${inject('temporalUiUrl')}/namespaces/${temporal.namespace}/workflows?query=${encodeURIComponent(query)}`);
    // The run's row: its workflow id links to its page; the status badge sits in the same row.
    const row = page.locator('tr', { has: page.getByRole('link', { name: handle.workflowId, exact: true }) });
    await row.waitFor({ timeout: 30_000 });
    const childRow = page.locator('tr', { has: page.getByRole('link', { name: `${handle.workflowId}/chunk-1`, exact: true }) });
    await childRow.waitFor({ timeout: 30_000 });
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'webui-search.png'), fullPage: true });
    // The status badge is the row's first cell after the checkbox (the UI renders it in capitals).
    const statusOf = async (r: typeof row) => (await r.locator('td').allInnerTexts()).map((c) => c.trim()).find((c) => /^(running|completed|failed|canceled|terminated|timed out)$/i.test(c));
    expect((await statusOf(row))?.toLowerCase()).toBe('completed');
    expect((await statusOf(childRow))?.toLowerCase()).toBe('completed');
    // Exactly the two runs of this job match the query.
    expect(await page.locator('tbody tr').count()).toBe(2);

    // The run's page names its chunk child by the child's one-line summary (on the timeline).
    await page.getByRole('link', { name: handle.workflowId, exact: true }).click();
    await page.getByText('revenue backfill day 2025-08-01..2025-10-30 for tenant tenant-ui-berlin').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'webui-workflow.png'), fullPage: true });
    await page.close();
  });

  it('lists a run with failed tenants through FailedTenants > 0 and names the tenant in its details', async () => {
    const jobId = `ui-failed-${uniqueSuffix()}`;
    const handle = await startAggregationWorkflow(
      temporal.client,
      { job: { type: 'revenue', periodType: 'day', periodStart: '2025-10-01' }, jobId, requestedAt: '2025-11-06T12:00:00.000Z' },
      { taskQueue: temporal.taskQueue },
    );
    await expect(handle.result()).rejects.toThrow();
    // Only the run (not its chunk child) carries the count: one tenant of three failed.
    const query = `FailedTenants > 0 AND JobId = "${jobId}"`;
    await eventually(async () => ((await temporal.client.workflow.count(query)).count === 1 ? true : undefined), 'visibility to list the failed run');
    const described = await handle.describe();
    expect(described.searchAttributes.FailedTenants).toEqual([1]);

    // The same query through the Temporal CLI, as an operator would type it.
    const cli = await runProcess(TEMPORAL_CLI, ['workflow', 'list', '--address', inject('temporalAddress'), '--namespace', temporal.namespace, '--query', query, '--output', 'json']);
    expect(cli.code).toBe(0);
    expect((JSON.parse(cli.stdout) as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId)).toEqual([handle.workflowId]);

    const page = await browser.newPage();
    await page.goto(`${inject('temporalUiUrl')}/namespaces/${temporal.namespace}/workflows?query=${encodeURIComponent(query)}`);
    const row = page.locator('tr', { has: page.getByRole('link', { name: handle.workflowId, exact: true }) });
    await row.waitFor({ timeout: 30_000 });
    expect(await page.locator('tbody tr').count()).toBe(1);
    const status = (await row.locator('td').allInnerTexts()).map((c) => c.trim()).find((c) => /^(running|completed|failed)$/i.test(c));
    expect(status?.toLowerCase()).toBe('failed');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'webui-failed-tenants.png'), fullPage: true });

    // The run's page names the failed tenant (its details, and the failure message).
    await page.getByRole('link', { name: handle.workflowId, exact: true }).click();
    await page.getByText('tenant-ui-mars', { exact: false }).first().waitFor({ timeout: 30_000 });
    // Its "User Metadata" tab shows the summary and the current details the run ended with.
    await page.getByText('User Metadata', { exact: true }).first().click();
    // The UI renders details (markdown) in sandboxed frames: read the text of every frame.
    const shown = async () => (await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')))).join('\n');
    await vi.waitFor(
      async () => {
        const text = await shown();
        expect(text).toMatch(/1 of 3 tenants failed\s*\(FailedTenants = 1; every outcome in aggregation_outcomes/);
        expect(text).toMatch(/tenant-ui-mars: InvalidInputError after 1 attempt/);
      },
      { timeout: 30_000, interval: 250 },
    );
    await page.screenshot({ path: join(ARTIFACTS, 'webui-failed-tenants-workflow.png'), fullPage: true });
    await page.close();
  });
});
