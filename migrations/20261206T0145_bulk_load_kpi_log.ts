import { sql, type Kysely } from 'kysely';

/**
 * The legacy import's bulk path (src/legacy/bulk-load.ts) COPYs a whole organization into
 * pfa_mirror; the KPI insert trigger then logged a row per record into pfa_kpi_delta (computing
 * three costs each, from a transition table of every inserted row), which the view refresh that
 * ends the bulk load deleted again. Measured on 100,000 records: 10–13 µs of the COPY's ~60 µs
 * per record, plus 4 µs per record for the refresh's DELETE of the log.
 *
 * That log is only ever read on top of a cached row of the organization (a pfa_kpi_summary or
 * pfa_timeline_bounds row with an older refresh_seq); an organization no cache holds is computed
 * from scratch. So a transaction may leave its inserts unlogged when (a) no cache row of the
 * organization exists, checked under the refresh lock, and (b) no refresh can produce one from a
 * snapshot without its rows while it runs. (b) is what this migration adds:
 *
 * - refresh_pfa_materialized_views() takes the refresh lock ('pfa:refresh-views', transaction
 *   level, exclusive) in its own first statement, so every caller — the job (which try-locks it
 *   first), the bulk load, `npm run migrate`, a refresh by hand — waits for a transaction that
 *   holds it shared, and its REFRESH statements take their snapshots after that transaction ended.
 * - pfa_mirror_kpi_ins() logs nothing when the transaction set `pfa.kpi_log` to `off`
 *   (SET LOCAL). Only the bulk load does, in the transaction that COPYs one organization, while it
 *   holds the refresh lock shared and after checking that no cache row of the organization exists;
 *   it bumps the organization's change sequence itself, as the trigger would have.
 */

const LOG_STATES = `
        WITH st AS MATERIALIZED (
          SELECT n.id, 1::smallint, n.category, n.source, n.dor,
    pfa_cost(n.source, n.original_start, n.original_end, n.monthly_rate, n.purchase_price) AS plan,
    pfa_cost(n.source, n.forecast_start, n.forecast_end, n.monthly_rate, n.purchase_price) AS forecast,
    CASE WHEN n.is_actualized THEN pfa_cost(n.source, n.actual_start, n.actual_end, n.monthly_rate, n.purchase_price) ELSE 0 END AS actual,
    n.is_actualized IS TRUE AS is_actualized,
    n.original_start, n.original_end, n.forecast_start, n.forecast_end, n.actual_start, n.actual_end FROM new_rows n
          WHERE n.organization_id = v_org AND n.removed_from_pems_at IS NULL AND n.is_discontinued IS NOT TRUE),
        bump AS MATERIALIZED (SELECT pfa_bump_org(v_org) AS seq WHERE EXISTS (SELECT 1 FROM st))
        INSERT INTO pfa_kpi_delta (organization_id, seq, mirror_id, sign, category, source, dor, plan, forecast, actual, is_actualized, original_start, original_end, forecast_start, forecast_end, actual_start, actual_end)
        SELECT v_org, b.seq, st.* FROM st CROSS JOIN bump b;`;

const kpiInsert = (skippable: boolean) => `
    CREATE OR REPLACE FUNCTION pfa_mirror_kpi_ins() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v_org text;
    BEGIN${
      skippable
        ? `
      -- A bulk load of organizations no KPI cache holds (migration 20261206T0145).
      IF current_setting('pfa.kpi_log', true) = 'off' THEN
        RETURN NULL;
      END IF;`
        : ''
    }
      FOR v_org IN SELECT DISTINCT organization_id FROM new_rows ORDER BY 1 LOOP
        ${LOG_STATES}
      END LOOP;
      RETURN NULL;
    END $$`;

const refresh = (locked: boolean) => `
    CREATE OR REPLACE FUNCTION refresh_pfa_materialized_views() RETURNS timestamptz LANGUAGE plpgsql AS $$
    DECLARE
      started timestamptz := clock_timestamp();
    BEGIN${
      locked
        ? `
      -- Its own statement: the REFRESH statements below take their snapshots after the lock, so
      -- they see everything a transaction that held it (shared: a bulk load) committed.
      PERFORM pg_advisory_xact_lock(hashtextextended('pfa:refresh-views', 0));
      started := clock_timestamp();`
        : ''
    }
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
      -- The bounds view was refreshed last, so its sequence is the higher of the two: the KPI
      -- view's decides what both hold. An organization without KPI rows holds everything
      -- up to its bounds row's sequence (it had no counted record then).
      DELETE FROM pfa_kpi_delta d
      USING (SELECT b.organization_id,
                    coalesce((SELECT min(k.refresh_seq) FROM pfa_kpi_summary k WHERE k.organization_id = b.organization_id),
                             b.refresh_seq) AS seq
             FROM pfa_timeline_bounds b) h
      WHERE d.organization_id = h.organization_id AND d.seq <= h.seq;
      INSERT INTO pfa_view_refresh (refreshed_at, duration_ms)
      VALUES (now(), (extract(epoch FROM clock_timestamp() - started) * 1000)::int);
      RETURN now();
    END $$`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(refresh(true)).execute(db);
  await sql.raw(kpiInsert(true)).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(kpiInsert(false)).execute(db);
  await sql.raw(refresh(false)).execute(db);
}
