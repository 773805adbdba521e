import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEMPORAL_CLI } from '../src/paths';
import { runCli } from './helpers/cli';
import { uniqueSuffix } from './helpers/config';
import { startTriggerWorker, type TriggerWorker } from './helpers/trigger-worker';

// `analytics schedule ...` as a subprocess against the dev server, in a namespace of its own;
// the trigger workflows run on a worker here and enqueue into a private BullMQ queue.

describe('analytics schedule', () => {
  const taskQueue = `cli-sched-${uniqueSuffix()}`;
  let triggers: TriggerWorker;
  let queue: TriggerWorker['queue'];
  let namespace: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    // `analytics schedule install` points the schedules at TEMPORAL_TASK_QUEUE + '-schedules'.
    triggers = await startTriggerWorker(`${taskQueue}-schedules`, 'clisched');
    ({ queue, namespace } = triggers);
    env = { TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: namespace, TEMPORAL_TASK_QUEUE: taskQueue, TZ: 'Europe/Berlin' };
  });

  afterAll(async () => {
    await triggers?.close();
  });

  const jobIds = async () =>
    (await queue.getJobs(['waiting']))
      .map((j) => j.id!)
      .filter((id) => id.startsWith('daily-revenue-'))
      .sort();

  it('every schedule command has --help', async () => {
    for (const sub of ['install', 'list', 'describe', 'trigger', 'pause', 'unpause', 'backfill']) {
      const r = await runCli(['schedule', sub, '--help']);
      expect(r.code, sub).toBe(0);
      expect(r.stdout, sub).toContain(`Usage: analytics schedule ${sub}`);
    }
  });

  it('usage errors exit 2 and say what is wrong', async () => {
    const unknown = await runCli(['schedule', 'trigger', 'nightly'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown schedule "nightly"');
    const badDate = await runCli(['schedule', 'backfill', 'daily-revenue', '--from', '2026-02-30x', '--to', '2026-03-01'], { env });
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--from');
    const reversed = await runCli(['schedule', 'backfill', 'daily-revenue', '--from', '2026-03-01', '--to', '2026-02-01'], { env });
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toContain('must be after --from');
  });

  it('install, then list --json shows the five schedules in TZ', async () => {
    const install = await runCli(['schedule', 'install', '--json'], { env });
    expect(install.code, install.stderr).toBe(0);
    expect((JSON.parse(install.stdout) as { created: string[] }).created.sort()).toEqual(['daily-revenue', 'hourly-aggregation', 'monthly-cohorts', 'scheduled-report', 'weekly-tournaments']);
    const list = await runCli(['schedule', 'list', '--json'], { env });
    expect(list.code).toBe(0);
    const status = JSON.parse(list.stdout) as { name: string; schedule: string; timezone: string; enabled: boolean }[];
    expect(status.map((s) => `${s.name} ${s.schedule} ${s.timezone} ${s.enabled}`)).toEqual([
      'hourly-aggregation 0 * * * * Europe/Berlin true',
      'daily-revenue 0 0 * * * Europe/Berlin true',
      'monthly-cohorts 0 1 1 * * Europe/Berlin true',
      'weekly-tournaments 0 2 * * 1 Europe/Berlin true',
      'scheduled-report 0 6 * * 1 Europe/Berlin true',
    ]);
    const human = await runCli(['schedule', 'list'], { env });
    expect(human.stdout).toMatch(/^daily-revenue\s+0 0 \* \* \*\s+Europe\/Berlin\s+true/m);
  });

  it('pause and unpause show in describe', async () => {
    expect((await runCli(['schedule', 'pause', 'weekly-tournaments'], { env })).code).toBe(0);
    const paused = JSON.parse((await runCli(['schedule', 'describe', 'weekly-tournaments', '--json'], { env })).stdout) as { enabled: boolean };
    expect(paused.enabled).toBe(false);
    expect((await runCli(['schedule', 'unpause', 'weekly-tournaments'], { env })).code).toBe(0);
    const resumed = JSON.parse((await runCli(['schedule', 'describe', 'weekly-tournaments', '--json'], { env })).stdout) as { enabled: boolean };
    expect(resumed.enabled).toBe(true);
  });

  it('`analytics schedule trigger` and `temporal schedule trigger` have the same effect: one daily-revenue job each', async () => {
    const before = await jobIds();
    const ours = await runCli(['schedule', 'trigger', 'daily-revenue'], { env });
    expect(ours.code, ours.stderr).toBe(0);
    await expect.poll(async () => (await jobIds()).length, { timeout: 20_000 }).toBe(before.length + 1);
    // Temporal names a scheduled run `<workflowId>-<nominal time in whole seconds>`: a second
    // trigger within the same second is the same run. Wait until the clock has left the first
    // run's nominal second (read from its job id).
    const [firstId] = (await jobIds()).filter((id) => !before.includes(id));
    const firstNominalMs = Date.parse(firstId!.slice('daily-revenue-'.length).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    expect(firstNominalMs).not.toBeNaN();
    await expect.poll(() => Date.now(), { timeout: 5_000, interval: 50 }).toBeGreaterThanOrEqual(firstNominalMs + 1_000);
    const theirs = spawnSync(TEMPORAL_CLI, ['schedule', 'trigger', '--schedule-id', 'daily-revenue', '--address', env.TEMPORAL_ADDRESS!, '--namespace', namespace], { encoding: 'utf8' });
    expect(theirs.status, theirs.stderr).toBe(0);
    await expect.poll(async () => (await jobIds()).length, { timeout: 20_000 }).toBe(before.length + 2);
    const added = (await queue.getJobs(['waiting'])).filter((j) => j.id!.startsWith('daily-revenue-') && !before.includes(j.id!));
    for (const job of added) {
      expect(job.id).toMatch(/^daily-revenue-\d{8}T\d{6}Z$/);
      expect(job.name).toBe('aggregation');
      // The nominal time in the payload is the one in the job id.
      const compact = job.id!.slice('daily-revenue-'.length);
      expect(new Date(job.data.asOf!).toISOString().replace(/[-:]/g, '').replace('.000Z', 'Z')).toBe(compact);
      expect(job.data).toMatchObject({ type: 'revenue', periodType: 'day' });
    }
  });

  it('backfill over 3 days enqueues three jobs with those nominal days', async () => {
    const r = await runCli(['schedule', 'backfill', 'daily-revenue', '--from', '2025-06-01', '--to', '2025-06-04', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const expected = ['daily-revenue-20250601T000000Z', 'daily-revenue-20250602T000000Z', 'daily-revenue-20250603T000000Z'];
    // Cron is in Europe/Berlin (UTC+2 in June): local midnights are 22:00Z the day before, so
    // nominal times inside [06-01T00Z, 06-04T00Z) are 06-01 22:00Z, 06-02 22:00Z, 06-03 22:00Z.
    const berlin = ['daily-revenue-20250601T220000Z', 'daily-revenue-20250602T220000Z', 'daily-revenue-20250603T220000Z'];
    await expect.poll(async () => (await jobIds()).filter((id) => id.includes('202506')), { timeout: 20_000 }).toEqual(berlin);
    expect(expected).not.toEqual(berlin);
  });
});
