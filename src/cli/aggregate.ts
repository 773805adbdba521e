import type { Command } from 'commander';
import { AGGREGATION_TYPES, PERIOD_TYPES, type AggregateSummary, type AggregationTypeOrAll } from '../contract/aggregation';
import { InvalidInputError } from '../errors/invalid-input-error';
import { localReport } from './aggregate-report';
import { queueOption } from './job';
import { choiceOption, dateOption, formatTable } from './options';
import { printJson } from './output';
import { configFromEnv, UsageError } from './program';

interface AggregateFlags {
  local?: boolean;
  type: string;
  tenant?: string;
  periodType?: string;
  from?: string;
  to?: string;
  incremental?: boolean;
  asOf?: string;
  json?: boolean;
  verbose?: boolean;
  timeout?: string;
  bridgeTimeout: string;
  queue?: string;
}

interface Failure {
  tenantId: string;
  type: AggregationTypeOrAll;
  errorType: string;
  message: string;
  field?: string;
}

/** Which flag carries each service input field, so errors name what the user typed. */
const FLAG_OF_FIELD: Record<string, string> = {
  periodStart: '--from',
  periodEnd: '--to',
  periodType: '--period-type',
  asOf: '--as-of',
  tenantId: '--tenant',
};

const TYPES = [...AGGREGATION_TYPES, 'all'] as const;

