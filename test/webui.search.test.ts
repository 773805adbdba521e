import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../src/paths';
import { startAggregationWorkflow } from '../src/temporal/start-aggregation';
import { createTemporalWorker } from '../src/temporal/worker';
import { createTestDatabase } from './helpers/db';
import { uniqueSuffix } from './helpers/config';
import type { TestDatabase } from './helpers/db';
import { org } from './helpers/fixtures';
import { connectTestTemporal, type TestTemporal } from './helpers/temporal';
import { activitiesWith, eventually } from './helpers/workflow-env';

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
});
