import { readFile } from 'node:fs/promises';
import internals from '@prisma/internals';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { migrate, readMigrations } from '../src/db/migrate';
import { createHash } from 'node:crypto';

// The schema (what the Prisma client believes) and the migrations (what the database gets)
// must describe the same database. Prisma's own `migrate diff` needs a native engine that
// cannot be downloaded here, so this test compares them itself: the schema through Prisma's
// WebAssembly DMMF, the migrated database through pg_catalog.

type Dmmf = Awaited<ReturnType<typeof internals.getDMMF>>;

const SCALAR_TYPES: Record<string, (native: [string, string[]] | null) => string> = {
  String: () => 'text',
  Int: () => 'integer',
  BigInt: () => 'bigint',
  Boolean: () => 'boolean',
  Decimal: (n) => (n ? `numeric(${n[1].join(',')})` : 'numeric(65,30)'),
  DateTime: (n) => {
    if (n?.[0] === 'Date') return 'date';
    if (n?.[0] === 'Timestamptz') return `timestamp(${n[1][0] ?? 6}) with time zone`;
    return `timestamp(${n?.[1][0] ?? 3}) without time zone`;
  },
};

function describeSchema(dmmf: Dmmf): string[] {
  const facts: string[] = [];
  const models = dmmf.datamodel.models;
  const tableOf = (name: string) => models.find((m) => m.name === name)?.dbName ?? name;
  const columnOf = (model: string, field: string) => {
    const f = models.find((m) => m.name === model)!.fields.find((x) => x.name === field)!;
    return f.dbName ?? f.name;
  };
  for (const m of models) {
    const table = m.dbName ?? m.name;
    facts.push(`table ${table}`);
    for (const f of m.fields) {
      if (f.kind === 'object') {
        if (f.relationFromFields?.length) {
          facts.push(
            `fk ${table}(${f.relationFromFields.map((x) => columnOf(m.name, x)).join(',')}) -> ` +
              `${tableOf(f.type)}(${f.relationToFields!.map((x) => columnOf(f.type, x)).join(',')})`,
          );
        }
        continue;
      }
      const type = SCALAR_TYPES[f.type]!(f.nativeType as [string, string[]] | null);
      facts.push(`column ${table}.${f.dbName ?? f.name} ${type} ${f.isRequired ? 'not null' : 'null'} ${f.hasDefaultValue ? 'default' : 'no default'}`);
    }
  }
  for (const idx of dmmf.datamodel.indexes) {
    const table = tableOf(idx.model);
    const cols = idx.fields.map((f) => columnOf(idx.model, f.name)).join(',');
    const kind = idx.type === 'id' ? 'primary key' : idx.type === 'unique' ? 'unique index' : 'index';
    facts.push(`${kind} ${table}(${cols})`);
  }
  return facts.sort();
}

async function describeDatabase(t: TestDatabase): Promise<string[]> {
  const facts: string[] = [];
  const q = async <R extends object>(sql: string) => (await t.pool.query<R>(sql, [t.schema])).rows;
  const tables = await q<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname <> '_prisma_migrations'`,
  );
  for (const r of tables) facts.push(`table ${r.relname}`);
  const columns = await q<{ relname: string; attname: string; type: string; attnotnull: boolean; hasdefault: boolean }>(
    `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, a.atthasdef AS hasdefault
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname <> '_prisma_migrations' AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  for (const c of columns) {
    facts.push(`column ${c.relname}.${c.attname} ${c.type} ${c.attnotnull ? 'not null' : 'null'} ${c.hasdefault ? 'default' : 'no default'}`);
  }
  const indexes = await q<{ relname: string; indisprimary: boolean; indisunique: boolean; cols: string }>(
    `SELECT c.relname, i.indisprimary, i.indisunique,
            (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS cols
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname <> '_prisma_migrations'`,
  );
  for (const i of indexes) {
    facts.push(`${i.indisprimary ? 'primary key' : i.indisunique ? 'unique index' : 'index'} ${i.relname}(${i.cols})`);
  }
  const fks = await q<{ relname: string; cols: string; reftable: string; refcols: string }>(
    `SELECT c.relname, r.relname AS reftable,
            (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS cols,
            (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS refcols
     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND con.contype = 'f'`,
  );
  for (const f of fks) facts.push(`fk ${f.relname}(${f.cols}) -> ${f.reftable}(${f.refcols})`);
  return facts.sort();
}

describe('prisma/schema.prisma and prisma/migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('schema');
  });
  afterAll(async () => {
    await t.drop();
  });

  it('describe the same tables, columns, keys, indexes and foreign keys', async () => {
    const dmmf = await internals.getDMMF({ datamodel: await readFile('prisma/schema.prisma', 'utf8') });
    const fromSchema = describeSchema(dmmf);
    const fromDatabase = await describeDatabase(t);
    expect(fromDatabase).toEqual(fromSchema);
    // The contract's names, spelled out by hand so a rename in both places still fails here.
    for (const table of ['organizations', 'users', 'user_activity', 'subscriptions', 'payments', 'refunds',
      'tournaments', 'tournament_players', 'revenue_aggregates', 'user_cohorts', 'tournament_aggregates']) {
      expect(fromDatabase).toContain(`table ${table}`);
    }
    expect(fromDatabase).toContain('unique index revenue_aggregates(tenant_id,period_type,period_start)');
    expect(fromDatabase).toContain('unique index user_cohorts(tenant_id,cohort_month,month_number)');
    expect(fromDatabase).toContain('unique index tournament_aggregates(tenant_id,period_type,period_start)');
    expect(fromDatabase).toContain('column payments.amount_cents bigint not null no default');
  });

  it('every raw table has an index leading with tenant_id and a time column', async () => {
    const dmmf = await internals.getDMMF({ datamodel: await readFile('prisma/schema.prisma', 'utf8') });
    const facts = describeSchema(dmmf);
    const time: Record<string, string> = {
      users: 'created_at', user_activity: 'occurred_at', subscriptions: 'started_at', payments: 'created_at',
      refunds: 'created_at', tournaments: 'created_at', tournament_players: 'joined_at',
    };
    for (const [table, column] of Object.entries(time)) {
      expect(facts.some((f) => f.startsWith(`index ${table}(tenant_id,${column}`))).toBe(true);
    }
  });

  it('records migrations in _prisma_migrations as Prisma does, and re-running applies nothing', async () => {
    const { rows } = await t.pool.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
    );
    const onDisk = await readMigrations();
    expect(rows.map((r) => r.migration_name)).toEqual(onDisk.map((m) => m.name));
    for (const [i, r] of rows.entries()) {
      const sql = await readFile(`prisma/migrations/${r.migration_name}/migration.sql`);
      expect(r.checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(r.checksum).toBe(onDisk[i]!.checksum);
      expect(r.finished_at).toBeInstanceOf(Date);
      expect(r.rolled_back_at).toBeNull();
      expect(r.applied_steps_count).toBe(1);
    }
    const again = await migrate(t.url);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toEqual(onDisk.map((m) => m.name));
  });
});
