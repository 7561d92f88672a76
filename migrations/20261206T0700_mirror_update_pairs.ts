import { sql, type Kysely } from 'kysely';
import { logStates, mirrorKpiUpdate, stateOf } from './20261205T2000_pending_overlay_kpi_log.js';

/**
 * pfa_mirror_kpi_upd paired each old row of an UPDATE with its new row by joining the statement's
 * two transition tables. PostgreSQL has no statistics for them and planned nested loops: every
 * old row against every new row, three times. A read sync page of 2,000 changed records spent
 * 1.15 s in the trigger, 20,000 records 291 s (1M-record benchmark database, 2026-12-06).
 *
 * The trigger now compares whole rows instead of pairing them: `old EXCEPT new` over a row's
 * signature (record, data, whether it is live, and the typed KPI columns, which are generated from
 * data) is the set of old versions that changed, `new EXCEPT old` the new versions. Set
 * operations are hashed or sorted, never a nested loop, so the cost is linear in the statement's
 * rows. Which records a removal flag flipped for is found by grouping the two sets by record.
 * What is logged is unchanged: −1 with the old state and +1 with the new for a record without a
 * pending overlay whose data or removal moved; for a record with an overlay, its overlay is
 * recomputed when the data moved, and its overlay's state leaves or rejoins when removal flipped.
 */

/** The signature of a pfa_mirror row in `rows`, with the columns the KPI state is computed from. */
const signature = (rows: string) =>
  sql.raw(`SELECT organization_id, id, data, removed_from_pems_at IS NULL AS live, is_discontinued,
      category, source, dor, monthly_rate, purchase_price, is_actualized,
      original_start, original_end, forecast_start, forecast_end, actual_start, actual_end
    FROM ${rows}`);

const CHANGED = sql`
      WITH gone AS (${signature('old_rows')} EXCEPT ${signature('new_rows')}),
      came AS (${signature('new_rows')} EXCEPT ${signature('old_rows')})`;

const body = sql`
    CREATE OR REPLACE FUNCTION pfa_mirror_kpi_upd() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      r record;
      v_org text;
    BEGIN
      -- Records with an overlay whose mirror data moved: recompute the overlay.
      FOR r IN
        SELECT g.organization_id, array_agg(g.id) AS ids
        FROM (SELECT organization_id, id, data FROM old_rows EXCEPT SELECT organization_id, id, data FROM new_rows) g
        WHERE EXISTS (SELECT 1 FROM pfa_pending_record p WHERE p.organization_id = g.organization_id AND p.id = g.id)
        GROUP BY g.organization_id ORDER BY g.organization_id
      LOOP
        PERFORM pfa_pending_refresh(r.organization_id, r.ids);
      END LOOP;
      FOR v_org IN
        SELECT DISTINCT organization_id FROM (${signature('new_rows')} EXCEPT ${signature('old_rows')}) c ORDER BY 1
      LOOP
        ${logStates(sql`
          ${CHANGED},
          flipped AS (
            SELECT id, bool_or(live) FILTER (WHERE after) AS live_now FROM (
              SELECT id, live, false AS after FROM gone WHERE organization_id = v_org
              UNION ALL
              SELECT id, live, true FROM came WHERE organization_id = v_org) x
            GROUP BY id
            HAVING bool_or(live) FILTER (WHERE NOT after) IS DISTINCT FROM bool_or(live) FILTER (WHERE after))
          SELECT o.id, -1::smallint, ${stateOf('o')}
          FROM gone o
          WHERE o.organization_id = v_org AND o.live AND o.is_discontinued IS NOT TRUE
            AND NOT EXISTS (SELECT 1 FROM pfa_pending_record p WHERE p.organization_id = v_org AND p.id = o.id)
          UNION ALL
          SELECT n.id, 1::smallint, ${stateOf('n')}
          FROM came n
          WHERE n.organization_id = v_org AND n.live AND n.is_discontinued IS NOT TRUE
            AND NOT EXISTS (SELECT 1 FROM pfa_pending_record p WHERE p.organization_id = v_org AND p.id = n.id)
          UNION ALL
          SELECT p.id, CASE WHEN f.live_now THEN 1 ELSE -1 END::smallint, ${stateOf('p')}
          FROM flipped f JOIN pfa_pending_record p ON p.organization_id = v_org AND p.id = f.id
          WHERE p.is_discontinued IS NOT TRUE`)}
      END LOOP;
      RETURN NULL;
    END $$`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await body.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await mirrorKpiUpdate('CREATE OR REPLACE').execute(db);
}
