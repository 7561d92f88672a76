import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { generateRecord, planOrganizations } from '../src/domain/generator.js';
import { validateRecord, loadWithQuarantine, type QuarantinedRow } from '../src/jobs/read-sync.processor.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { SyncRepository } from '../src/repositories/sync.repository.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import { directJobs, pemsClient, type DirectJobs, ignoreDropRace } from './helpers/jobs.js';

/**
 * read-sync against the PEMS simulator over real HTTP and a real PostgreSQL: initial and
 * incremental reads, versions and history, soft removal, quarantine, PEMS failures.
 */

const ORGS = planOrganizations(6_000, 4); // HOLNG 1,500 … the others ~1,300–1,700
const [A, B, C, D] = ORGS.map((o) => o.id) as [string, string, string, string];
const size = (id: string): number => ORGS.find((o) => o.id === id)?.records ?? 0;

let t: TestDatabase;
let sim: PemsSimulator;
let jobs: DirectJobs;

beforeAll(async () => {
  [t, sim] = await Promise.all([createTestDatabase(), startPemsSimulator({ orgs: 4, records: 6_000 })]);
  t.pool.on('error', ignoreDropRace);
  jobs = directJobs(t, pemsClient(sim.url));
});

afterAll(async () => {
  await Promise.all([t?.drop(), sim?.close()]);
});

async function lastRun(org: string) {
  return t.db
    .selectFrom('pfa_sync_log')
    .selectAll()
    .where('organization_id', '=', org)
    .where('direction', '=', 'read')
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
}

async function mirrorRow(org: string, pfaId: string) {
  return t.db
    .selectFrom('pfa_mirror')
    .select([
      'id',
      'data',
      'version',
      'pems_version',
      'removed_from_pems_at',
      'sync_batch_id',
      'forecast_end',
    ])
    .where('organization_id', '=', org)
    .where('pfa_id', '=', pfaId)
    .executeTakeFirst();
}

