import { Connection } from '@temporalio/client';
// Files of a CommonJS package, so with their extension: Node's ESM loader (dist/) resolves no other form.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { msToTs } from '@temporalio/common/lib/time.js';
import { loadConfig } from './config';
import { migrate } from './db/migrate';
import { temporalConnectionOptions } from './temporal/connection';
import { SEARCH_ATTRIBUTES } from './temporal/search-attributes';

// The compose stack's one-shot `init` job (`node dist/docker-init.js [--wait-ms MS]`), one
// composition root of its own:
//   1. applies prisma/migrations to DATABASE_URL (as `analytics db migrate`);
//   2. creates TEMPORAL_NAMESPACE when the server does not have it (retention 3 days);
//   3. registers the custom search attributes the workflows set (src/temporal/search-attributes.ts)
//      in that namespace, leaving those already there with the right type alone.
// Idempotent. Any error exits 1 with the reason on stderr — an attribute registered with another
// type, a server that is still unreachable after --wait-ms (default 60000) — so compose never
// starts the workers on a half-prepared stack.

const NAMESPACE_RETENTION = '3 days';
const GRPC_NOT_FOUND = 5;

function log(message: string): void {
  console.log(`init: ${message}`);
}

function waitMsOf(argv: string[]): number {
  const i = argv.indexOf('--wait-ms');
  if (i === -1) return 60_000;
  const ms = Number(argv[i + 1]);
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`--wait-ms: expected a whole number of milliseconds, got ${JSON.stringify(argv[i + 1])}`);
  return ms;
}

/** Runs `fn` until it succeeds or `waitMs` has passed (the server may still be starting), then throws its last error. */
async function patiently<T>(what: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function main(): Promise<void> {
  const waitMs = waitMsOf(process.argv.slice(2));
  const config = loadConfig();

  const migrated = await migrate(config.databaseUrl);
  log(`database: ${migrated.applied.length} migrations applied, ${migrated.alreadyApplied.length} already there`);

  const { address, namespace } = config.temporal;
  const connection = await patiently(`cannot reach Temporal at ${address} (TEMPORAL_ADDRESS)`, waitMs, () =>
    Connection.connect(temporalConnectionOptions(config.temporal, { connectTimeoutMs: 5_000 }).client),
  );
  try {
    const registered = await patiently(`namespace ${namespace}`, waitMs, async () => {
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return false;
      } catch (err) {
        if ((err as { code?: number }).code !== GRPC_NOT_FOUND) throw err;
        await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION) });
        return true;
      }
    });
    log(registered ? `namespace ${namespace} created` : `namespace ${namespace} exists`);

    // A namespace just created takes a moment to be served: list until it answers.
    const existing = await patiently(`listing the search attributes of ${namespace}`, waitMs, async () =>
      (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {},
    );
    const missing: Record<string, number> = {};
    for (const key of SEARCH_ATTRIBUTES) {
      const wanted = encodeSearchAttributeIndexedValueType(key.type)!;
      const found = existing[key.name];
      if (found === undefined) missing[key.name] = wanted;
      else if (found !== wanted) throw new Error(`search attribute ${key.name} exists in ${namespace} with another type (${found}), expected ${key.type}`);
    }
    if (Object.keys(missing).length > 0) {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    }
    log(`search attributes in ${namespace}: ${SEARCH_ATTRIBUTES.map((k) => `${k.name} (${k.type})`).join(', ')}; added ${Object.keys(missing).length}`);
  } finally {
    await connection.close();
  }
}

try {
  await main();
} catch (err) {
  console.error(`init failed: ${(err as Error).message}`);
  process.exitCode = 1;
}
