import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import type pg from 'pg';
import { createPool } from '../src/db/database.js';
import {
  createReadDb,
  MAX_PREPARED_PER_CONNECTION,
  PREPARED_READ,
  PREPARED_READ_CUSTOM_PLAN,
} from '../src/db/read-timeout.js';
import type { Db } from '../src/db/database.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

/**
 * The read Db (src/db/read-timeout.ts): every read is one pipeline (BEGIN, SET LOCAL
 * statement_timeout, the statement, COMMIT, one Sync), and marked reads are named prepared
 * statements, bounded per connection.
 */

let t: TestDatabase;
/** One connection per test, so every read and every check meets the same backend. */
let pool: pg.Pool;
let readDb: Db;
const pools: pg.Pool[] = [];

beforeAll(async () => {
  t = await createTestDatabase();
  await sql`CREATE TABLE pipeline_probe (a int)`.execute(t.db);
  await sql`INSERT INTO pipeline_probe VALUES (1), (2)`.execute(t.db);
});

beforeEach(() => {
  pool = createPool({ connectionString: t.url, max: 1, statementTimeoutMs: 15_000 });
  pools.push(pool);
  readDb = createReadDb(pool, 2_000);
});

afterAll(async () => {
  for (const p of pools) await p.end();
  await t.drop();
});

/** Counts ReadyForQuery messages (one per round trip) while fn runs. */
async function roundTrips<T>(fn: () => Promise<T>): Promise<{ result: T; trips: number }> {
  const client = await pool.connect();
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  client.release();
  let trips = 0;
  const count = () => trips++;
  connection.on('readyForQuery', count);
  try {
    const result = await fn();
    return { result, trips };
  } finally {
    connection.off('readyForQuery', count);
  }
}

const prepared = async () =>
  (
    await pool.query<{ name: string; generic_plans: string; custom_plans: string; statement: string }>(
      'SELECT name, generic_plans, custom_plans, statement FROM pg_prepared_statements',
    )
  ).rows;

