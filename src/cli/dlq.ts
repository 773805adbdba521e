import type { Command } from 'commander';
import { withQueue, queueOption, type QueueFlags } from './job';
import { intOption } from './options';
import { printJson, printTable } from './output';
import { UsageError } from './program';

interface ListFlags extends QueueFlags {
  limit: string;
}

interface SelectFlags extends QueueFlags {
  all?: boolean;
}

/** The job ids given, or 'all' with --all; exactly one of the two. */
function selection(jobIds: string[], flags: SelectFlags, verb: string): string[] | 'all' {
  if (flags.all && jobIds.length > 0) throw new UsageError(`dlq ${verb}: give job ids or --all, not both`);
  if (!flags.all && jobIds.length === 0) throw new UsageError(`dlq ${verb}: give one or more job ids, or --all`);
  return flags.all ? 'all' : jobIds;
}

const oneLine = (s: string, max = 80) => {
  const line = s.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};

export function registerDlqCommands(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('the dead-letter queue: jobs that failed their last attempt, with payload, error and attempts');

  queueOption(
    dlq
      .command('list')
      .description('dead-lettered jobs, oldest first')
      .option('--limit <n>', 'show at most this many', '100')
      .option('--json', 'print the entries as JSON (payload, error, stack, attempts, options)'),
  ).action(async (flags: ListFlags) => {
    const limit = intOption('--limit', flags.limit, { min: 1, max: 100_000 });
    const entries = await withQueue(flags, (queue) => queue.listDeadLetters(0, limit - 1));
    if (flags.json) return printJson(entries);
    printTable(
      entries.map((e) => ({ job: e.jobId, name: e.name, attempts: e.attemptsMade, 'failed at': e.failedAt, error: oneLine(e.failedReason) })),
      ['job', 'name', 'attempts', 'failed at', 'error'],
    );
  });

  queueOption(
    dlq
      .command('retry')
      .description('enqueue dead-lettered jobs again: same id, payload and options, fresh attempts (exit 1 if any could not be)')
      .argument('[jobIds...]', 'job ids')
      .option('--all', 'every entry')
      .option('--json', 'print the outcomes as JSON'),
  ).action(async (jobIds: string[], flags: SelectFlags) => {
    const which = selection(jobIds, flags, 'retry');
    const outcomes = await withQueue(flags, (queue) => queue.retryDeadLetters(which));
    if (outcomes.some((o) => !o.requeued)) process.exitCode = 1;
    if (flags.json) return printJson(outcomes);
    if (outcomes.length === 0) console.log('the dead-letter queue is empty');
    for (const o of outcomes) console.log(o.requeued ? `requeued ${o.jobId}` : `not requeued ${o.jobId}: ${o.error ?? 'unknown reason'}`);
  });

  queueOption(
    dlq
      .command('purge')
      .description('delete dead-lettered jobs (and the failed jobs they came from)')
      .argument('[jobIds...]', 'job ids')
      .option('--all', 'every entry')
      .option('--json', 'print the ids removed as JSON'),
  ).action(async (jobIds: string[], flags: SelectFlags) => {
    const which = selection(jobIds, flags, 'purge');
    const removed = await withQueue(flags, (queue) => queue.purgeDeadLetters(which));
    if (flags.json) return printJson({ removed });
    console.log(`purged ${removed.length} entr${removed.length === 1 ? 'y' : 'ies'}${removed.length ? `: ${removed.join(', ')}` : ''}`);
  });
}
