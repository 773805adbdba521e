import { createDb } from '../../src/db/client';
import { createTestDatabase, type TestDatabase } from './db';

/**
 * `url` with the Postgres session's search_path set to `schema`. Prisma's `?schema=` only
 * qualifies model queries; raw SQL (all of the aggregation) resolves tables via search_path.
 */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

/**
 * A test schema (see createTestDatabase) whose Prisma client also runs raw SQL in that schema.
 * TODO(lead): drop this once src/db/client.ts sets search_path from `?schema=` itself.
 */
export async function createAggregationTestDatabase(prefix: string): Promise<TestDatabase> {
  const t = await createTestDatabase(prefix);
  await t.db.$disconnect();
  const url = withSearchPath(t.url, t.schema);
  const db = createDb(url, { max: 5 });
  return {
    ...t,
    url,
    db,
    async drop() {
      await db.$disconnect();
      await t.drop();
    },
  };
}
