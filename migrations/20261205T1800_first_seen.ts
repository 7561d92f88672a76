import { sql, type Kysely } from 'kysely';

/**
 * Transaction time for as-of reads (`asOf` on pfaRecord/pfaRecords): when the service first saw
 * each mirror record. New rows get now(); existing rows are backfilled from the best evidence at
 * hand — the earlier of the oldest superseded version (the record existed before that) and the
 * last sync time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE pfa_mirror ADD COLUMN first_seen_at timestamptz`.execute(db);
  await sql`
    UPDATE pfa_mirror m SET first_seen_at = least(
      m.last_synced_at,
      (SELECT min(h.superseded_at) FROM pfa_mirror_history h
       WHERE h.organization_id = m.organization_id AND h.mirror_id = m.id))`.execute(db);
  await sql`ALTER TABLE pfa_mirror ALTER COLUMN first_seen_at SET DEFAULT now()`.execute(db);
  await sql`ALTER TABLE pfa_mirror ALTER COLUMN first_seen_at SET NOT NULL`.execute(db);
  // auditEvents pages an organization's events and PEMS changes by time.
  await sql`CREATE INDEX idx_pfa_mirror_history_org_superseded ON pfa_mirror_history (organization_id, superseded_at)`.execute(
    db,
  );
  await sql`CREATE INDEX idx_pfa_modification_event_org_at ON pfa_modification_event (organization_id, at)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS idx_pfa_modification_event_org_at`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_pfa_mirror_history_org_superseded`.execute(db);
  await sql`ALTER TABLE pfa_mirror DROP COLUMN IF EXISTS first_seen_at`.execute(db);
}
