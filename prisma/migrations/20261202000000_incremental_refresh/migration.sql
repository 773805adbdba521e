-- Incremental refresh (docs/incremental.md): change capture on the raw tables, and the
-- freshness watermark of every (tenant, aggregate type, period type).

-- CreateTable
CREATE TABLE "aggregate_changes" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "aggregate_type" TEXT NOT NULL,
    "changed_from" TIMESTAMPTZ(3) NOT NULL,
    "changed_to" TIMESTAMPTZ(3) NOT NULL,
    "recorded_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "aggregate_changes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "aggregate_freshness" (
    "tenant_id" TEXT NOT NULL,
    "aggregate_type" TEXT NOT NULL,
    "period_type" TEXT NOT NULL,
    "newest_change_at" TIMESTAMPTZ(6) NOT NULL,
    "changes_folded" BIGINT NOT NULL DEFAULT 0,
    "refreshed_at" TIMESTAMPTZ(6) NOT NULL,

    CONSTRAINT "aggregate_freshness_pkey" PRIMARY KEY ("tenant_id","aggregate_type","period_type")
);

-- CreateIndex
CREATE INDEX "aggregate_changes_tenant_id_id_idx" ON "aggregate_changes"("tenant_id", "id");

-- Change capture. One statement-level trigger per (table, operation): a transition table exists
-- only for the operation that names it. Each statement adds at most one row per (tenant, kind)
-- it touched, with the earliest and latest time it changed (both the old and the new values of
-- an update). Kinds: 'revenue' (payment and refund times), 'mrr' (subscription start and cancel
-- times: MRR of every later period), 'tournaments' (tournament creation times, also of the
-- tournaments whose players or tournament payments changed), 'cohorts' (signup times of the
-- users whose row or activity changed). SET search_path FROM CURRENT pins the schema the
-- migration ran in, whatever the writer's search_path.

CREATE FUNCTION "capture_payments_changes"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  -- A transition table exists only for the operation that declares it: one branch per operation.
  IF TG_OP = 'INSERT' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT s.tenant_id, k.aggregate_type, k.changed_from, k.changed_to
  FROM (
    SELECT r.tenant_id, min(r.created_at) AS f, max(r.created_at) AS t,
           min(r.created_at) FILTER (WHERE r.tournament_id IS NOT NULL) AS tf,
           max(r.created_at) FILTER (WHERE r.tournament_id IS NOT NULL) AS tt
    FROM (SELECT tenant_id, created_at, tournament_id FROM new_rows) r
    GROUP BY r.tenant_id
  ) s
  CROSS JOIN LATERAL (VALUES ('revenue', s.f, s.t), ('tournaments', s.tf, s.tt)) AS k(aggregate_type, changed_from, changed_to)
  WHERE k.changed_from IS NOT NULL;
  ELSIF TG_OP = 'UPDATE' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT s.tenant_id, k.aggregate_type, k.changed_from, k.changed_to
  FROM (
    SELECT r.tenant_id, min(r.created_at) AS f, max(r.created_at) AS t,
           min(r.created_at) FILTER (WHERE r.tournament_id IS NOT NULL) AS tf,
           max(r.created_at) FILTER (WHERE r.tournament_id IS NOT NULL) AS tt
    FROM (SELECT tenant_id, created_at, tournament_id FROM old_rows UNION ALL SELECT tenant_id, created_at, tournament_id FROM new_rows) r
    GROUP BY r.tenant_id
  ) s
  CROSS JOIN LATERAL (VALUES ('revenue', s.f, s.t), ('tournaments', s.tf, s.tt)) AS k(aggregate_type, changed_from, changed_to)
  WHERE k.changed_from IS NOT NULL;
  ELSE
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT s.tenant_id, k.aggregate_type, k.changed_from, k.changed_to
  FROM (
    SELECT r.tenant_id, min(r.created_at) AS f, max(r.created_at) AS t,
           min(r.created_at) FILTER (WHERE r.tournament_id IS NOT NULL) AS tf,
           max(r.created_at) FILTER (WHERE r.tournament_id IS NOT NULL) AS tt
    FROM (SELECT tenant_id, created_at, tournament_id FROM old_rows) r
    GROUP BY r.tenant_id
  ) s
  CROSS JOIN LATERAL (VALUES ('revenue', s.f, s.t), ('tournaments', s.tf, s.tt)) AS k(aggregate_type, changed_from, changed_to)
  WHERE k.changed_from IS NOT NULL;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "payments_changes_insert" AFTER INSERT ON "payments" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_payments_changes"();
