import { redactText, redactUrl } from './redact';

/**
 * The database the command needs has not had the migrations applied (no `_prisma_migrations`,
 * a missing table, or migrations still pending). An expected failure with a fix: the CLI prints
 * the one-line message naming `analytics db migrate` (exit 1), no stack.
 */
export class DatabaseNotMigratedError extends Error {
  constructor(
    /** Where: the database URL with its password masked. */
    readonly databaseUrl: string,
    /** What is missing, e.g. `relation "organizations" does not exist`. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(redactText(`the database at ${redactUrl(databaseUrl)} is not migrated (${detail}): run \`analytics db migrate\``), options);
    this.name = 'DatabaseNotMigratedError';
  }
}
