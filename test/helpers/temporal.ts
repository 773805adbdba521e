import { msToTs } from '@temporalio/common/lib/time';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
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

/**
 * A fresh namespace on the dev server, for tests of things that are unique per namespace
 * (schedule ids such as `daily-revenue`). Waits until the server serves it.
 */
export async function createTestNamespace(client: Client, prefix = 'ns', options: { searchAttributes?: boolean } = {}): Promise<string> {
  const namespace = `${prefix}-${uniqueSuffix()}`;
  await client.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  if (options.searchAttributes) {
    // Custom search attributes are per namespace; the job workflows set them.
    const { IndexedValueType } = proto.temporal.api.enums.v1;
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`]])),
    });
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.workflowService.describeNamespace({ namespace });
      // The frontend's namespace cache lags registration; listing schedules proves it is served.
      await client.workflowService.listSchedules({ namespace, maximumPageSize: 1 });
      return namespace;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
