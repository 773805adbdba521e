-- Change capture of the two tables whose times live in another table (activity -> its user's
-- signup, players -> their tournament's creation): one primary-key lookup per distinct key of the
-- statement, as a scalar subquery the planner cannot turn into a scan of the whole parent table
-- (it knows nothing of a transition table's contents and chose hash joins over every user).

CREATE OR REPLACE FUNCTION "capture_tournament_players_changes"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
    SELECT s.tenant_id, 'tournaments', min(s.at), max(s.at)
    FROM (
      SELECT r.tenant_id, (SELECT t.created_at FROM tournaments t WHERE t.id = r.tournament_id) AS at
      FROM (SELECT DISTINCT tenant_id, tournament_id FROM new_rows) r
    ) s
    WHERE s.at IS NOT NULL
    GROUP BY s.tenant_id;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
    SELECT s.tenant_id, 'tournaments', min(s.at), max(s.at)
    FROM (
      SELECT r.tenant_id, (SELECT t.created_at FROM tournaments t WHERE t.id = r.tournament_id) AS at
      FROM (SELECT DISTINCT tenant_id, tournament_id FROM (SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows) AS both_sides) r
    ) s
    WHERE s.at IS NOT NULL
    GROUP BY s.tenant_id;
  ELSE
    INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
    SELECT s.tenant_id, 'tournaments', min(s.at), max(s.at)
    FROM (
      SELECT r.tenant_id, (SELECT t.created_at FROM tournaments t WHERE t.id = r.tournament_id) AS at
      FROM (SELECT DISTINCT tenant_id, tournament_id FROM old_rows) r
    ) s
    WHERE s.at IS NOT NULL
    GROUP BY s.tenant_id;
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION "capture_user_activity_changes"() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
    SELECT s.tenant_id, 'cohorts', min(s.at), max(s.at)
    FROM (
      SELECT r.tenant_id, (SELECT u.created_at FROM users u WHERE u.id = r.user_id) AS at
      FROM (SELECT DISTINCT tenant_id, user_id FROM new_rows) r
    ) s
    WHERE s.at IS NOT NULL
    GROUP BY s.tenant_id;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
    SELECT s.tenant_id, 'cohorts', min(s.at), max(s.at)
    FROM (
      SELECT r.tenant_id, (SELECT u.created_at FROM users u WHERE u.id = r.user_id) AS at
      FROM (SELECT DISTINCT tenant_id, user_id FROM (SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows) AS both_sides) r
    ) s
    WHERE s.at IS NOT NULL
    GROUP BY s.tenant_id;
  ELSE
    INSERT INTO aggregate_changes (tenant_id, aggregate_type, changed_from, changed_to)
    SELECT s.tenant_id, 'cohorts', min(s.at), max(s.at)
    FROM (
      SELECT r.tenant_id, (SELECT u.created_at FROM users u WHERE u.id = r.user_id) AS at
      FROM (SELECT DISTINCT tenant_id, user_id FROM old_rows) r
    ) s
    WHERE s.at IS NOT NULL
    GROUP BY s.tenant_id;
  END IF;
  RETURN NULL;
END $$;
