import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * One maintained definition of the pending overlay, and KPI caches that know what they hold
 * without snapshots or transaction ids (DOMAIN §3, §4, §8).
 *
 * - `pfa_pending_record`: for every record with at least one pending (committed/syncing)
 *   modification, the record as the organization sees it — mirror data overlaid by every pending
 *   delta in commit order — with the same generated typed columns as `pfa_mirror`. Kept current by
 *   statement triggers on `pfa_modification` and `pfa_mirror`, in the writing transaction, so
 *   commits, write-back, read sync, imports and an operator's SQL all keep it right. Every writer
 *   that changes a record's pending set holds the record's mirror row lock (DOMAIN §3, one writer
 *   per record), so two recomputations of one record never race.
 * - `pfa_org_change`: a per-organization change sequence, bumped in the transaction that changes
 *   what the organization's KPIs count. Bumps of one organization are serialised by its row lock,
 *   so a snapshot that sees sequence S sees every change numbered ≤ S and none above.
 * - `pfa_kpi_delta`: per changed record, its KPI state before (sign −1) and after (sign +1), for
 *   the states that count (not discontinued, not removed), numbered with the sequence. The views
 *   carry `refresh_seq`, the sequence their refresh saw; the live answer is the view plus the
 *   delta rows numbered above it. The refresh deletes the rows both views already hold.
 */

export const DELTA_STATE = sql.raw(
  'category, source, dor, plan, forecast, actual, is_actualized, original_start, original_end, forecast_start, forecast_end, actual_start, actual_end',
);

/** A record's KPI state from the typed columns of the row aliased `t`, in pfa_kpi_delta's order. */
export const stateOf = (t: string) =>
  sql.raw(`${t}.category, ${t}.source, ${t}.dor,
    pfa_cost(${t}.source, ${t}.original_start, ${t}.original_end, ${t}.monthly_rate, ${t}.purchase_price) AS plan,
    pfa_cost(${t}.source, ${t}.forecast_start, ${t}.forecast_end, ${t}.monthly_rate, ${t}.purchase_price) AS forecast,
    CASE WHEN ${t}.is_actualized THEN pfa_cost(${t}.source, ${t}.actual_start, ${t}.actual_end, ${t}.monthly_rate, ${t}.purchase_price) ELSE 0 END AS actual,
    ${t}.is_actualized IS TRUE AS is_actualized,
    ${t}.original_start, ${t}.original_end, ${t}.forecast_start, ${t}.forecast_end, ${t}.actual_start, ${t}.actual_end`);

/** Logs `rows` (organization_id, mirror_id, sign, state…) of organization v_org under one bump. */
export const logStates = (rows: RawBuilder<unknown>) => sql`
        WITH st AS MATERIALIZED (${rows}),
        bump AS MATERIALIZED (SELECT pfa_bump_org(v_org) AS seq WHERE EXISTS (SELECT 1 FROM st))
        INSERT INTO pfa_kpi_delta (organization_id, seq, mirror_id, sign, ${DELTA_STATE})
        SELECT v_org, b.seq, st.* FROM st CROSS JOIN bump b;`;

/**
 * pfa_mirror's update trigger as this migration wrote it (pairing old and new rows by a join of
 * the transition tables; migration 20261206T0700 replaced the pairing, and restores this on down).
 */
