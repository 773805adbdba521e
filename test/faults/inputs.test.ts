import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { QueueValidationError } from '../../src/errors/queue-validation-error';
import { AnalyticsQueue, workflowIdFor } from '../../src/queue';
import { BACKFILL, compareWithClean, runAnalytics } from './helpers/data';
import { createFaultWorld, recordFigures, runTrial, waitTerminal, type FaultWorld } from './helpers/trial';

// Faults that come in with the input, on the private stack: a poison tenant among healthy ones,
// one job id added 20 times at once, ids that would collide with another job's workflows, and a
// generated set of hostile payloads and ids, each refused with a field-level message before
// anything reaches Redis.

let world: FaultWorld;
const figures: Record<string, unknown> = {};

beforeAll(async () => {
  world = await createFaultWorld({ AGGREGATION_MAX_IN_FLIGHT: '5' });
  await world.startWorkers();
});

afterAll(async () => {
  if (!world) return;
  recordFigures('inputs', { ...figures, trials: world.trials });
  await world.close();
  expect(await world.livePids()).toEqual([]);
});

/**
 * Every Redis key of the world's queue (and its dead-letter queue), but the two BullMQ keeps
 * with an expiry of their own, whatever is added: `stalled-check` (the bridge's worker sets it
 * every 30 s) and `limiter` (the rate limiter's window, set when the bridge takes a job and
 * expiring after it), so they come and go between two reads.
 */
async function queueKeys(): Promise<string[]> {
  const redis = new Redis(world.stack.redis.url, { maxRetriesPerRequest: 3 });
  try {
    return (await redis.keys(`bull:${world.queue.name}*`)).filter((k) => !k.endsWith(':stalled-check') && !k.endsWith(':limiter')).sort();
  } finally {
    redis.disconnect();
  }
}

/** Workflow ids on the world's task queue, once visibility answers. */
async function workflowIds(): Promise<string[]> {
  const client = await world.queue.temporalClient();
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `TaskQueue = '${world.env.TEMPORAL_TASK_QUEUE}'` })) ids.push(w.workflowId);
  return ids.sort();
}