const backendPid = async () =>
  (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;

describe('a read is one round trip', () => {
  it('runs the statement under the read timeout, in its own transaction, in one round trip', async () => {
    const { result, trips } = await roundTrips(() =>
      sql<{ t: string }>`SELECT current_setting('statement_timeout') AS t, ${5}::int AS five`.execute(readDb),
    );
    expect(trips).toBe(1);
    expect(result.rows).toEqual([{ t: '2s', five: 5 }]);
    // SET LOCAL ended with the read's transaction.
    const after = await pool.query<{ t: string }>(`SELECT current_setting('statement_timeout') AS t`);
    expect(after.rows[0]?.t).toBe('15s');
  });

  it('turns a timeout into BAD_USER_INPUT and leaves the connection idle, outside any transaction', async () => {
    const quick = createReadDb(pool, 100);
    await expect(sql`SELECT pg_sleep(1)`.execute(quick)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    const client = await pool.connect();
    try {
      expect(client.getTransactionStatus()).toBe('I');
      const { rows } = await client.query<{ t: string }>(`SELECT current_setting('statement_timeout') AS t`);
      expect(rows[0]?.t).toBe('15s');
    } finally {
      client.release();
    }
  });

  it('passes SQL errors through and rolls the transaction back', async () => {
    await expect(sql`SELECT 1 / ${0}::int`.execute(readDb)).rejects.toMatchObject({ code: '22012' });
    const client = await pool.connect();
    try {
      expect(client.getTransactionStatus()).toBe('I');
    } finally {
      client.release();
    }
    expect((await sql<{ n: number }>`SELECT ${7}::int AS n`.execute(readDb)).rows).toEqual([{ n: 7 }]);
  });

  it('keeps explicit transactions on the read Db under the read timeout', async () => {
    const setting = await readDb.transaction().execute(async (tx) => {
      const { rows } = await sql<{ t: string }>`SELECT current_setting('statement_timeout') AS t`.execute(tx);
      return rows[0]?.t;
    });
    expect(setting).toBe('2s');
  });
});

describe('marked reads are named prepared statements', () => {
  it('parses a marked read once per connection; an unmarked read stays unnamed', async () => {
    const query = () =>
      sql<{ a: number }>`${sql.raw(PREPARED_READ)}SELECT a FROM pipeline_probe WHERE a >= ${1} ORDER BY a`;
    for (let i = 0; i < 3; i++) expect((await query().execute(readDb)).rows).toEqual([{ a: 1 }, { a: 2 }]);
    await sql`SELECT a FROM pipeline_probe WHERE a = ${1}`.execute(readDb);
    const statements = await prepared();
    expect(statements).toHaveLength(1);
    expect(statements[0]?.name).toMatch(/^pfa_/);
    expect(statements[0]?.statement).toContain('FROM pipeline_probe WHERE a >= $1');
    expect(Number(statements[0]?.generic_plans) + Number(statements[0]?.custom_plans)).toBe(3);
  });

  it('names nothing when prepared statements are off (READ_PREPARED_STATEMENTS=false)', async () => {
    const unprepared = createReadDb(pool, 2_000, { prepared: false });
    for (let i = 0; i < 3; i++)
      await sql`${sql.raw(PREPARED_READ)}SELECT a FROM pipeline_probe WHERE a = ${i}`.execute(unprepared);
    await sql`${sql.raw(PREPARED_READ_CUSTOM_PLAN)}SELECT a FROM pipeline_probe WHERE a = ${1}`.execute(
      unprepared,
    );
    expect(await prepared()).toEqual([]);
  });

  it('plans a custom-plan read for its values every time (no generic plan)', async () => {
    for (let i = 0; i < 8; i++)
      await sql`${sql.raw(PREPARED_READ_CUSTOM_PLAN)}SELECT a FROM pipeline_probe WHERE a = ${i}`.execute(
        readDb,
      );
    const [statement] = await prepared();
    expect(Number(statement?.custom_plans)).toBe(8);
    expect(Number(statement?.generic_plans)).toBe(0);
    // The plan mode was local to each read's transaction.
    const { rows } = await pool.query<{ m: string }>(`SELECT current_setting('plan_cache_mode') AS m`);
    expect(rows[0]?.m).toBe('auto');
  });

  it(`keeps at most ${MAX_PREPARED_PER_CONNECTION} statements per connection, closing the least recently used`, async () => {
    const shape = (i: number) =>
      sql`${sql.raw(PREPARED_READ)}SELECT a + ${sql.lit(i)} AS a FROM pipeline_probe`;
    for (let i = 0; i < MAX_PREPARED_PER_CONNECTION + 8; i++) await shape(i).execute(readDb);
    // The first shape again: it was closed, so it is parsed anew (no "does not exist" error).
    expect((await shape(0).execute(readDb)).rows).toHaveLength(2);
    const statements = await prepared();
    expect(statements.length).toBeLessThanOrEqual(MAX_PREPARED_PER_CONNECTION);
    expect(statements.some((s) => s.statement.includes('a + 0 AS a'))).toBe(true);
  });

  it('retires the connection after a failed prepared read; the same read then works', async () => {
    const pid = await backendPid();
    const slow = createReadDb(pool, 100);
    const query = (s: number) => sql`${sql.raw(PREPARED_READ)}SELECT pg_sleep(${s}) IS NULL AS x`;
    await expect(query(1).execute(slow)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await backendPid()).not.toBe(pid);
    expect((await query(0).execute(slow)).rows).toEqual([{ x: false }]);
  });

  it('reads again, unprepared, when a table changed under the prepared statement', async () => {
    const query = () =>
      sql<Record<string, number>>`${sql.raw(PREPARED_READ)}SELECT * FROM pipeline_probe ORDER BY a`;
    expect((await query().execute(readDb)).rows).toEqual([{ a: 1 }, { a: 2 }]);
    await pool.query('ALTER TABLE pipeline_probe ADD COLUMN b int DEFAULT 9');
    expect((await query().execute(readDb)).rows).toEqual([
      { a: 1, b: 9 },
      { a: 2, b: 9 },
    ]);
    expect((await query().execute(readDb)).rows).toHaveLength(2);
  });
});