export const mirrorKpiUpdate = (create: 'CREATE' | 'CREATE OR REPLACE') => sql`
    ${sql.raw(create)} FUNCTION pfa_mirror_kpi_upd() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      r record;
      v_org text;
    BEGIN
      FOR r IN
        SELECT n.organization_id, array_agg(n.id) AS ids
        FROM new_rows n JOIN old_rows o ON o.organization_id = n.organization_id AND o.id = n.id
        WHERE o.data IS DISTINCT FROM n.data
          AND EXISTS (SELECT 1 FROM pfa_pending_record p WHERE p.organization_id = n.organization_id AND p.id = n.id)
        GROUP BY n.organization_id ORDER BY n.organization_id
      LOOP
        PERFORM pfa_pending_refresh(r.organization_id, r.ids);
      END LOOP;
      FOR v_org IN
        SELECT DISTINCT n.organization_id FROM new_rows n JOIN old_rows o ON o.organization_id = n.organization_id AND o.id = n.id
        WHERE o.data IS DISTINCT FROM n.data OR (o.removed_from_pems_at IS NULL) <> (n.removed_from_pems_at IS NULL)
        ORDER BY 1
      LOOP
        ${logStates(sql`
          SELECT o.id, -1::smallint, ${stateOf('o')}
          FROM old_rows o JOIN new_rows n ON n.organization_id = o.organization_id AND n.id = o.id
          WHERE o.organization_id = v_org AND (o.data IS DISTINCT FROM n.data OR (o.removed_from_pems_at IS NULL) <> (n.removed_from_pems_at IS NULL))
            AND o.removed_from_pems_at IS NULL AND o.is_discontinued IS NOT TRUE
            AND NOT EXISTS (SELECT 1 FROM pfa_pending_record p WHERE p.organization_id = o.organization_id AND p.id = o.id)
          UNION ALL
          SELECT n.id, 1::smallint, ${stateOf('n')}
          FROM old_rows o JOIN new_rows n ON n.organization_id = o.organization_id AND n.id = o.id
          WHERE n.organization_id = v_org AND (o.data IS DISTINCT FROM n.data OR (o.removed_from_pems_at IS NULL) <> (n.removed_from_pems_at IS NULL))
            AND n.removed_from_pems_at IS NULL AND n.is_discontinued IS NOT TRUE
            AND NOT EXISTS (SELECT 1 FROM pfa_pending_record p WHERE p.organization_id = n.organization_id AND p.id = n.id)
          UNION ALL
          SELECT p.id, CASE WHEN n.removed_from_pems_at IS NULL THEN 1 ELSE -1 END::smallint, ${stateOf('p')}
          FROM old_rows o JOIN new_rows n ON n.organization_id = o.organization_id AND n.id = o.id
          JOIN pfa_pending_record p ON p.organization_id = n.organization_id AND p.id = n.id
          WHERE n.organization_id = v_org AND (o.removed_from_pems_at IS NULL) <> (n.removed_from_pems_at IS NULL)
            AND p.is_discontinued IS NOT TRUE`)}
      END LOOP;
      RETURN NULL;
    END $$`;

