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
    const [{ createScheduler }, { withTemporalClient }] = await Promise.all([import('../scheduler/scheduler'), import('./temporal-client')]);
    return withTemporalClient(config, (client) => fn(createScheduler({ client, taskQueue: config.temporal.scheduleTaskQueue, timezone: config.tz })));
  };

  schedule
    .command('install')
    .description('create the four schedules, or update them to the current definition (idempotent)')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      const r = await withScheduler((s) => s.initializeScheduler());
      if (opts.json) printJson(r);
      else console.log(`created: ${r.created.join(', ') || '-'}\nupdated: ${r.updated.join(', ') || '-'}`);
    });

  schedule
    .command('list')
    .description('every schedule with its cron, timezone, state, next run times and last run')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      const status = await withScheduler((s) => s.getSchedulerStatus());
      if (opts.json) return printJson(status);
      printTable(
        status.map((s) => ({ name: s.name, cron: s.schedule, timezone: s.timezone, enabled: s.enabled, next: s.nextRunTimes[0], 'last run': s.lastRun?.scheduledAt })),
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
          `name         ${s.name}`,
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

  for (const [verb, what] of [
    ['pause', 'stop firing (running triggers finish)'],
    ['unpause', 'resume firing'],
  ] as const) {
    schedule
      .command(verb)
      .description(`${what}; without a name: every schedule`)
      .argument('[name]', 'schedule id', scheduleName)
      .option('--json', 'print JSON')
      .action(async (name: string | undefined, opts: JsonOpt) => {
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
