import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { QueuedAggregationReport } from '../src/cli/aggregate-queued';
import { runCli } from './helpers/cli';
import { seedTenants } from './helpers/seed';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { revenueRows } from './helpers/fixtures';
import { loadRaw, oracleRevenue } from './helpers/oracle';
import { startTestWorkers, type TestWorkers } from './helpers/workers';

// `analytics aggregate` without --local: a subprocess enqueues the job; the real workers (bridge,
// Temporal worker, activities) run it here; the CLI waits and prints per-tenant outcomes.

let t: TestDatabase;
let workers: TestWorkers;

beforeAll(async () => {
  t = await createTestDatabase('cliq');
  await seedTenants(t.pool, { tenants: 2, usersPerTenant: 25, days: 45, seed: 5, untilMs: Date.parse('2025-03-15T00:00:00Z') });
  workers = await startTestWorkers(t.url, { address: inject('temporalAddress') }, {}, { AGGREGATION_MAX_IN_FLIGHT: '7' });
});

afterAll(async () => {
  await workers?.proc.shutdown();
  await t?.drop();
});

describe('analytics aggregate (queued: BullMQ -> Temporal -> Postgres)', () => {
  it('prints each tenant\'s outcome as JSON, and the rows equal the oracle', async () => {
    const r = await runCli(['aggregate', '--type', 'revenue', '--period-type', 'day', '--from', '2025-02-01', '--to', '2025-03-01', '--json'], { env: workers.env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as QueuedAggregationReport;
    // Not the default queue: the queue name is part of the workflow id.
    expect(result.workflowId).toBe(`aggregation/${workers.env.QUEUE_NAME}:${result.jobId}`);
    // The workers' AGGREGATION_MAX_IN_FLIGHT reached the workflow the bridge started.
    const history = await (await workers.proc.queue.temporalClient()).workflow.getHandle(result.workflowId).fetchHistory();
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    const input = JSON.parse(new TextDecoder().decode(started.input!.payloads![0]!.data!)) as { options?: { maxConcurrentActivities?: number } };
    expect(input.options?.maxConcurrentActivities).toBe(7);
    expect(result.status).toBe('completed');
    expect(result.totals).toMatchObject({ tenants: 2, tasks: 2, succeeded: 2, failed: 0, rowsWritten: 56 });
    expect(result.outcomes.map((o) => [o.tenantId, o.type, o.status]).sort()).toEqual([
      ['tenant-001', 'revenue', 'succeeded'],
      ['tenant-002', 'revenue', 'succeeded'],
    ]);
    // February 2025 has 28 days: 28 rows per tenant, each equal to the independent oracle's.
    for (const tenantId of ['tenant-001', 'tenant-002']) {
      const rows = await revenueRows(t.pool, tenantId, 'day');
      expect(rows).toHaveLength(28);
      expect(rows).toEqual(oracleRevenue(await loadRaw(t.pool, tenantId), 'day', '2025-02-01', '2025-03-01'));
    }
  });

  it('prints a table by default', async () => {
    const r = await runCli(['aggregate', '--type', 'tournaments', '--tenant', 'tenant-002', '--period-type', 'week', '--from', '2025-02-03', '--to', '2025-03-03'], { env: workers.env, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^tenant-002\s+tournaments\s+succeeded\s+4\s+4\s+1/m);
    expect(r.stdout).toContain('1 tenant(s), 1/1 tasks succeeded, 0 failed, 4 rows written');
  });

  it('a payload the queue rejects is a usage error naming the field (exit 2), nothing enqueued', async () => {
    const r = await runCli(['aggregate', '--type', 'revenue', '--tenant', '', '--period-type', 'day', '--from', '2025-02-01', '--to', '2025-02-02'], { env: workers.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tenant');
    expect((await workers.proc.queue.getQueueMetrics()).waiting).toBe(0);
  });
});
