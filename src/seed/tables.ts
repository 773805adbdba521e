// Column lists and Postgres types of the raw tables the seed writes, in foreign-key order.

export const SEED_TABLES = {
  organizations: { columns: ['id', 'name', 'timezone', 'currency', 'status', 'created_at'], types: ['text', 'text', 'text', 'text', 'text', 'timestamptz'], parents: [] },
  users: { columns: ['id', 'tenant_id', 'email', 'created_at'], types: ['text', 'text', 'text', 'timestamptz'], parents: ['organizations'] },
  user_activity: { columns: ['tenant_id', 'user_id', 'occurred_at'], types: ['text', 'text', 'timestamptz'], parents: ['users'] },
  subscriptions: {
    columns: ['id', 'tenant_id', 'user_id', 'plan', 'amount_cents', 'interval', 'started_at', 'canceled_at'],
    types: ['text', 'text', 'text', 'text', 'int8', 'text', 'timestamptz', 'timestamptz'],
    parents: [],
  },
  payments: {
    columns: ['id', 'tenant_id', 'user_id', 'subscription_id', 'tournament_id', 'amount_cents', 'status', 'created_at'],
    types: ['text', 'text', 'text', 'text', 'text', 'int8', 'text', 'timestamptz'],
    parents: [],
  },
  refunds: { columns: ['id', 'tenant_id', 'payment_id', 'amount_cents', 'created_at'], types: ['text', 'text', 'text', 'int8', 'timestamptz'], parents: ['payments'] },
  tournaments: {
    columns: ['id', 'tenant_id', 'name', 'format', 'status', 'created_at', 'started_at', 'completed_at'],
    types: ['text', 'text', 'text', 'text', 'text', 'timestamptz', 'timestamptz', 'timestamptz'],
    parents: [],
  },
  tournament_players: { columns: ['tournament_id', 'user_id', 'tenant_id', 'joined_at'], types: ['text', 'text', 'text', 'timestamptz'], parents: ['tournaments', 'users'] },
} as const satisfies Record<string, { columns: readonly string[]; types: readonly string[]; parents: readonly string[] }>;

export type SeedTable = keyof typeof SEED_TABLES;

/** A row as the writer takes it: values in column order; times as epoch milliseconds. */
export type SeedRow = (string | number | null)[];

export interface RowSink {
  /** Returns a promise only when the row filled a batch that is being written. */
  add(table: SeedTable, row: SeedRow): void | Promise<void>;
}

/** Every table the seed and `--reset` touch: raw tables and the aggregates computed from them. */
export const RESET_TABLES = [
  'tournament_players',
  'tournaments',
  'refunds',
  'payments',
  'subscriptions',
  'user_activity',
  'users',
  'organizations',
  'revenue_aggregates',
  'user_cohorts',
  'tournament_aggregates',
] as const;
