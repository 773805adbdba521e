import { describe, expect, it } from 'vitest';
import { classifyDatabaseError, sqlStateOf, withTransientMapping } from '../src/aggregation/transient';
import { InvalidDataError, NON_RETRYABLE_ERROR_TYPES, TransientDatabaseError } from '../src/errors';

// How a database failure decides its retries, on error shapes as pg, Prisma's driver adapter and
// Node's sockets produce them (written out by hand here; test/aggregation.errors.test.ts provokes
// the real ones against Postgres). Transient errors are retried; data errors never are.

/** A pg DatabaseError-like object: an Error with a SQLSTATE `code`. */
function pgError(code: string, message = `pg error ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

/** Prisma's driver-adapter wrapper around a pg error. */
function adapterError(inner: unknown, message = 'driver adapter error'): Error {
  return Object.assign(new Error(message), { code: 'P2010', meta: { driverAdapterError: inner } });
}

const kind = (err: unknown) => (err instanceof TransientDatabaseError ? 'transient' : err instanceof InvalidDataError ? 'data' : 'other');

describe('classifyDatabaseError: transient failures', () => {
  it.each(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionWriteConflict'])('driver adapter kind %s', (k) => {
    expect(kind(classifyDatabaseError('q', { kind: k }))).toBe('transient');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN'])('Node socket code %s', (code) => {
    expect(kind(classifyDatabaseError('q', pgError(code)))).toBe('transient');
  });

  it.each(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2034'])('Prisma connection code %s', (code) => {
    expect(kind(classifyDatabaseError('q', pgError(code)))).toBe('transient');
  });

  // 08006 connection failure, 08P01 protocol violation, 57P01 admin shutdown, 57P02 crash
  // shutdown, 57P03 cannot connect now, 53300 too many connections, 40001 serialization, 40P01 deadlock.
  it.each(['08006', '08P01', '08000', '57P01', '57P02', '57P03', '53300', '40001', '40P01'])('SQLSTATE %s, as a pg code or a postgres adapter kind', (code) => {
    expect(kind(classifyDatabaseError('q', pgError(code)))).toBe('transient');
    expect(kind(classifyDatabaseError('q', { kind: 'postgres', code }))).toBe('transient');
  });

  it.each([
    "Can't reach database server at 127.0.0.1:5432",
    'Connection terminated unexpectedly',
    'connection timeout expired',
    'Connection closed',
    'FATAL: terminating connection due to administrator command',
  ])('message %j', (message) => {
    expect(kind(classifyDatabaseError('q', new Error(message)))).toBe('transient');
  });

  it('looks through causes and the driver adapter error, up to six levels deep', () => {
    const nested = (levels: number) => {
      let err: unknown = pgError('57P01');
      for (let i = 0; i < levels; i++) err = new Error(`wrapper ${i}`, { cause: err });
      return err;
    };
    expect(kind(classifyDatabaseError('q', nested(6)))).toBe('transient');
    // Seven wrappers: the SQLSTATE is out of reach (neither transient nor data).
    expect(kind(classifyDatabaseError('q', nested(7)))).toBe('other');
    expect(kind(classifyDatabaseError('q', adapterError({ kind: 'postgres', code: '40P01' })))).toBe('transient');
    expect(kind(classifyDatabaseError('q', adapterError({ kind: 'ConnectionClosed' })))).toBe('transient');
    // The same depth limit through driver adapter wrappers.
    const adapters = (levels: number, inner: unknown) => {
      let err: unknown = inner;
      for (let i = 0; i < levels; i++) err = { meta: { driverAdapterError: err } };
      return err;
    };
    expect(kind(classifyDatabaseError('q', adapters(6, { kind: 'ConnectionClosed' })))).toBe('transient');
    expect(kind(classifyDatabaseError('q', adapters(7, { kind: 'ConnectionClosed' })))).toBe('other');
    expect(kind(classifyDatabaseError('q', adapters(6, { originalCode: '22P02' })))).toBe('data');
    expect(kind(classifyDatabaseError('q', adapters(7, { originalCode: '22P02' })))).toBe('other');
  });

  it('names the call and the last line of the message, and keeps the cause', () => {
    const cause = pgError('57P01', 'server closed\nFATAL: terminating connection due to administrator command');
    const err = classifyDatabaseError('revenue for org_1', cause) as TransientDatabaseError;
    expect(err).toBeInstanceOf(TransientDatabaseError);
    expect(err.name).toBe('TransientDatabaseError');
    expect(err.message).toBe('revenue for org_1: database unavailable (FATAL: terminating connection due to administrator command)');
    expect(err.cause).toBe(cause);
    // A thrown non-Error is shown as a string.
    expect((classifyDatabaseError('q', { code: 'ECONNRESET' }) as Error).message).toBe('q: database unavailable ([object Object])');
    expect((classifyDatabaseError('q', Object.assign(new Error('  read ECONNRESET  '), { code: 'ECONNRESET' })) as Error).message).toBe(
      'q: database unavailable (read ECONNRESET)',
    );
  });
});

describe('classifyDatabaseError: data errors and the rest', () => {
  it.each([
    ['22P02', 'invalid input syntax for type bigint'],
    ['22003', 'numeric field overflow'],
    ['22008', 'date/time field value out of range'],
    ['23505', 'duplicate key value violates unique constraint'],
    ['23503', 'insert or update violates foreign key constraint'],
  ])('SQLSTATE %s (%s) is an InvalidDataError naming the state', (state, message) => {
    const cause = pgError(state, message);
    const err = classifyDatabaseError('tournaments for org_2', cause) as InvalidDataError;
    expect(err).toBeInstanceOf(InvalidDataError);
    expect(err.sqlState).toBe(state);
    expect(err.message).toBe(`tournaments for org_2: invalid data (${state}: ${message})`);
    expect(err.cause).toBe(cause);
    expect(NON_RETRYABLE_ERROR_TYPES).toContain(err.name);
  });

  it('finds a data error behind the driver adapter (originalCode) and behind causes', () => {
    const viaAdapter = adapterError({ kind: 'postgres', originalCode: '22012', message: 'division by zero' });
    expect(classifyDatabaseError('q', viaAdapter)).toMatchObject({ name: 'InvalidDataError', sqlState: '22012' });
    const viaCause = new Error('query failed', { cause: pgError('23514', 'check constraint') });
    expect(classifyDatabaseError('q', viaCause)).toMatchObject({ name: 'InvalidDataError', sqlState: '23514' });
  });

  it('returns anything else unchanged: syntax errors, undefined tables, unknown values', () => {
    for (const err of [pgError('42601', 'syntax error'), pgError('42P01', 'relation does not exist'), new Error('boom'), 'a string', null, undefined, 42]) {
      expect(classifyDatabaseError('q', err)).toBe(err);
    }
    // An adapter kind that is not in the transient list, and a postgres kind with a non-transient code.
    const other = { kind: 'UniqueConstraintViolation' };
    expect(classifyDatabaseError('q', other)).toBe(other);
    const syntax = { kind: 'postgres', code: '42601' };
    expect(classifyDatabaseError('q', syntax)).toBe(syntax);
    // Non-string fields are ignored rather than matched.
    const numeric = { code: 8006, kind: 1, message: 404 };
    expect(classifyDatabaseError('q', numeric)).toBe(numeric);
    // ... even where their text would match: a numeric 40001 or 22003, a message that is an array.
    for (const odd of [{ code: 40001 }, { code: 22003 }, { originalCode: 22003 }, { message: ['Connection terminated unexpectedly'] }]) {
      expect(classifyDatabaseError('q', odd)).toBe(odd);
    }
    // A SQLSTATE is exactly five characters: longer codes are neither transient nor data errors.
    for (const code of ['400011', 'X40001', '57P011', '22P021']) {
      const err = pgError(code);
      expect([code, classifyDatabaseError('q', err)]).toEqual([code, err]);
    }
  });
});

describe('sqlStateOf', () => {
  it('reads a five-character SQLSTATE from code or originalCode, through causes and the adapter', () => {
    expect(sqlStateOf(pgError('22P02'))).toBe('22P02');
    expect(sqlStateOf({ originalCode: '23505' })).toBe('23505');
    expect(sqlStateOf(new Error('outer', { cause: pgError('40001') }))).toBe('40001');
    expect(sqlStateOf(adapterError({ originalCode: '22003' }))).toBe('22003');
  });

  it('ignores Prisma codes, Node codes and anything not five characters, and gives up after six levels', () => {
    expect(sqlStateOf(pgError('P2010'))).toBeUndefined();
    expect(sqlStateOf(pgError('ECONNRESET'))).toBeUndefined();
    expect(sqlStateOf(pgError('2202'))).toBeUndefined();
    expect(sqlStateOf(pgError('22p02'))).toBeUndefined();
    expect(sqlStateOf({ originalCode: 'x22P02' })).toBeUndefined();
    expect(sqlStateOf({ originalCode: 22 })).toBeUndefined();
    expect(sqlStateOf({ originalCode: 22003 })).toBeUndefined();
    expect(sqlStateOf({ code: 22003 })).toBeUndefined();
    expect(sqlStateOf({ originalCode: '22P02X' })).toBeUndefined();
    expect(sqlStateOf(null)).toBeUndefined();
    expect(sqlStateOf('22P02')).toBeUndefined();
    // A Prisma code on the outside does not hide the SQLSTATE inside.
    expect(sqlStateOf(adapterError(pgError('23505')))).toBe('23505');
    let deep: unknown = pgError('22P02');
    for (let i = 0; i < 6; i++) deep = { cause: deep };
    expect(sqlStateOf(deep)).toBe('22P02');
    expect(sqlStateOf({ cause: deep })).toBeUndefined();
  });
});

describe('withTransientMapping', () => {
  it('returns what the call returns', async () => {
    await expect(withTransientMapping('q', async () => 42)).resolves.toBe(42);
  });

  it('throws the classified error', async () => {
    await expect(withTransientMapping('q', () => Promise.reject(pgError('57P01')))).rejects.toBeInstanceOf(TransientDatabaseError);
    await expect(withTransientMapping('q', () => Promise.reject(pgError('22P02')))).rejects.toBeInstanceOf(InvalidDataError);
    const other = pgError('42601');
    await expect(withTransientMapping('q', () => Promise.reject(other))).rejects.toBe(other);
  });
});
