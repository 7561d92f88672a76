import { sql, type Kysely } from 'kysely';

/**
 * Change marks: counters that tell an exact response cache (src/graphql/response-cache.ts)
 * whether anything a cached answer read may have changed since it was computed.
 *
 * `pfa_change_mark` holds rows (organization_id, session_id, n). Every transaction that changes
 * what a read of an organization can see adds at least 1 to a row of that organization — session
 * `''` for what every caller sees (mirror, pending changes), the session's id for its own drafts
 * and conflicts — and organization `'*'` stands for every organization (new records, the KPI
 * caches' refresh, organization names, TRUNCATE). A reader's token is the sum of n over
 * ('*', ''), (org, '') and (org, its session) — and ('*', '#kpi') for a read of the KPI caches:
 * counters only grow, so the sum is equal between
 * two reads only if no such transaction committed in between. A response is cached with the token
 * read before its statements ran and served again only while the token read for the new request
 * is the same: never stale, and a caller's own acknowledged write always changes its token.
 *
 * Writers never wait for each other here: a mark takes a row of its key that no other transaction
 * holds (FOR UPDATE SKIP LOCKED; a transaction's own row is never skipped) or inserts a new one,
 * so a key has as many rows as it ever had concurrent writers, and no lock order exists to
 * deadlock on. Rows are never deleted or lowered (that could bring a sum back to a value a cached
 * answer holds); TRUNCATE pfa_change_mark only with the service stopped.
 *
 * The marks are written by statement triggers, after the triggers that keep the pending overlay
 * and the KPI log (alphabetical order: `pfa_z…`), in the writing transaction:
 * - pfa_mirror: UPDATE and DELETE mark each organization of the rows; INSERT (sync pages with new
 *   records, imports) marks '*' without reading the rows, so a bulk load whose other triggers are
 *   off captures no transition table for it.
 * - pfa_modification: each organization with a row that is or was pending or synced, and each
 *   (organization, session) with a row that is or was a draft or a conflict.
 * - organization: '*'. TRUNCATE of any of these tables: '*'.
 * - pfa_view_refresh (a row per refresh of the KPI caches, written by
 *   refresh_pfa_materialized_views()): ('*', '#kpi'), a key only KPI reads add to their token, so
 *   the refresh that follows every commit leaves cached grid pages alone.
 */

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE pfa_change_mark (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      organization_id text NOT NULL,
      session_id text NOT NULL,
      n bigint NOT NULL DEFAULT 1 CHECK (n > 0)
    )`.execute(db);
  await sql`CREATE INDEX idx_pfa_change_mark_key ON pfa_change_mark (organization_id, session_id) INCLUDE (n)`.execute(
    db,
  );
  // Adds 1 to a row of (org, session) that no other transaction holds, or inserts one.
  await sql`
    CREATE FUNCTION pfa_mark_change(p_org text, p_session text) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE pfa_change_mark SET n = n + 1
      WHERE id = (SELECT id FROM pfa_change_mark WHERE organization_id = p_org AND session_id = p_session
                  LIMIT 1 FOR UPDATE SKIP LOCKED);
      IF NOT FOUND THEN
        INSERT INTO pfa_change_mark (organization_id, session_id) VALUES (p_org, p_session);
      END IF;
    END $$`.execute(db);
  // A fixed key, named by the trigger: ('*', '') for every organization; ('*', '#kpi') for the KPI
  // caches' refresh, which changes only what KPI reads show (their refreshedAt above all).
  await sql`
    CREATE FUNCTION pfa_mark_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pfa_mark_change(TG_ARGV[0], TG_ARGV[1]);
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE FUNCTION pfa_mark_mirror() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v_org text;
    BEGIN
      FOR v_org IN SELECT DISTINCT organization_id FROM changed_rows ORDER BY 1 LOOP
        PERFORM pfa_mark_change(v_org, '');
      END LOOP;
      RETURN NULL;
    END $$`.execute(db);
  // The keys a set of modification rows touches: its organizations' shared view for pending (and
  // synced) rows, its sessions for drafts and conflicts.
  const modificationKeys = (rows: string) => `
    SELECT DISTINCT organization_id,
           CASE WHEN sync_state IN ('draft', 'conflict') THEN session_id ELSE '' END AS session_id
    FROM ${rows}`;
  await sql`
    CREATE FUNCTION pfa_mark_modification() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE r record;
    BEGIN
      IF TG_OP = 'INSERT' THEN
        FOR r IN ${sql.raw(modificationKeys('new_rows'))} ORDER BY 1, 2 LOOP
          PERFORM pfa_mark_change(r.organization_id, r.session_id);
        END LOOP;
      ELSIF TG_OP = 'DELETE' THEN
        FOR r IN ${sql.raw(modificationKeys('old_rows'))} ORDER BY 1, 2 LOOP
          PERFORM pfa_mark_change(r.organization_id, r.session_id);
        END LOOP;
      ELSE
        FOR r IN SELECT DISTINCT organization_id, session_id FROM (
                   ${sql.raw(modificationKeys('old_rows'))} UNION ALL ${sql.raw(modificationKeys('new_rows'))}) k
                 ORDER BY 1, 2 LOOP
          PERFORM pfa_mark_change(r.organization_id, r.session_id);
        END LOOP;
      END IF;
      RETURN NULL;
    END $$`.execute(db);

  for (const op of ['UPDATE', 'DELETE'] as const)
    await sql`
      CREATE TRIGGER ${sql.ref(`pfa_z_mark_${op.toLowerCase()}`)} AFTER ${sql.raw(op)} ON pfa_mirror
      REFERENCING ${sql.raw(op === 'UPDATE' ? 'NEW' : 'OLD')} TABLE AS changed_rows
      FOR EACH STATEMENT EXECUTE FUNCTION pfa_mark_mirror()`.execute(db);
  await sql`
    CREATE TRIGGER pfa_z_mark_insert AFTER INSERT ON pfa_mirror
    FOR EACH STATEMENT EXECUTE FUNCTION pfa_mark_key('*', '')`.execute(db);
  for (const [op, tables] of [
    ['INSERT', 'NEW TABLE AS new_rows'],
    ['UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'],
    ['DELETE', 'OLD TABLE AS old_rows'],
  ] as const)
    await sql`
      CREATE TRIGGER ${sql.ref(`pfa_z_mark_${op.toLowerCase()}`)} AFTER ${sql.raw(op)} ON pfa_modification
      REFERENCING ${sql.raw(tables)} FOR EACH STATEMENT EXECUTE FUNCTION pfa_mark_modification()`.execute(db);
  await sql`
    CREATE TRIGGER pfa_z_mark AFTER INSERT OR UPDATE OR DELETE ON organization
    FOR EACH STATEMENT EXECUTE FUNCTION pfa_mark_key('*', '')`.execute(db);
  await sql`
    CREATE TRIGGER pfa_z_mark AFTER INSERT OR UPDATE OR DELETE ON pfa_view_refresh
    FOR EACH STATEMENT EXECUTE FUNCTION pfa_mark_key('*', '#kpi')`.execute(db);
  for (const table of ['pfa_mirror', 'pfa_modification', 'organization', 'pfa_view_refresh'])
    await sql`
      CREATE TRIGGER pfa_z_mark_truncate AFTER TRUNCATE ON ${sql.table(table)}
      FOR EACH STATEMENT EXECUTE FUNCTION pfa_mark_key('*', '')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [table, triggers] of [
    ['pfa_mirror', ['pfa_z_mark_update', 'pfa_z_mark_delete', 'pfa_z_mark_insert', 'pfa_z_mark_truncate']],
    [
      'pfa_modification',
      ['pfa_z_mark_insert', 'pfa_z_mark_update', 'pfa_z_mark_delete', 'pfa_z_mark_truncate'],
    ],
    ['organization', ['pfa_z_mark', 'pfa_z_mark_truncate']],
    ['pfa_view_refresh', ['pfa_z_mark', 'pfa_z_mark_truncate']],
  ] as const)
    for (const t of triggers)
      await sql`DROP TRIGGER IF EXISTS ${sql.ref(t)} ON ${sql.table(table)}`.execute(db);
  for (const f of [
    'pfa_mark_modification()',
    'pfa_mark_mirror()',
    'pfa_mark_key()',
    'pfa_mark_change(text, text)',
  ])
    await sql`DROP FUNCTION IF EXISTS ${sql.raw(f)}`.execute(db);
  await sql`DROP TABLE IF EXISTS pfa_change_mark`.execute(db);
}
