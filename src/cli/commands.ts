import { createProgram } from './program';
import type { Command } from 'commander';
import { registerAggregateCommand } from './aggregate';
import { registerDbCommands } from './db';
import { registerDevCommands } from './dev';
import { registerDlqCommands } from './dlq';
import { registerIncrementalCommands } from './incremental';
import { registerJobCommands } from './job';
import { registerQueueCommands } from './queue';
import { registerScheduleCommands } from './schedule';
import { registerSeedCommand } from './seed';
import { registerStartCommand } from './start';
import { registerStatusCommands } from './status';
import { registerWorkersCommand } from './workers';

/** The `analytics` command with every subcommand registered. */
export function buildProgram(): Command {
  const program = createProgram();

  registerDbCommands(program);
  registerDevCommands(program);
  registerStartCommand(program);
  registerWorkersCommand(program);
  registerJobCommands(program);
  registerQueueCommands(program);
  registerDlqCommands(program);
  registerScheduleCommands(program);
  registerStatusCommands(program);
  registerAggregateCommand(program);
  registerIncrementalCommands(program);
  registerSeedCommand(program);
  return program;
}
