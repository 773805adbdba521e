import type { Command } from 'commander';
import type { ComponentHealth } from '../queue';
import { redactUrl } from '../errors/redact';
import { configFromEnv } from './program';
import { queueNameOf, queueOption, withQueue, type QueueFlags } from './job';
import { printJson, printTable } from './output';

export function registerStatusCommands(program: Command): void {
  queueOption(
    program
      .command('metrics')
      .description('job counts of the BullMQ queue: waiting, active, completed, failed, delayed, paused')
      .option('--json', 'print JSON'),
  ).action(async (flags: QueueFlags) => {
    const metrics = await withQueue(flags, (queue) => queue.getQueueMetrics());
    if (flags.json) return printJson(metrics);
    printTable(Object.entries(metrics).map(([state, count]) => ({ state, jobs: count })));
  });

  queueOption(
    program
      .command('health')
      .description('whether Redis, Temporal and Postgres answer (each within CONNECT_TIMEOUT_MS), whether a worker polls the task queue and a bridge serves waiting jobs, with the queue metrics; exit 1 when unhealthy or when nothing would run the jobs')
      .option('--json', 'print JSON'),
  ).action(async (flags: QueueFlags) => {
    // The probes answer at once; the queue (whose connections would wait for an absent Redis)
    // is opened for the metrics only when Redis answered.
    const config = configFromEnv();
    const { countTaskQueuePollers, probePostgres, probeRedis, probeTemporal, workerProblems, POSTGRES_VARIABLES, REDIS_VARIABLES, TEMPORAL_VARIABLES } = await import('../queue/health');
    const timeoutMs = config.connectTimeoutMs;
    const [redis, temporal, postgres] = await Promise.all([
      probeRedis(config.redis, timeoutMs),
      probeTemporal(config.temporal, timeoutMs),
      probePostgres(config.databaseUrl, timeoutMs),
    ]);
    const queueName = queueNameOf(flags, config);
    const [queued, pollers] = await Promise.all([
      redis.healthy ? withQueue(flags, async (queue) => ({ metrics: await queue.getQueueMetrics(), bridges: await queue.bridgeCount() })) : null,
      temporal.healthy ? countTaskQueuePollers(config.temporal, config.temporal.taskQueue, timeoutMs).catch(() => null) : null,
    ]);
    const metrics = queued?.metrics ?? null;
    const workers = { taskQueue: config.temporal.taskQueue, pollers, bridges: queued?.bridges ?? null };
    const problems = workerProblems(workers, queueName, metrics?.waiting ?? null);
    const report = { healthy: redis.healthy && temporal.healthy && postgres.healthy, checkedAt: new Date().toISOString(), metrics, redis, temporal, postgres, workers, problems };
    // Every service answering is not enough when nothing runs the jobs.
    if (!report.healthy || problems.length > 0) process.exitCode = 1;
    if (flags.json) return printJson(report);
    // An unhealthy row says where the service was looked for and which variables set that.
    const row = (name: string, h: ComponentHealth, where: string, variables: string) => ({
      component: name,
      status: h.healthy ? 'healthy' : 'UNHEALTHY',
      detail: h.healthy ? `${h.latencyMs} ms` : `${where} (${variables}): ${h.reason}`,
    });
    const count = (n: number | null, what: string) => (n === null ? 'unknown' : `${n} ${what}`);
    printTable([
      row('redis', report.redis, `${config.redis.host}:${config.redis.port}`, REDIS_VARIABLES),
      row('temporal', report.temporal, config.temporal.address, TEMPORAL_VARIABLES),
      row('postgres', report.postgres, redactUrl(config.databaseUrl), POSTGRES_VARIABLES),
      { component: 'workers', status: pollers === 0 ? 'MISSING' : pollers === null ? '-' : 'polling', detail: `${count(pollers, 'polling')} task queue ${workers.taskQueue}` },
      { component: 'bridges', status: problems.some((p) => p.includes('no bridge')) ? 'MISSING' : workers.bridges === null ? '-' : 'ok', detail: `${count(workers.bridges, 'connected')} to queue ${queueName}` },
    ]);
    for (const p of problems) console.log(`\nproblem: ${p}`);
    console.log(`\n${!report.healthy ? 'UNHEALTHY' : problems.length > 0 ? 'DEGRADED' : 'healthy'} at ${report.checkedAt}`);
    if (report.metrics) console.log(`jobs: ${Object.entries(report.metrics).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });
}
