import { sql, type Kysely } from 'kysely';

/**
 * pfa_modification_pending_upd finds the records whose pending set an UPDATE changed by pairing
 * the statement's old and new rows. It joined the two transition tables, and the planner, which
 * has no statistics for them, planned a nested loop: every old row against every new row. A
 * commit of 1,071 drafts spent 345 ms there (1.15 million row pairs compared, twice; auto_explain
 * on the 1M-record benchmark database, 2026-12-06). The rows whose pending state moved are now
 * found with EXCEPT over a signature of each row (hashed, linear): the signature holds membership,
 * record and, for pending rows, the delta and commit time — what the old join compared. A row
 * that changed record without being pending is now refreshed too, which recomputes an overlay
 * that did not move: harmless, and no writer does it.
 */
const CHANGED = sql.raw(`
  WITH o AS (
    SELECT id, organization_id, mirror_id, sync_state IN ('committed', 'syncing') AS pending,
           CASE WHEN sync_state IN ('committed', 'syncing') THEN delta END AS delta,
           CASE WHEN sync_state IN ('committed', 'syncing') THEN committed_at END AS committed_at
    FROM old_rows),
  n AS (
    SELECT id, organization_id, mirror_id, sync_state IN ('committed', 'syncing') AS pending,
           CASE WHEN sync_state IN ('committed', 'syncing') THEN delta END AS delta,
           CASE WHEN sync_state IN ('committed', 'syncing') THEN committed_at END AS committed_at
    FROM new_rows)
  SELECT organization_id, array_agg(DISTINCT mirror_id) AS ids FROM (
    SELECT organization_id, mirror_id FROM (SELECT * FROM o EXCEPT SELECT * FROM n) before
    UNION ALL
    SELECT organization_id, mirror_id FROM (SELECT * FROM n EXCEPT SELECT * FROM o) after
  ) c GROUP BY organization_id ORDER BY organization_id`);

/** The body of migration 20261205T2000 (for down). */
const JOINED = sql.raw(`
  SELECT organization_id, array_agg(DISTINCT mirror_id) AS ids FROM (
    SELECT o.organization_id, o.mirror_id FROM old_rows o JOIN new_rows n ON n.organization_id = o.organization_id AND n.id = o.id
    WHERE (o.sync_state IN ('committed', 'syncing')) <> (n.sync_state IN ('committed', 'syncing'))
       OR (n.sync_state IN ('committed', 'syncing')
           AND (o.delta IS DISTINCT FROM n.delta OR o.committed_at IS DISTINCT FROM n.committed_at OR o.mirror_id <> n.mirror_id))
    UNION ALL
    SELECT n.organization_id, n.mirror_id FROM old_rows o JOIN new_rows n ON n.organization_id = o.organization_id AND n.id = o.id
    WHERE o.mirror_id <> n.mirror_id AND n.sync_state IN ('committed', 'syncing')) c GROUP BY organization_id ORDER BY organization_id`);

const body = (changed: ReturnType<typeof sql.raw>) => sql`
  CREATE OR REPLACE FUNCTION pfa_modification_pending_upd() RETURNS trigger LANGUAGE plpgsql AS $$
  DECLARE r record;
  BEGIN
    FOR r IN ${changed} LOOP
      PERFORM pfa_pending_refresh(r.organization_id, r.ids);
    END LOOP;
    RETURN NULL;
  END $$`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await body(CHANGED).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await body(JOINED).execute(db);
}
