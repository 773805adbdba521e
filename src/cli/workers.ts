import type { Command } from 'commander';
import type { Config } from '../config';
import { intOption } from './options';
import { configFromEnv, UsageError } from './program';

interface WorkersFlags {
  cron: boolean;
  cronOnly?: boolean;
  shutdownGraceMs?: string;
}

export function registerWorkersCommand(program: Command): void {
  program
    .command('workers')
    .description(
      'run the workers until SIGTERM/SIGINT: the Temporal worker, the BullMQ bridge and the schedules. ' +
        'The first signal stops taking jobs and lets active ones finish within the grace period; a second exits at once. ' +
        'Serves Prometheus /metrics (project series, BullMQ queue counts, aggregate freshness, Temporal SDK metrics), /healthz and /readyz ' +
        'on METRICS_HOST:METRICS_PORT (default 127.0.0.1:9464, printed at start; METRICS_PORT=0 turns it off). ' +
        'Schedule ids carry SCHEDULE_ID_PREFIX (default: none for queue "analytics", else "<QUEUE_NAME>-"); schedules another deployment owns are left alone.',
    )
    .option('--no-cron', 'do not install or serve the schedules (jobs only)')
    .option('--cron-only', 'only install and serve the schedules (no bridge, no aggregation worker)')
    .option('--shutdown-grace-ms <ms>', 'how long active jobs may finish after SIGTERM (default: SHUTDOWN_GRACE_MS, 30000)')
    .action(async (flags: WorkersFlags) => {
      if (flags.cronOnly && !flags.cron) throw new UsageError('--cron-only and --no-cron exclude each other');
      const config = withGrace(configFromEnv(), flags.shutdownGraceMs);
      // Loaded on use: the Temporal worker and everything it runs would slow every command's start-up.
      const { bootWorkers } = await import('./boot');
      const { proc } = await bootWorkers(config, { jobs: !flags.cronOnly, cron: flags.cron });
      console.log('  workers running; Ctrl-C (SIGINT) or SIGTERM to stop\n');
      await proc.untilStopped();
    });
}

export function withGrace(config: Config, flag: string | undefined): Config {
  return flag === undefined ? config : { ...config, shutdownGraceMs: intOption('--shutdown-grace-ms', flag, { max: 86_400_000 }) };
}
