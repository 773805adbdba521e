import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import { testConfig, uniqueSuffix } from './config';

export interface TestTemporal {
  address: string;
  namespace: string;
  client: Client;
  nativeConnection: NativeConnection;
  /** A task queue no other test uses. */
  taskQueue: string;
  close(): Promise<void>;
}

/** Connects to the run's Temporal dev server (see test/setup/global.ts). */
export async function connectTestTemporal(): Promise<TestTemporal> {
  const address = inject('temporalAddress');
  const namespace = testConfig.temporal.namespace;
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    address,
    namespace,
    client: new Client({ connection, namespace }),
    nativeConnection,
    taskQueue: `test-${uniqueSuffix()}`,
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}