export async function up(db: Kysely<unknown>): Promise<void> {
  // Same columns, generated expressions and defaults as pfa_mirror, then only what a merged record needs.
  await sql`CREATE TABLE pfa_pending_record (LIKE pfa_mirror INCLUDING GENERATED INCLUDING DEFAULTS)`.execute(
    db,
  );
  for (const column of [
    'version',
    'pems_version',
    'last_synced_at',
    'sync_batch_id',
    'removed_from_pems_at',
    'first_seen_at',
  ])
    await sql`ALTER TABLE pfa_pending_record DROP COLUMN IF EXISTS ${sql.ref(column)}`.execute(db);
  await sql`ALTER TABLE pfa_pending_record ADD PRIMARY KEY (organization_id, id)`.execute(db);
  await sql`
    ALTER TABLE pfa_pending_record ADD FOREIGN KEY (organization_id, id)
      REFERENCES pfa_mirror (organization_id, id) ON DELETE CASCADE`.execute(db);

  await sql`
    CREATE TABLE pfa_org_change (
      organization_id text PRIMARY KEY REFERENCES organization (id) ON DELETE CASCADE,
      seq bigint NOT NULL DEFAULT 0
    )`.execute(db);
  await sql`INSERT INTO pfa_org_change (organization_id) SELECT id FROM organization`.execute(db);

  await sql`
    CREATE TABLE pfa_kpi_delta (
      organization_id text NOT NULL,
      seq bigint NOT NULL,
      id bigint GENERATED ALWAYS AS IDENTITY,
      mirror_id bigint NOT NULL,
      sign smallint NOT NULL CHECK (sign IN (-1, 1)),
      category text, source text, dor text,
      plan numeric NOT NULL, forecast numeric NOT NULL, actual numeric NOT NULL,
      is_actualized boolean NOT NULL,
      original_start date, original_end date, forecast_start date, forecast_end date,
      actual_start date, actual_end date,
      PRIMARY KEY (organization_id, seq, id)
    )`.execute(db);

  // Bumps the organization's change sequence (the row lock serialises bumps of one organization
  // until the bumping transaction ends) and returns the new number.
  await sql`
    CREATE FUNCTION pfa_bump_org(p_org text) RETURNS bigint LANGUAGE sql AS $$
      INSERT INTO pfa_org_change AS c (organization_id, seq) VALUES (p_org, 1)
      ON CONFLICT (organization_id) DO UPDATE SET seq = c.seq + 1
      RETURNING seq
    $$`.execute(db);

  // Recomputes the pending overlay of the given records of one organization (the one place the
  // rule "mirror + pending deltas in commit order" is written) and logs the KPI states it moved.
  await sql`
    CREATE FUNCTION pfa_pending_refresh(p_org text, p_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      WITH agg AS (
        SELECT d.mirror_id AS id, jsonb_concat_agg(d.delta ORDER BY d.committed_at, d.id) AS delta
        FROM pfa_modification d
        WHERE d.organization_id = p_org AND d.mirror_id = ANY (p_ids) AND d.sync_state IN ('committed', 'syncing')
        GROUP BY d.mirror_id),
      before AS (
        SELECT m.id, m.removed_from_pems_at IS NULL AND coalesce(p.is_discontinued, m.is_discontinued) IS NOT TRUE AS counted,
               p.id IS NOT NULL AS had,
               CASE WHEN p.id IS NOT NULL THEN to_jsonb(p) ELSE to_jsonb(m) END AS row
        FROM pfa_mirror m LEFT JOIN pfa_pending_record p ON p.organization_id = p_org AND p.id = m.id
        WHERE m.organization_id = p_org AND m.id = ANY (p_ids)),
      del AS (
        DELETE FROM pfa_pending_record p
        WHERE p.organization_id = p_org AND p.id = ANY (p_ids) AND NOT EXISTS (SELECT 1 FROM agg WHERE agg.id = p.id)
        RETURNING p.id),
      up AS (
        INSERT INTO pfa_pending_record AS p (organization_id, id, pfa_id, data)
        SELECT p_org, m.id, m.pfa_id, m.data || agg.delta
        FROM agg JOIN pfa_mirror m ON m.organization_id = p_org AND m.id = agg.id
        ON CONFLICT (organization_id, id) DO UPDATE SET data = EXCLUDED.data, pfa_id = EXCLUDED.pfa_id
          WHERE (p.data, p.pfa_id) IS DISTINCT FROM (EXCLUDED.data, EXCLUDED.pfa_id)
        RETURNING p.*),
      after AS (
        SELECT u.id, u.is_discontinued IS NOT TRUE AS live, to_jsonb(u) AS row FROM up u
        UNION ALL
        SELECT m.id, m.is_discontinued IS NOT TRUE, to_jsonb(m) FROM del JOIN pfa_mirror m ON m.organization_id = p_org AND m.id = del.id),
      changed AS (
        SELECT b.id, b.counted, b.row AS b_row, a.live AND m.removed_from_pems_at IS NULL AS a_counted, a.row AS a_row
        FROM after a JOIN before b ON b.id = a.id JOIN pfa_mirror m ON m.organization_id = p_org AND m.id = a.id),
      pairs AS (
        -- A record whose state did not move (a write-back that PEMS applied as sent) logs nothing.
        SELECT c.id, c.counted, c.a_counted, bs, as_
        FROM changed c
        CROSS JOIN LATERAL (SELECT ${stateOf('r')} FROM jsonb_populate_record(NULL::pfa_pending_record, c.b_row) r) bs
        CROSS JOIN LATERAL (SELECT ${stateOf('r')} FROM jsonb_populate_record(NULL::pfa_pending_record, c.a_row) r) as_
        WHERE (c.counted OR c.a_counted) AND NOT (c.counted AND c.a_counted AND bs IS NOT DISTINCT FROM as_)),
      distinct_states AS (
        SELECT id, -1 AS sign, (bs).* FROM pairs WHERE counted
        UNION ALL
        SELECT id, 1 AS sign, (as_).* FROM pairs WHERE a_counted),
      bump AS MATERIALIZED (SELECT pfa_bump_org(p_org) AS seq WHERE EXISTS (SELECT 1 FROM distinct_states))
      INSERT INTO pfa_kpi_delta (organization_id, seq, mirror_id, sign, ${DELTA_STATE})
      SELECT p_org, b.seq, d.id, d.sign, ${DELTA_STATE} FROM distinct_states d CROSS JOIN bump b;
    END $$`.execute(db);

  // pfa_modification: a change of a record's pending set (membership, delta or order) recomputes it.
  const changedPending = (from: string) =>
    sql.raw(`
      SELECT organization_id, array_agg(DISTINCT mirror_id) AS ids FROM (${from}) c GROUP BY organization_id ORDER BY organization_id`);
  await sql`
    CREATE FUNCTION pfa_modification_pending_ins() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r record;
    BEGIN
      FOR r IN ${changedPending(
        `SELECT organization_id, mirror_id FROM new_rows WHERE sync_state IN ('committed', 'syncing')`,
      )} LOOP
        PERFORM pfa_pending_refresh(r.organization_id, r.ids);
      END LOOP;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE FUNCTION pfa_modification_pending_del() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r record;
    BEGIN
      FOR r IN ${changedPending(
        `SELECT organization_id, mirror_id FROM old_rows WHERE sync_state IN ('committed', 'syncing')`,
      )} LOOP
        PERFORM pfa_pending_refresh(r.organization_id, r.ids);
      END LOOP;
      RETURN NULL;
    END $$`.execute(db);
  // committed ↔ syncing moves nothing: only membership, delta, order or record changes count.
  await sql`
    CREATE FUNCTION pfa_modification_pending_upd() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r record;
    BEGIN
      FOR r IN ${changedPending(`
        SELECT o.organization_id, o.mirror_id FROM old_rows o JOIN new_rows n ON n.organization_id = o.organization_id AND n.id = o.id
        WHERE (o.sync_state IN ('committed', 'syncing')) <> (n.sync_state IN ('committed', 'syncing'))
           OR (n.sync_state IN ('committed', 'syncing')
               AND (o.delta IS DISTINCT FROM n.delta OR o.committed_at IS DISTINCT FROM n.committed_at OR o.mirror_id <> n.mirror_id))
        UNION ALL
        SELECT n.organization_id, n.mirror_id FROM old_rows o JOIN new_rows n ON n.organization_id = o.organization_id AND n.id = o.id
        WHERE o.mirror_id <> n.mirror_id AND n.sync_state IN ('committed', 'syncing')`)} LOOP
        PERFORM pfa_pending_refresh(r.organization_id, r.ids);
      END LOOP;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER pfa_modification_pending_ins AFTER INSERT ON pfa_modification
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_modification_pending_ins()`.execute(
    db,
  );
  await sql`
    CREATE TRIGGER pfa_modification_pending_upd AFTER UPDATE ON pfa_modification
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_modification_pending_upd()`.execute(
    db,
  );
  await sql`
    CREATE TRIGGER pfa_modification_pending_del AFTER DELETE ON pfa_modification
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_modification_pending_del()`.execute(
    db,
  );

  // pfa_mirror: a record with a pending overlay is recomputed when its data moves; a record without
  // one logs its KPI state before and after (data, removal, new or deleted records). A record with
  // an overlay that is removed from PEMS (or comes back) leaves (or rejoins) the figures with its
  // overlay's state.
  await mirrorKpiUpdate('CREATE').execute(db);
  await sql`
    CREATE FUNCTION pfa_mirror_kpi_ins() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v_org text;
    BEGIN
      FOR v_org IN SELECT DISTINCT organization_id FROM new_rows ORDER BY 1 LOOP
        ${logStates(sql`
          SELECT n.id, 1::smallint, ${stateOf('n')} FROM new_rows n
          WHERE n.organization_id = v_org AND n.removed_from_pems_at IS NULL AND n.is_discontinued IS NOT TRUE`)}
      END LOOP;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE FUNCTION pfa_mirror_kpi_del() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v_org text;
    BEGIN
      FOR v_org IN SELECT DISTINCT organization_id FROM old_rows ORDER BY 1 LOOP
        ${logStates(sql`
          SELECT o.id, -1::smallint, ${stateOf('o')} FROM old_rows o
          WHERE o.organization_id = v_org AND o.removed_from_pems_at IS NULL AND o.is_discontinued IS NOT TRUE`)}
      END LOOP;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER pfa_mirror_kpi_upd AFTER UPDATE ON pfa_mirror
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_mirror_kpi_upd()`.execute(
    db,
  );
  await sql`
    CREATE TRIGGER pfa_mirror_kpi_ins AFTER INSERT ON pfa_mirror
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_mirror_kpi_ins()`.execute(db);
  await sql`
    CREATE TRIGGER pfa_mirror_kpi_del AFTER DELETE ON pfa_mirror
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_mirror_kpi_del()`.execute(db);

  // Today's pending changes, into the overlay (nothing logged: the views are rebuilt below).
  await sql`
    INSERT INTO pfa_pending_record (organization_id, id, pfa_id, data)
    SELECT m.organization_id, m.id, m.pfa_id, m.data || x.delta
    FROM (SELECT organization_id, mirror_id, jsonb_concat_agg(delta ORDER BY committed_at, id) AS delta
          FROM pfa_modification WHERE sync_state IN ('committed', 'syncing')
          GROUP BY organization_id, mirror_id) x
    JOIN pfa_mirror m ON m.organization_id = x.organization_id AND m.id = x.mirror_id`.execute(db);

  await createViews(db, true);
}

