import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { loadConfig, ConfigError, type Config } from '../config';
import { DatabaseNotMigratedError } from '../errors/database-not-migrated-error';
import { JobWaitTimeoutError } from '../errors/job-wait-timeout-error';
import { NoBridgeError } from '../errors/no-bridge-error';
import { redactText } from '../errors/redact';
import { ServiceUnavailableError } from '../errors/service-unavailable-error';
import { StartupCheckError } from '../errors/startup-check-error';
import { UsageError } from '../errors/usage-error';

export { UsageError };

/** Exit codes: 0 ok, 1 failure, 2 usage error (bad flag, bad value, bad configuration). */
export const EXIT_USAGE = 2;

/** The resolved configuration; a bad variable is a usage error naming it. */
export function configFromEnv(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** The package's version, from package.json (two levels up from src/cli/ and from dist/cli/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The root command. Subcommands copy these settings when they are created, so every one of them
 * throws instead of exiting and {@link runProgram} can map usage errors to exit code 2.
 */
export function createProgram(): Command {
  return new Command('analytics')
    .description('Pre-aggregated tenant analytics: BullMQ facade, Temporal workflows, Postgres aggregates')
    .version(packageVersion(), '-V, --version', 'print the version (package.json) and exit')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .enablePositionalOptions();
}

/**
 * Runs `program` with commander's usage errors (and configuration errors) mapped to exit code 2,
 * an unreachable service to one line and exit code 1. Nothing printed carries a secret.
 */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`error: ${redactText(err.message)}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ServiceUnavailableError || err instanceof StartupCheckError || err instanceof DatabaseNotMigratedError || err instanceof NoBridgeError || err instanceof JobWaitTimeoutError) {
      process.stderr.write(`error: ${redactText(err.message)}\n`);
      return 1;
    }
    // A table missing at run time (a migration not applied): the fix, not Prisma's or pg's stack.
    const { missingTableOf } = await import('./migrated');
    const missing = missingTableOf(err);
    if (missing !== undefined) {
      let url = 'DATABASE_URL';
      try {
        url = loadConfig(process.env).databaseUrl;
      } catch {
        // The configuration was read before anything ran; keep the variable's name.
      }
      process.stderr.write(`error: ${new DatabaseNotMigratedError(url, missing).message}\n`);
      return 1;
    }
    process.stderr.write(`error: ${redactText((err as Error).stack ?? String(err))}\n`);
    return 1;
  }
}
