/**
 * The seed drops and rebuilds pfa_mirror's secondary indexes from src/db/mirror-indexes.ts: that
 * list must be exactly what the migrations create, or a seeded database would lack an index (or
 * carry a stale one).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mirrorIndexes } from '../src/db/seed.js';
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