/**
 * The organization's committed records (mirror + pending, never drafts; removed records left out)
 * from the maintained overlay, and the two caches with the sequence they hold.
 */
async function createViews(db: Kysely<unknown>, withSeq: boolean): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS refresh_pfa_materialized_views()`.execute(db);
  await sql`DROP MATERIALIZED VIEW IF EXISTS pfa_timeline_bounds`.execute(db);
  await sql`DROP MATERIALIZED VIEW IF EXISTS pfa_kpi_summary`.execute(db);
  await sql`DROP VIEW IF EXISTS pfa_committed_records`.execute(db);
  if (withSeq)
    await sql`
      CREATE VIEW pfa_committed_records AS
      SELECT m.organization_id, m.id, m.category, m.source, m.dor, m.monthly_rate, m.purchase_price,
             m.original_start, m.original_end, m.forecast_start, m.forecast_end, m.actual_start, m.actual_end,
             m.is_actualized, m.is_discontinued
      FROM pfa_mirror m
      WHERE m.removed_from_pems_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM pfa_pending_record p WHERE p.organization_id = m.organization_id AND p.id = m.id)
      UNION ALL
      SELECT p.organization_id, p.id, p.category, p.source, p.dor, p.monthly_rate, p.purchase_price,
             p.original_start, p.original_end, p.forecast_start, p.forecast_end, p.actual_start, p.actual_end,
             p.is_actualized, p.is_discontinued
      FROM pfa_pending_record p
      JOIN pfa_mirror m ON m.organization_id = p.organization_id AND m.id = p.id
      WHERE m.removed_from_pems_at IS NULL`.execute(db);
  else
    await sql`
      CREATE VIEW pfa_committed_records AS
      WITH pending AS (
        SELECT organization_id, mirror_id, jsonb_concat_agg(delta ORDER BY committed_at, id) AS delta
        FROM pfa_modification
        WHERE sync_state IN ('committed', 'syncing')
        GROUP BY organization_id, mirror_id
      )
      SELECT m.organization_id, m.id, m.category, m.source, m.dor, m.monthly_rate, m.purchase_price,
             m.original_start, m.original_end, m.forecast_start, m.forecast_end, m.actual_start, m.actual_end,
             m.is_actualized, m.is_discontinued
      FROM pfa_mirror m
      WHERE NOT EXISTS (SELECT 1 FROM pending p WHERE p.organization_id = m.organization_id AND p.mirror_id = m.id)
        AND m.removed_from_pems_at IS NULL
      UNION ALL
      SELECT m.organization_id, m.id, pfa_text(d -> 'category'), pfa_text(d -> 'source'), pfa_text(d -> 'dor'),
             pfa_money(d -> 'monthlyRate'), pfa_money(d -> 'purchasePrice'),
             pfa_date(d -> 'originalStart'), pfa_date(d -> 'originalEnd'),
             pfa_date(d -> 'forecastStart'), pfa_date(d -> 'forecastEnd'),
             pfa_date(d -> 'actualStart'), pfa_date(d -> 'actualEnd'),
             pfa_bool(d -> 'isActualized'), pfa_bool(d -> 'isDiscontinued')
      FROM pending p
      JOIN pfa_mirror m ON m.organization_id = p.organization_id AND m.id = p.mirror_id
      CROSS JOIN LATERAL (SELECT m.data || p.delta) AS x(d)
      WHERE m.removed_from_pems_at IS NULL`.execute(db);

  // What the cache holds: refresh_seq (the organization's change sequence as the refresh saw
  // it, in the same snapshot as the figures); the old views carried a snapshot instead.
  const held = withSeq
    ? sql`coalesce((SELECT c.seq FROM pfa_org_change c WHERE c.organization_id = r.organization_id), 0) AS refresh_seq`
    : sql`pg_current_snapshot()::text AS refresh_snapshot`;
  await sql`
    CREATE MATERIALIZED VIEW pfa_kpi_summary AS
    SELECT organization_id, category, source, dor,
           jsonb_build_array(category, source, dor)::text AS group_key,
           sum(pfa_cost(source, original_start, original_end, monthly_rate, purchase_price)) AS total_plan_cost,
           sum(pfa_cost(source, forecast_start, forecast_end, monthly_rate, purchase_price)) AS total_forecast_cost,
           sum(CASE WHEN is_actualized THEN pfa_cost(source, actual_start, actual_end, monthly_rate, purchase_price) ELSE 0 END) AS total_actual_cost,
           sum(pfa_cost(source, forecast_start, forecast_end, monthly_rate, purchase_price)
               - pfa_cost(source, original_start, original_end, monthly_rate, purchase_price)) AS total_variance,
           count(*)::bigint AS record_count,
           count(*) FILTER (WHERE is_actualized)::bigint AS actualized_count,
           now() AS refreshed_at,
           ${held}
    FROM pfa_committed_records r
    WHERE is_discontinued IS NOT TRUE
    GROUP BY organization_id, category, source, dor`.execute(db);
  await sql`CREATE UNIQUE INDEX uq_pfa_kpi_summary ON pfa_kpi_summary (organization_id, group_key)`.execute(
    db,
  );
  // One row per organization, records or not, so every organization knows what its cache holds.
  await sql`
    CREATE MATERIALIZED VIEW pfa_timeline_bounds AS
    SELECT o.id AS organization_id,
           min(original_start) AS plan_start, max(original_end) AS plan_end,
           min(forecast_start) AS forecast_start, max(forecast_end) AS forecast_end,
           min(actual_start) FILTER (WHERE is_actualized) AS actual_start,
           max(actual_end) FILTER (WHERE is_actualized) AS actual_end,
           count(r.id)::bigint AS total_records,
           count(r.id) FILTER (WHERE is_actualized)::bigint AS actualized_records,
           now() AS refreshed_at,
           ${withSeq ? sql`coalesce((SELECT c.seq FROM pfa_org_change c WHERE c.organization_id = o.id), 0) AS refresh_seq` : sql`pg_current_snapshot()::text AS refresh_snapshot`}
    FROM organization o
    ${withSeq ? sql`LEFT` : sql``} JOIN pfa_committed_records r ON r.organization_id = o.id AND r.is_discontinued IS NOT TRUE
    GROUP BY o.id`.execute(db);
  await sql`CREATE UNIQUE INDEX uq_pfa_timeline_bounds ON pfa_timeline_bounds (organization_id)`.execute(db);

  await sql`
    CREATE FUNCTION refresh_pfa_materialized_views() RETURNS timestamptz LANGUAGE plpgsql AS $$
    DECLARE
      started timestamptz := clock_timestamp();
    BEGIN
      IF (SELECT ispopulated FROM pg_matviews WHERE matviewname = 'pfa_kpi_summary' AND schemaname = current_schema()) THEN
        REFRESH MATERIALIZED VIEW CONCURRENTLY pfa_kpi_summary;
      ELSE
        REFRESH MATERIALIZED VIEW pfa_kpi_summary;
      END IF;
      IF (SELECT ispopulated FROM pg_matviews WHERE matviewname = 'pfa_timeline_bounds' AND schemaname = current_schema()) THEN
        REFRESH MATERIALIZED VIEW CONCURRENTLY pfa_timeline_bounds;
      ELSE
        REFRESH MATERIALIZED VIEW pfa_timeline_bounds;
      END IF;
      ${
        withSeq
          ? sql.raw(`-- The bounds view was refreshed last, so its sequence is the higher of the two: the KPI
      -- view's decides what both hold. An organization without KPI rows holds everything
      -- up to its bounds row's sequence (it had no counted record then).
      DELETE FROM pfa_kpi_delta d
      USING (SELECT b.organization_id,
                    coalesce((SELECT min(k.refresh_seq) FROM pfa_kpi_summary k WHERE k.organization_id = b.organization_id),
                             b.refresh_seq) AS seq
             FROM pfa_timeline_bounds b) h
      WHERE d.organization_id = h.organization_id AND d.seq <= h.seq;`)
          : sql.raw('')
      }
      INSERT INTO pfa_view_refresh (refreshed_at, duration_ms)
      VALUES (now(), (extract(epoch FROM clock_timestamp() - started) * 1000)::int);
      RETURN now();
    END $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['pfa_mirror_kpi_upd', 'pfa_mirror_kpi_ins', 'pfa_mirror_kpi_del'])
    await sql`DROP TRIGGER IF EXISTS ${sql.ref(t)} ON pfa_mirror`.execute(db);
  for (const t of [
    'pfa_modification_pending_ins',
    'pfa_modification_pending_upd',
    'pfa_modification_pending_del',
  ])
    await sql`DROP TRIGGER IF EXISTS ${sql.ref(t)} ON pfa_modification`.execute(db);
  await createViews(db, false);
  for (const f of [
    'pfa_mirror_kpi_upd()',
    'pfa_mirror_kpi_ins()',
    'pfa_mirror_kpi_del()',
    'pfa_modification_pending_ins()',
    'pfa_modification_pending_upd()',
    'pfa_modification_pending_del()',
    'pfa_pending_refresh(text, bigint[])',
    'pfa_bump_org(text)',
  ])
    await sql.raw(`DROP FUNCTION IF EXISTS ${f}`).execute(db);
  await sql`DROP TABLE IF EXISTS pfa_kpi_delta`.execute(db);
  await sql`DROP TABLE IF EXISTS pfa_org_change`.execute(db);
  await sql`DROP TABLE IF EXISTS pfa_pending_record`.execute(db);
}
