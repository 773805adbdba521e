import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantAggregator } from '../src/aggregation/tenant-aggregator';
import { pgConfigOf } from '../src/db/client';
import { ensurePrepared, executeText, forgetPrepared, sqlStatement } from '../src/db/sql-prepared';
import { createIncrementalRefresher } from '../src/incremental/refresh';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { org, payment } from './helpers/fixtures';
import { expectTenantMatchesOracle, pendingChanges } from './helpers/incremental';
import { fixedClock, silentLogger } from './helpers/service';

// The shape of one tenant's incremental refresh (src/incremental/refresh.ts): two round trips
// (`BEGIN; ...; EXECUTE consume(...)` and `EXECUTE recompute(...); COMMIT`) over statements
// prepared once per connection with escaped literal arguments (src/db/sql-prepared.ts), and the
// outcome rows of a queued job written with the last recompute statement.

const ASOF = '2025-04-01T00:00:00.000Z';
const NOW = '2025-04-01T00:30:00.000Z';
const COHORTS = { from: '2025-03-01', to: '2025-04-01' };

let t: TestDatabase;
/** One connection, so "prepared on this connection" is the same connection every time. */
let single: pg.Pool;
/** Queries sent on single's connection while counting (one entry per round trip). */
let sent: string[] | undefined;

beforeAll(async () => {
  t = await createTestDatabase('increfresh');
  single = new pg.Pool({ ...pgConfigOf(t.url), max: 1 });
  const connect = single.connect.bind(single);
  const patched = new WeakSet<pg.PoolClient>();
  // Counts what the refresher sends, keeping the client object (the prepared-statement tracker's key).
  (single as unknown as { connect: (...args: unknown[]) => unknown }).connect = (...args: unknown[]) => {
    if (typeof args[0] === 'function') return (connect as (...a: unknown[]) => unknown)(...args); // pool.query's own checkout
    return connect().then((client) => patch(client));
  };
  const patch = (client: pg.PoolClient) => {
    if (!patched.has(client)) {
      patched.add(client);
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
        const q = args[0];
        sent?.push(typeof q === 'string' ? q : (q as { text: string }).text);
        return query(...args);
      };
    }
    return client;
  };
});
afterAll(async () => {
  await single?.end();
  await t?.drop();
});

async function fullRecompute(tenant: string, periodType: 'day' | 'month') {
  const full = createTenantAggregator({ pool: single, clock: fixedClock(NOW), logger: silentLogger });
  await full.aggregateTenant({ tenantId: tenant, job: { type: 'all', periodType, periodStart: '2025-03-01', periodEnd: '2025-04-01', asOf: ASOF }, asOf: ASOF });
}

async function counted<T>(run: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  sent = [];
  try {
    const result = await run();
    return { result, queries: sent };
  } finally {
    sent = undefined;
  }
}

const outcomes = async (jobKey: string) =>
  (
    await t.pool.query<{ tenant_id: string; type: string; status: string; rows_written: number; periods: number; attempts: number; recorded_at: Date }>(
      `SELECT tenant_id, type, status, rows_written, periods, attempts, recorded_at FROM aggregation_outcomes WHERE job_key = $1 ORDER BY type`,
      [jobKey],
    )
  ).rows;

