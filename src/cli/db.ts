import type { Command } from 'commander';
import { migrate } from '../db/migrate';
import { ServiceUnavailableError } from '../errors/service-unavailable-error';
import { configFromEnv } from './program';

export function registerDbCommands(program: Command): void {
  const db = program.command('db').description('database maintenance');
  db.command('migrate')
    .description('apply prisma/migrations to DATABASE_URL, recorded in _prisma_migrations as `prisma migrate deploy` records them')
    .option('--quiet', 'print nothing when there is nothing to apply')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { quiet?: boolean; json?: boolean }) => {
      const config = configFromEnv();
      // pg would wait for the OS to give up on an unreachable host: ask first, within CONNECT_TIMEOUT_MS.
      const { POSTGRES_VARIABLES, probePostgres } = await import('../queue/health');
      const postgres = await probePostgres(config.databaseUrl, config.connectTimeoutMs, { requireSchema: false });
      if (!postgres.healthy) {
        throw new ServiceUnavailableError('Postgres', config.databaseUrl, POSTGRES_VARIABLES, postgres.reason, config.connectTimeoutMs);
      }
      const result = await migrate(config.databaseUrl);
      if (opts.json) {
        console.log(JSON.stringify(result));
      } else if (result.applied.length > 0) {
        for (const name of result.applied) console.log(`applied ${name}`);
      } else if (!opts.quiet) {
        console.log(`database is up to date (${result.alreadyApplied.length} migrations applied)`);
      }
    });
}
