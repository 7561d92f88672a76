/**
 * The seed drops and rebuilds pfa_mirror's secondary indexes from src/db/mirror-indexes.ts: that
 * list must be exactly what the migrations create, or a seeded database would lack an index (or
 * carry a stale one).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KPI_INSERT_TRIGGER, MIRROR_BULK_LOCK, ensureMirrorIndexes } from '../src/db/mirror-indexes.js';
import { mirrorIndexes } from '../src/db/seed.js';
import { insertRecords } from './helpers/fixtures.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** Index DDL in one canonical form: PostgreSQL's own (pg_indexes.indexdef) rendering. */
async function canonical(statement: string, name: string): Promise<string> {
  const client = await database.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`DROP INDEX ${name}`);
    await client.query(statement);
    const { rows } = await client.query<{ indexdef: string }>(
      'SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1',
      [name],
    );
    return rows[0]?.indexdef ?? '(not created)';
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

describe('the seed’s index list', () => {
  it('names every secondary index of pfa_mirror the migrations create, and no other', async () => {
    const { rows } = await database.pool.query<{ indexname: string }>(
      `SELECT i.indexname FROM pg_indexes i
       JOIN pg_class c ON c.relname = i.indexname
       JOIN pg_index x ON x.indexrelid = c.oid
       WHERE i.schemaname = current_schema() AND i.tablename = 'pfa_mirror'
         AND NOT x.indisunique AND NOT x.indisprimary
       ORDER BY 1`,
    );
    expect(
      mirrorIndexes()
        .map((i) => i.name)
        .sort(),
    ).toEqual(rows.map((r) => r.indexname));
  });

  it('creates each index exactly as the migrations do', async () => {
    for (const index of mirrorIndexes()) {
      const { rows } = await database.pool.query<{ indexdef: string }>(
        'SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1',
        [index.name],
      );
      expect(await canonical(index.create, index.name)).toBe(rows[0]?.indexdef);
    }
  });
});

describe('ensureMirrorIndexes after a killed seed', () => {
  it('switches the KPI insert trigger back on and refreshes the views, unless a bulk load holds the lock', async () => {
    const pool = database.pool;
    const one = async (text: string, values: unknown[] = []): Promise<string | undefined> =>
      (await pool.query<{ v: string }>(text, values)).rows[0]?.v;
    const cached = () =>
      one(
        `SELECT coalesce(sum(record_count), 0)::text AS v FROM pfa_kpi_summary WHERE organization_id = 'KS'`,
      );
    const trigger = () =>
      one(
        `SELECT tgenabled::text AS v FROM pg_trigger WHERE tgrelid = 'pfa_mirror'::regclass AND tgname = $1`,
        [KPI_INSERT_TRIGGER],
      );
    // What a seed killed during its COPY leaves: the trigger off, rows the KPI log never saw.
    await pool.query(`ALTER TABLE pfa_mirror DISABLE TRIGGER ${KPI_INSERT_TRIGGER}`);
    await insertRecords(database.db, 'KS', 20);
    const live = await one(
      `SELECT count(*)::text AS v FROM pfa_mirror WHERE organization_id = 'KS' AND is_discontinued IS NOT TRUE`,
    );
    expect(Number(live)).toBeGreaterThan(0);
    expect(await cached()).toBe('0');
    // A bulk load holds the lock: nothing is touched.
    const other = await pool.connect();
    await other.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [MIRROR_BULK_LOCK]);
    expect(await ensureMirrorIndexes(pool)).toEqual({ built: [], bulkLoadRunning: true });
    expect(await trigger()).toBe('D');
    await other.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [MIRROR_BULK_LOCK]);
    other.release();
    // Nobody holds it: the trigger is back on and the views count the rows the log missed.
    expect(await ensureMirrorIndexes(pool)).toEqual({
      built: [],
      bulkLoadRunning: false,
      kpiTriggerEnabled: true,
    });
    expect(await trigger()).toBe('O');
    expect(await cached()).toBe(live);
    expect(await ensureMirrorIndexes(pool)).toEqual({ built: [], bulkLoadRunning: false });
  });
});