CREATE TRIGGER "payments_changes_update" AFTER UPDATE ON "payments" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_payments_changes"();
CREATE TRIGGER "payments_changes_delete" AFTER DELETE ON "payments" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_payments_changes"();

CREATE FUNCTION "capture_refunds_changes"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  -- A transition table exists only for the operation that declares it: one branch per operation.
  IF TG_OP = 'INSERT' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'revenue', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, created_at AS lo, created_at AS hi FROM new_rows x) r
  GROUP BY r.tenant_id;
  ELSIF TG_OP = 'UPDATE' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'revenue', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, created_at AS lo, created_at AS hi FROM old_rows x UNION ALL SELECT tenant_id, created_at AS lo, created_at AS hi FROM new_rows x) r
  GROUP BY r.tenant_id;
  ELSE
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'revenue', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, created_at AS lo, created_at AS hi FROM old_rows x) r
  GROUP BY r.tenant_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "refunds_changes_insert" AFTER INSERT ON "refunds" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_refunds_changes"();
CREATE TRIGGER "refunds_changes_update" AFTER UPDATE ON "refunds" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_refunds_changes"();
CREATE TRIGGER "refunds_changes_delete" AFTER DELETE ON "refunds" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_refunds_changes"();

CREATE FUNCTION "capture_subscriptions_changes"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  -- A transition table exists only for the operation that declares it: one branch per operation.
  IF TG_OP = 'INSERT' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'mrr', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, least(started_at, canceled_at) AS lo, greatest(started_at, canceled_at) AS hi FROM new_rows x) r
  GROUP BY r.tenant_id;
  ELSIF TG_OP = 'UPDATE' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'mrr', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, least(started_at, canceled_at) AS lo, greatest(started_at, canceled_at) AS hi FROM old_rows x UNION ALL SELECT tenant_id, least(started_at, canceled_at) AS lo, greatest(started_at, canceled_at) AS hi FROM new_rows x) r
  GROUP BY r.tenant_id;
  ELSE
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'mrr', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, least(started_at, canceled_at) AS lo, greatest(started_at, canceled_at) AS hi FROM old_rows x) r
  GROUP BY r.tenant_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "subscriptions_changes_insert" AFTER INSERT ON "subscriptions" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_subscriptions_changes"();
CREATE TRIGGER "subscriptions_changes_update" AFTER UPDATE ON "subscriptions" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_subscriptions_changes"();
CREATE TRIGGER "subscriptions_changes_delete" AFTER DELETE ON "subscriptions" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_subscriptions_changes"();

CREATE FUNCTION "capture_tournaments_changes"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  -- A transition table exists only for the operation that declares it: one branch per operation.
  IF TG_OP = 'INSERT' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'tournaments', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, created_at AS lo, created_at AS hi FROM new_rows x) r
  GROUP BY r.tenant_id;
  ELSIF TG_OP = 'UPDATE' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'tournaments', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, created_at AS lo, created_at AS hi FROM old_rows x UNION ALL SELECT tenant_id, created_at AS lo, created_at AS hi FROM new_rows x) r
  GROUP BY r.tenant_id;
  ELSE
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'tournaments', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, created_at AS lo, created_at AS hi FROM old_rows x) r
  GROUP BY r.tenant_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "tournaments_changes_insert" AFTER INSERT ON "tournaments" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_tournaments_changes"();
CREATE TRIGGER "tournaments_changes_update" AFTER UPDATE ON "tournaments" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_tournaments_changes"();
CREATE TRIGGER "tournaments_changes_delete" AFTER DELETE ON "tournaments" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_tournaments_changes"();

