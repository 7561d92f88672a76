import { sql, type Kysely } from 'kysely';

/**
 * Housekeeping: the nightly maintenance deletes audit events and superseded record versions older
 * than their retention, and sessions idle too long. These indexes let it find them by age without
 * reading the whole table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX idx_pfa_modification_event_at ON pfa_modification_event (at)`.execute(db);
  await sql`CREATE INDEX idx_pfa_mirror_history_superseded ON pfa_mirror_history (superseded_at)`.execute(db);
  await sql`CREATE INDEX idx_pfa_session_last_used ON pfa_session (last_used_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS idx_pfa_session_last_used`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_pfa_mirror_history_superseded`.execute(db);
  await sql`DROP INDEX IF EXISTS idx_pfa_modification_event_at`.execute(db);
}