describe('one tenant incremental refresh', () => {
  it('takes two round trips, queued or not, once its statements are prepared on the connection', async () => {
    const tenant = 'rt';
    await org(t.pool, tenant, 'UTC');
    await payment(t.pool, tenant, { id: 'rt-p0', amountCents: 100, status: 'succeeded', createdAt: '2025-03-05T12:00:00Z' });
    await fullRecompute(tenant, 'day'); // day rows only: every change dirties one day, one statement
    const refresher = createIncrementalRefresher({ pool: single, clock: fixedClock(NOW), logger: silentLogger });
    let n = 0;
    const change = () => payment(t.pool, tenant, { id: `rt-p${++n}`, amountCents: 100 * n, status: 'succeeded', createdAt: `2025-03-1${n}T12:00:00Z` });

    // First use on the connection: the PREPAREs come first, each once (the set-up payment's and
    // the new one's days are not contiguous: two runs of one statement text).
    await change();
    const first = await counted(() => refresher.refreshTenant({ tenantId: tenant, type: 'revenue', asOf: ASOF }));
    expect(first.result).toMatchObject({ changes: 2, statements: 2 });
    expect(first.queries.filter((q) => q.startsWith('PREPARE') || q.startsWith('SAVEPOINT sql_prepare; PREPARE'))).toHaveLength(2); // consume, recompute

    await change();
    const local = await counted(() => refresher.refreshTenant({ tenantId: tenant, type: 'revenue', asOf: ASOF }));
    expect(local.result).toMatchObject({ changes: 1, statements: 1, rowsWritten: 1 });
    expect(local.queries).toHaveLength(2);
    expect(local.queries[0]).toMatch(/^BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SELECT pg_advisory_xact_lock\(.*\); EXECUTE sql_incremental_consume_[0-9a-f]{12}\(/);
    expect(local.queries[1]).toMatch(/^EXECUTE sql_incremental_tenant_[0-9a-f]{12}\(.*\); COMMIT$/s);

    // Queued (outcome rows in the recompute statement): a new statement text, prepared once, then two round trips.
    await change();
    await refresher.refreshTenant({ tenantId: tenant, type: 'revenue', asOf: ASOF, jobKey: 'rt-job', attempt: 1 });
    await change();
    const queued = await counted(() => refresher.refreshTenant({ tenantId: tenant, type: 'revenue', asOf: ASOF, jobKey: 'rt-job', attempt: 2 }));
    expect(queued.queries).toHaveLength(2);
    expect(queued.queries[1]).toMatch(/; COMMIT$/);
    expect(await outcomes('rt-job')).toEqual([{ tenant_id: tenant, type: 'revenue', status: 'succeeded', rows_written: 1, periods: 1, attempts: 2, recorded_at: new Date(NOW) }]);

    // Nothing pending: the same two round trips, nothing recomputed.
    const idle = await counted(() => refresher.refreshTenant({ tenantId: tenant, type: 'revenue', asOf: ASOF }));
    expect(idle.result).toMatchObject({ changes: 0, statements: 0, rowsWritten: 0 });
    expect(idle.queries).toHaveLength(2);
    expect(idle.queries[1]).toBe('COMMIT');

    expect(await pendingChanges(t.pool, tenant)).toBe(0);
    await expectTenantMatchesOracle(t.pool, tenant, ASOF, COHORTS);
  });

  it("records a queued job's outcome rows for every type of the job, summed over its statements, for a tenant id that needs escaping", async () => {
    const tenant = `o'brien\\x"{a,b}`;
    await org(t.pool, tenant, 'UTC');
    await payment(t.pool, tenant, { id: 'ob-p0', amountCents: 100, status: 'succeeded', createdAt: '2025-03-05T12:00:00Z' });
    await fullRecompute(tenant, 'day');
    await fullRecompute(tenant, 'month'); // the tenant now has day and month revenue rows
    const refresher = createIncrementalRefresher({ pool: single, clock: fixedClock(NOW), logger: silentLogger });
    await refresher.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF }); // folds in the set-up rows

    // One payment on 10 March (no tournament): it dirties the day of 10 March and the month of
    // March, two period types, hence two statements; nothing of tournaments or cohorts.
    await payment(t.pool, tenant, { id: 'ob-p1', amountCents: 250, status: 'succeeded', createdAt: '2025-03-10T12:00:00Z' });
    const res = await refresher.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF, jobKey: 'ob-job', attempt: 3 });
    expect(res).toMatchObject({ changes: 1, statements: 2, rowsWritten: 2 });
    const row = { tenant_id: tenant, status: 'succeeded', attempts: 3, recorded_at: new Date(NOW) };
    expect(await outcomes('ob-job')).toEqual([
      { ...row, type: 'cohorts', rows_written: 0, periods: 0 },
      { ...row, type: 'revenue', rows_written: 2, periods: 2 },
      { ...row, type: 'tournaments', rows_written: 0, periods: 0 },
    ]);
    const stored = await t.pool.query<{ period_type: string; total: string }>(
      `SELECT period_type, total_revenue_cents::text AS total FROM revenue_aggregates WHERE tenant_id = $1 AND (period_type, period_start) IN (('day', '2025-03-10T00:00:00Z'), ('month', '2025-03-01T00:00:00Z')) ORDER BY period_type`,
      [tenant],
    );
    expect(stored.rows).toEqual([
      { period_type: 'day', total: '250' },
      { period_type: 'month', total: '350' },
    ]);

    // A second job with nothing pending: zero rows of every type.
    await refresher.refreshTenant({ tenantId: tenant, type: 'all', asOf: ASOF, jobKey: 'ob-job-2', attempt: 1 });
    expect((await outcomes('ob-job-2')).map((o) => [o.type, o.rows_written, o.periods])).toEqual([
      ['cohorts', 0, 0],
      ['revenue', 0, 0],
      ['tournaments', 0, 0],
    ]);
    const watermarks = await t.pool.query<{ aggregate_type: string; period_type: string; changes_folded: string }>(
      `SELECT aggregate_type, period_type, changes_folded::text FROM aggregate_freshness WHERE tenant_id = $1 ORDER BY 1, 2`,
      [tenant],
    );
    // Revenue only was ever folded in (the set-up payment, then ob-p1), into both its period types.
    expect(watermarks.rows).toEqual([
      { aggregate_type: 'revenue', period_type: 'day', changes_folded: '2' },
      { aggregate_type: 'revenue', period_type: 'month', changes_folded: '2' },
    ]);
    await expectTenantMatchesOracle(t.pool, tenant, ASOF, COHORTS);
  });
});

