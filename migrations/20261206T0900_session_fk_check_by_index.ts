import { sql, type Kysely } from 'kysely';

/**
 * Every row inserted into pfa_modification runs PostgreSQL's foreign-key check against its session:
 * `SELECT 1 FROM pfa_session WHERE organization_id = $1 AND id = $2 FOR KEY SHARE`, planned once per
 * connection. With a few hundred sessions the table fits in 2–3 pages, and the planner (default
 * random_page_cost) prefers reading them whole to the primary key: a scan of every session per
 * inserted draft. Measured at 1M records and 200 sessions: 31 µs per check against 7 µs by the
 * index, 430–680 ms of a bulk edit writing 20,000 drafts. Pages a tenth full make the table as many
 * pages as a tenth of its rows, so the check uses the primary key from about 60 sessions on (below
 * that, scanning them is as cheap); the table stays small (a session is one short row).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE pfa_session SET (fillfactor = 10)`.execute(db);
  // Rewrites the existing rows with the new fill factor (VACUUM FULL cannot run in a transaction).
  await sql`CLUSTER pfa_session USING pfa_session_pkey`.execute(db);
  await sql`ALTER TABLE pfa_session SET WITHOUT CLUSTER`.execute(db);
  await sql`ANALYZE pfa_session`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE pfa_session RESET (fillfactor)`.execute(db);
  await sql`CLUSTER pfa_session USING pfa_session_pkey`.execute(db);
  await sql`ALTER TABLE pfa_session SET WITHOUT CLUSTER`.execute(db);
}
