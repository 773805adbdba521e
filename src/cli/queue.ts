import type { Command } from 'commander';
import { CLEAN_STATES, type CleanState } from '../queue/states';
import { queueOption, withQueue, type QueueFlags } from './job';
import { choiceOption, intOption } from './options';
import { printJson } from './output';

interface CleanFlags extends QueueFlags {
  state: string[];
  graceMs: string;
  limit: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerQueueCommands(program: Command): void {
  const queue = program.command('queue').description('maintenance of the BullMQ queue: clean finished jobs, pause and resume');

  queueOption(
    queue
      .command('clean')
      .description('remove jobs that finished (or, for waiting, delayed and paused, were created) more than --grace-ms ago; active jobs and the dead-letter queue are left alone')
      .option('--state <state>', `a state to clean, repeatable: ${CLEAN_STATES.join(', ')} (default: completed and failed)`, collect, [])
      .option('--grace-ms <ms>', 'keep jobs younger than this', '0')
      .option('--limit <n>', 'remove at most this many per state (0: all)', '0')
      .option('--json', 'print the ids removed, by state, as JSON'),
  ).action(async (flags: CleanFlags) => {
    const states: CleanState[] = flags.state.length === 0 ? ['completed', 'failed'] : flags.state.map((s) => choiceOption('--state', s, CLEAN_STATES));
    const graceMs = intOption('--grace-ms', flags.graceMs);
    const limit = intOption('--limit', flags.limit);
    const { name, removed } = await withQueue(flags, async (q) => ({ name: q.name, removed: await q.cleanQueue(graceMs, { states, limit }) }));
    if (flags.json) return printJson(removed);
    const counts = states.map((s) => `${removed[s]?.length ?? 0} ${s}`).join(', ');
    console.log(`removed from queue ${name}: ${counts}`);
  });

  for (const [verb, description] of [
    ['pause', 'pause the queue: bridges take no new jobs (active ones finish); waiting jobs count as paused'],
    ['resume', 'resume a paused queue'],
  ] as const) {
    queueOption(queue.command(verb).description(description).option('--json', 'print JSON')).action(async (flags: QueueFlags) => {
      const r = await withQueue(flags, async (q) => {
        if (verb === 'pause') await q.pause();
        else await q.resume();
        return { queue: q.name, paused: await q.isPaused(), metrics: await q.getQueueMetrics() };
      });
      if (flags.json) return printJson(r);
      const waiting = r.paused ? `${r.metrics.paused} job(s) held` : `${r.metrics.waiting} job(s) waiting`;
      console.log(`queue ${r.queue} ${verb === 'pause' ? 'paused' : 'resumed'}: ${waiting}, ${r.metrics.active} active`);
    });
  }
}
