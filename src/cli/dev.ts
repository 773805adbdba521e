import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { PROJECT_ROOT } from '../paths';

export function registerDevCommands(program: Command): void {
  const dev = program.command('dev').description('the local stack that ./dev.sh sets up');
  dev
    .command('setup')
    .description('install what is missing and start Postgres, Redis and the Temporal dev server (idempotent)')
    .action(() => runScript('setup.sh'));
  dev
    .command('stop')
    .description('stop what set-up started (services found already running are left alone)')
    .action(() => runScript('stop.sh'));
}

function runScript(name: string): void {
  const r = spawnSync('bash', [`${PROJECT_ROOT}scripts/${name}`], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
