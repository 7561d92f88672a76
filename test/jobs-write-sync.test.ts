import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { generateRecord } from '../src/domain/generator.js';
import { RetryLaterError } from '../src/jobs/registry.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import {
  commitChange,
  directJobs,
  modification,
  pemsClient,
  statesOf,
  type DirectJobs,
  ignoreDropRace,
} from './helpers/jobs.js';

/**
 * write-sync against the PEMS simulator over real HTTP: success, the stale-recordid rules of
 * DOMAIN §3 (conflict, resend, already applied), PEMS failures and recovery, ordering, and two
 * runs at once — always checking in /_sim/stats that PEMS applied each change exactly once.
 */

const ORG = 'HOLNG';
const N = 120;
let t: TestDatabase;
let sim: PemsSimulator;
let jobs: DirectJobs;
let ids: Map<string, string>;
let next = 0;

/** A record nobody touched yet in this file (mirror id and pfaId). */
function freshRecord(): { mirrorId: string; pfaId: string; index: number } {
  const index = next++;
  const pfaId = generateRecord(ORG, index).pfaId;
  return { mirrorId: ids.get(pfaId) as string, pfaId, index };
}

function shifted(index: number, days: number): string {
  const end = generateRecord(ORG, index).data.forecastEnd as string;
  const d = new Date(`${end}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

async function updatesOf(pfaId: string): Promise<number> {
  const res = await fetch(`${sim.url}/_sim/stats`);
  const stats = (await res.json()) as { updates: Record<string, number> };
  return stats.updates[`${ORG}/${pfaId}`] ?? 0;
}

async function mirror(pfaId: string) {
  return t.db
    .selectFrom('pfa_mirror')
    .select(['data', 'version', 'pems_version'])
    .where('organization_id', '=', ORG)
    .where('pfa_id', '=', pfaId)
    .executeTakeFirstOrThrow();
}

beforeAll(async () => {
  [t, sim] = await Promise.all([createTestDatabase(), startPemsSimulator({ orgs: 1, records: N })]);
  t.pool.on('error', ignoreDropRace);
  ids = await insertRecords(t.db, ORG, N); // the seed: pems_version '1', as the simulator serves it
  jobs = directJobs(t, pemsClient(sim.url));
});

afterAll(async () => {
  await Promise.all([t?.drop(), sim?.close()]);
});

beforeEach(() => sim.resetFaults());

// Records whose forecastEnd is present (every generated record has one).
describe('write-sync', () => {
  it('sends committed changes with their recordid; synced and the mirror moved, in one step', async () => {
    const recs = [freshRecord(), freshRecord(), freshRecord()];
    const modIds = [];
    for (const r of recs)
      modIds.push(await commitChange(t.db, ORG, r.mirrorId, { forecastEnd: shifted(r.index, 5) }));
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ status: 'succeeded', synced: 3, conflicted: 0, failed: 0 });
    for (const [i, r] of recs.entries()) {
      const m = await modification(t.db, ORG, modIds[i] as string);
      expect(m?.sync_state).toBe('synced');
      expect(m?.synced_at).toBeInstanceOf(Date);
      const row = await mirror(r.pfaId);
      expect(row.data.forecastEnd).toBe(shifted(r.index, 5));
      expect(row.version).toBe(2);
      expect(row.pems_version).toBe('2');
      expect(sim.getRecord(ORG, r.pfaId)?.data.forecastEnd).toBe(shifted(r.index, 5));
      expect(await updatesOf(r.pfaId)).toBe(1);
    }
    const run = await t.db
      .selectFrom('pfa_sync_log')
      .selectAll()
      .where('direction', '=', 'write')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(run).toMatchObject({
      status: 'succeeded',
      synced: 3,
      conflicted: 0,
      failed: 0,
      mode: 'incremental',
    });
    expect(jobs.refreshRequests).toContain(`write-sync:${ORG}`);
  });

  it('stale recordid and PEMS changed my field → conflict with base/theirs/mine, never retried', async () => {
    const r = freshRecord();
    const base = generateRecord(ORG, r.index).data.forecastEnd;
    const id = await commitChange(t.db, ORG, r.mirrorId, { forecastEnd: shifted(r.index, 9) });
    sim.changeRecord(ORG, r.pfaId, { forecastEnd: shifted(r.index, -3) }); // another PEMS user
    const staleBefore = sim.stats().requests.staleRejected;
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ synced: 0, conflicted: 1, failed: 0 });
    const m = await modification(t.db, ORG, id);
    expect(m?.sync_state).toBe('conflict');
    expect(m?.conflicts).toEqual([
      { field: 'forecastEnd', base, theirs: shifted(r.index, -3), mine: shifted(r.index, 9) },
    ]);
    expect(m?.last_error).toMatch(/PEMS changed forecastEnd/);
    expect(sim.stats().requests.staleRejected).toBe(staleBefore + 1);
    expect(await updatesOf(r.pfaId)).toBe(0);
    // Settled: a second run has nothing to send.
    const again = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(again).toMatchObject({ synced: 0, conflicted: 0, failed: 0 });
    expect(sim.stats().requests.staleRejected).toBe(staleBefore + 1);
  });

  it('after a write-back conflict the mirror holds PEMS; KEEP_MINE then goes through', async () => {
    const r = freshRecord();
    const id = await commitChange(
      t.db,
      ORG,
      r.mirrorId,
      { forecastEnd: shifted(r.index, 11) },
      { session: 'sk', user: 'uk' },
    );
    const pemsNow = sim.changeRecord(ORG, r.pfaId, { forecastEnd: shifted(r.index, -11) });
    expect((await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run)).conflicted).toBe(1);
    const row = await mirror(r.pfaId);
    expect(row.data).toEqual(pemsNow.data);
    expect(row.pems_version).toBe(pemsNow.recordid);

    const { DraftsRepository } = await import('../src/repositories/drafts.repository.js');
    const { DraftsService } = await import('../src/services/drafts.service.js');
    const drafts = new DraftsRepository(t.db);
    const [conflict] = await drafts.byIds(ORG, [id]);
    const kept = await new DraftsService(t.db, drafts).resolve(
      conflict as NonNullable<typeof conflict>,
      'uk',
      'KEEP_MINE',
    );
    expect(kept?.syncState).toBe('committed');
    expect(kept?.basePemsVersion).toBe(pemsNow.recordid);
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ synced: 1, conflicted: 0 });
    expect(sim.getRecord(ORG, r.pfaId)?.data.forecastEnd).toBe(shifted(r.index, 11));
    expect(await updatesOf(r.pfaId)).toBe(1);
  });

  it('stale recordid but none of my fields changed → resent with the new recordid', async () => {
    const r = freshRecord();
    const id = await commitChange(t.db, ORG, r.mirrorId, { forecastEnd: shifted(r.index, 2) });
    sim.changeRecord(ORG, r.pfaId, { notes: 'changed in PEMS' });
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ synced: 1, conflicted: 0 });
    expect((await modification(t.db, ORG, id))?.sync_state).toBe('synced');
    expect(await updatesOf(r.pfaId)).toBe(1);
    const pems = sim.getRecord(ORG, r.pfaId);
    expect(pems?.data).toMatchObject({ notes: 'changed in PEMS', forecastEnd: shifted(r.index, 2) });
    const row = await mirror(r.pfaId);
    expect(row.pems_version).toBe(pems?.recordid);
    expect(row.data).toEqual(pems?.data); // the re-read record with my values: exactly PEMS
  });

  it('a lost response (PEMS applied it, then failed) is settled exactly once by the re-read', async () => {
    const r = freshRecord();
    const id = await commitChange(t.db, ORG, r.mirrorId, { forecastEnd: shifted(r.index, 4) });
    sim.setFaults({ failNext: 1, status: 502, failAfterApply: true });
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ synced: 1, conflicted: 0, failed: 0 });
    expect((await modification(t.db, ORG, id))?.sync_state).toBe('synced');
    expect(await updatesOf(r.pfaId)).toBe(1);
    expect((await mirror(r.pfaId)).data.forecastEnd).toBe(shifted(r.index, 4));
  });

  it('PEMS returning 500s: changes stay committed with the error, the job asks to be retried; then all are applied once', async () => {
    const recs = [freshRecord(), freshRecord(), freshRecord(), freshRecord()];
    const modIds: string[] = [];
    for (const r of recs) modIds.push(await commitChange(t.db, ORG, r.mirrorId, { monthlyRate: 4321.5 }));
    sim.setFaults({ errorRate: 1, status: 500 });
    await expect(jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run)).rejects.toBeInstanceOf(
      RetryLaterError,
    );
    for (const id of modIds) {
      const m = await modification(t.db, ORG, id);
      expect(m?.sync_state).toBe('committed');
      expect(m?.last_error).toMatch(/PEMS unavailable after 3 tries.*500/);
      expect(m?.sync_attempts).toBe(1);
    }
    const failedRun = await t.db
      .selectFrom('pfa_sync_log')
      .selectAll()
      .where('direction', '=', 'write')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(failedRun).toMatchObject({ status: 'partial', failed: 4, synced: 0 });

    sim.setFaults({ errorRate: 0.3, status: 503 }); // recovering, still flaky
    let result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run).catch(
      (e: unknown) => e,
    );
    sim.resetFaults();
    if (result instanceof Error)
      result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    for (const [i, r] of recs.entries()) {
      expect((await modification(t.db, ORG, modIds[i] as string))?.sync_state).toBe('synced');
      expect(await updatesOf(r.pfaId)).toBe(1);
      expect(sim.getRecord(ORG, r.pfaId)?.data.monthlyRate).toBe(4321.5);
    }
  });

  it('429 with Retry-After pauses the senders and then goes on', async () => {
    const recs = [freshRecord(), freshRecord()];
    for (const r of recs) {
      const flipped = generateRecord(ORG, r.index).data.isFundsTransferable !== true;
      await commitChange(t.db, ORG, r.mirrorId, { isFundsTransferable: flipped });
    }
    sim.setFaults({ failNext: 2, status: 429, retryAfterSeconds: 0 });
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ synced: 2, failed: 0 });
    for (const r of recs) expect(await updatesOf(r.pfaId)).toBe(1);
  });

  it("one record's changes reach PEMS in commit order, each once", async () => {
    const r = freshRecord();
    const first = await commitChange(
      t.db,
      ORG,
      r.mirrorId,
      { forecastEnd: shifted(r.index, 1) },
      { session: 'sa', user: 'ua' },
    );
    const second = await commitChange(
      t.db,
      ORG,
      r.mirrorId,
      { monthlyRate: 77 },
      { session: 'sb', user: 'ub' },
    );
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ synced: 2, conflicted: 0 });
    expect((await modification(t.db, ORG, first))?.sync_state).toBe('synced');
    expect((await modification(t.db, ORG, second))?.sync_state).toBe('synced');
    expect(await updatesOf(r.pfaId)).toBe(2);
    const row = await mirror(r.pfaId);
    expect(row.data).toMatchObject({ forecastEnd: shifted(r.index, 1), monthlyRate: 77 });
    expect(row.pems_version).toBe('3');
    expect(sim.getRecord(ORG, r.pfaId)?.data).toMatchObject({
      forecastEnd: shifted(r.index, 1),
      monthlyRate: 77,
    });
  });

  it('a conflict on a record the author has an open draft of becomes one conflict, nothing lost', async () => {
    const r = freshRecord();
    const pending = await commitChange(
      t.db,
      ORG,
      r.mirrorId,
      { forecastEnd: shifted(r.index, 6) },
      { session: 'sm', user: 'um' },
    );
    const { DraftsRepository } = await import('../src/repositories/drafts.repository.js');
    const { DraftsService } = await import('../src/services/drafts.service.js');
    const draft = await new DraftsService(t.db, new DraftsRepository(t.db)).edit(
      { organizationId: ORG, sessionId: 'sm', userId: 'um' },
      r.mirrorId,
      0,
      { monthlyRate: 55 },
      null,
    );
    sim.changeRecord(ORG, r.pfaId, { forecastEnd: shifted(r.index, -6) });
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result.conflicted).toBe(1);
    // The committed change keeps its id (syncing → conflict) and takes the draft in.
    expect(await modification(t.db, ORG, draft.draft?.id as string)).toBeUndefined();
    const merged = await modification(t.db, ORG, pending);
    expect(merged?.sync_state).toBe('conflict');
    expect(merged?.delta).toEqual({ forecastEnd: shifted(r.index, 6), monthlyRate: 55 });
    // Above the draft's version: an edit sent against the draft's old version is refused.
    expect(Number(merged?.current_version)).toBeGreaterThan(Number(draft.draft?.currentVersion));
    expect(merged?.conflicts).toEqual([
      {
        field: 'forecastEnd',
        base: generateRecord(ORG, r.index).data.forecastEnd,
        theirs: shifted(r.index, -6),
        mine: shifted(r.index, 6),
      },
    ]);
    expect(await updatesOf(r.pfaId)).toBe(0);
  });

  it('two runs at once share the work: every change applied exactly once', async () => {
    const recs = Array.from({ length: 30 }, () => freshRecord());
    for (const r of recs) await commitChange(t.db, ORG, r.mirrorId, { forecastEnd: shifted(r.index, 3) });
    sim.setFaults({ latencyMs: 5 });
    const other = directJobs(t, pemsClient(sim.url), { writeConcurrency: 4 });
    const [a, b] = await Promise.all([
      jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run),
      other.handlers['write-sync']({ organizationId: ORG }, other.run),
    ]);
    expect(a.synced + b.synced).toBe(30);
    for (const r of recs) expect(await updatesOf(r.pfaId)).toBe(1);
    expect((await statesOf(t.db, ORG)).committed ?? 0).toBe(0);
  });

  it('a change left syncing by a stopped worker is sent again after its lease, and applied once', async () => {
    const r = freshRecord();
    const id = await commitChange(t.db, ORG, r.mirrorId, { forecastEnd: shifted(r.index, 8) });
    // The dead worker got as far as PEMS: applied there, still `syncing` here.
    await sql`UPDATE pfa_modification SET sync_state = 'syncing', updated_at = now() - interval '1 hour' WHERE organization_id = ${ORG} AND id = ${id}::bigint`.execute(
      t.db,
    );
    const base = (await modification(t.db, ORG, id))?.base_pems_version as string;
    await pemsClient(sim.url).updateRecord(ORG, r.pfaId, { forecastEnd: shifted(r.index, 8) }, base);
    expect(await updatesOf(r.pfaId)).toBe(1);
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ recovered: 1, synced: 1 });
    expect((await modification(t.db, ORG, id))?.sync_state).toBe('synced');
    expect(await updatesOf(r.pfaId)).toBe(1);
  });

  it('PEMS refusing a change for good (unknown record) → conflict with the reason, not retried', async () => {
    const r = freshRecord();
    const id = await commitChange(t.db, ORG, r.mirrorId, { forecastEnd: shifted(r.index, 1) });
    sim.deleteRecord(ORG, r.pfaId);
    const result = await jobs.handlers['write-sync']({ organizationId: ORG }, jobs.run);
    expect(result).toMatchObject({ conflicted: 1, failed: 0 });
    const m = await modification(t.db, ORG, id);
    expect(m?.sync_state).toBe('conflict');
    expect(m?.last_error).toMatch(/no longer exists|refused/);
    expect(m?.conflicts).toEqual([
      expect.objectContaining({ field: 'forecastEnd', theirs: null, mine: shifted(r.index, 1) }),
    ]);
  });

  it('fails clearly without PEMS', async () => {
    const none = directJobs(t, null);
    await expect(none.handlers['write-sync']({ organizationId: ORG }, none.run)).rejects.toThrow(
      'PEMS not configured',
    );
  });
});
