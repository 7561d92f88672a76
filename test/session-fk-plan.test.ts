import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * The foreign-key check PostgreSQL runs for every draft inserted (a bulk edit inserts up to
 * thousands) finds the session by its primary key, not by reading every session: with a few hundred
 * sessions a scan of the small table cost 31 µs per draft against 7 µs (migration
 * 20261206T0900_session_fk_check_by_index).
 */

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await insertRecords(database.db, 'HOLNG', 1);
  await sql`
    INSERT INTO pfa_session (organization_id, id, owner_user_id)
    SELECT 'HOLNG', 'session-' || i, 'user-' || (i % 40) FROM generate_series(1, 200) i`.execute(database.db);
  await sql`ANALYZE pfa_session`.execute(database.db);
});
afterAll(async () => database?.drop());

describe('foreign-key check of a draft on its session', () => {
  it('uses the primary key of pfa_session with 200 sessions', async () => {
    const client = await database.pool.connect();
    try {
      await client.query('SET plan_cache_mode = force_generic_plan');
      // The query ri_triggers.c prepares for the constraint (RI_FKey_check), as a generic plan.
      await client.query(`PREPARE fk_check(text, text) AS
        SELECT 1 FROM ONLY pfa_session x
        WHERE organization_id OPERATOR(pg_catalog.=) $1 AND id OPERATOR(pg_catalog.=) $2 FOR KEY SHARE OF x`);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN EXECUTE fk_check('HOLNG', 'session-7')`,
      );
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan using pfa_session_pkey/);
      expect(plan).not.toMatch(/Seq Scan/);
    } finally {
      await client.query('DEALLOCATE ALL; RESET plan_cache_mode');
      client.release();
    }
  });
});
