import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransientMapping } from '../src/aggregation/transient';
import { createDb } from '../src/db/client';
import {
  InactiveTenantError,
  InvalidDataError,
  InvalidInputError,
  InvalidPeriodError,
  NON_RETRYABLE_ERROR_TYPES,
  TooManyPeriodsError,
  TransientDatabaseError,
  UnknownTenantError,
} from '../src/errors';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { org, payment, user } from './helpers/fixtures';
import { testService } from './helpers/service';

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('err');
  await org(t.pool, 'live', 'UTC');
  await org(t.pool, 'paused', 'UTC', 'suspended');
  await org(t.pool, 'gone', 'UTC', 'deleted');
  await payment(t.pool, 'live', { id: 'p', amountCents: 100, status: 'succeeded', createdAt: '2025-01-01T10:00:00Z' });
  await user(t.pool, 'live', 'u', '2025-01-01T10:00:00Z');
});

afterAll(async () => {
  await t?.drop();
});

async function aggregateRowCount(): Promise<number> {
  const { rows } = await t.pool.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM revenue_aggregates) + (SELECT count(*) FROM user_cohorts) + (SELECT count(*) FROM tournament_aggregates) AS n`,
  );
  return Number(rows[0]!.n);
}

describe('bad input is rejected with a named error and writes nothing', () => {
  const cases: [string, () => Promise<unknown>, new (...args: never[]) => InvalidInputError, RegExp][] = [
    ['unknown tenant', () => testService(t.db).aggregateRevenue('nope', '2025-01-01', '2025-01-02', 'day'), UnknownTenantError, /^tenantId: unknown tenant "nope"/],
    ['suspended tenant', () => testService(t.db).aggregateTournaments('paused', '2025-01-01', '2025-01-02', 'day'), InactiveTenantError, /^tenantId: tenant "paused" is suspended/],
    ['deleted tenant', () => testService(t.db).aggregateCohorts('gone', '2025-01-01', '2025-02-01T00:00:00Z'), InactiveTenantError, /is deleted/],
    ['empty tenant id', () => testService(t.db).aggregateRevenue('', '2025-01-01', '2025-01-02', 'day'), InvalidInputError, /^tenantId: /],
    ['periodEnd equal to periodStart', () => testService(t.db).aggregateRevenue('live', '2025-01-02', '2025-01-02', 'day'), InvalidPeriodError, /^periodEnd: must be after periodStart/],
    ['periodEnd before periodStart', () => testService(t.db).aggregateAll('live', '2025-01-03', '2025-01-01', 'day'), InvalidPeriodError, /^periodEnd: /],
    ['unknown periodType', () => testService(t.db).aggregateRevenue('live', '2025-01-01', '2025-01-02', 'hour'), InvalidPeriodError, /^periodType: unknown period type "hour"/],
    ['malformed periodStart', () => testService(t.db).aggregateTournaments('live', '01/02/2025', '2025-01-02', 'day'), InvalidPeriodError, /^periodStart: /],
    ['impossible periodEnd', () => testService(t.db).aggregateRevenue('live', '2025-01-01', '2025-02-30', 'day'), InvalidPeriodError, /^periodEnd: "2025-02-30" is not a valid date/],
    ['malformed cohort month', () => testService(t.db).aggregateCohorts('live', '2025-13', '2025-02-01T00:00:00Z'), InvalidPeriodError, /^cohortMonth: /],
    ['malformed asOf', () => testService(t.db).aggregateCohorts('live', '2025-01-01', 'soon'), InvalidPeriodError, /^asOf: /],
    // aggregateAll validates the as-of before writing revenue
    ['malformed asOf in aggregateAll', () => testService(t.db).aggregateAll('live', '2025-01-01', '2025-01-02', 'day', 'soon'), InvalidPeriodError, /^asOf: /],
    ['over the default 1000 periods', () => testService(t.db).aggregateRevenue('live', '2020-01-01', '2025-01-01', 'day'), TooManyPeriodsError, /more than 1000 periods/],
    ['over a configured maximum', () => testService(t.db, { maxPeriods: 5 }).aggregateAll('live', '2025-01-01', '2025-01-07', 'day'), TooManyPeriodsError, /more than 5 periods/],
    ['cohort months too far from asOf', () => testService(t.db, { maxPeriods: 12 }).aggregateCohorts('live', '2020-01-01', '2025-01-01T00:00:00Z'), TooManyPeriodsError, /^asOf: /],
  ];

  it.each(cases)('%s', async (_name, run, errorClass, message) => {
    const err = await run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(errorClass);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(message);
    expect(NON_RETRYABLE_ERROR_TYPES).toContain((err as Error).name);
    expect(await aggregateRowCount()).toBe(0);
  });
});

describe('error classes', () => {
  it('set their own name, keep the cause and name the field', () => {
    const cause = new Error('root');
    const errors = [
      new InvalidInputError('f', 'm', { cause }),
      new UnknownTenantError('x'),
      new InactiveTenantError('x', 'suspended'),
      new InvalidPeriodError('periodStart', 'bad', { cause }),
      new TooManyPeriodsError('periodEnd', 10),
      new InvalidDataError('bad bytes', '22021', { cause }),
      new TransientDatabaseError('down', { cause }),
    ];
    expect(errors.map((e) => e.name)).toEqual([
      'InvalidInputError',
      'UnknownTenantError',
      'InactiveTenantError',
      'InvalidPeriodError',
      'TooManyPeriodsError',
      'InvalidDataError',
      'TransientDatabaseError',
    ]);
    expect(errors[0]!.cause).toBe(cause);
    expect(errors[3]!.cause).toBe(cause);
    expect((errors[3] as InvalidPeriodError).field).toBe('periodStart');
    expect(NON_RETRYABLE_ERROR_TYPES).toEqual(errors.slice(0, 6).map((e) => e.name));
    expect(NON_RETRYABLE_ERROR_TYPES).not.toContain('TransientDatabaseError');
  });
});

describe('transient database failures', () => {
  it('an unreachable database is a TransientDatabaseError (retryable)', async () => {
    const unreachable = createDb('postgresql://postgres@127.0.0.1:1/analytics');
    try {
      const err = await testService(unreachable).aggregateRevenue('live', '2025-01-01', '2025-01-02', 'day').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TransientDatabaseError);
      expect((err as Error).cause).toBeDefined();
      expect(NON_RETRYABLE_ERROR_TYPES).not.toContain((err as Error).name);
      const listing = await testService(unreachable).getActiveTenants().catch((e: unknown) => e);
      expect(listing).toBeInstanceOf(TransientDatabaseError);
    } finally {
      await unreachable.$disconnect();
    }
  });

  it.each([
    ['a dropped connection (adapter kind)', { meta: { driverAdapterError: { cause: { kind: 'ConnectionClosed' } } } }],
    ['server shutting down (SQLSTATE 57P01)', { kind: 'postgres', code: '57P01', message: 'terminating connection due to administrator command' }],
    ['a socket reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a serialization failure', { cause: { code: '40001', message: 'could not serialize access' } }],
  ])('%s is transient', async (_name, failure) => {
    await expect(withTransientMapping('x', () => Promise.reject(failure))).rejects.toBeInstanceOf(TransientDatabaseError);
  });

  it.each([
    ['08006 connection failure', '08006', TransientDatabaseError],
    ['08001 cannot connect', '08001', TransientDatabaseError],
    ['57P01 admin shutdown', '57P01', TransientDatabaseError],
    ['57P03 cannot connect now', '57P03', TransientDatabaseError],
    ['53300 too many connections', '53300', TransientDatabaseError],
    ['40001 serialization failure', '40001', TransientDatabaseError],
    ['40P01 deadlock', '40P01', TransientDatabaseError],
    ['22021 invalid byte sequence (a NUL in text)', '22021', InvalidDataError],
    ['22P02 invalid text representation', '22P02', InvalidDataError],
    ['22008 datetime field overflow', '22008', InvalidDataError],
    ['23505 unique violation', '23505', InvalidDataError],
    ['23503 foreign key violation', '23503', InvalidDataError],
  ])('SQLSTATE %s maps to its retry class', async (_name, code, expected) => {
    const failure = Object.assign(new Error(`pg says ${code}`), { code });
    const err = await withTransientMapping('x', () => Promise.reject(failure)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(expected);
    expect((NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes((err as Error).name)).toBe(expected === InvalidDataError);
  });

  it('a NUL byte in a tenant id is bad data from the real server, never retried', async () => {
    const err = await testService(t.db).aggregateRevenue('bad\u0000id', '2025-01-01', '2025-01-02', 'day').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidDataError);
    expect((err as InvalidDataError).sqlState).toBe('22021');
  });

  it('other failures pass through unchanged', async () => {
    const syntax = Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' });
    await expect(withTransientMapping('x', () => Promise.reject(syntax))).rejects.toBe(syntax);
  });
});
