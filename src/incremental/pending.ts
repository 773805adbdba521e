import type pg from 'pg';
import type { ChangeKind } from './buckets';

// Which tenants an incremental run has work for: the active organizations with pending change
// rows. A run over every tenant costs one index scan of the (small, consumed) change table, not
// one activity per tenant, so an hour without changes is nearly free.

/**
 * Deletes the change rows of tenants no incremental run will ever take: organizations marked
 * `deleted`, and tenant ids with no organization at all. Suspended tenants keep theirs (folded
 * in once they are active again). Returns the rows deleted.
 */
export async function purgeUnreachableChanges(pool: pg.Pool): Promise<number> {
  const res = await pool.query({
    name: 'incremental_purge_unreachable',
    text: `DELETE FROM aggregate_changes c
           WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = c.tenant_id AND o.status <> 'deleted')`,
  });
  return res.rowCount ?? 0;
}

/** Active tenants with pending changes of these kinds, after `after` (code point order), at most `limit`. */
export async function pendingTenantIds(pool: pg.Pool, kinds: readonly ChangeKind[], after: string | null, limit: number, upTo: string | null = null): Promise<string[]> {
  const res = await pool.query<{ id: string }>({
    name: 'incremental_pending_tenants',
    text: `SELECT c.tenant_id AS id
           FROM (SELECT DISTINCT tenant_id FROM aggregate_changes WHERE aggregate_type = ANY($1::text[])) c
           JOIN organizations o ON o.id = c.tenant_id AND o.status = 'active'
           WHERE ($2::text IS NULL OR c.tenant_id COLLATE "C" > $2::text) AND ($4::text IS NULL OR c.tenant_id COLLATE "C" <= $4::text)
           ORDER BY c.tenant_id COLLATE "C" LIMIT $3`,
    values: [[...kinds], after, limit, upTo],
  });
  return res.rows.map((r) => r.id);
}

/** How many active tenants have pending changes of these kinds. */
export async function countPendingTenants(pool: pg.Pool, kinds: readonly ChangeKind[]): Promise<number> {
  const res = await pool.query<{ n: number }>({
    name: 'incremental_count_pending',
    text: `SELECT count(*)::int AS n
           FROM (SELECT DISTINCT tenant_id FROM aggregate_changes WHERE aggregate_type = ANY($1::text[])) c
           JOIN organizations o ON o.id = c.tenant_id AND o.status = 'active'`,
    values: [[...kinds]],
  });
  return res.rows[0]?.n ?? 0;
}
