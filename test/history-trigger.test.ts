import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

/**
 * DOMAIN §3/§6: the database owns pfa_mirror.version. Exactly one bump and one history row
 * (old data, old version) per real change of `data`, whoever writes and however.
 */

const ORG = 'HIST';
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 4 });
  await sql`INSERT INTO organization (id, name) VALUES (${ORG}, 'history tests')`.execute(t.db);
});

afterAll(async () => {
  await t.drop();
});

interface MirrorState {
  version: number;
  data: Record<string, unknown>;
}
interface HistoryRow {
  version: number;
  data: Record<string, unknown>;
  pems_version: string | null;
}

async function insert(pfaId: string, data: Record<string, unknown>): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO pfa_mirror (organization_id, pfa_id, data, pems_version)
    VALUES (${ORG}, ${pfaId}, ${JSON.stringify(data)}::jsonb, 'r1') RETURNING id::text`.execute(t.db);
  return (rows[0] as { id: string }).id;
}

async function state(id: string): Promise<MirrorState> {
  const { rows } =
    await sql<MirrorState>`SELECT version, data FROM pfa_mirror WHERE organization_id = ${ORG} AND id = ${id}::bigint`.execute(
      t.db,
    );
  return rows[0] as MirrorState;
}

async function history(id: string): Promise<HistoryRow[]> {
  const { rows } = await sql<HistoryRow>`
    SELECT version, data, pems_version FROM pfa_mirror_history
    WHERE organization_id = ${ORG} AND mirror_id = ${id}::bigint ORDER BY version, id`.execute(t.db);
  return rows;
}

describe('pfa_mirror versioning trigger', () => {
  it('one bump and one history row (old data, old version) per real data change', async () => {
    const v1 = { pfaId: 'H-1', category: 'Cranes', monthlyRate: 100 };
    const id = await insert('H-1', v1);
    expect(await state(id)).toEqual({ version: 1, data: v1 });
    expect(await history(id)).toEqual([]);

    await sql`UPDATE pfa_mirror SET data = data || '{"category": "Pumps"}', pems_version = 'r2' WHERE id = ${id}::bigint`.execute(
      t.db,
    );
    const v2 = { ...v1, category: 'Pumps' };
    expect(await state(id)).toEqual({ version: 2, data: v2 });
    expect(await history(id)).toEqual([{ version: 1, data: v1, pems_version: 'r1' }]);

    await sql`UPDATE pfa_mirror SET data = data - 'monthlyRate' WHERE id = ${id}::bigint`.execute(t.db);
    const v3 = { pfaId: 'H-1', category: 'Pumps' };
    expect(await state(id)).toEqual({ version: 3, data: v3 });
    expect(await history(id)).toEqual([
      { version: 1, data: v1, pems_version: 'r1' },
      { version: 2, data: v2, pems_version: 'r2' },
    ]);
  });

  it('no bump and no history for an UPDATE that sets identical data (also in another key order or with other columns)', async () => {
    const data = { pfaId: 'H-2', category: 'Cranes', source: 'Rental', monthlyRate: 100 };
    const id = await insert('H-2', data);
    await sql`UPDATE pfa_mirror SET data = data WHERE id = ${id}::bigint`.execute(t.db);
    // The same object written in another key order and spacing is the same jsonb.
    await sql`UPDATE pfa_mirror SET data = '{"monthlyRate": 100, "source": "Rental",   "category": "Cranes", "pfaId": "H-2"}'::jsonb
              WHERE id = ${id}::bigint`.execute(t.db);
    await sql`UPDATE pfa_mirror SET pems_version = 'r9', last_synced_at = now(), sync_batch_id = 'b1' WHERE id = ${id}::bigint`.execute(
      t.db,
    );
    expect(await state(id)).toEqual({ version: 1, data });
    expect(await history(id)).toEqual([]);
  });

  it('numerically equal JSON numbers (100 and 100.0) are no change; the number turned into a string is one', async () => {
    const id = await insert('H-3', { monthlyRate: 100 });
    // jsonb numeric equality: 100 = 100.0, so this is not a change.
    await sql`UPDATE pfa_mirror SET data = '{"monthlyRate": 100.0}'::jsonb WHERE id = ${id}::bigint`.execute(
      t.db,
    );
    expect((await state(id)).version).toBe(1);
    // "100" (a string) is a different value.
    await sql`UPDATE pfa_mirror SET data = '{"monthlyRate": "100"}'::jsonb WHERE id = ${id}::bigint`.execute(
      t.db,
    );
    expect((await state(id)).version).toBe(2);
    expect((await history(id)).map((h) => h.version)).toEqual([1]);
  });

  it('a writer that also sets version = version + 1 still gets exactly one bump', async () => {
    const id = await insert('H-4', { category: 'A' });
    await sql`UPDATE pfa_mirror SET data = '{"category": "B"}', version = version + 1 WHERE id = ${id}::bigint`.execute(
      t.db,
    );
    expect(await state(id)).toEqual({ version: 2, data: { category: 'B' } });
    await sql`UPDATE pfa_mirror SET data = '{"category": "C"}', version = version + 1 WHERE id = ${id}::bigint`.execute(
      t.db,
    );
    expect(await state(id)).toEqual({ version: 3, data: { category: 'C' } });
    expect(await history(id)).toEqual([
      { version: 1, data: { category: 'A' }, pems_version: 'r1' },
      { version: 2, data: { category: 'B' }, pems_version: 'r1' },
    ]);
  });

  it('a writer that sets version = 99 keeps the version on a no-op and gets +1 on a change', async () => {
    const id = await insert('H-5', { category: 'A' });
    await sql`UPDATE pfa_mirror SET version = 99 WHERE id = ${id}::bigint`.execute(t.db);
    await sql`UPDATE pfa_mirror SET data = data, version = 99 WHERE id = ${id}::bigint`.execute(t.db);
    expect(await state(id)).toEqual({ version: 1, data: { category: 'A' } });
    expect(await history(id)).toEqual([]);
    await sql`UPDATE pfa_mirror SET data = '{"category": "B"}', version = 99 WHERE id = ${id}::bigint`.execute(
      t.db,
    );
    expect(await state(id)).toEqual({ version: 2, data: { category: 'B' } });
    expect(await history(id)).toEqual([{ version: 1, data: { category: 'A' }, pems_version: 'r1' }]);
  });

  it('an INSERT … ON CONFLICT DO UPDATE (the sync upsert shape) bumps only on a real change', async () => {
    const id = await insert('H-6', { category: 'A' });
    const upsert = (data: Record<string, unknown>) =>
      sql`INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES (${ORG}, 'H-6', ${JSON.stringify(data)}::jsonb)
          ON CONFLICT (organization_id, pfa_id) DO UPDATE SET data = EXCLUDED.data, version = pfa_mirror.version + 1`.execute(
        t.db,
      );
    await upsert({ category: 'A' });
    expect((await state(id)).version).toBe(1);
    await upsert({ category: 'B' });
    expect(await state(id)).toEqual({ version: 2, data: { category: 'B' } });
    expect((await history(id)).map((h) => [h.version, h.data])).toEqual([[1, { category: 'A' }]]);
  });

  it('a multi-row UPDATE bumps each changed row once and leaves the unchanged rows alone', async () => {
    const ids = [
      await insert('H-M1', { n: 1 }),
      await insert('H-M2', { n: 2 }),
      await insert('H-M3', { n: 3 }),
    ];
    // Sets n = 2 everywhere: only H-M1 and H-M3 change.
    await sql`UPDATE pfa_mirror SET data = '{"n": 2}' WHERE organization_id = ${ORG} AND pfa_id LIKE 'H-M%'`.execute(
      t.db,
    );
    const versions = await Promise.all(ids.map(async (id) => (await state(id)).version));
    expect(versions).toEqual([2, 1, 2]);
    const counts = await Promise.all(ids.map(async (id) => (await history(id)).length));
    expect(counts).toEqual([1, 0, 1]);
  });
});

describe('pfa_mirror versioning under concurrent writers', () => {
  const WRITERS = 10;
  let clients: pg.Client[] = [];
  let blocker: pg.Client;

  beforeAll(async () => {
    clients = await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        const c = new pg.Client({ connectionString: t.url });
        await c.connect();
        return c;
      }),
    );
    blocker = new pg.Client({ connectionString: t.url });
    await blocker.connect();
  });

  afterAll(async () => {
    await Promise.all([...clients, blocker].map((c) => c.end()));
  });

  /**
   * Number of writer connections currently waiting for a row lock. Asked on the pool, never on
   * the blocker: pg_stat_activity is a snapshot frozen for the rest of the asking transaction.
   */
  async function waitingWriters(): Promise<number> {
    const { rows } = await t.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE pfa_mirror%'`,
    );
    return Number(rows[0]?.n);
  }

  /**
   * Holds the row lock while every writer sends its UPDATE, waits until all of them really wait
   * for the lock, then releases: the writers then run one after another on the newest row version.
   */
  async function raceUpdates(id: string, datas: Record<string, unknown>[]): Promise<void> {
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM pfa_mirror WHERE id = $1 FOR UPDATE', [id]);
    const writes = datas.map((data, i) =>
      (clients[i] as pg.Client).query(
        // Half the writers also try to manage the version themselves.
        i % 2 === 0
          ? 'UPDATE pfa_mirror SET data = $1::jsonb WHERE id = $2'
          : 'UPDATE pfa_mirror SET data = $1::jsonb, version = version + 1 WHERE id = $2',
        [JSON.stringify(data), id],
      ),
    );
    const settled = Promise.allSettled(writes);
    let waiting = 0;
    for (let i = 0; i < 200 && waiting < datas.length; i++) {
      waiting = await waitingWriters();
      if (waiting < datas.length) await new Promise((r) => setTimeout(r, 20));
    }
    await blocker.query('COMMIT');
    const results = await settled;
    expect(waiting).toBe(datas.length);
    expect(results.map((r) => r.status)).toEqual(datas.map(() => 'fulfilled'));
  }

  it('10 writers with 10 different values: version = 1 + 10 and 10 history rows forming a chain', async () => {
    const id = await insert('C-1', { writer: -1 });
    await raceUpdates(
      id,
      Array.from({ length: WRITERS }, (_, i) => ({ writer: i })),
    );
    const final = await state(id);
    expect(final.version).toBe(1 + WRITERS);
    const rows = await history(id);
    expect(rows.map((h) => h.version)).toEqual(Array.from({ length: WRITERS }, (_, i) => i + 1));
    // Each history row holds the data its version had: the chain starts at the insert and every
    // writer's value appears exactly once (in the history or as the final data).
    expect(rows[0]?.data).toEqual({ writer: -1 });
    const seen = [...rows.slice(1).map((h) => h.data.writer), final.data.writer].sort(
      (a, b) => Number(a) - Number(b),
    );
    expect(seen).toEqual(Array.from({ length: WRITERS }, (_, i) => i));
  });

  it('10 writers setting the same value: exactly one real change', async () => {
    const id = await insert('C-2', { category: 'before' });
    await raceUpdates(
      id,
      Array.from({ length: WRITERS }, () => ({ category: 'after' })),
    );
    expect(await state(id)).toEqual({ version: 2, data: { category: 'after' } });
    expect(await history(id)).toEqual([{ version: 1, data: { category: 'before' }, pems_version: 'r1' }]);
  });

  it('10 writers alternating between two values: one bump per writer whose value differs from the row it finds', async () => {
    const id = await insert('C-3', { v: 'x' });
    // Writers 0..9 want x,y,x,y,…: the number of real changes depends on the lock order, so
    // count them from the history itself and check the invariants that must hold in any order.
    await raceUpdates(
      id,
      Array.from({ length: WRITERS }, (_, i) => ({ v: i % 2 === 0 ? 'x' : 'y' })),
    );
    const final = await state(id);
    const rows = await history(id);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(final.version).toBe(1 + rows.length);
    expect(rows.map((h) => h.version)).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    // Consecutive versions always differ (no history row for a no-op).
    const chain = [...rows.map((h) => h.data.v), final.data.v];
    for (let i = 1; i < chain.length; i++) expect(chain[i]).not.toBe(chain[i - 1]);
  });
});
