import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * pfa_modification's two foreign keys (to its session and to its record) are checked once per
 * statement instead of once per row.
 *
 * A foreign key runs one lookup and one row lock per written row. A bulk edit of 20,077 records
 * inserts 20,077 modifications of one session, and the two checks cost 304 ms (record) and 404 ms
 * (session: the same row looked up and locked 20,077 times) of the statement's 1.65 s (EXPLAIN
 * ANALYZE on the 1M-record benchmark database, 2026-12-06). Statement triggers do the same work
 * once per distinct parent, joined with the statement's rows.
 *
 * The guarantees stay those of the foreign keys:
 * - a written modification's session and record exist when its statement ends, and are locked
 *   FOR KEY SHARE until its transaction ends, so a concurrent delete of either waits for it;
 * - deleting a session that modifications still name fails (NO ACTION), checked after the
 *   delete with a fresh snapshot, so a modification committed meanwhile is seen;
 * - deleting a record deletes its modifications (ON DELETE CASCADE), in the same statement,
 *   before the record's other statement triggers run (as the cascade did);
 * - changing the key of a referenced session or record fails.
 * Violations raise SQLSTATE 23503 (foreign_key_violation), as before.
 */

/**
 * PL/pgSQL that locks the distinct parents named by `rows` (a query with organization_id,
 * session_id, mirror_id) and raises 23503 when one is missing. A parent deleted by a transaction
 * that committed while this one waited for its lock is not locked, and counts as missing.
 */
function checkParents(rows: string): RawBuilder<unknown> {
  // The distinct keys are probed in key order: 20,000 record ids probed in hash order took
  // 250 ms (index pages visited at random), in key order 90 ms.
  const parent = (table: string, column: string, keyColumn: string) =>
    sql.raw(`
      WITH wanted AS MATERIALIZED (
        SELECT DISTINCT organization_id, ${column} AS key FROM (${rows}) x ORDER BY 1, 2),
      locked AS (
        SELECT 1 FROM wanted w JOIN ${table} t ON t.organization_id = w.organization_id AND t.${keyColumn} = w.key
        FOR KEY SHARE OF t)
      SELECT (SELECT count(*) FROM wanted), (SELECT count(*) FROM locked) INTO v_needed, v_locked;
      IF v_locked < v_needed THEN
        SELECT x.organization_id, x.${column}::text AS key INTO v_missing FROM (${rows}) x
        WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.organization_id = x.organization_id AND t.${keyColumn} = x.${column})
        LIMIT 1;
        RAISE EXCEPTION 'insert or update on table "pfa_modification" violates its reference to "${table}"'
          USING ERRCODE = 'foreign_key_violation', TABLE = 'pfa_modification',
                DETAIL = format('Key (organization_id, ${column})=(%s, %s) is not present in table "${table}".',
                                v_missing.organization_id, v_missing.key);
      END IF;`);
  return sql`${parent('pfa_session', 'session_id', 'id')}${parent('pfa_mirror', 'mirror_id', 'id')}`;
}

