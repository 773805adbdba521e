import type { Command } from 'commander';
import pg from 'pg';
import { pgConfigOf } from '../db/client';
import { SeedConflictError } from '../errors/seed-conflict-error';
import { SEED_TIMEZONES, type GenerateOptions } from '../seed/generate';
import { seedDatabase } from '../seed/seed';
import { requireMigratedDatabase } from './migrated';
import { dateOption, formatTable, intOption } from './options';
import { startProgressBar } from './progress';
import { configFromEnv, UsageError } from './program';

/** Any count a Postgres schema can hold in reasonable time; ids widen past 999 (tenant-0001 …). */
const MAX_TENANTS = 10_000_000;

interface SeedFlags {
  tenants: string;
  users: string;
  days: string;
  seed: string;
  until?: string;
  reset?: boolean;
  json?: boolean;
}

export function registerSeedCommand(program: Command): void {
  program
    .command('seed')
    .description(
      'generate a deterministic synthetic data set (organizations, users, activity, subscriptions, payments, refunds, ' +
        `tournaments, players) into DATABASE_URL; tenant timezones cycle through ${SEED_TIMEZONES.join(', ')}`,
    )
    .option('--tenants <n>', 'organizations to create: tenant-001, tenant-002, … (zero-padded to the width of the count, so ids sort in order)', '3')
    .option('--users <n>', 'users per organization', '200')
    .option('--days <n>', 'days of history before --until', '90')
    .option('--seed <n>', 'PRNG seed: the same flags give the same rows', '42')
    .option('--until <date>', 'end of the history, exclusive, YYYY-MM-DD (UTC) (default: today)')
    .option('--reset', 'empty every raw and aggregate table first')
    .option('--json', 'print the result as JSON')
    .action(async (flags: SeedFlags) => {
      const untilDay = flags.until === undefined ? new Date().toISOString().slice(0, 10) : dateOption('--until', flags.until);
      const options: GenerateOptions = {
        tenants: intOption('--tenants', flags.tenants, { min: 1, max: MAX_TENANTS }),
        usersPerTenant: intOption('--users', flags.users, { min: 1, max: 10_000_000 }),
        days: intOption('--days', flags.days, { min: 1, max: 3650 }),
        seed: intOption('--seed', flags.seed, { max: 2 ** 32 - 1 }),
        untilMs: Date.parse(`${untilDay}T00:00:00Z`),
      };
      await runSeed(options, { reset: flags.reset ?? false, json: flags.json ?? false });
    });
}

export async function runSeed(options: GenerateOptions, { reset, json }: { reset: boolean; json: boolean }): Promise<void> {
  const config = configFromEnv();
  await requireMigratedDatabase(config);
  const client = new pg.Client(pgConfigOf(config.databaseUrl));
  await client.connect();
  const bar = startProgressBar('seeding |{bar}| {value}/{total} tenants | {rows} rows | {duration_formatted}', options.tenants, { rows: 0 });
  try {
    const result = await seedDatabase(client, options, {
      reset,
      onProgress: (p) => bar.update(p.tenantsDone, { rows: p.rows }),
    });
    bar.stop();
    const until = new Date(options.untilMs).toISOString();
    if (json) {
      console.log(JSON.stringify({ ...result, options: { ...result.options, until } }));
      return;
    }
    console.log(
      formatTable(
        ['table', 'rows'],
        Object.entries(result.rows).map(([table, n]) => [table, n]),
      ),
    );
    const perSecond = Math.round(result.totalRows / Math.max(result.durationMs / 1000, 0.001));
    console.log(
      `\n${result.totalRows} rows in ${(result.durationMs / 1000).toFixed(1)} s (${perSecond}/s); ` +
        `seed ${options.seed}, ${options.tenants} tenants x ${options.usersPerTenant} users, ${options.days} days until ${until}`,
    );
  } catch (err) {
    bar.stop();
    if (err instanceof SeedConflictError) throw new UsageError(err.message);
    throw err;
  } finally {
    await client.end();
  }
}
