import pg from 'pg';
import { createDb, pgConfigOf, type Db } from '../../src/db/client';
import { migrate } from '../../src/db/migrate';
import { testConfig, uniqueSuffix } from './config';

export interface TestDatabase {
  /** Database URL with `?schema=` set to this test's own schema. */
  url: string;
  schema: string;
  db: Db;
  /** Plain pg pool on the same schema, for fixtures and assertions in raw SQL. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh schema with every migration applied, owned by one test file and dropped afterwards. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const schema = `${prefix}_${uniqueSuffix()}`.toLowerCase();
  const u = new URL(testConfig.databaseUrl);
  u.searchParams.set('schema', schema);
  const url = u.toString();
  await migrate(url);
  const db = createDb(url, { max: 5 });
  const pool = new pg.Pool({ ...pgConfigOf(url), max: 3 });
  return {
    url,
    schema,
    db,
    pool,
    async drop() {
      await db.$disconnect();
      await pool.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
      await pool.end();
    },
  };
}