const DECLARE = sql.raw(`DECLARE
      v_needed bigint;
      v_locked bigint;
      v_missing record;`);

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE pfa_modification DROP CONSTRAINT pfa_modification_organization_id_session_id_fkey`.execute(
    db,
  );
  await sql`ALTER TABLE pfa_modification DROP CONSTRAINT pfa_modification_organization_id_mirror_id_fkey`.execute(
    db,
  );

  // The child side: inserted rows, and updated rows whose parent keys changed. The updated rows
  // are found by EXCEPT (hashed), not by joining the two transition tables: the planner knows
  // nothing of their contents and joined them in a nested loop (1,071 × 1,071 rows: 105 ms).
  await sql`
    CREATE FUNCTION pfa_modification_parents_ins() RETURNS trigger LANGUAGE plpgsql AS $$
    ${DECLARE}
    BEGIN
      ${checkParents('SELECT organization_id, session_id, mirror_id FROM new_rows')}
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE FUNCTION pfa_modification_parents_upd() RETURNS trigger LANGUAGE plpgsql AS $$
    ${DECLARE}
    BEGIN
      ${checkParents(`SELECT organization_id, session_id, mirror_id FROM (
                        SELECT id, organization_id, session_id, mirror_id FROM new_rows
                        EXCEPT SELECT id, organization_id, session_id, mirror_id FROM old_rows) changed`)}
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER pfa_modification_parents_ins AFTER INSERT ON pfa_modification
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_modification_parents_ins()`.execute(
    db,
  );
  await sql`
    CREATE TRIGGER pfa_modification_parents_upd AFTER UPDATE ON pfa_modification
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_modification_parents_upd()`.execute(
    db,
  );

  // The session side: NO ACTION on delete (checked with a fresh snapshot after the delete) and on
  // a change of key.
  await sql`
    CREATE FUNCTION pfa_session_referenced_del() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v_missing record;
    BEGIN
      SELECT d.organization_id, d.session_id INTO v_missing FROM pfa_modification d
      JOIN old_rows o ON o.organization_id = d.organization_id AND o.id = d.session_id
      LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'update or delete on table "pfa_session" violates the reference from table "pfa_modification"'
          USING ERRCODE = 'foreign_key_violation', TABLE = 'pfa_session',
                DETAIL = format('Key (organization_id, id)=(%s, %s) is still referenced from table "pfa_modification".',
                                v_missing.organization_id, v_missing.session_id);
      END IF;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER pfa_session_referenced_del AFTER DELETE ON pfa_session
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_session_referenced_del()`.execute(
    db,
  );
  // Row triggers that fire only when a statement sets a key column (a sync never does).
  for (const [table, column] of [
    ['pfa_session', 'session_id'],
    ['pfa_mirror', 'mirror_id'],
  ] as const) {
    await sql`
      CREATE FUNCTION ${sql.raw(`${table}_referenced_key_change`)}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM pfa_modification d
                   WHERE d.organization_id = OLD.organization_id AND d.${sql.raw(column)} = OLD.id) THEN
          RAISE EXCEPTION ${sql.lit(`update on table "${table}" changes a key referenced from table "pfa_modification"`)}
            USING ERRCODE = 'foreign_key_violation', TABLE = ${sql.lit(table)};
        END IF;
        RETURN NULL;
      END $$`.execute(db);
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_referenced_key_change`)} AFTER UPDATE OF organization_id, id ON ${sql.table(table)}
      FOR EACH ROW WHEN (OLD.organization_id IS DISTINCT FROM NEW.organization_id OR OLD.id IS DISTINCT FROM NEW.id)
      EXECUTE FUNCTION ${sql.raw(`${table}_referenced_key_change`)}()`.execute(db);
  }

  // The record side: ON DELETE CASCADE. Named to sort before pfa_mirror_kpi_del, so the
  // modifications are gone before the record's KPI trigger runs, as they were with the cascade.
  await sql`
    CREATE FUNCTION pfa_mirror_cascade_modifications() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM pfa_modification d USING old_rows o
      WHERE d.organization_id = o.organization_id AND d.mirror_id = o.id;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER pfa_mirror_cascade_modifications AFTER DELETE ON pfa_mirror
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION pfa_mirror_cascade_modifications()`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS pfa_mirror_cascade_modifications ON pfa_mirror`.execute(db);
  await sql`DROP FUNCTION IF EXISTS pfa_mirror_cascade_modifications()`.execute(db);
  for (const table of ['pfa_session', 'pfa_mirror']) {
    await sql`DROP TRIGGER IF EXISTS ${sql.raw(`${table}_referenced_key_change`)} ON ${sql.table(table)}`.execute(
      db,
    );
    await sql`DROP FUNCTION IF EXISTS ${sql.raw(`${table}_referenced_key_change`)}()`.execute(db);
  }
  await sql`DROP TRIGGER IF EXISTS pfa_session_referenced_del ON pfa_session`.execute(db);
  await sql`DROP FUNCTION IF EXISTS pfa_session_referenced_del()`.execute(db);
  await sql`DROP TRIGGER IF EXISTS pfa_modification_parents_upd ON pfa_modification`.execute(db);
  await sql`DROP TRIGGER IF EXISTS pfa_modification_parents_ins ON pfa_modification`.execute(db);
  await sql`DROP FUNCTION IF EXISTS pfa_modification_parents_upd()`.execute(db);
  await sql`DROP FUNCTION IF EXISTS pfa_modification_parents_ins()`.execute(db);
  await sql`
    ALTER TABLE pfa_modification ADD CONSTRAINT pfa_modification_organization_id_mirror_id_fkey
      FOREIGN KEY (organization_id, mirror_id) REFERENCES pfa_mirror (organization_id, id) ON DELETE CASCADE`.execute(
    db,
  );
  await sql`
    ALTER TABLE pfa_modification ADD CONSTRAINT pfa_modification_organization_id_session_id_fkey
      FOREIGN KEY (organization_id, session_id) REFERENCES pfa_session (organization_id, id)`.execute(db);
}