describe('SQL-level prepared statements', () => {
  it('EXECUTE with escaped literals reads back exactly what the same statement reads from parameters', async () => {
    const text = 'SELECT $1::text AS a, $2::text[] AS b, $3::int AS c, $4::float8 AS d, $5::bool AS e, $6::text AS f, $7::int[] AS g, $8::timestamptz AS h';
    const values = [
      `it's a \\ "quote" {x,y} ; DROP TABLE organizations; --`,
      ['plain', `o'q`, 'back\\slash', '"dq"', '{brace}', 'com,ma', 'NULL', '', 'ünï', null],
      -42,
      1.5,
      true,
      null,
      [1, null, 3],
      '2025-03-30T01:30:00.000Z',
    ];
    const client = await t.pool.connect();
    try {
      const statement = sqlStatement('test_literals', text);
      await ensurePrepared(client, [statement]);
      const viaExecute = await client.query(executeText(client, statement, values));
      const viaParameters = await client.query(text, values);
      expect(viaExecute.rows).toEqual(viaParameters.rows);
      expect(viaExecute.rows[0]).toEqual({ a: values[0], b: values[1], c: -42, d: 1.5, e: true, f: null, g: [1, null, 3], h: new Date('2025-03-30T01:30:00.000Z') });
      expect((await client.query<{ n: number }>('SELECT count(*)::int AS n FROM organizations')).rows[0]!.n).toBeGreaterThan(0);
    } finally {
      client.release();
    }
  });

  it('a name already prepared on the connection does not abort the transaction; a deallocated one is prepared again', async () => {
    const client = await t.pool.connect();
    try {
      const statement = sqlStatement('test_dup', 'SELECT $1::int + 1 AS n');
      await client.query(`PREPARE ${statement.name} AS SELECT $1::int + 1 AS n`); // behind the tracker's back
      await client.query('BEGIN');
      await ensurePrepared(client, [statement], true);
      expect((await client.query(executeText(client, statement, [41]))).rows).toEqual([{ n: 42 }]);
      await client.query('COMMIT');

      await client.query('DEALLOCATE ALL');
      await expect(client.query(executeText(client, statement, [1]))).rejects.toMatchObject({ code: '26000' });
      await ensurePrepared(client, [statement]); // still believed prepared: nothing sent
      await expect(client.query(executeText(client, statement, [1]))).rejects.toMatchObject({ code: '26000' });
      forgetPrepared(client);
      await ensurePrepared(client, [statement]);
      expect((await client.query(executeText(client, statement, [1]))).rows).toEqual([{ n: 2 }]);
    } finally {
      client.release(true); // DEALLOCATE ALL dropped pg's own named statements too: not for reuse
    }
  });
});