describe('a poison tenant among healthy ones', () => {
  it('fails the job naming it, once; every other tenant is exact and the poison tenant has no rows', async () => {
    // tenant-008: active (the seed suspends every seventh organization, tenant-007 and tenant-014).
    const poison = 'tenant-008';
    const { rows } = await world.data.pool.query<{ timezone: string }>(`SELECT timezone FROM organizations WHERE id = $1`, [poison]);
    await world.data.pool.query(`UPDATE organizations SET timezone = 'Mars/Olympus_Mons' WHERE id = $1`, [poison]);
    try {
      const f = await runTrial(world, { fault: 'poison-tenant', moment: 'none', inject: async () => Date.now() });
      expect(f.finalState).toBe('failed');
      // Bad data is not retried: one attempt, then the dead-letter queue.
      expect(f.attemptsMade).toBe(1);
      expect(f.deadLettered).toBe(true);
      const job = (await world.queue.getJob(f.jobId))!;
      expect(job.failedReason).toMatch(/1 of 18 tenants failed: tenant-008 \(InvalidInputError: organizations\.timezone: "Mars\/Olympus_Mons" is not an IANA timezone/);
      expect(f.workflowIds).toEqual([workflowIdFor('aggregation', f.jobId, world.queue.name)]);
      expect(await compareWithClean(world.data.pool, [poison])).toMatchObject({ missing: 0, wrong: 0, extra: 0 });
      const { rows: own } = await world.data.pool.query(
        `SELECT (SELECT count(*) FROM revenue_aggregates WHERE tenant_id = $1)::int + (SELECT count(*) FROM user_cohorts WHERE tenant_id = $1)::int
              + (SELECT count(*) FROM tournament_aggregates WHERE tenant_id = $1)::int AS n`,
        [poison],
      );
      expect(own[0].n).toBe(0);
      // All that is missing in the whole comparison is the poison tenant's share of the clean run.
      const { rows: share } = await world.data.pool.query(
        `SELECT (SELECT count(*) FROM clean.revenue_aggregates WHERE tenant_id = $1)::int + (SELECT count(*) FROM clean.user_cohorts WHERE tenant_id = $1)::int
              + (SELECT count(*) FROM clean.tournament_aggregates WHERE tenant_id = $1)::int AS n`,
        [poison],
      );
      expect(f.comparison).toMatchObject({ missing: share[0].n, wrong: 0, extra: 0 });
      figures.poison = { activeTenants: 18, failedTenants: 1, attemptsMade: f.attemptsMade, deadLettered: f.deadLettered, poisonRowsMissing: share[0].n, otherRowsWrongOrMissing: 0 };
    } finally {
      await world.data.pool.query(`UPDATE organizations SET timezone = $2 WHERE id = $1`, [poison, rows[0]!.timezone]);
    }
  });
});

describe('duplicate and colliding job ids', () => {
  it('20 concurrent adds of one id, from 20 clients, run one workflow once, exactly', async () => {
    await world.data.reset();
    const jobId = 'dup-backfill';
    const clients = await Promise.all(
      Array.from({ length: 20 }, () => new AnalyticsQueue({ config: loadConfig({ ...process.env, ...world.env }), queueName: world.queue.name }).ready()),
    );
    try {
      const added = await Promise.all(clients.map((c) => c.addJob('aggregation', { ...BACKFILL }, { jobId })));
      expect(new Set(added.map((j) => j.id))).toEqual(new Set([jobId]));
      const end = await waitTerminal(world, jobId, 120_000);
      expect(end.state).toBe('completed');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    const id = workflowIdFor('aggregation', jobId, world.queue.name);
    const client = await world.queue.temporalClient();
    await expect.poll(async () => {
      const runs: string[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowType = 'aggregationWorkflow' AND JobId = '${jobId}'` })) runs.push(`${w.workflowId} ${w.status.name}`);
      return runs;
    }, { timeout: 15_000, interval: 250 }).toEqual([`${id} COMPLETED`]);
    expect(await compareWithClean(world.data.pool)).toMatchObject({ missing: 0, wrong: 0, extra: 0 });
    // Adding it once more after it completed starts nothing either.
    await world.queue.addJob('aggregation', { ...BACKFILL }, { jobId });
    expect((await client.workflow.getHandle(id).describe()).status.name).toBe('COMPLETED');
    figures.duplicates = { concurrentAdds: 20, jobs: 1, workflows: 1, runs: 1 };
  });

  it('ids that would reach another job\'s workflow or child are refused (facade and CLI), nothing enqueued or started', async () => {
    const existing = workflowIdFor('aggregation', 'dup-backfill', world.queue.name);
    const colliding = ['X/chunk-1', 'dup-backfill/chunk-1', `${existing}/chunk-1`, `${world.queue.name}:dup-backfill`, 'a:b', 'aggregation/x', '', '0', '123', 'x'.repeat(10_000), 'a\nb', 'a\u0000b', ' a', 'a b'];
    const keysBefore = await queueKeys();
    const idsBefore = await workflowIds();
    for (const jobId of colliding) {
      const err = await world.queue.addJob('aggregation', { type: 'revenue' }, { jobId }).catch((e: unknown) => e);
      expect(err, JSON.stringify(jobId)).toBeInstanceOf(QueueValidationError);
      expect((err as QueueValidationError).field).toBe('jobId');
      expect((err as QueueValidationError).message).toMatch(/^invalid "aggregation" job: jobId: must/);
    }
    const cli = await runAnalytics(['job', 'add', 'aggregation', '--data', '{"type":"revenue"}', '--job-id', 'X/chunk-1', '--queue', world.queue.name], world.env, 60_000);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('jobId: must be 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit, not only digits (got "X/chunk-1")');
    expect(await queueKeys()).toEqual(keysBefore);
    expect(await workflowIds()).toEqual(idsBefore);
    figures.collidingIds = { tried: colliding.length + 1, refused: colliding.length + 1, field: 'jobId' };
  });
});

// ----- generated hostile payloads and ids -----

interface Hostile {
  kind: string;
  name: string;
  data: unknown;
  jobId?: string;
  /** The field the message must name. */
  field: string;
}

const KNOWN = new Set(['tenantId', 'type', 'periodStart', 'periodEnd', 'periodType', 'asOf', 'periods', 'includeCurrent']);
const FIELDS = ['tenantId', 'type', 'periodStart', 'periodEnd', 'periodType', 'asOf', 'periods', 'includeCurrent'] as const;
const WRONG_TYPE: Record<(typeof FIELDS)[number], fc.Arbitrary<unknown>> = {
  tenantId: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 })),
  type: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.constant('all'), { minLength: 1, maxLength: 2 })),
  periodStart: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.object({ maxDepth: 1 })),
  periodEnd: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)),
  periodType: fc.oneof(fc.integer(), fc.constant(null), fc.constant('days'), fc.constant('Day'), fc.constant('hour')),
  asOf: fc.oneof(fc.integer(), fc.constant('now'), fc.constant('2024-01-01T00:00:00'), fc.constant(null)),
  periods: fc.oneof(fc.constant(0), fc.constant(-1), fc.constant(1.5), fc.constant(1e9), fc.constant('3'), fc.constant(null)),
  includeCurrent: fc.oneof(fc.constant('true'), fc.constant(1), fc.constant(null)),
};
const CONTROL = fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c));

const hostileArbitraries: Record<string, fc.Arbitrary<Hostile>> = {
  'unknown field': fc
    .oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype', 'tenant_id', 'TYPE', 'jobId'))
    .filter((k) => !KNOWN.has(k))
    .map((key) => ({ kind: 'unknown field', name: 'aggregation', data: JSON.parse(JSON.stringify({ type: 'all' }).replace(/}$/, `,${JSON.stringify(key)}:"blue"}`)) as unknown, field: key })),
  'type not one of the four': fc
    .string({ maxLength: 12 })
    .filter((s) => !['revenue', 'cohorts', 'tournaments', 'all'].includes(s))
    .map((type) => ({ kind: 'type not one of the four', name: 'aggregation', data: { type }, field: 'type' })),
  'wrong JSON type': fc
    .constantFrom(...FIELDS)
    .chain((field) => WRONG_TYPE[field].map((value) => ({ kind: 'wrong JSON type', name: 'aggregation', data: field === 'type' ? { type: value } : { type: 'all', [field]: value }, field }))),
  'not a date': fc
    .oneof(fc.string({ maxLength: 16 }), fc.constantFrom('2024-02-30', '2024-13-01', '2023-02-29', 'yesterday', '01/02/2024', '2024-1-1', '+002024-01-01', '2024-01-01T25:00:00Z'))
    .filter((s) => !/^\d{4}-\d{2}-\d{2}/.test(s) || ['2024-02-30', '2024-13-01', '2023-02-29', '2024-01-01T25:00:00Z'].includes(s))
    .map((s) => ({ kind: 'not a date', name: 'aggregation', data: { type: 'revenue', periodStart: s }, field: 'periodStart' })),
  'range over the limit': fc
    .record({ from: fc.integer({ min: 1900, max: 1960 }), to: fc.integer({ min: 2020, max: 2100 }), periodType: fc.constant('day') })
    .map(({ from, to, periodType }) => ({ kind: 'range over the limit', name: 'aggregation', data: { type: 'all', periodType, periodStart: `${from}-01-01`, periodEnd: `${to}-01-01` }, field: 'periodEnd' })),
  'empty or reversed range': fc
    .record({ a: fc.integer({ min: 0, max: 300 }), b: fc.integer({ min: 0, max: 300 }) })
    .filter(({ a, b }) => b <= a)
    .map(({ a, b }) => {
      const day = (n: number) => new Date(Date.UTC(2024, 0, 1 + n)).toISOString().slice(0, 10);
      return { kind: 'empty or reversed range', name: 'aggregation', data: { type: 'revenue', periodStart: day(a), periodEnd: day(b) }, field: 'periodEnd' };
    }),
  'tenant id with control characters': fc
    .tuple(fc.string({ maxLength: 6 }), CONTROL, fc.string({ maxLength: 6 }))
    .map(([a, c, b]) => ({ kind: 'tenant id with control characters', name: 'aggregation', data: { type: 'all', tenantId: `org${a}${c}${b}` }, field: 'tenantId' })),
  'not an object': fc
    .oneof(fc.constant(null), fc.array(fc.anything(), { maxLength: 2 }), fc.string(), fc.integer(), fc.boolean())
    .map((data) => ({ kind: 'not an object', name: 'aggregation', data, field: '(payload)' })),
  'unknown job name': fc
    .string({ maxLength: 16 })
    .filter((s) => !['aggregation', 'export', 'scheduled-report'].includes(s))
    .map((name) => ({ kind: 'unknown job name', name, data: { type: 'all' }, field: 'name' })),
  'export without its tenant or with a bad format': fc
    .oneof(fc.constant({ type: 'all' }), fc.string({ maxLength: 5 }).filter((f) => f !== 'csv' && f !== 'json').map((format) => ({ tenantId: 'org_1', type: 'all', format })))
    .map((data) => ({ kind: 'export without its tenant or with a bad format', name: 'export', data, field: 'tenantId' in data ? 'format' : 'tenantId' })),
  'hostile job id': fc
    .oneof(
      fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.constantFrom('/', ':', ' ', '\n', '\u0000', '\t', '*', '#', '%', '\u00e9', '\u{1F600}'), fc.stringMatching(/^[a-z0-9-]{0,8}$/)).map(([a, sep, b]) => `${a}${sep}${b}`),
      fc.stringMatching(/^[0-9]{1,12}$/),
      fc.integer({ min: 129, max: 20_000 }).map((n) => 'a'.repeat(n)),
      fc.constantFrom('', '.hidden', '-x', '_x', 'X/chunk-1'),
    )
    .map((jobId) => ({ kind: 'hostile job id', name: 'aggregation', data: { type: 'all' }, jobId, field: 'jobId' })),
};
const PER_KIND = 25;

describe('generated hostile payloads and ids', () => {
  it(`each of ${Object.keys(hostileArbitraries).length * PER_KIND} is refused with a QueueValidationError naming its field; nothing is enqueued`, async () => {
    const keysBefore = await queueKeys();
    const answered: Record<string, { tried: number; refused: number; fields: string[]; example: string }> = {};
    let seed = 1;
    for (const [kind, arb] of Object.entries(hostileArbitraries)) {
      const samples = fc.sample(arb, { numRuns: PER_KIND, seed: seed++ });
      const tally = (answered[kind] = { tried: 0, refused: 0, fields: [] as string[], example: '' });
      for (const h of samples) {
        tally.tried++;
        const err = await world.queue
          .addJob(h.name as 'aggregation', h.data as never, h.jobId !== undefined ? { jobId: h.jobId } : undefined)
          .then(() => undefined, (e: unknown) => e);
        const field = h.field;
        expect(err, `${kind}: ${JSON.stringify(h).slice(0, 200)}`).toBeInstanceOf(QueueValidationError);
        const v = err as QueueValidationError;
        expect(v.issues.map((i) => i.field), `${kind}: ${v.message}`).toContain(field);
        expect(v.message).toContain(`${field}: `);
        // Long values are cut short: one hostile field cannot flood a message.
        expect(v.message.length).toBeLessThan(2_000);
        tally.refused++;
        if (!tally.fields.includes(field)) tally.fields.push(field);
        if (!tally.example) tally.example = v.message.slice(0, 200);
      }
    }
    expect(await queueKeys()).toEqual(keysBefore);
    const tried = Object.values(answered).reduce((n, a) => n + a.tried, 0);
    expect(tried).toBeGreaterThanOrEqual(200);
    figures.hostile = { tried, refused: Object.values(answered).reduce((n, a) => n + a.refused, 0), enqueued: 0, byKind: answered };
  });
});
