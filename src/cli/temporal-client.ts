import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { ServiceUnavailableError } from '../errors/service-unavailable-error';
import { reasonOf, TEMPORAL_VARIABLES } from '../queue/health';
import { temporalConnectionOptions } from '../temporal/connection';

/**
 * Connects to Temporal for one command (within CONNECT_TIMEOUT_MS, else a
 * {@link ServiceUnavailableError} naming it), runs `fn`, and always closes the connection.
 */
export async function withTemporalClient<T>(config: Config, fn: (client: Client) => Promise<T>): Promise<T> {
  const options = temporalConnectionOptions(config.temporal, { connectTimeoutMs: config.connectTimeoutMs }).client;
  let connection: Connection;
  try {
    connection = await Connection.connect(options);
  } catch (err) {
    throw new ServiceUnavailableError('Temporal', config.temporal.address, TEMPORAL_VARIABLES, reasonOf(err), config.connectTimeoutMs, { cause: err });
  }
  try {
    return await fn(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}
