import { type Command, InvalidArgumentError } from 'commander';
import type { createScheduler } from '../scheduler/scheduler';
import { SCHEDULE_IDS } from '../scheduler/definitions';
import { printJson, printTable } from './output';
import { configFromEnv, UsageError } from './program';

function scheduleName(value: string): string {
  if (!(SCHEDULE_IDS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`unknown schedule "${value}"; one of ${SCHEDULE_IDS.join(', ')}`);
  }
  return value;
}

/** An ISO date (midnight UTC) or instant. */
export function instant(value: string): Date {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(d.getTime())) {
    throw new InvalidArgumentError(`"${value}" is not an ISO date (2025-11-01) or instant (2025-11-01T00:00:00Z)`);
  }
  return d;
}

type JsonOpt = { json?: boolean };

export function registerScheduleCommands(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(`manage the Temporal Schedules (${SCHEDULE_IDS.join(', ')}); cron read in TZ`);

  const withScheduler = async <T>(fn: (s: ReturnType<typeof createScheduler>) => Promise<T>): Promise<T> => {
    const config = configFromEnv();
    // Loaded on use, so that --help does not pay for the Temporal client.
    const [{ createScheduler }, { withTemporalClient }, { scheduleDefinitions }] = await Promise.all([
      import('../scheduler/scheduler'),
      import('./temporal-client'),
      import('../scheduler/definitions'),
    ]);
    const definitions = scheduleDefinitions({ cron: config.scheduledReportCron, periodType: config.scheduledReportPeriodType });
    return withTemporalClient(config, (client) =>
      fn(
        createScheduler({
          client,
          taskQueue: config.temporal.scheduleTaskQueue,
          timezone: config.tz,
          definitions,
          // This deployment's schedules: SCHEDULE_ID_PREFIX, and the owner recorded in their memo.
          idPrefix: config.scheduleIdPrefix,
          owner: { queue: config.queueName, taskQueue: config.temporal.scheduleTaskQueue },
        }),
      ),
    );
  };

  schedule
    .command('install')
    .description(
      'create the schedules, or update them to the current definition (idempotent). Ids are <SCHEDULE_ID_PREFIX><name>; ' +
        'a schedule whose memo names another owner (QUEUE_NAME + trigger task queue) is left alone and the command exits 1',
    )
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      const r = await withScheduler((s) => s.initializeScheduler());
      if (opts.json) printJson(r);
      else console.log(`created: ${r.created.join(', ') || '-'}\nupdated: ${r.updated.join(', ') || '-'}`);
      for (const s of r.skipped) {
        console.error(
          `warning: schedule ${s.scheduleId} belongs to another deployment (queue ${s.owner.queue ?? '?'}, task queue ${s.owner.taskQueue ?? '?'}); left as it is. ` +
            'Set SCHEDULE_ID_PREFIX to give this deployment schedules of its own.',
        );
      }
      if (r.skipped.length > 0) process.exitCode = 1;
    });

  schedule
    .command('list')
    .description('every schedule with its cron, timezone, state, next run times and last run')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      const status = await withScheduler((s) => s.getSchedulerStatus());
      if (opts.json) return printJson(status);
      printTable(
        status.map((s) => ({ name: s.name, ...(s.scheduleId !== s.name ? { id: s.scheduleId } : {}), cron: s.schedule, timezone: s.timezone, enabled: s.enabled, next: s.nextRunTimes[0], 'last run': s.lastRun?.scheduledAt })),
      );
    });

  schedule
    .command('describe')
    .description('one schedule in detail')
    .argument('<name>', 'schedule id', scheduleName)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      const s = await withScheduler((x) => x.describeTask(name));
      if (opts.json) return printJson(s);
      console.log(
        [
          `name         ${s.name}${s.scheduleId !== s.name ? ` (schedule id ${s.scheduleId})` : ''}`,
          `owner        ${s.owner ? `queue ${s.owner.queue ?? '?'}, task queue ${s.owner.taskQueue ?? '?'}` : '- (not recorded)'}`,
          `what         ${s.description}`,
          `cron         ${s.schedule} (${s.timezone})`,
          `enabled      ${s.enabled}`,
          `next runs    ${s.nextRunTimes.slice(0, 5).join('\n             ')}`,
          `last run     ${s.lastRun ? `${s.lastRun.scheduledAt} -> ${s.lastRun.workflowId}` : '-'}`,
        ].join('\n'),
      );
    });

  schedule
    .command('trigger')
    .description('fire a schedule now (same as `temporal schedule trigger --schedule-id <name>`)')
    .argument('<name>', 'schedule id', scheduleName)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt) => {
      await withScheduler((s) => s.triggerTask(name));
      if (opts.json) printJson({ triggered: name });
      else console.log(`triggered ${name}`);
    });

  for (const [verb, what, alias] of [
    ['pause', 'stop firing (running triggers finish)', undefined],
    ['unpause', 'resume firing', 'resume'],
  ] as const) {
    const command = schedule
      .command(verb)
      .description(`${what}: one schedule, or every schedule of this deployment with --all`)
      .argument('[name]', 'schedule name', scheduleName)
      .option('--all', `every schedule (${SCHEDULE_IDS.join(', ')})`)
      .option('--json', 'print JSON');
    if (alias) command.alias(alias);
    command.action(async (name: string | undefined, opts: JsonOpt & { all?: boolean }) => {
      if (name === undefined && !opts.all) throw new UsageError(`schedule ${verb}: name a schedule (${SCHEDULE_IDS.join(', ')}) or pass --all for every one`);
      if (name !== undefined && opts.all) throw new UsageError(`schedule ${verb}: a name and --all exclude each other`);
      await withScheduler((s) => (verb === 'pause' ? s.stopScheduler(name) : s.startScheduler(name)));
      if (opts.json) printJson({ [verb === 'pause' ? 'paused' : 'unpaused']: name ?? [...SCHEDULE_IDS] });
      else console.log(`${verb}d ${name ?? SCHEDULE_IDS.join(', ')}`);
    });
  }

  schedule
    .command('backfill')
    .description('take every action the schedule would have taken in [--from, --to), each with its own nominal time')
    .argument('<name>', 'schedule id', scheduleName)
    .requiredOption('--from <date>', 'first nominal time, ISO date (UTC midnight) or instant', instant)
    .requiredOption('--to <date>', 'end, exclusive', instant)
    .option('--json', 'print JSON')
    .action(async (name: string, opts: JsonOpt & { from: Date; to: Date }) => {
      if (!(opts.to > opts.from)) throw new UsageError(`--to (${opts.to.toISOString()}) must be after --from (${opts.from.toISOString()})`);
      await withScheduler((s) => s.backfillTask(name, opts.from, opts.to));
      if (opts.json) printJson({ backfilled: name, from: opts.from.toISOString(), to: opts.to.toISOString() });
      else console.log(`backfill of ${name} from ${opts.from.toISOString()} to ${opts.to.toISOString()} (exclusive) requested`);
    });
}
