import { Command } from 'commander';
import { runProgram } from './program';
import { registerDbCommands } from './db';
import { registerDevCommands } from './dev';
import { registerWorkersCommand } from './workers';

const program = new Command('analytics')
  .description('Pre-aggregated tenant analytics: BullMQ facade, Temporal workflows, Postgres aggregates')
  .showHelpAfterError('(run with --help for usage)')
  .enablePositionalOptions();

registerDbCommands(program);
registerDevCommands(program);
registerWorkersCommand(program);

process.exitCode = await runProgram(program, process.argv);
