import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowBundle } from '../src/temporal/worker';
import { EventType, eventsOf } from './helpers/workflow-env';

// Histories recorded from earlier versions of the workflows (test/fixtures/histories, written by
// record.ts and record-jobs.ts there) must replay against today's code: a change that would break running
// workflows (a non-determinism error) fails here before it reaches a worker.

const DIR = fileURLToPath(new URL('./fixtures/histories/', import.meta.url));
const { History } = proto.temporal.api.history.v1;

type Recorded = { file: string; workflowId: string; history: proto.temporal.api.history.v1.History };
let recorded: Recorded[];

beforeAll(async () => {
  const files = (await readdir(DIR)).filter((f) => f.endsWith('.json')).sort();
  recorded = await Promise.all(
    files.map(async (file) => {
      const { workflowId, history } = JSON.parse(await readFile(`${DIR}${file}`, 'utf8')) as { workflowId: string; history: object };
      return { file, workflowId, history: History.fromObject(history) };
    }),
  );
});

const started = (r: Recorded) => r.history.events[0]!.workflowExecutionStartedEventAttributes!;

describe('recorded histories', () => {
  it('cover every workflow the worker bundle exports', async () => {
    const exported = Object.keys(await import('../src/workflows/index')).sort();
    expect(new Set(recorded.map((r) => started(r).workflowType!.name))).toEqual(new Set(exported));
  });

  it('of the aggregation workflows cover retries, bad input, continue-as-new of parent and child, regular activities, cancellation and resumption', () => {
    const aggregation = recorded.filter((r) => !r.file.startsWith('jobs.'));
    expect(new Set(aggregation.map((r) => started(r).workflowType!.name))).toEqual(new Set(['aggregationWorkflow', 'aggregationChunkWorkflow']));
    const continued = aggregation.filter((r) => started(r).continuedExecutionRunId).map((r) => started(r).workflowType!.name);
    expect(new Set(continued)).toEqual(new Set(['aggregationWorkflow', 'aggregationChunkWorkflow']));
    expect(aggregation.filter((r) => eventsOf(r.history, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED).length > 0).map((r) => r.file)).toEqual([
      'cancelled.chunk-1.run-1.json',
      'cancelled.parent.run-1.json',
    ]);
    // Regular activities: the purge, and the tenant activities of the `regular` scenario.
    const activityTypes = new Set(aggregation.flatMap((r) => eventsOf(r.history, EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name)));
    expect(activityTypes).toEqual(new Set(['purgeOutcomes', 'aggregateTenant']));
    // Local activities, recorded as markers: planning, paging, the resume ledger and the tenants.
    const markers = aggregation.flatMap((r) =>
      eventsOf(r.history, EventType.EVENT_TYPE_MARKER_RECORDED).map(
        (e) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details!.data!.payloads![0]!.data!).toString()) as { activity_type: string; attempt: number },
      ),
    );
    expect(new Set(markers.map((m) => m.activity_type))).toEqual(new Set(['planJob', 'tenantPages', 'pendingTenants', 'aggregateTenant']));
    // A tenant that failed three times: its marker records the third, final attempt.
    expect(Math.max(...markers.map((m) => m.attempt))).toBe(3);
    // The resumed run found the cancelled run's outcome rows.
    expect(aggregation.some((r) => r.file.startsWith('resumed.parent.') && r.history.events.at(-1)!.workflowExecutionCompletedEventAttributes)).toBe(true);
  });

  it('replay against the current workflow code without non-determinism errors', async () => {
    const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, recorded.map(({ workflowId, history }) => ({ workflowId, history })));
    const failures: string[] = [];
    let replayed = 0;
    for await (const r of results) {
      replayed += 1;
      if (r.error) failures.push(`${r.workflowId} (${r.runId}): ${String(r.error)}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(recorded.length);
  });
});