describe('read-sync', () => {
  it('loads a new organization in full: created, every record at version 1, one sync log row', async () => {
    const result = await jobs.handlers['read-sync']({ organizationId: A }, jobs.run);
    expect(result).toMatchObject({
      mode: 'full',
      status: 'succeeded',
      read: size(A),
      inserted: size(A),
      updated: 0,
      rejected: 0,
    });
    const org = await t.db.selectFrom('organization').selectAll().where('id', '=', A).executeTakeFirst();
    expect(org?.id).toBe(A);
    const { rows } = await sql<{ n: number; v: number; pv: string }>`
      SELECT count(*)::int AS n, max(version) AS v, min(pems_version) AS pv FROM pfa_mirror WHERE organization_id = ${A}`.execute(
      t.db,
    );
    expect(rows[0]).toEqual({ n: size(A), v: 1, pv: '1' });
    const run = await lastRun(A);
    expect(run).toMatchObject({
      status: 'succeeded',
      mode: 'full',
      inserted: size(A),
      updated: 0,
      unchanged: 0,
      rejected: 0,
    });
    expect(run.watermark).not.toBeNull();
    expect(run.duration_ms).toBeGreaterThanOrEqual(0);
    const sample = generateRecord(A, 7);
    expect((await mirrorRow(A, sample.pfaId))?.data).toEqual(sample.data);
    expect(jobs.refreshRequests).toContain(`read-sync:${A}`);
  });

  it('changes nothing over fresh seed data (0 updated)', async () => {
    await insertRecords(t.db, B, size(B));
    const result = await jobs.handlers['read-sync']({ organizationId: B, full: true }, jobs.run);
    expect(result).toMatchObject({ inserted: 0, updated: 0, unchanged: size(B), rejected: 0, removed: 0 });
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pfa_mirror_history WHERE organization_id = ${B}`.execute(t.db);
    expect(rows[0]?.n).toBe(0);
  });

  it('reads incrementally from the watermark: only changed records, version + 1, history kept', async () => {
    const idle = await jobs.handlers['read-sync']({ organizationId: A }, jobs.run);
    expect(idle).toMatchObject({ mode: 'incremental', read: 0, updated: 0 });

    const changed = [3, 10, 11].map((i) => generateRecord(A, i).pfaId);
    for (const pfaId of changed)
      sim.changeRecord(A, pfaId, { forecastEnd: '2031-01-31', notes: `changed ${pfaId}` });
    sim.changeRecord(A, changed[0] as string, { monthlyRate: 999.5 }); // twice: read once, at its latest
    const before = await mirrorRow(A, changed[0] as string);

    const result = await jobs.handlers['read-sync']({ organizationId: A }, jobs.run);
    expect(result).toMatchObject({ mode: 'incremental', read: 3, inserted: 0, updated: 3, unchanged: 0 });
    const after = await mirrorRow(A, changed[0] as string);
    expect(after?.version).toBe((before?.version ?? 0) + 1);
    expect(after?.pems_version).toBe('3');
    expect(after?.forecast_end).toBe('2031-01-31');
    expect(after?.data.monthlyRate).toBe(999.5);
    expect(after?.sync_batch_id).toBe(`read-${result.runId}`);
    const history = await t.db
      .selectFrom('pfa_mirror_history')
      .select(['version', 'data', 'pems_version'])
      .where('organization_id', '=', A)
      .where('mirror_id', '=', String(after?.id))
      .execute();
    expect(history).toEqual([{ version: 1, data: before?.data, pems_version: '1' }]);
    expect((await lastRun(A)).watermark).toBe(result.watermark);
  });

  it('soft-marks records PEMS no longer has in a full read, and clears the mark when they come back', async () => {
    const gone = generateRecord(A, 20).pfaId;
    sim.deleteRecord(A, gone);
    const result = await jobs.handlers['read-sync']({ organizationId: A, full: true }, jobs.run);
    expect(result).toMatchObject({
      mode: 'full',
      removed: 1,
      inserted: 0,
      updated: 0,
      unchanged: size(A) - 1,
    });
    const row = await mirrorRow(A, gone);
    expect(row?.removed_from_pems_at).toBeInstanceOf(Date);
    expect(row?.version).toBe(1); // the mark is not a data change

    const again = await jobs.handlers['read-sync']({ organizationId: A, full: true }, jobs.run);
    expect(again.removed).toBe(0); // still gone: counted once
    expect((await mirrorRow(A, gone))?.removed_from_pems_at).toBeInstanceOf(Date);

    // A record marked removed that PEMS sends again is live again (and counted as updated).
    const back = generateRecord(A, 21).pfaId;
    await sql`UPDATE pfa_mirror SET removed_from_pems_at = now() WHERE organization_id = ${A} AND pfa_id = ${back}`.execute(
      t.db,
    );
    const third = await jobs.handlers['read-sync']({ organizationId: A, full: true }, jobs.run);
    expect(third).toMatchObject({ removed: 0, updated: 1 });
    expect((await mirrorRow(A, back))?.removed_from_pems_at).toBeNull();
    expect((await mirrorRow(A, back))?.version).toBe(1);
  });

  it('quarantines malformed rows one by one while the rest load', async () => {
    sim.setFaults({ malformedEvery: 100 });
    try {
      const result = await jobs.handlers['read-sync']({ organizationId: C }, jobs.run);
      const bad = Math.floor(size(C) / 100);
      expect(result).toMatchObject({ status: 'partial', rejected: bad, inserted: size(C) - bad, removed: 0 });
      const run = await lastRun(C);
      expect(run.status).toBe('partial');
      expect(run.rejected).toBe(bad);
      const errors = run.errors as { pfaId: string; reason: string }[];
      expect(errors).toHaveLength(bad);
      expect(errors[0]?.pfaId).toBe(generateRecord(C, 99).pfaId);
      expect(errors[0]?.reason).toMatch(/RECORDID|column/);
      expect(await mirrorRow(C, generateRecord(C, 99).pfaId)).toBeUndefined();
      expect(await mirrorRow(C, generateRecord(C, 98).pfaId)).toBeDefined();
    } finally {
      sim.resetFaults();
    }
    // A full read of an organization with quarantined rows does not take them for removed.
    await jobs.handlers['read-sync']({ organizationId: C, full: true }, jobs.run);
    sim.setFaults({ malformedEvery: 100 });
    try {
      const full = await jobs.handlers['read-sync']({ organizationId: C, full: true }, jobs.run);
      expect(full.removed).toBe(0);
    } finally {
      sim.resetFaults();
    }
  });

  it('rejects what the mirror cannot hold: no data, no pfaId, pfaId mismatch, non-object, \\u0000', () => {
    const reasons = [
      validateRecord('X-1', null, '1', {}, 'cell 3 names no column'),
      validateRecord('', { a: 1 }, '1', {}),
      validateRecord('X-1', { pfaId: 'X-2' }, '1', {}),
      validateRecord('X-1', [1, 2], '1', {}),
      validateRecord('X-1', 'text', '1', {}),
      validateRecord('X-1', { notes: 'a\u0000b' }, '1', {}),
      validateRecord('X-1', { notes: 'lone \ud800 surrogate' }, '1', {}),
    ].map((v) => (v.ok ? 'ok' : v.rejection.reason));
    expect(reasons[0]).toBe('cell 3 names no column');
    expect(reasons[1]).toMatch(/no PFA_ID/);
    expect(reasons[2]).toMatch(/pfaId mismatch/);
    expect(reasons[3]).toMatch(/not a JSON object/);
    expect(reasons[4]).toMatch(/not a JSON object/);
    expect(reasons[5]).toMatch(/jsonb cannot store/);
    expect(reasons[6]).toMatch(/jsonb cannot store/);
    // An escaped backslash before "u0000" is ordinary text.
    expect(validateRecord('X-1', { notes: 'C:\\u0000dir' }, '1', {}).ok).toBe(true);
    expect(validateRecord('X-1', { notes: '😀' }, '1', {}).ok).toBe(true);
  });

  it('isolates a row PostgreSQL refuses by bisecting the batch, and loads the others', async () => {
    const repo = new SyncRepository(t.db, t.pool);
    await repo.ensureOrganization(D);
    const staging = await repo.openStaging({
      organizationId: D,
      batchId: 'bisect',
      kind: 'pems',
      lock: true,
    });
    if (!staging) throw new Error('no staging');
    const rejected: QuarantinedRow[] = [];
    try {
      const records = Array.from({ length: 40 }, (_, i) => {
        const r = generateRecord(D, i);
        return { pfaId: r.pfaId, json: JSON.stringify(r.data), pemsVersion: r.pemsVersion };
      });
      // What validateRecord would have caught: here it reaches PostgreSQL, which refuses it.
      const bad = records[17];
      if (bad) bad.json = '{"pfaId": "' + bad.pfaId + '", "notes": "\\u0000"}';
      const counts = await loadWithQuarantine(staging, records, (r) => rejected.push(r));
      expect(counts.inserted).toBe(39);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.pfaId).toBe(generateRecord(D, 17).pfaId);
      expect(rejected[0]?.reason).toMatch(/refused by PostgreSQL/);
    } finally {
      await staging.release();
    }
  });

  it('retries PEMS 500s within the run and loses nothing', async () => {
    sim.setFaults({ failNext: 2, status: 500 });
    try {
      const result = await jobs.handlers['read-sync']({ organizationId: D, full: true }, jobs.run);
      expect(result).toMatchObject({ status: 'succeeded', read: size(D), rejected: 0 });
      const { rows } = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM pfa_mirror WHERE organization_id = ${D}`.execute(t.db);
      expect(rows[0]?.n).toBe(size(D));
    } finally {
      sim.resetFaults();
    }
  });

  it('fails the run (to be retried by the queue) when PEMS stays down, recording it', async () => {
    sim.setFaults({ errorRate: 1, status: 503 });
    try {
      await expect(jobs.handlers['read-sync']({ organizationId: D }, jobs.run)).rejects.toThrow(/503/);
    } finally {
      sim.resetFaults();
    }
    const run = await lastRun(D);
    expect(run.status).toBe('failed');
    expect(run.message).toMatch(/PEMS.*503/);
    // The failed run's (absent) watermark is not used: the next read starts where the last good one ended.
    const next = await jobs.handlers['read-sync']({ organizationId: D }, jobs.run);
    expect(next.mode).toBe('incremental');
  });

  it('fails clearly without PEMS', async () => {
    const none = directJobs(t, null);
    await expect(none.handlers['read-sync']({ organizationId: A }, none.run)).rejects.toThrow(
      'PEMS not configured',
    );
  });
});
