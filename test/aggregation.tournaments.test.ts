import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from './helpers/db';
import type { TestDatabase } from './helpers/db';
import { org, payment, player, tournament, tournamentRows, user } from './helpers/fixtures';
import { testService } from './helpers/service';

// America/New_York, 2025: Nov 2 falls back from EDT (UTC-4) to EST (UTC-5), a 25-hour day:
// Nov 1 = [11-01T04:00Z, 11-02T04:00Z), Nov 2 = [11-02T04:00Z, 11-03T05:00Z),
// Nov 3 = [11-03T05:00Z, 11-04T05:00Z), Nov 4 = [11-04T05:00Z, 11-05T05:00Z).
// Every expected value is worked out by hand below.

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase('tour');
  const q = t.pool;
  await org(q, 'cup', 'America/New_York');
  await org(q, 'other', 'America/New_York');
  for (let i = 1; i <= 8; i++) await user(q, 'cup', `cu${i}`, '2025-10-01T00:00:00Z');
  await user(q, 'other', 'ou1', '2025-10-01T00:00:00Z');

  // Nov 1: one tournament in progress, no players.
  await tournament(q, 'cup', { id: 't0', format: 'ladder', status: 'in_progress', createdAt: '2025-11-01T20:00:00Z', startedAt: '2025-11-01T21:00:00Z' });

  // Nov 2 (25 h): five tournaments.
  await tournament(q, 'cup', {
    id: 't1', format: 'swiss', status: 'completed', createdAt: '2025-11-02T04:00:00Z', // exactly at period start
    startedAt: '2025-11-02T10:00:00Z', completedAt: '2025-11-02T11:30:00Z', // 90 min
  });
  await tournament(q, 'cup', {
    id: 't2', format: 'round_robin', status: 'completed', createdAt: '2025-11-02T12:00:00Z',
    startedAt: '2025-11-02T12:00:00Z', completedAt: '2025-11-02T12:45:30Z', // 45.5 min
  });
  await tournament(q, 'cup', {
    // 23:59:59.999 EST on Nov 2, inside the 25th hour; completed without a start time
    id: 't3', format: 'round_robin', status: 'completed', createdAt: '2025-11-03T04:59:59.999Z', completedAt: '2025-11-03T06:00:00Z',
  });
  await tournament(q, 'cup', { id: 't4', format: 'swiss', status: 'cancelled', createdAt: '2025-11-02T15:00:00Z' });
  await tournament(q, 'cup', {
    // completed without an end time
    id: 't5', format: 'single_elimination', status: 'completed', createdAt: '2025-11-02T16:00:00Z', startedAt: '2025-11-02T16:00:00Z',
  });
  for (const u of ['cu1', 'cu2', 'cu3']) await player(q, 'cup', 't1', u, '2025-11-02T05:00:00Z');
  for (const u of ['cu1', 'cu4']) await player(q, 'cup', 't2', u, '2025-11-02T12:00:00Z');
  await player(q, 'cup', 't4', 'cu5', '2025-11-02T15:00:00Z');
  for (const u of ['cu6', 'cu7']) await player(q, 'cup', 't5', u, '2025-11-02T16:00:00Z');
  await payment(q, 'cup', { id: 'f1', amountCents: 1500, status: 'succeeded', tournamentId: 't1', createdAt: '2025-11-02T09:00:00Z' });
  await payment(q, 'cup', { id: 'f2', amountCents: 1500, status: 'failed', tournamentId: 't1', createdAt: '2025-11-02T09:01:00Z' });
  await payment(q, 'cup', { id: 'f3', amountCents: 700, status: 'succeeded', createdAt: '2025-11-02T09:02:00Z' }); // not a tournament fee
  await payment(q, 'cup', { id: 'f4', amountCents: 2500, status: 'succeeded', tournamentId: 't2', createdAt: '2025-11-03T04:30:00Z' }); // Nov 2 23:30 EST
  await payment(q, 'cup', { id: 'f5', amountCents: 999, status: 'pending', tournamentId: 't2', createdAt: '2025-11-02T13:00:00Z' });

  // Nov 3: three formats once each; one completed, lasting 0.3 s.
  await tournament(q, 'cup', { id: 't6', format: 'swiss', status: 'scheduled', createdAt: '2025-11-03T05:00:00Z' });
  await tournament(q, 'cup', { id: 't7', format: 'double_elimination', status: 'draft', createdAt: '2025-11-03T12:00:00Z' });
  await tournament(q, 'cup', {
    id: 't8', format: 'round_robin', status: 'completed', createdAt: '2025-11-03T13:00:00Z',
    startedAt: '2025-11-03T14:00:00.000Z', completedAt: '2025-11-03T14:00:00.300Z',
  });
  for (const u of ['cu1', 'cu2', 'cu3']) await player(q, 'cup', 't6', u, '2025-11-03T06:00:00Z');
  for (const u of ['cu4', 'cu5']) await player(q, 'cup', 't7', u, '2025-11-03T12:00:00Z');
  for (const u of ['cu6', 'cu7']) await player(q, 'cup', 't8', u, '2025-11-03T13:00:00Z');

  // Another tenant's tournament, player and fee at the same moments: must not leak into 'cup'.
  await tournament(q, 'other', { id: 'o1', format: 'ladder', status: 'completed', createdAt: '2025-11-02T12:00:00Z', startedAt: '2025-11-02T12:00:00Z', completedAt: '2025-11-02T13:00:00Z' });
  await player(q, 'other', 'o1', 'ou1', '2025-11-02T12:00:00Z');
  await payment(q, 'other', { id: 'of1', amountCents: 100000, status: 'succeeded', tournamentId: 'o1', createdAt: '2025-11-02T12:00:00Z' });
});

