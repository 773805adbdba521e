import type { Command } from 'commander';
import { createDb } from '../db/client';
import type { Config } from '../config';
import type { QueuedAggregationReport } from './aggregate-queued';
import { intOption } from './options';
import { printTable } from './output';
import { configFromEnv } from './program';
import { runSeed } from './seed';
import { withGrace } from './workers';

interface StartFlags {
  once?: boolean;
  days: string;
  shutdownGraceMs?: string;
}

/** The demo data set seeded into an empty database. */
const DEMO = { tenants: 4, usersPerTenant: 150, days: 120, seed: 42 } as const;

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'the main job on local defaults: start the workers and schedules, seed demo data when the database is empty, ' +
        'run one full aggregation through addJob -> BullMQ -> Temporal -> Postgres, print the results, keep running until Ctrl-C',
    )
    .option('--once', 'exit after the aggregation instead of running until Ctrl-C')
    .option('--days <n>', 'daily periods to aggregate, ending yesterday (UTC date, read in each tenant\'s timezone)', '30')
    .option('--shutdown-grace-ms <ms>', 'how long active jobs may finish after SIGTERM (default: SHUTDOWN_GRACE_MS, 30000)')
    .action(async (flags: StartFlags) => {
      const days = intOption('--days', flags.days, { min: 1, max: 1000 });
      const config = withGrace(configFromEnv(), flags.shutdownGraceMs);
      const [{ bootWorkers }, { printAggregationResult, runQueuedAggregation }] = await Promise.all([import('./boot'), import('./aggregate-queued')]);
      const { proc } = await bootWorkers(config, { jobs: true, cron: true });
      let ok = false;
      try {
        await seedWhenEmpty(config);
        const to = new Date().toISOString().slice(0, 10);
        const from = new Date(Date.parse(`${to}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
        console.log(`  aggregating revenue, cohorts and tournaments for every active tenant, daily ${from} .. ${to} (exclusive)`);
        const result = await runQueuedAggregation(proc.queue, { type: 'all', periodType: 'day', from, to }, { databaseUrl: config.databaseUrl });
        console.log('');
        printAggregationResult(result, false);
        await printHeadlines(config, from, to);
        printWhereToLook(config, result);
        ok = result.totals.failed === 0;
      } finally {
        if (flags.once) await proc.shutdown();
      }
      if (!ok) process.exitCode = 1;
      if (flags.once) return;
      console.log('\n  workers and schedules running; Ctrl-C to stop');
      await proc.untilStopped();
    });
}

async function seedWhenEmpty(config: Config): Promise<void> {
  const db = createDb(config.databaseUrl, { max: 1 });
  try {
    if ((await db.organization.count()) > 0) return;
  } finally {
    await db.$disconnect();
  }
  console.log(`  the database has no organizations: seeding demo data (${DEMO.tenants} tenants, ${DEMO.usersPerTenant} users each, ${DEMO.days} days)`);
  await runSeed({ tenants: DEMO.tenants, usersPerTenant: DEMO.usersPerTenant, days: DEMO.days, seed: DEMO.seed, untilMs: Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) }, { reset: false, json: false });
}

/** A few numbers per tenant straight from the aggregate tables the run wrote. */
async function printHeadlines(config: Config, from: string, to: string): Promise<void> {
  const db = createDb(config.databaseUrl, { max: 1 });
  try {
    const rows = await db.$queryRaw<
      { tenant: string; timezone: string; currency: string; days: bigint; net_cents: bigint | null; payments: bigint | null; tournaments: bigint | null; mrr_cents: bigint | null }[]
    >`
      SELECT o.id AS tenant, o.timezone, o.currency,
             count(r.*) AS days,
             sum(r.total_revenue_cents)::bigint AS net_cents,
             sum(r.payment_count)::bigint AS payments,
             (SELECT sum(t.tournament_count) FROM tournament_aggregates t
               WHERE t.tenant_id = o.id AND t.period_type = 'day'
                 AND t.period_start >= (${from}::date)::timestamp AT TIME ZONE o.timezone
                 AND t.period_start < (${to}::date)::timestamp AT TIME ZONE o.timezone)::bigint AS tournaments,
             (SELECT r2.mrr_cents FROM revenue_aggregates r2 WHERE r2.tenant_id = o.id AND r2.period_type = 'day'
               ORDER BY r2.period_start DESC LIMIT 1) AS mrr_cents
      FROM organizations o
      LEFT JOIN revenue_aggregates r ON r.tenant_id = o.id AND r.period_type = 'day'
           AND r.period_start >= (${from}::date)::timestamp AT TIME ZONE o.timezone
           AND r.period_start < (${to}::date)::timestamp AT TIME ZONE o.timezone
      WHERE o.status = 'active'
      GROUP BY o.id, o.timezone, o.currency
      ORDER BY o.id`;
    const money = (cents: bigint | null, currency: string) => `${(Number(cents ?? 0n) / 100).toFixed(2)} ${currency}`;
    console.log(`\n  what the aggregate tables now say (${from} .. ${to}):`);
    printTable(
      rows.map((r) => ({
        tenant: r.tenant,
        timezone: r.timezone,
        'days aggregated': Number(r.days),
        'net revenue': money(r.net_cents, r.currency),
        payments: Number(r.payments ?? 0n),
        tournaments: Number(r.tournaments ?? 0n),
        'MRR (latest day)': money(r.mrr_cents, r.currency),
      })),
    );
  } finally {
    await db.$disconnect();
  }
}

function printWhereToLook(config: Config, result: QueuedAggregationReport): void {
  const ns = encodeURIComponent(config.temporal.namespace);
  const query = encodeURIComponent(`WorkflowId STARTS_WITH "${result.workflowId}"`);
  console.log(
    [
      '',
      '  Temporal Web UI:',
      `    this run        ${config.temporal.uiUrl}/namespaces/${ns}/workflows/${encodeURIComponent(result.workflowId)}`,
      `    with its chunks ${config.temporal.uiUrl}/namespaces/${ns}/workflows?query=${query}`,
      `    schedules       ${config.temporal.uiUrl}/namespaces/${ns}/schedules`,
    ].join('\n'),
  );
}
