import type { AggregateSummary, AggregationTypeOrAll } from '../contract/aggregation';
import { InvalidInputError } from '../errors/invalid-input-error';
import { localReport } from './aggregate-report';
import type { QueueFlags } from './job';
import { formatTable } from './options';
import { printJson } from './output';
import { configFromEnv, UsageError } from './program';

// `analytics aggregate --incremental`: every pending change folded in (docs/incremental.md),
// queued (an aggregation job with `incremental: true`) or in this process with --local.

export interface IncrementalFlags extends QueueFlags {
  type: AggregationTypeOrAll;
  local?: boolean;
  tenant?: string;
  asOf?: string;
  json?: boolean;
  verbose?: boolean;
  timeout?: string;
  bridgeTimeout: string;
}

/** Tenants listed per query when looking for pending changes. */
const PAGE = 1_000;

export async function runIncrementalCommand(flags: IncrementalFlags): Promise<void> {
  if (!flags.local) {
    const { runQueuedFromCli } = await import('./aggregate-queued');
    await runQueuedFromCli(flags, { type: flags.type, incremental: true, ...(flags.tenant !== undefined ? { tenantId: flags.tenant } : {}), ...(flags.asOf !== undefined ? { asOf: flags.asOf } : {}) });
    return;
  }

  const config = configFromEnv();
  const [{ createLogger }, { requireMigratedDatabase }, { createIncrementalRefresher, kindsOfJob }, { pendingTenantIds, purgeUnreachableChanges }, { systemClock }, { createDb, poolOf }, { asOfOfJob }] =
    await Promise.all([
      import('../logger'),
      import('./migrated'),
      import('../incremental/refresh'),
      import('../incremental/pending'),
      import('../aggregation/service'),
      import('../db/client'),
      import('../aggregation/job-plan'),
    ]);
  let asOf: string;
  try {
    asOf = asOfOfJob({ type: flags.type, ...(flags.asOf !== undefined ? { asOf: flags.asOf } : {}) }, systemClock.now().toISOString());
  } catch (err) {
    if (err instanceof InvalidInputError) throw new UsageError(`--as-of: ${err.message.replace(/^[\w.]+: /, '')}`);
    throw err;
  }
  await requireMigratedDatabase(config);
  const db = createDb(config.databaseUrl, { max: 2 });
  const logger = createLogger(flags.verbose ? config.logLevel : 'warn', { service: 'analytics-cli' }, { format: config.logFormat });
  try {
    const pool = poolOf(db);
    const refresher = createIncrementalRefresher({ pool, clock: systemClock, logger });
    let tenants: string[];
    if (flags.tenant !== undefined) {
      tenants = [flags.tenant];
    } else {
      await purgeUnreachableChanges(pool);
      tenants = [];
      for (let page = await pendingTenantIds(pool, kindsOfJob(flags.type), null, PAGE); page.length > 0; page = await pendingTenantIds(pool, kindsOfJob(flags.type), page[page.length - 1]!, PAGE)) {
        tenants.push(...page);
        if (page.length < PAGE) break;
      }
    }
    const summaries: AggregateSummary[] = [];
    const rows: (string | number)[][] = [];
    const failures: { tenantId: string; type: AggregationTypeOrAll; errorType: string; message: string }[] = [];
    for (const tenantId of tenants) {
      try {
        const r = await refresher.refreshTenant({ tenantId, type: flags.type, asOf });
        summaries.push(...r.summaries);
        rows.push([tenantId, r.changes, r.statements, r.rowsWritten, r.summaries.reduce((m, s) => Math.max(m, s.durationMs), 0), 'ok']);
      } catch (err) {
        const e = err as Error;
        failures.push({ tenantId, type: flags.type, errorType: e.name, message: e.message });
        rows.push([tenantId, '-', '-', '-', '-', `${e.name}: ${e.message}`]);
      }
    }
    if (flags.json) printJson(localReport(tenants.length, summaries, failures));
    else if (tenants.length === 0) console.log('no pending changes');
    else {
      console.log(formatTable(['tenant', 'changes', 'statements', 'rows', 'ms', 'status'], rows));
      console.log(`\n${tenants.length} tenant(s) with pending changes, ${summaries.reduce((n, s) => n + s.rowsWritten, 0)} rows written, ${failures.length} failed`);
    }
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await db.$disconnect();
  }
}
