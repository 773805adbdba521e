import type { Command } from 'commander';
import { intOption } from './options';
import { printJson, printTable } from './output';
import { configFromEnv, UsageError } from './program';

// `analytics freshness` and `analytics verify` (docs/incremental.md).

interface FreshnessFlags {
  tenant?: string;
  limit: string;
  json?: boolean;
}

interface VerifyFlags {
  tenant?: string;
  sample?: string;
  asOf?: string;
  json?: boolean;
}

/** Differences a table report lists at most (--json lists every one). */
const DIFFERENCES_LISTED = 50;

async function withPool<T>(run: (pool: import('pg').Pool) => Promise<T>): Promise<T> {
  const config = configFromEnv();
  const [{ requireMigratedDatabase }, { default: pg }, { pgConfigOf }] = await Promise.all([import('./migrated'), import('pg'), import('../db/client')]);
  await requireMigratedDatabase(config);
  const pool = new pg.Pool({ ...pgConfigOf(config.databaseUrl), max: 3 });
  try {
    return await run(pool);
  } finally {
    await pool.end();
  }
}

export function registerIncrementalCommands(program: Command): void {
  program
    .command('freshness')
    .description('how fresh the aggregates are: per (tenant, type, period type) the newest change an incremental run folded in and when, and the changes still pending')
    .option('--tenant <id>', 'one organization (default: every one)')
    .option('--limit <rows>', 'rows listed at most per table (the totals count everything)', '200')
    .option('--json', 'print JSON: { watermarks, pending, totals }')
    .action(async (flags: FreshnessFlags) => {
      const limit = intOption('--limit', flags.limit, { min: 1, max: 1_000_000 });
      if (flags.tenant !== undefined && flags.tenant.trim() === '') throw new UsageError('--tenant must not be empty');
      const { readFreshness } = await import('../incremental/freshness');
      const report = await withPool((pool) => readFreshness(pool, { ...(flags.tenant !== undefined ? { tenantId: flags.tenant } : {}), limit }));
      if (flags.json) return printJson(report);
      if (report.watermarks.length === 0) console.log('no watermarks yet (no incremental run has folded in a change)');
      else {
        printTable(
          report.watermarks.map((w) => ({ tenant: w.tenantId, type: w.type, period: w.periodType, 'newest change folded': w.newestChangeAt, 'refreshed at': w.refreshedAt, changes: w.changesFolded })),
        );
      }
      if (report.pending.length > 0) {
        console.log('\npending changes');
        printTable(report.pending.map((p) => ({ tenant: p.tenantId, type: p.type, changes: p.changes, 'oldest pending': p.oldestChangeAt })));
      }
      const t = report.totals;
      console.log(
        `\n${t.tenantsWithWatermarks} tenant(s) with watermarks; ${t.pendingChanges} pending change(s) in ${t.tenantsWithPendingChanges} tenant(s)` +
          (t.oldestPendingChangeAt ? `, the oldest written ${t.oldestPendingChangeAt}` : ''),
      );
    });

  program
    .command('verify')
    .description('recompute stored tenant-periods from the raw rows (same statements, temporary tables, rolled back) and report every difference from the stored aggregates; exit 0 when equal, 1 with differences')
    .option('--tenant <id>', 'one organization: every stored row of it (default: every tenant)')
    .option('--sample <n>', 'check n stored rows picked at random (default: every stored row)')
    .option('--as-of <instant>', 'cohorts: month numbers recomputed up to this instant, ISO with offset (default: now)')
    .option('--json', 'print JSON: { tenants, rowsChecked, differences, tenantsWithPendingChanges }')
    .action(async (flags: VerifyFlags) => {
      if (flags.tenant !== undefined && flags.tenant.trim() === '') throw new UsageError('--tenant must not be empty');
      const sample = flags.sample !== undefined ? intOption('--sample', flags.sample, { min: 1, max: 10_000_000 }) : undefined;
      const asOf = flags.asOf ?? new Date().toISOString();
      if (Number.isNaN(Date.parse(asOf)) || !/[zZ]|[+-]\d{2}:?\d{2}$/.test(asOf)) throw new UsageError(`--as-of: expected an ISO instant with offset, got ${JSON.stringify(flags.asOf)}`);
      const { verifyAggregates } = await import('../incremental/verify');
      const report = await withPool((pool) =>
        verifyAggregates(pool, { ...(flags.tenant !== undefined ? { tenantId: flags.tenant } : {}), ...(sample !== undefined ? { sample } : {}), asOf: new Date(asOf).toISOString() }),
      );
      if (report.differences.length > 0) process.exitCode = 1;
      if (flags.json) return printJson(report);
      if (report.differences.length > 0) {
        printTable(
          report.differences.slice(0, DIFFERENCES_LISTED).map((d) => ({ tenant: d.tenantId, type: d.type, period: d.key, column: d.column, stored: JSON.stringify(d.stored), expected: JSON.stringify(d.expected) })),
        );
        if (report.differences.length > DIFFERENCES_LISTED) console.log(`... and ${report.differences.length - DIFFERENCES_LISTED} more (--json lists every one)`);
      }
      console.log(`\n${report.rowsChecked} stored row(s) of ${report.tenants} tenant(s) checked: ${report.differences.length === 0 ? 'no differences' : `${report.differences.length} difference(s)`}`);
      if (report.tenantsWithPendingChanges.length > 0) {
        console.log(`${report.tenantsWithPendingChanges.length} of them have pending changes (run \`analytics aggregate --incremental\`): a difference there may be staleness`);
      }
    });
}
