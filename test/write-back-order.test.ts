import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { generateRecord } from '../src/domain/generator.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import { commitChange, directJobs, ignoreDropRace, pemsClient, type DirectJobs } from './helpers/jobs.js';

/**
 * Write-back of several pending changes of one record (DOMAIN §3): in commit order, each with the
 * recordid PEMS returned for the one before — and nothing for a record removed from PEMS.
 */

const ORG = 'HOLNG';
const N = 40;
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

describe('a follow-up change of the same session while the first is pending', () => {
  it('commits without a conflict and reaches PEMS after the first, with the recordid PEMS returned', async () => {
    for (let i = 0; i < 10; i++) {
      const r = record(i);
      const first = await commitChange(
        t.db,
        ORG,
        r.mirrorId,
        { forecastEnd: '2032-06-30' },
        { session: `f-${i}`, user: 'u' },
      );
      const second = await commitChange(
        t.db,
        ORG,
        r.mirrorId,
        { forecastEnd: '2032-08-31' },
        { session: `f-${i}`, user: 'u' },
      );
      expect(second).not.toBe(first);
    }
    const staleBefore = sim.stats().requests.staleRejected;
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ synced: 20, conflicted: 0, failed: 0 });
    // No stale refusal: the second of each pair went out with the first one's new recordid.
    expect(sim.stats().requests.staleRejected).toBe(staleBefore);
    for (let i = 0; i < 10; i++) {
      const r = record(i);
      expect(sim.getRecord(ORG, r.pfaId)?.data.forecastEnd).toBe('2032-08-31');
      const m = await t.db
        .selectFrom('pfa_mirror')
        .select(['data', 'pems_version'])
        .where('id', '=', r.mirrorId)
        .executeTakeFirstOrThrow();
      expect(m.data.forecastEnd).toBe('2032-08-31');
      expect(m.pems_version).toBe(sim.getRecord(ORG, r.pfaId)?.recordid);
    }
  });
});

describe('a pending change of a record removed from PEMS', () => {
  it('is not written back: it becomes a conflict on removedFromPemsAt', async () => {
    const r = record(30);
    const id = await commitChange(
      t.db,
      ORG,
      r.mirrorId,
      { model: 'never-sent' },
      { session: 'rm', user: 'u' },
    );
    await sql`UPDATE pfa_mirror SET removed_from_pems_at = now() WHERE id = ${r.mirrorId}::bigint`.execute(
      t.db,
    );
    const updatesBefore = sim.stats().updates[`${ORG}/${r.pfaId}`] ?? 0;
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ synced: 0, conflicted: 1 });
    expect(sim.stats().updates[`${ORG}/${r.pfaId}`] ?? 0).toBe(updatesBefore);
    const row = await t.db
      .selectFrom('pfa_modification')
      .select(['sync_state', 'conflicts', 'last_error'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.sync_state).toBe('conflict');
    expect(row.conflicts).toEqual([
      { field: 'removedFromPemsAt', base: null, theirs: expect.any(String), mine: null },
    ]);
    expect(row.last_error).toMatch(/removed from PEMS/);
  });
});