afterAll(async () => {
  await t?.drop();
});

describe('tournament aggregates', () => {
  it('computes counts, rates, players, durations, formats and fees per local day', async () => {
    const summary = await testService(t.db).aggregateTournaments('cup', '2025-11-01', '2025-11-05', 'day');
    expect(summary).toMatchObject({ type: 'tournaments', rowsWritten: 4, periodsCovered: 4 });
    expect(await tournamentRows(t.pool, 'cup')).toEqual([
      {
        period_type: 'day',
        period_start: '2025-11-01T04:00:00.000Z',
        period_end: '2025-11-02T04:00:00.000Z',
        tournament_count: 1,
        completed_count: 0,
        completion_rate: '0.00',
        total_players: 0,
        avg_players: '0.00', // 0 / 1
        avg_duration_minutes: null, // no completed tournament
        most_popular_format: 'ladder',
        revenue_cents: '0',
      },
      {
        period_type: 'day',
        period_start: '2025-11-02T04:00:00.000Z',
        period_end: '2025-11-03T05:00:00.000Z', // 25 hours
        tournament_count: 5, // t1..t5 (t3 in the 25th hour)
        completed_count: 4, // t1, t2, t3, t5
        completion_rate: '80.00',
        total_players: 8, // 3 + 2 + 0 + 1 + 2
        avg_players: '1.60', // 8 / 5
        avg_duration_minutes: '67.75', // (90 + 45.5) / 2; t3 has no start, t5 no end
        most_popular_format: 'round_robin', // round_robin 2, swiss 2: tie, alphabetically first
        revenue_cents: '4000', // f1 1500 + f4 2500; f2 failed, f3 no tournament, f5 pending
      },
      {
        period_type: 'day',
        period_start: '2025-11-03T05:00:00.000Z',
        period_end: '2025-11-04T05:00:00.000Z',
        tournament_count: 3,
        completed_count: 1,
        completion_rate: '33.33', // 100 / 3
        total_players: 7, // 3 + 2 + 2
        avg_players: '2.33', // 7 / 3
        avg_duration_minutes: '0.01', // 0.3 s = 0.005 min, half away from zero
        most_popular_format: 'double_elimination', // three-way tie
        revenue_cents: '0',
      },
      {
        period_type: 'day',
        period_start: '2025-11-04T05:00:00.000Z',
        period_end: '2025-11-05T05:00:00.000Z',
        tournament_count: 0,
        completed_count: 0,
        completion_rate: '0.00',
        total_players: 0,
        avg_players: '0.00',
        avg_duration_minutes: null,
        most_popular_format: null,
        revenue_cents: '0',
      },
    ]);
  });

  it('computes a month the same way (all of the above in one period)', async () => {
    await testService(t.db).aggregateTournaments('cup', '2025-11-01', '2025-12-01', 'month');
    expect(await tournamentRows(t.pool, 'cup', 'month')).toEqual([
      {
        period_type: 'month',
        period_start: '2025-11-01T04:00:00.000Z',
        period_end: '2025-12-01T05:00:00.000Z',
        tournament_count: 9, // 1 + 5 + 3
        completed_count: 5, // t1, t2, t3, t5, t8
        completion_rate: '55.56', // 500 / 9 = 55.555...
        total_players: 15, // 0 + 8 + 7
        avg_players: '1.67', // 15 / 9 = 1.666...
        // (90 + 45.5 + 0.005) / 3 = 45.168333...
        avg_duration_minutes: '45.17',
        // round_robin 3 (t2, t3, t8), swiss 3 (t1, t4, t6): tie -> round_robin
        most_popular_format: 'round_robin',
        revenue_cents: '4000',
      },
    ]);
  });
});
