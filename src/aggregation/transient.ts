import { InvalidDataError } from '../errors/invalid-data-error';
import { TransientDatabaseError } from '../errors/transient-database-error';

// Failures where the same statement may succeed later: the server is unreachable, restarting,
// out of connections, or dropped us; or it aborted us for a conflict it asks clients to retry.
const TRANSIENT_ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TransactionWriteConflict',
]);
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);
// Class 08 (connection exception), 57P0x (server shutting down / starting), 53300, 40001, 40P01.
const TRANSIENT_SQLSTATE = /^(08...|57P0[123]|53300|40001|40P01)$/;
// Prisma's own connection-level codes (can't reach, timed out, closed, pool timeout, conflict).
const TRANSIENT_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2034']);
const TRANSIENT_MESSAGE = /Can't reach database server|Connection terminated|connection (timeout|closed)|terminating connection/i;

function isTransient(err: unknown, depth = 0): boolean {
  if (depth > 6 || err === null || typeof err !== 'object') return false;
  const e = err as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
  if (typeof e.kind === 'string' && TRANSIENT_ADAPTER_KINDS.has(e.kind)) return true;
  if (e.kind === 'postgres' && typeof e.code === 'string' && TRANSIENT_SQLSTATE.test(e.code)) return true;
  if (typeof e.code === 'string' && (TRANSIENT_NODE_CODES.has(e.code) || TRANSIENT_PRISMA_CODES.has(e.code) || TRANSIENT_SQLSTATE.test(e.code))) {
    return true;
  }
  if (typeof e.message === 'string' && TRANSIENT_MESSAGE.test(e.message)) return true;
  return isTransient(e.cause, depth + 1) || isTransient(e.meta?.driverAdapterError, depth + 1);
}

// Class 22 (data exception: invalid text, bytes, dates, numeric overflow) and 23 (integrity
// constraint violation): the data, not the moment, is at fault.
const DATA_SQLSTATE = /^(22|23)...$/;

/** The SQLSTATE of a Postgres error, through driver-adapter and cause wrappers. */
export function sqlStateOf(err: unknown, depth = 0): string | undefined {
  if (depth > 6 || err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; originalCode?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && !e.code.startsWith('P')) return e.code;
  if (typeof e.originalCode === 'string' && /^[0-9A-Z]{5}$/.test(e.originalCode)) return e.originalCode;
  return sqlStateOf(e.cause, depth + 1) ?? sqlStateOf(e.meta?.driverAdapterError, depth + 1);
}

/**
 * The error class that decides a database failure's retries: connection-level failures (refused,
 * reset, timed out, admin shutdown, serialization failures, deadlocks) become
 * {@link TransientDatabaseError} (retried); data errors (SQLSTATE class 22 and 23) become
 * {@link InvalidDataError} (never retried); anything else is returned as it is.
 */
export function classifyDatabaseError(what: string, err: unknown): unknown {
  const lastLine = () => (err as Error | undefined)?.message?.trim().split('\n').pop() ?? String(err);
  if (isTransient(err)) return new TransientDatabaseError(`${what}: database unavailable (${lastLine()})`, { cause: err });
  const state = sqlStateOf(err);
  if (state !== undefined && DATA_SQLSTATE.test(state)) return new InvalidDataError(`${what}: invalid data (${state}: ${lastLine()})`, state, { cause: err });
  return err;
}

/** Runs a database call, turning its failures into the classes {@link classifyDatabaseError} picks. */
export async function withTransientMapping<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw classifyDatabaseError(what, err);
  }
}
