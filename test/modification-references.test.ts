import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * pfa_modification's references to its session and its record are checked once per statement
 * (migration 20261206T0430) instead of by two foreign keys. These tests hold the replacement to
 * the foreign keys' guarantees: a modification never names a missing session or record, deleting
 * a referenced session fails, deleting a record deletes its modifications — also when the writes
 * race on separate connections.
 */

const ORG = 'REFS';
let t: TestDatabase;
let ids: string[];

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 12 });
  ids = [...(await insertRecords(t.db, ORG, 60)).values()];
  await t.pool.query(
    `INSERT INTO pfa_session (organization_id, id, owner_user_id) VALUES ($1, 's-main', 'ann')`,
    [ORG],
  );
});

afterAll(async () => {
  await t.drop();
});

const insertDraft = (c: pg.Pool | pg.PoolClient, session: string, mirrorIds: string[]) =>
  c.query(
    `INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields, base_values, base_version)
     SELECT $1, m, $2, 'ann', '{"dor": "BEO"}', '{dor}', '{}', 1 FROM unnest($3::bigint[]) m`,
    [ORG, session, mirrorIds],
  );

async function sqlState(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return (e as { code?: string }).code ?? 'unknown';
  }
}

/** Modifications naming a session or a record that does not exist: always none. */
async function dangling(): Promise<number> {
  const { rows } = await t.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM pfa_modification d
     WHERE NOT EXISTS (SELECT 1 FROM pfa_session s WHERE s.organization_id = d.organization_id AND s.id = d.session_id)
        OR NOT EXISTS (SELECT 1 FROM pfa_mirror m WHERE m.organization_id = d.organization_id AND m.id = d.mirror_id)`,
  );
  return Number(rows[0]?.n);
}

const count = async (where: string, params: unknown[]): Promise<number> =>
  Number(
    (await t.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pfa_modification WHERE ${where}`, params))
      .rows[0]?.n,
  );

