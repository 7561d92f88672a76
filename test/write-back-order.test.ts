import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { generateRecord } from '../src/domain/generator.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { DraftsRepository } from '../src/repositories/drafts.repository.js';
import { DraftsService } from '../src/services/drafts.service.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import {
  commitChange,
  directJobs,
  ignoreDropRace,
  modification,
  pemsClient,
  type DirectJobs,
} from './helpers/jobs.js';

/**
 * Write-back of several pending changes of one record (DOMAIN §3): in commit order, each with the
 * recordid PEMS returned for the one before — and nothing for a record removed from PEMS.
 */

const ORG = 'HOLNG';
const N = 120;
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

describe('two pending changes of one session that both come back as write-back conflicts', () => {
  // The session commits a change, then a follow-up of the same field while the first is pending;
  // a PEMS user changes that field meanwhile. Both conflict in one write-back run (its lanes send
  // several records at once); the second's conflict takes the first's in (one open modification
  // per session and record). The follow-up is the user's later word: its value must be the one
  // kept ("mine"), not the first commit's — KEEP_MINE then writes the later value to PEMS.
  const ROUNDS = 10;
  const PER_ROUND = 3;
  it(`keeps the later commit's values over the earlier one's (${ROUNDS} rounds of ${PER_ROUND} records)`, async () => {
    const drafts = new DraftsRepository(t.db);
    const service = new DraftsService(t.db, drafts);
    for (let round = 0; round < ROUNDS; round++) {
      const cases = [];
      for (let k = 0; k < PER_ROUND; k++) {
        const r = record(40 + round * PER_ROUND + k);
        const actor = { session: `fold-${round}-${k}`, user: 'uf' };
        const tag = `${round}.${k}`;
        const first = await commitChange(
          t.db,
          ORG,
          r.mirrorId,
          { model: `first ${tag}`, forecastEnd: '2033-01-31' },
          actor,
        );
        const second = await commitChange(t.db, ORG, r.mirrorId, { forecastEnd: '2033-03-31' }, actor);
        sim.changeRecord(ORG, r.pfaId, { forecastEnd: '2033-02-28' });
        cases.push({ r, first, second, tag });
      }
      const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
      expect(result).toMatchObject({ synced: 0, conflicted: 2 * PER_ROUND, failed: 0 });
      for (const { first, second, tag } of cases) {
        expect(await modification(t.db, ORG, first)).toBeUndefined();
        const merged = await modification(t.db, ORG, second);
        expect({ tag, state: merged?.sync_state, delta: merged?.delta }).toEqual({
          tag,
          state: 'conflict',
          delta: { model: `first ${tag}`, forecastEnd: '2033-03-31' },
        });
        expect(merged?.conflicts).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ field: 'forecastEnd', theirs: '2033-02-28', mine: '2033-03-31' }),
          ]),
        );
        const [conflict] = await drafts.byIds(ORG, [second]);
        const kept = await service.resolve(conflict as NonNullable<typeof conflict>, 'uf', 'KEEP_MINE');
        expect(kept?.delta).toEqual({ model: `first ${tag}`, forecastEnd: '2033-03-31' });
      }
      const resent = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
      expect(resent).toMatchObject({ synced: PER_ROUND, conflicted: 0, failed: 0 });
      for (const { r, tag } of cases)
        expect({ tag, ...sim.getRecord(ORG, r.pfaId)?.data }).toMatchObject({
          tag,
          model: `first ${tag}`,
          forecastEnd: '2033-03-31',
        });
    }
  }, 120_000);

  // Same, but the session also has an open draft of the field when the first change conflicts:
  // the draft is the session's latest word, over both commits, however the conflicts fold.
  it(`keeps an open draft's value over both commits (${ROUNDS} rounds of ${PER_ROUND} records)`, async () => {
    const drafts = new DraftsRepository(t.db);
    const service = new DraftsService(t.db, drafts);
    for (let round = 0; round < ROUNDS; round++) {
      const cases = [];
      for (let k = 0; k < PER_ROUND; k++) {
        const r = record(40 + ROUNDS * PER_ROUND + round * PER_ROUND + k);
        const actor = { session: `fold-draft-${round}-${k}`, user: 'uf' };
        const scope = { organizationId: ORG, sessionId: actor.session, userId: actor.user };
        const tag = `${round}.${k}`;
        const first = await commitChange(
          t.db,
          ORG,
          r.mirrorId,
          { model: `first ${tag}`, forecastEnd: '2034-01-31' },
          actor,
        );
        const second = await commitChange(t.db, ORG, r.mirrorId, { forecastEnd: '2034-03-31' }, actor);
        const draft = await service.edit(scope, r.mirrorId, 0, { forecastEnd: '2034-05-31' }, 'test');
        sim.changeRecord(ORG, r.pfaId, { forecastEnd: '2034-02-28' });
        cases.push({ first, second, draft: draft.draft?.id as string, tag });
      }
      const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
      expect(result).toMatchObject({ synced: 0, conflicted: 2 * PER_ROUND, failed: 0 });
      for (const { first, second, draft, tag } of cases) {
        expect(await modification(t.db, ORG, first)).toBeUndefined();
        expect(await modification(t.db, ORG, draft)).toBeUndefined();
        const merged = await modification(t.db, ORG, second);
        expect({ tag, state: merged?.sync_state, delta: merged?.delta }).toEqual({
          tag,
          state: 'conflict',
          delta: { model: `first ${tag}`, forecastEnd: '2034-05-31' },
        });
      }
    }
  }, 120_000);
});
