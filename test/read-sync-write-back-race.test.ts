import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { generateRecord } from '../src/domain/generator.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import {
  commitChange,
  directJobs,
  ignoreDropRace,
  modification,
  pemsClient,
  waitFor,
  type DirectJobs,
} from './helpers/jobs.js';

/**
 * A read sync and a write-back of the same record at the same moment (issue 9, soak): the read's
 * page is served by PEMS before the write-back's update, but merged after the write-back marked
 * its change synced and moved the mirror to PEMS's new state. The page must not put the old state
 * back: a stale mirror is "theirs" of every commit and the base of every new draft until the next
 * read, so commits on it conflict with nobody and write-backs conflict with the user's own value.
 *
 * The interleaving is forced with real locks: a transaction holds the row lock of another record
 * of the page (one that PEMS changed, lower id), so the read waits in its row-locking step after
 * it fetched the page; the write-back runs to the end meanwhile; then the lock is released.
 */

const ORG = 'HOLNG';
const N = 60;
const ROUNDS = 10;
let t: TestDatabase;
let sim: PemsSimulator;
let jobs: DirectJobs;
let ids: Map<string, string>;

beforeAll(async () => {
  [t, sim] = await Promise.all([createTestDatabase(), startPemsSimulator({ orgs: 1, records: N })]);
  t.pool.on('error', ignoreDropRace);
  ids = await insertRecords(t.db, ORG, N);
  jobs = directJobs(t, pemsClient(sim.url));
});
afterAll(async () => {
  await Promise.all([t?.drop(), sim?.close()]);
});

const record = (i: number) => {
  const pfaId = generateRecord(ORG, i).pfaId;
  return { pfaId, mirrorId: ids.get(pfaId) as string };
};

async function mirrorOf(mirrorId: string) {
  return t.db
    .selectFrom('pfa_mirror')
    .select(['data', 'pems_version', 'version'])
    .where('organization_id', '=', ORG)
    .where('id', '=', mirrorId)
    .executeTakeFirstOrThrow();
}

/** Backends of this database waiting for a row lock in the read sync's locking statement. */
async function readWaitingForLock(): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE OF m%'`.execute(
    t.db,
  );
  return (rows[0]?.n ?? 0) > 0;
}

describe('a read page served before a write-back and merged after it', () => {
  it(`never puts the older PEMS state back into the mirror (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const blocker = record(2 * round); // changed in PEMS by another user: the read locks it first
      const written = record(2 * round + 1); // our commit is written back while the read waits
      expect(Number(blocker.mirrorId)).toBeLessThan(Number(written.mirrorId));
      const value = `2040-0${(round % 9) + 1}-1${round % 10}`;
      sim.changeRecord(ORG, blocker.pfaId, { manufacturer: `PEMS user ${round}` });
      const change = await commitChange(
        t.db,
        ORG,
        written.mirrorId,
        { forecastEnd: value },
        { session: `s-${round}`, user: 'u' },
      );

      const lock = await t.pool.connect();
      let read: Promise<unknown> | null = null;
      try {
        await lock.query('BEGIN');
        await lock.query('SELECT id FROM pfa_mirror WHERE organization_id = $1 AND id = $2 FOR UPDATE', [
          ORG,
          blocker.mirrorId,
        ]);
        read = jobs.handlers['read-sync']({ organizationId: ORG, full: true }, jobs.run);
        read.catch(() => undefined);
        await waitFor(`round ${round}: the read sync waiting for the blocker's row lock`, readWaitingForLock);
        // The read holds PEMS's page (our record still at its old recordid); now the write-back.
        const sync = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
        expect(sync).toMatchObject({ synced: 1, conflicted: 0, failed: 0 });
      } finally {
        await lock.query('COMMIT').catch(() => undefined);
        lock.release();
      }
      await read;

      const pems = sim.getRecord(ORG, written.pfaId);
      expect(pems?.data.forecastEnd).toBe(value);
      const m = await mirrorOf(written.mirrorId);
      expect({ round, forecastEnd: m.data.forecastEnd, recordid: m.pems_version }).toEqual({
        round,
        forecastEnd: value,
        recordid: pems?.recordid,
      });
      expect((await modification(t.db, ORG, change))?.sync_state).toBe('synced');
      // The blocker took PEMS's change as usual.
      const b = await mirrorOf(blocker.mirrorId);
      expect(b.data.manufacturer).toBe(`PEMS user ${round}`);
      expect(b.pems_version).toBe(sim.getRecord(ORG, blocker.pfaId)?.recordid);
    }
  }, 120_000);

  it('reads the overtaken records again in the same run and says so', async () => {
    const { rows } = await sql<{ message: string }>`
      SELECT message FROM pfa_sync_log WHERE organization_id = ${ORG} AND direction = 'read'
      ORDER BY id DESC LIMIT 1`.execute(t.db);
    expect(rows[0]?.message).toMatch(/1 read again after a write-back overtook their page/);
  });
});