describe('modification references, one connection', () => {
  it('a modification naming an unknown session or record fails with 23503 and writes nothing', async () => {
    expect(await sqlState(insertDraft(t.pool, 'no-such-session', [ids[0] as string]))).toBe('23503');
    expect(await sqlState(insertDraft(t.pool, 's-main', [ids[0] as string, '999999999']))).toBe('23503');
    expect(await count('organization_id = $1', [ORG])).toBe(0);
    // The message names the missing key.
    await expect(insertDraft(t.pool, 's-main', ['999999999'])).rejects.toMatchObject({
      detail: expect.stringContaining('999999999'),
    });
  });

  it('many rows of one statement are all checked: one bad row fails the whole statement', async () => {
    const good = ids.slice(0, 40);
    expect(await sqlState(insertDraft(t.pool, 's-main', [...good, '888888888']))).toBe('23503');
    expect(await count('organization_id = $1', [ORG])).toBe(0);
    await insertDraft(t.pool, 's-main', good);
    expect(await count('organization_id = $1 AND session_id = $2', [ORG, 's-main'])).toBe(40);
  });

  it('moving a modification to an unknown session or record fails; to a known one works', async () => {
    const id = ids[0] as string;
    const move = (set: string, params: unknown[]) =>
      sqlState(
        t.pool.query(`UPDATE pfa_modification SET ${set} WHERE organization_id = $1 AND mirror_id = $2`, [
          ORG,
          id,
          ...params,
        ]),
      );
    expect(await move('session_id = $3', ['nowhere'])).toBe('23503');
    expect(await move('mirror_id = $3', ['777777777'])).toBe('23503');
    await t.pool.query(
      `INSERT INTO pfa_session (organization_id, id, owner_user_id) VALUES ($1, 's-other', 'ann')`,
      [ORG],
    );
    expect(await move('session_id = $3', ['s-other'])).toBeNull();
    expect(await move('session_id = $3', ['s-main'])).toBeNull();
    expect(await dangling()).toBe(0);
  });

  it('deleting a session that modifications name fails; an unused one goes', async () => {
    expect(
      await sqlState(
        t.pool.query(`DELETE FROM pfa_session WHERE organization_id = $1 AND id = 's-main'`, [ORG]),
      ),
    ).toBe('23503');
    expect(
      await sqlState(
        t.pool.query(`DELETE FROM pfa_session WHERE organization_id = $1 AND id = 's-other'`, [ORG]),
      ),
    ).toBeNull();
    expect(
      await sqlState(
        t.pool.query(`UPDATE pfa_session SET id = 's-renamed' WHERE organization_id = $1 AND id = 's-main'`, [
          ORG,
        ]),
      ),
    ).toBe('23503');
  });

  it('deleting a record deletes its modifications (and nothing else)', async () => {
    const victim = ids[5] as string;
    expect(await count('mirror_id = $1', [victim])).toBe(1);
    const before = await count('organization_id = $1', [ORG]);
    await t.pool.query(`DELETE FROM pfa_mirror WHERE organization_id = $1 AND id = $2`, [ORG, victim]);
    expect(await count('mirror_id = $1', [victim])).toBe(0);
    expect(await count('organization_id = $1', [ORG])).toBe(before - 1);
    expect(
      await sqlState(
        t.pool.query(`UPDATE pfa_mirror SET id = 123456789 WHERE organization_id = $1 AND id = $2`, [
          ORG,
          ids[6],
        ]),
      ),
    ).toBe('23503');
    expect(await dangling()).toBe(0);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `body` in a transaction on its own connection, after `delay` ms; answers the SQLSTATE or null. */
async function racer(
  delay: number,
  hold: number,
  body: (c: pg.PoolClient) => Promise<unknown>,
): Promise<string | null> {
  const c = await t.pool.connect();
  try {
    await sleep(delay);
    await c.query('BEGIN');
    const state = await sqlState(body(c));
    if (state === null) {
      await sleep(hold);
      await c.query('COMMIT');
    } else await c.query('ROLLBACK');
    return state;
  } finally {
    c.release();
  }
}

describe('modification references under racing connections', () => {
  const ROUNDS = 12;

  it(`a draft written while its session is deleted: never both (${ROUNDS} rounds, both orders)`, async () => {
    const outcomes = new Map<string, number>();
    for (let i = 0; i < ROUNDS; i++) {
      const session = `race-s-${i}`;
      await t.pool.query(
        `INSERT INTO pfa_session (organization_id, id, owner_user_id) VALUES ($1, $2, 'ann')`,
        [ORG, session],
      );
      const writerFirst = i % 2 === 0;
      const [wrote, deleted] = await Promise.all([
        racer(writerFirst ? 0 : 15, 30, (c) => insertDraft(c, session, ids.slice(10, 20))),
        racer(writerFirst ? 15 : 0, 30, (c) =>
          c.query(`DELETE FROM pfa_session WHERE organization_id = $1 AND id = $2`, [ORG, session]),
        ),
      ]);
      const key = `write ${wrote ?? 'ok'} / delete ${deleted ?? 'ok'}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      // Exactly one of the two wins.
      expect([wrote, deleted].filter((s) => s === null)).toHaveLength(1);
      expect([wrote, deleted].filter((s) => s !== null)).toEqual(['23503']);
      const sessionLeft = (
        await t.pool.query(`SELECT 1 FROM pfa_session WHERE organization_id = $1 AND id = $2`, [ORG, session])
      ).rowCount;
      expect(sessionLeft).toBe(wrote === null ? 1 : 0);
      expect(await count('session_id = $1', [session])).toBe(wrote === null ? 10 : 0);
      expect(await dangling()).toBe(0);
      await t.pool.query(`DELETE FROM pfa_modification WHERE session_id = $1`, [session]);
    }
    // Both orders happened: the writer won some rounds and the delete others.
    expect([...outcomes.keys()].sort()).toEqual(['write 23503 / delete ok', 'write ok / delete 23503']);
  });

  it(`a draft written while its record is deleted: the draft goes with the record or fails (${ROUNDS} rounds)`, async () => {
    let cascaded = 0;
    let refused = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const record = ids[45 + i] as string;
      const writerFirst = i % 2 === 0;
      const [wrote, deleted] = await Promise.all([
        racer(writerFirst ? 0 : 15, 30, (c) => insertDraft(c, 's-main', [record])),
        racer(writerFirst ? 15 : 0, 30, (c) =>
          c.query(`DELETE FROM pfa_mirror WHERE organization_id = $1 AND id = $2`, [ORG, record]),
        ),
      ]);
      expect(deleted).toBeNull(); // a record's delete always goes through
      if (wrote === null) cascaded++;
      else {
        expect(wrote).toBe('23503');
        refused++;
      }
      expect(await count('mirror_id = $1', [record])).toBe(0);
      expect(await dangling()).toBe(0);
    }
    expect(cascaded).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
