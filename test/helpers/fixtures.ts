import type pg from 'pg';

// Small hand-built raw rows. Times are ISO instants with explicit offsets so each fixture says
// exactly which local moment it means.

type Q = Pick<pg.Pool, 'query'>;

/** A timestamptz column as a UTC ISO instant, whatever the session's TimeZone. */
const utc = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;

export async function org(q: Q, id: string, timezone = 'UTC', status = 'active'): Promise<void> {
  await q.query('INSERT INTO organizations (id, name, timezone, status) VALUES ($1, $1, $2, $3)', [id, timezone, status]);
}

export async function user(q: Q, tenantId: string, id: string, createdAt: string): Promise<void> {
  await q.query('INSERT INTO users (id, tenant_id, email, created_at) VALUES ($1, $2, $1 || \'@example.test\', $3)', [id, tenantId, createdAt]);
}

export async function activity(q: Q, tenantId: string, userId: string, occurredAt: string): Promise<void> {
  await q.query('INSERT INTO user_activity (tenant_id, user_id, occurred_at) VALUES ($1, $2, $3)', [tenantId, userId, occurredAt]);
}

export async function subscription(
  q: Q,
  tenantId: string,
  s: { id: string; userId?: string; amountCents: number; interval: 'month' | 'year'; startedAt: string; canceledAt?: string | null },
): Promise<void> {
  await q.query(
    `INSERT INTO subscriptions (id, tenant_id, user_id, plan, amount_cents, interval, started_at, canceled_at)
     VALUES ($1, $2, $3, 'plan', $4, $5, $6, $7)`,
    [s.id, tenantId, s.userId ?? 'nobody', s.amountCents, s.interval, s.startedAt, s.canceledAt ?? null],
  );
}

export async function payment(
  q: Q,
  tenantId: string,
  p: { id: string; amountCents: number; status: 'succeeded' | 'failed' | 'pending'; createdAt: string; tournamentId?: string; subscriptionId?: string },
): Promise<void> {
  await q.query(
    `INSERT INTO payments (id, tenant_id, user_id, subscription_id, tournament_id, amount_cents, status, created_at)
     VALUES ($1, $2, NULL, $3, $4, $5, $6, $7)`,
    [p.id, tenantId, p.subscriptionId ?? null, p.tournamentId ?? null, p.amountCents, p.status, p.createdAt],
  );
}

export async function refund(q: Q, tenantId: string, r: { id: string; paymentId: string; amountCents: number; createdAt: string }): Promise<void> {
  await q.query('INSERT INTO refunds (id, tenant_id, payment_id, amount_cents, created_at) VALUES ($1, $2, $3, $4, $5)', [
    r.id,
    tenantId,
    r.paymentId,
    r.amountCents,
    r.createdAt,
  ]);
}

export async function tournament(
  q: Q,
  tenantId: string,
  t: { id: string; format: string; status: string; createdAt: string; startedAt?: string | null; completedAt?: string | null },
): Promise<void> {
  await q.query(
    `INSERT INTO tournaments (id, tenant_id, name, format, status, created_at, started_at, completed_at)
     VALUES ($1, $2, $1, $3, $4, $5, $6, $7)`,
    [t.id, tenantId, t.format, t.status, t.createdAt, t.startedAt ?? null, t.completedAt ?? null],
  );
}

export async function player(q: Q, tenantId: string, tournamentId: string, userId: string, joinedAt: string): Promise<void> {
  await q.query('INSERT INTO tournament_players (tournament_id, user_id, tenant_id, joined_at) VALUES ($1, $2, $3, $4)', [
    tournamentId,
    userId,
    tenantId,
    joinedAt,
  ]);
}

/** Aggregate rows as Postgres prints them (numeric and bigint as strings), without computed_at. */
export async function revenueRows(q: Q, tenantId: string, periodType?: string): Promise<Record<string, unknown>[]> {
  const { rows } = await q.query(
    `SELECT period_type, ${utc('period_start')}, ${utc('period_end')},
            total_revenue_cents::text, gross_revenue_cents::text, payment_count, payment_success_count,
            payment_success_rate::text, refund_count, refund_amount_cents::text, mrr_cents::text, arr_cents::text
     FROM revenue_aggregates WHERE tenant_id = $1 AND ($2::text IS NULL OR period_type = $2) ORDER BY period_type, period_start`,
    [tenantId, periodType ?? null],
  );
  return rows;
}

export async function tournamentRows(q: Q, tenantId: string, periodType?: string): Promise<Record<string, unknown>[]> {
  const { rows } = await q.query(
    `SELECT period_type, ${utc('period_start')}, ${utc('period_end')},
            tournament_count, completed_count, completion_rate::text, total_players, avg_players::text,
            avg_duration_minutes::text, most_popular_format, revenue_cents::text
     FROM tournament_aggregates WHERE tenant_id = $1 AND ($2::text IS NULL OR period_type = $2) ORDER BY period_type, period_start`,
    [tenantId, periodType ?? null],
  );
  return rows;
}

export async function cohortRows(q: Q, tenantId: string): Promise<Record<string, unknown>[]> {
  const { rows } = await q.query(
    `SELECT cohort_month::text, month_number, cohort_size, retained_users, retention_rate::text
     FROM user_cohorts WHERE tenant_id = $1 ORDER BY cohort_month, month_number`,
    [tenantId],
  );
  return rows;
}