CREATE FUNCTION "capture_tournament_players_changes"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  -- A transition table exists only for the operation that declares it: one branch per operation.
  IF TG_OP = 'INSERT' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'tournaments', min(r.lo), max(r.hi)
  FROM (SELECT x.tenant_id, t.created_at AS lo, t.created_at AS hi FROM new_rows x JOIN tournaments t ON t.id = x.tournament_id) r
  GROUP BY r.tenant_id;
  ELSIF TG_OP = 'UPDATE' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'tournaments', min(r.lo), max(r.hi)
  FROM (SELECT x.tenant_id, t.created_at AS lo, t.created_at AS hi FROM old_rows x JOIN tournaments t ON t.id = x.tournament_id UNION ALL SELECT x.tenant_id, t.created_at AS lo, t.created_at AS hi FROM new_rows x JOIN tournaments t ON t.id = x.tournament_id) r
  GROUP BY r.tenant_id;
  ELSE
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'tournaments', min(r.lo), max(r.hi)
  FROM (SELECT x.tenant_id, t.created_at AS lo, t.created_at AS hi FROM old_rows x JOIN tournaments t ON t.id = x.tournament_id) r
  GROUP BY r.tenant_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "tournament_players_changes_insert" AFTER INSERT ON "tournament_players" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_tournament_players_changes"();
CREATE TRIGGER "tournament_players_changes_update" AFTER UPDATE ON "tournament_players" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_tournament_players_changes"();
CREATE TRIGGER "tournament_players_changes_delete" AFTER DELETE ON "tournament_players" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_tournament_players_changes"();

CREATE FUNCTION "capture_users_changes"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  -- A transition table exists only for the operation that declares it: one branch per operation.
  IF TG_OP = 'INSERT' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'cohorts', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, created_at AS lo, created_at AS hi FROM new_rows x) r
  GROUP BY r.tenant_id;
  ELSIF TG_OP = 'UPDATE' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'cohorts', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, created_at AS lo, created_at AS hi FROM old_rows x UNION ALL SELECT tenant_id, created_at AS lo, created_at AS hi FROM new_rows x) r
  GROUP BY r.tenant_id;
  ELSE
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'cohorts', min(r.lo), max(r.hi)
  FROM (SELECT tenant_id, created_at AS lo, created_at AS hi FROM old_rows x) r
  GROUP BY r.tenant_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "users_changes_insert" AFTER INSERT ON "users" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_users_changes"();
CREATE TRIGGER "users_changes_update" AFTER UPDATE ON "users" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_users_changes"();
CREATE TRIGGER "users_changes_delete" AFTER DELETE ON "users" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_users_changes"();

CREATE FUNCTION "capture_user_activity_changes"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  -- A transition table exists only for the operation that declares it: one branch per operation.
  IF TG_OP = 'INSERT' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'cohorts', min(r.lo), max(r.hi)
  FROM (SELECT x.tenant_id, u.created_at AS lo, u.created_at AS hi FROM new_rows x JOIN users u ON u.id = x.user_id) r
  GROUP BY r.tenant_id;
  ELSIF TG_OP = 'UPDATE' THEN
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'cohorts', min(r.lo), max(r.hi)
  FROM (SELECT x.tenant_id, u.created_at AS lo, u.created_at AS hi FROM old_rows x JOIN users u ON u.id = x.user_id UNION ALL SELECT x.tenant_id, u.created_at AS lo, u.created_at AS hi FROM new_rows x JOIN users u ON u.id = x.user_id) r
  GROUP BY r.tenant_id;
  ELSE
  INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
  SELECT r.tenant_id, 'cohorts', min(r.lo), max(r.hi)
  FROM (SELECT x.tenant_id, u.created_at AS lo, u.created_at AS hi FROM old_rows x JOIN users u ON u.id = x.user_id) r
  GROUP BY r.tenant_id;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "user_activity_changes_insert" AFTER INSERT ON "user_activity" REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_user_activity_changes"();
CREATE TRIGGER "user_activity_changes_update" AFTER UPDATE ON "user_activity" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_user_activity_changes"();
CREATE TRIGGER "user_activity_changes_delete" AFTER DELETE ON "user_activity" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "capture_user_activity_changes"();