export function registerAggregateCommand(program: Command): void {
  const command = program.command('aggregate');
  queueOption(command);
  command
    .description('compute aggregates for a range of periods and print a per-tenant summary (dates are tenant-local, --to exclusive)')
    .option('--local', 'run the aggregation service in this process (no queue, no Temporal); default: enqueue an aggregation job and wait for it (needs `analytics workers` running)')
    .option('--timeout <seconds>', 'queued mode: stop waiting after this long (the job goes on)', '600')
    .option('--bridge-timeout <seconds>', 'queued mode: give up when the job has waited this long with no bridge (`analytics workers`) on the queue; the job stays queued', '10')
    .requiredOption('--type <type>', `what to aggregate: ${TYPES.join(', ')}`)
    .option('--tenant <id>', 'one organization (default: every active organization)')
    .option('--period-type <type>', `period length: ${PERIOD_TYPES.join(', ')} (required unless --incremental)`)
    .option('--from <date>', 'first day, YYYY-MM-DD in each tenant\'s timezone (required unless --incremental)')
    .option('--to <date>', 'end day (exclusive), YYYY-MM-DD in each tenant\'s timezone (required unless --incremental)')
    .option('--incremental', 'fold in every pending change instead of a range: only tenants with changes run, only the buckets they dirty are recomputed (no dates; docs/incremental.md)')
    .option('--as-of <instant>', 'cohorts: the instant month numbers run up to, ISO with offset (default: now)')
    .option('--json', 'print the report as JSON, the same shape in both modes: { jobId, workflowId, status, error?, totals, outcomes, outcomesOmitted } (ids null with --local)')
    .option('--verbose', 'log each aggregation to stderr at LOG_LEVEL (default: warnings only)')
    .action(async (flags: AggregateFlags) => {
      const type = choiceOption('--type', flags.type, TYPES);
      if (flags.tenant !== undefined && flags.tenant.trim() === '') throw new UsageError('--tenant must not be empty');
      if (flags.incremental) {
        const given = (['--period-type', '--from', '--to'] as const).filter((f) => flags[f === '--period-type' ? 'periodType' : f === '--from' ? 'from' : 'to'] !== undefined);
        if (given.length > 0) throw new UsageError(`${given.join(', ')}: not allowed with --incremental (it folds in every pending change, whatever its period)`);
        const { runIncrementalCommand } = await import('./aggregate-incremental');
        await runIncrementalCommand({ ...flags, type });
        return;
      }
      for (const [flag, value] of [['--period-type <type>', flags.periodType], ['--from <date>', flags.from], ['--to <date>', flags.to]] as const) {
        if (value === undefined) throw new UsageError(`required option '${flag}' not specified (or use --incremental)`);
      }
      const periodType = choiceOption('--period-type', flags.periodType!, PERIOD_TYPES);
      const from = dateOption('--from', flags.from!);
      const to = dateOption('--to', flags.to!);
      if (to <= from) throw new UsageError(`--to must be after --from (got --from ${from} --to ${to})`);
      if (!flags.local) {
        // Loaded on use (BullMQ, the Temporal client), like the in-process service below.
        const { runQueuedFromCli } = await import('./aggregate-queued');
        await runQueuedFromCli(flags, { type, periodType, from, to, ...(flags.tenant !== undefined ? { tenantId: flags.tenant } : {}), ...(flags.asOf !== undefined ? { asOf: flags.asOf } : {}) });
        return;
      }

      const config = configFromEnv();
      const [{ createLogger }, { requireMigratedDatabase }, { createTenantAggregator }, { createAggregationService, systemClock }, { createDb, poolOf }, { asOfOfJob }] = await Promise.all([
        import('../logger'),
        import('./migrated'),
        import('../aggregation/tenant-aggregator'),
        import('../aggregation/service'),
        import('../db/client'),
        import('../aggregation/job-plan'),
      ]);
      await requireMigratedDatabase(config);
      const db = createDb(config.databaseUrl, { max: 2 });
      const logger = createLogger(flags.verbose ? config.logLevel : 'warn', { service: 'analytics-cli' }, { format: config.logFormat });
      try {
        const service = createAggregationService({ db, clock: systemClock, logger });
        // The same per-tenant unit the workflow's activities run (every type, one transaction),
        // tenant after tenant in this process: the in-process baseline the queued path is measured against.
        const aggregator = createTenantAggregator({ pool: poolOf(db), clock: systemClock, logger });
        const tenants = flags.tenant !== undefined ? [flags.tenant] : await service.getActiveTenants();
        const job = { type, periodType, periodStart: from, periodEnd: to, ...(flags.asOf !== undefined ? { asOf: flags.asOf } : {}) };
        let asOf: string;
        try {
          asOf = asOfOfJob(job, systemClock.now().toISOString());
        } catch (err) {
          if (err instanceof InvalidInputError) throw new UsageError(`--as-of: ${err.message.replace(/^[\w.]+: /, '')}`);
          throw err;
        }
        const summaries: AggregateSummary[] = [];
        const failures: Failure[] = [];
        for (const tenantId of tenants) {
          try {
            summaries.push(...(await aggregator.aggregateTenant({ tenantId, job, asOf })).summaries);
          } catch (err) {
            const e = err as Error;
            failures.push({ tenantId, type, errorType: e.name, message: e.message, ...(err instanceof InvalidInputError ? { field: err.field } : {}) });
          }
        }
        if (flags.json) printJson(localReport(tenants.length, summaries, failures));
        else print(summaries, failures, tenants.length);
        const badFlag = failures.find((f) => f.field !== undefined && FLAG_OF_FIELD[f.field] !== undefined && (f.field !== 'tenantId' || flags.tenant));
        if (badFlag) {
          const flag = FLAG_OF_FIELD[badFlag.field!]!;
          throw new UsageError(`${flag}: ${badFlag.message.replace(/^[\w.]+: /, '')}`);
        }
        if (failures.length > 0) process.exitCode = 1;
      } finally {
        await db.$disconnect();
      }
    });
}

function print(summaries: AggregateSummary[], failures: Failure[], tenantCount: number): void {
  if (tenantCount === 0) {
    console.log('no active tenants');
    return;
  }
  const rows = [
    ...summaries.map((s) => [s.tenantId, s.type, s.periodType, s.periodsCovered, s.rowsWritten, `${s.rangeStart} .. ${s.rangeEnd}`, s.durationMs, 'ok']),
    ...failures.map((f) => [f.tenantId, f.type, '-', '-', '-', '-', '-', `${f.errorType}: ${f.message}`]),
  ];
  console.log(formatTable(['tenant', 'type', 'period', 'periods', 'rows', 'range (UTC)', 'ms', 'status'], rows));
  const written = summaries.reduce((n, s) => n + s.rowsWritten, 0);
  console.log(`\n${tenantCount} tenant(s), ${summaries.length} aggregation(s), ${written} rows written, ${failures.length} failed`);
}
