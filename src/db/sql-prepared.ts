import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type pg from 'pg';

// SQL-level prepared statements (PREPARE once per connection, then EXECUTE with escaped literal
// arguments), for a caller that wants several statements in ONE round trip: `pg` sends a query
// without parameters over the simple protocol, which runs every statement of the text in order
// (stopping at the first error), so `BEGIN; ...; EXECUTE a(...)` or `EXECUTE b(...); COMMIT` is a
// single round trip, while each EXECUTE keeps its plan cached on the connection like a
// protocol-level named statement (src/db/prepared.ts). A statement with parameters cannot go in
// such a text, hence the literals: every argument is converted exactly as `pg` converts a
// parameter (its own prepareValue) and then quoted with escapeLiteral, never interpolated raw.

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): string | Buffer | null };

export interface SqlStatement {
  /** Identifier-safe: `sql_<family>_<hash of the text>`, never a protocol-level statement's name. */
  name: string;
  text: string;
}

/** A statement for {@link ensurePrepared} / {@link executeText}; the name derives from the text, so a changed text is a new statement. */
export function sqlStatement(family: string, text: string): SqlStatement {
  if (!/^[a-z][a-z0-9_]*$/.test(family)) throw new Error(`sqlStatement: family ${JSON.stringify(family)} is not a plain identifier`);
  return { name: `sql_${family}_${createHash('sha1').update(text).digest('hex').slice(0, 12)}`, text };
}

/**
 * Names prepared on each connection (the `pg` client object lives as long as its connection).
 * Module-wide, so two refreshers sharing a pool never PREPARE the same name twice.
 */
const preparedOn = new WeakMap<pg.ClientBase, Set<string>>();

/**
 * PREPAREs the statements this connection has not prepared yet, one round trip each, the first
 * time only. A PREPARE is not undone by a rollback, so this may run inside a transaction: pass
 * `inTransaction`, and each PREPARE runs under a savepoint, so one that fails (below) does not
 * abort the caller's transaction.
 */
export async function ensurePrepared(client: pg.ClientBase, statements: readonly SqlStatement[], inTransaction = false): Promise<void> {
  let names = preparedOn.get(client);
  if (!names) preparedOn.set(client, (names = new Set()));
  for (const s of statements) {
    if (names.has(s.name)) continue;
    try {
      await client.query(inTransaction ? `SAVEPOINT sql_prepare; PREPARE ${s.name} AS ${s.text}; RELEASE SAVEPOINT sql_prepare` : `PREPARE ${s.name} AS ${s.text}`);
    } catch (err) {
      // 42P05 duplicate_prepared_statement: prepared on this connection by something that did not
      // record it here (another copy of this module): it is there, which is all that matters.
      if ((err as { code?: string }).code !== '42P05') throw err;
      if (inTransaction) await client.query('ROLLBACK TO SAVEPOINT sql_prepare; RELEASE SAVEPOINT sql_prepare');
    }
    names.add(s.name);
  }
}

/**
 * Forgets what this connection prepared (after a "prepared statement does not exist" error, so
 * the next use prepares again).
 */
export function forgetPrepared(client: pg.ClientBase): void {
  preparedOn.delete(client);
}

/** One argument as an SQL literal: `pg`'s own conversion of a parameter, then escapeLiteral. */
export function literalOf(client: pg.ClientBase, value: unknown): string {
  const prepared = prepareValue(value);
  if (prepared === null) return 'NULL';
  if (typeof prepared !== 'string') throw new Error('literalOf: binary values are not supported');
  return client.escapeLiteral(prepared);
}

/** `EXECUTE name(literal, ...)` of a statement {@link ensurePrepared} prepared on this connection. */
export function executeText(client: pg.ClientBase, statement: SqlStatement, values: readonly unknown[]): string {
  return values.length === 0 ? `EXECUTE ${statement.name}` : `EXECUTE ${statement.name}(${values.map((v) => literalOf(client, v)).join(', ')})`;
}

/** The results of a multi-statement simple query, one per statement (`pg` returns a bare result for one). */
export function resultsOf<R extends pg.QueryResultRow>(res: pg.QueryResult<R> | pg.QueryResult<R>[]): pg.QueryResult<R>[] {
  return Array.isArray(res) ? res : [res];
}
