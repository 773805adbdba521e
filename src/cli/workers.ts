import type { Command } from 'commander';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createLogger } from '../logger';
import { startWorkerProcess } from '../worker-process';
import { pingWorkflow } from '../workflows/ping';
import { configFromEnv } from './program';

export function registerWorkersCommand(program: Command): void {
  program
    .command('workers')
    .description('run the Temporal worker until SIGTERM/SIGINT')
    .action(async () => {
      await runWorkers({ once: false });
    });
  program
    .command('start')
    .description('the main job on local defaults: start the workers, prove the stack end to end, keep running until Ctrl-C')
    .option('--once', 'exit after the end-to-end check instead of running until Ctrl-C')
    .action(async (opts: { once?: boolean }) => {
      await runWorkers({ once: opts.once ?? false, probe: true });
    });
}

async function runWorkers({ once, probe = false }: { once: boolean; probe?: boolean }): Promise<void> {
  const config = configFromEnv();
  const logger = createLogger(config.logLevel, { service: 'analytics-workers' });
  // Our own shutdown() owns the signals, so Temporal's runtime must not race it.
  // The SDK's own logs go through pino at warn and above; its INFO chatter is not for operators.
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
      logger[level === 'ERROR' ? 'error' : 'warn']({ sdk: meta }, message);
    }),
  });
  const proc = await startWorkerProcess(config, logger);
  console.log(
    [
      '',
      '  analytics-workers',
      `  Temporal   ${config.temporal.address} (namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue})`,
      `  Web UI     ${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows`,
      `  Postgres   ${redact(config.databaseUrl)}`,
      `  Redis      ${redact(config.redis.url)}`,
      '',
    ].join('\n'),
  );
  if (probe) {
    const connection = await Connection.connect({ address: config.temporal.address });
    try {
      const client = new Client({ connection, namespace: config.temporal.namespace });
      const result = await client.workflow.execute(pingWorkflow, {
        taskQueue: config.temporal.taskQueue,
        workflowId: `ping/${Date.now()}`,
      });
      console.log(`  end-to-end check: workflow -> activity -> Postgres ok (database time ${result.databaseTime})`);
      console.log('  Aggregation workflows, the BullMQ facade and schedules are not installed yet: nothing is aggregated.');
    } finally {
      await connection.close();
    }
  }
  if (once) {
    await proc.shutdown();
    return;
  }
  console.log('  workers running; Ctrl-C to stop');
  await proc.untilStopped();
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
