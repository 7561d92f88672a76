import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { ChangeMarksRepository } from '../src/repositories/change-marks.repository.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * Change marks (migration 20261206T0800): every committed writing transaction raises the token of
 * the views it touched, by at least one, and writers never wait for each other on a mark.
 */

const ORG = 'HOLNG';
let t: TestDatabase;
let ids: string[];
let marks: ChangeMarksRepository;

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 12 });
  ids = [...(await insertRecords(t.db, ORG, 40)).values()];
  await insertRecords(t.db, 'ORG2', 5);
  marks = new ChangeMarksRepository(t.db);
});
afterAll(async () => {
  await t?.drop();
});

const token = async (org = ORG, session: string | null = null, kpi = false) =>
  BigInt(await marks.token({ organizationId: org, sessionId: session }, kpi));

/** One statement in its own transaction that fails instead of waiting more than 2 s for a lock. */
async function writeWithoutWaiting(text: string, values: unknown[]): Promise<void> {
  const c = await t.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query("SET LOCAL lock_timeout = '2s'");
    await c.query(text, values);
    await c.query('COMMIT');
  } catch (error) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    c.release();
  }
}

describe('change marks', () => {
  it('a commit of each kind of write raises exactly the tokens of the views it touched', async () => {
    const before = {
      org: await token(),
      s1: await token(ORG, 's1'),
      s2: await token(ORG, 's2'),
      org2: await token('ORG2'),
    };
    // A draft of session s1: its session's view only.
    await insertModification(t.db, {
      org: ORG,
      mirrorId: ids[0] as string,
      session: 's1',
      user: 'u',
      delta: { monthlyRate: 1 },
      state: 'draft',
    });
    expect(await token(ORG, 's1')).toBeGreaterThan(before.s1);
    expect(await token(ORG, 's2')).toBe(before.s2);
    expect(await token()).toBe(before.org);
    // A mirror update: the organization's shared view (so every session of it), not another organization.
    await t.pool.query(
      `UPDATE pfa_mirror SET data = data || '{"monthlyRate": 2}' WHERE organization_id = $1 AND id = $2`,
      [ORG, ids[1]],
    );
    const org = await token();
    expect(org).toBeGreaterThan(before.org);
    expect(await token(ORG, 's2')).toBeGreaterThan(before.s2);
    expect(await token('ORG2')).toBe(before.org2);
    // A refresh of the KPI caches: only what reads them.
    await t.pool.query('SELECT refresh_pfa_materialized_views()');
    expect(await token()).toBe(org);
    expect(await token(ORG, null, true)).toBeGreaterThan(org);
    // A new record (an insert names no organization to the mark): every organization.
    const org2 = await token('ORG2');
    await insertRecords(t.db, ORG, 0, [{ pfaId: 'HOLNG-MARK-NEW', data: { category: 'Cranes' } }]);
    expect(await token('ORG2')).toBeGreaterThan(org2);
    // A rolled-back write raises nothing.
    const still = await token();
    const c = await t.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(
        `UPDATE pfa_mirror SET data = data || '{"monthlyRate": 3}' WHERE organization_id = $1 AND id = $2`,
        [ORG, ids[2]],
      );
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
    expect(await token()).toBe(still);
  });

  it('writers holding marks never make another writer wait, and every commit counts (12 rounds)', async () => {
    // Drafts of one session on different records: the same mark key, and no other lock in common
    // (a change of the shared view would also queue on the organization's KPI sequence).
    const DRAFT = `INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields, base_values, base_version, sync_state)
       SELECT organization_id, id, 'race', 'u', '{"monthlyRate": 1}', ARRAY['monthlyRate'], jsonb_build_object('monthlyRate', data -> 'monthlyRate'), version, 'draft'
       FROM pfa_mirror WHERE organization_id = $1 AND id = $2`;
    await t.pool.query(
      `INSERT INTO pfa_session (organization_id, id, owner_user_id) VALUES ($1, 'race', 'u')`,
      [ORG],
    );
    for (let round = 0; round < 12; round++) {
      await t.pool.query(`DELETE FROM pfa_modification WHERE organization_id = $1 AND session_id = 'race'`, [
        ORG,
      ]);
      const start = await token(ORG, 'race');
      const holders: pg.PoolClient[] = [];
      try {
        // Eight open transactions, each holding a mark of the session's view.
        for (let i = 0; i < 8; i++) {
          const c = await t.pool.connect();
          holders.push(c);
          await c.query('BEGIN');
          await c.query(DRAFT, [ORG, ids[4 + i]]);
        }
        // Two more writers of the same key: neither may wait for the eight (lock_timeout would fail them).
        await Promise.all([
          writeWithoutWaiting(DRAFT, [ORG, ids[20]]),
          writeWithoutWaiting(DRAFT, [ORG, ids[21]]),
        ]);
        expect(await token(ORG, 'race')).toBe(start + 2n); // the eight are not committed yet
        await Promise.all(holders.map((c) => c.query('COMMIT')));
      } finally {
        for (const c of holders) c.release();
      }
      // Ten transactions of one statement each: ten marks, whatever rows they took.
      expect(await token(ORG, 'race')).toBe(start + 10n);
    }
    const { rows } = await t.pool.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM pfa_change_mark WHERE organization_id = $1 AND session_id = 'race'`,
      [ORG],
    );
    // As many rows as writers ever held a mark at once (ten here), not one per transaction.
    expect(Number(rows[0]?.n)).toBeLessThanOrEqual(10);
  });
});
