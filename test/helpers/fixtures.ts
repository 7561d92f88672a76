import { sql } from 'kysely';
import type { Db } from '../../src/db/database.js';
import { generateRecord } from '../../src/domain/generator.js';

/** Inserts organizations and generated records (plus any extra raw records); returns mirror ids by pfaId. */
export async function insertRecords(
  db: Db,
  org: string,
  count: number,
  extra: { pfaId: string; data: Record<string, unknown> }[] = [],
): Promise<Map<string, string>> {
  await db
    .insertInto('organization')
    .values({ id: org, name: `${org} project` })
    .onConflict((c) => c.doNothing())
    .execute();
  const rows = Array.from({ length: count }, (_, i) => generateRecord(org, i)).map((r) => ({
    organization_id: org,
    pfa_id: r.pfaId,
    data: JSON.stringify(r.data),
    pems_version: r.pemsVersion,
  }));
  for (const e of extra)
    rows.push({ organization_id: org, pfa_id: e.pfaId, data: JSON.stringify(e.data), pems_version: '1' });
  const ids = new Map<string, string>();
  for (let i = 0; i < rows.length; i += 1000) {
    const inserted = await db
      .insertInto('pfa_mirror')
      .values(rows.slice(i, i + 1000))
      .returning(['id', 'pfa_id'])
      .execute();
    for (const r of inserted) ids.set(r.pfa_id, String(r.id));
  }
  await sql`ANALYZE pfa_mirror`.execute(db);
  return ids;
}

/** A modification row written directly (for read tests that need drafts or pending commits). */
export async function insertModification(
  db: Db,
  m: {
    org: string;
    mirrorId: string;
    session: string;
    user: string;
    delta: Record<string, unknown>;
    state: 'draft' | 'committed' | 'conflict';
  },
): Promise<string> {
  await db
    .insertInto('pfa_session')
    .values({ organization_id: m.org, id: m.session, owner_user_id: m.user })
    .onConflict((c) => c.doNothing())
    .execute();
  const { rows } = await sql<{ id: string }>`
    INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields, base_values,
      base_version, sync_state, committed_at, commit_xid)
    SELECT ${m.org}, m.id, ${m.session}, ${m.user}, ${JSON.stringify(m.delta)}::jsonb,
           ARRAY(SELECT jsonb_object_keys(${JSON.stringify(m.delta)}::jsonb)),
           (SELECT coalesce(jsonb_object_agg(k, coalesce(m.data -> k, 'null')), '{}') FROM jsonb_object_keys(${JSON.stringify(m.delta)}::jsonb) k),
           m.version, ${m.state}::pfa_sync_state,
           CASE WHEN ${m.state} = 'committed' THEN now() END,
           CASE WHEN ${m.state} = 'committed' THEN pg_current_xact_id() END
    FROM pfa_mirror m WHERE m.organization_id = ${m.org} AND m.id = ${m.mirrorId}::bigint
    RETURNING id`.execute(db);
  return String(rows[0]?.id);
}
