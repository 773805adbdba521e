import { Command, CommanderError } from 'commander';
import { loadConfig, ConfigError, type Config } from '../config';
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

/**
 * The root command. Subcommands copy these settings when they are created, so every one of them
 * throws instead of exiting and {@link runProgram} can map usage errors to exit code 2.
 */
export function createProgram(): Command {
  return new Command('analytics')
    .description('Pre-aggregated tenant analytics: BullMQ facade, Temporal workflows, Postgres aggregates')
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
    if (err instanceof ServiceUnavailableError || err instanceof StartupCheckError) {
      process.stderr.write(`error: ${redactText(err.message)}\n`);
      return 1;
    }
    process.stderr.write(`error: ${redactText((err as Error).stack ?? String(err))}\n`);
    return 1;
  }
}
