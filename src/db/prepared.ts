import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Prisma } from '../generated/prisma/client';

/**
 * A statement as `pg` runs it by name: Postgres parses (and, once it settles on a generic plan,
 * plans) a named statement once per connection, so a statement that runs for every tenant pays
 * its ~5 ms of parse and planning once per connection instead of once per call. The name derives
 * from the text, so a changed statement is a different statement.
 */
export function named(sql: Prisma.Sql, family: string): pg.QueryConfig {
  const text = sql.text;
  return { name: `${family}_${createHash('sha1').update(text).digest('hex').slice(0, 12)}`, text, values: sql.values as unknown[] };
}
