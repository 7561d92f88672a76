import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/** The draft life cycle of DOMAIN §3 through GraphQL, with real concurrency. */

let app: TestApp;
let ids: string[];
let editor: string;
let rival: string;
const EDITOR = 'planner-1';
const RIVAL = 'planner-2';

const UPDATE = `mutation($input: UpdatePfaRecordInput!) {
  updatePfaRecord(input: $input) {
    draft { id delta modifiedFields baseValues baseVersion currentVersion syncState changeReason isStale }
    record { id monthlyRate forecastStart forecastEnd category version draft { id } }
  }
}`;
const COMMIT = `mutation($org: ID!, $ids: [ID!]) { commitDrafts(organizationId: $org, ids: $ids) {
  committed { id syncState baseVersion baseValues delta }
  conflicted { id syncState conflicts { field base theirs mine } }
} }`;

interface DraftOut {
  id: string;
  delta: Record<string, unknown>;
  modifiedFields: string[];
  baseValues: Record<string, unknown>;
  baseVersion: number;
  currentVersion: number;
  syncState: string;
  changeReason: string | null;
  isStale: boolean;
}
interface UpdateOut {
  updatePfaRecord: {
    draft: DraftOut | null;
    record: {
      id: string;
      monthlyRate: number;
      forecastStart: string;
      forecastEnd: string;
      category: string;
      version: number;
      draft: { id: string } | null;
    };
  };
}

async function edit(session: string, input: Record<string, unknown>, token = editor) {
  return app.gql<UpdateOut>(UPDATE, { variables: { input }, session, token });
}
async function ok<T>(
  query: string,
  variables: Record<string, unknown>,
  session: string | null,
  token = editor,
): Promise<T> {
  const r = await app.gql<T>(query, { variables, session, token });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data as T;
}
const counts = async () => {
  const { rows } = await sql<{ mods: string; events: string }>`
    SELECT (SELECT count(*) FROM pfa_modification) AS mods, (SELECT count(*) FROM pfa_modification_event) AS events`.execute(
    app.database.db,
  );
  return rows[0];
};
const mirrorData = async (id: string) =>
  await app.database.db
    .selectFrom('pfa_mirror')
    .select(['data', 'version'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

beforeAll(async () => {
  app = await startTestApp({ env: { BULK_UPDATE_MAX: '300' } });
  ids = [...(await insertRecords(app.database.db, 'HOLNG', 600)).values()];
  editor = await app.token('editor', ['HOLNG'], EDITOR);
  rival = await app.token('editor', ['HOLNG'], RIVAL);
});
afterAll(async () => app?.close());

describe('updatePfaRecord', () => {
  it('keeps only changed keys, carries the base, and deletes the draft when emptied', async () => {
    const id = ids[0] as string;
    const before = await mirrorData(id);
    const first = await edit('s-basic', {
      id,
      expectedVersion: 0,
      changes: { monthlyRate: 1234.5, forecastEnd: '2029-12-31' },
      reason: 'longer job',
    });
    expect(first.errors).toBeUndefined();
    const d1 = first.data?.updatePfaRecord.draft as DraftOut;
    expect(d1.delta).toEqual({ monthlyRate: 1234.5, forecastEnd: '2029-12-31' });
    expect(d1.baseValues).toEqual({
      monthlyRate: before.data.monthlyRate,
      forecastEnd: before.data.forecastEnd,
    });
    expect(d1).toMatchObject({
      baseVersion: 1,
      currentVersion: 1,
      syncState: 'DRAFT',
      changeReason: 'longer job',
      isStale: false,
    });
    expect(first.data?.updatePfaRecord.record).toMatchObject({
      monthlyRate: 1234.5,
      forecastEnd: '2029-12-31',
      draft: { id: d1.id },
    });
    // Back to the mirror's value: the key leaves the delta.
    const second = await edit('s-basic', {
      id,
      expectedVersion: 1,
      changes: { monthlyRate: before.data.monthlyRate },
    });
    expect(second.data?.updatePfaRecord.draft?.delta).toEqual({ forecastEnd: '2029-12-31' });
    expect(second.data?.updatePfaRecord.draft?.currentVersion).toBe(2);
    const third = await edit('s-basic', {
      id,
      expectedVersion: 2,
      changes: { forecastEnd: before.data.forecastEnd },
    });
    expect(third.errors).toBeUndefined();
    expect(third.data?.updatePfaRecord.draft).toBeNull();
    expect(third.data?.updatePfaRecord.record.draft).toBeNull();
    const events = await app.database.db
      .selectFrom('pfa_modification_event')
      .select(['action', 'reason', 'user_id'])
      .where('mirror_id', '=', id)
      .orderBy('id')
      .execute();
    expect(events.map((e) => e.action)).toEqual(['created', 'edited', 'emptied']);
    expect(events[0]).toMatchObject({ reason: 'longer job', user_id: EDITOR });
  });

  it('rejects bad input with BAD_USER_INPUT naming the key, writing nothing', async () => {
    const id = ids[1] as string;
    const before = await counts();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ id, expectedVersion: 0, changes: { originalStart: '2025-01-01' } }, /originalStart/],
      [{ id, expectedVersion: 0, changes: { isActualized: true } }, /isActualized/],
      [{ id, expectedVersion: 0, changes: { pfaId: 'X' } }, /pfaId/],
      [{ id, expectedVersion: 0, changes: { monthlyRate: 'abc' } }, /monthlyRate/],
      [{ id, expectedVersion: 0, changes: { monthlyRate: null } }, /monthlyRate/],
      [{ id, expectedVersion: 0, changes: { monthlyRate: -1 } }, /monthlyRate/],
      [{ id, expectedVersion: 0, changes: { purchasePrice: 10.123 } }, /purchasePrice/],
      [{ id, expectedVersion: 0, changes: { forecastStart: '2025-02-31' } }, /forecastStart/],
      [{ id, expectedVersion: 0, changes: { source: 'Lease' } }, /source/],
      [
        { id, expectedVersion: 0, changes: { forecastStart: '2030-01-01', forecastEnd: '2029-01-01' } },
        /forecastEnd/,
      ],
      [{ id, expectedVersion: 0, changes: { monthlyRate: 5 }, reason: 'x'.repeat(501) }, /reason/],
      [{ id, expectedVersion: -1, changes: { monthlyRate: 5 } }, /expectedVersion/],
      [{ id: 'abc', expectedVersion: 0, changes: { monthlyRate: 5 } }, /id/],
    ];
    for (const [input, pattern] of cases) {
      const r = await edit('s-bad', input);
      expect({ input, code: r.errors?.[0]?.extensions?.code }).toEqual({ input, code: 'BAD_USER_INPUT' });
      expect(r.errors?.[0]?.message).toMatch(pattern);
    }
    // forecastEnd before the record's own forecastStart (end < start on the merged record).
    const m = await mirrorData(id);
    const r = await edit('s-bad', { id, expectedVersion: 0, changes: { forecastEnd: '1999-01-01' } });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(m.data.forecastStart).toBeDefined();
    expect(await counts()).toEqual(before);
  });

  it('lets exactly one of 20 racing edits with the same expectedVersion win', async () => {
    const id = ids[2] as string;
    const created = await edit('s-race', { id, expectedVersion: 0, changes: { monthlyRate: 1 } });
    expect(created.errors).toBeUndefined();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        edit('s-race', { id, expectedVersion: 1, changes: { monthlyRate: 100 + i } }),
      ),
    );
    const winners = results.filter((r) => !r.errors);
    const losers = results.filter((r) => r.errors);
    expect(winners).toHaveLength(1);
    expect(losers.every((r) => r.errors?.[0]?.extensions?.code === 'VERSION_CONFLICT')).toBe(true);
    const row = await app.database.db
      .selectFrom('pfa_modification')
      .select(['delta', 'current_version'])
      .where('mirror_id', '=', id)
      .where('session_id', '=', 's-race')
      .executeTakeFirstOrThrow();
    expect(row.current_version).toBe(2);
    expect(row.delta).toEqual(winners[0]?.data?.updatePfaRecord.draft?.delta);
  });

  it('makes one draft, not two, from concurrent first edits in one session', async () => {
    for (let round = 0; round < 5; round++) {
      const id = ids[10 + round] as string;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          edit('s-first', { id, expectedVersion: 0, changes: { monthlyRate: 10 + i } }),
        ),
      );
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      expect(
        results.filter((r) => r.errors).every((r) => r.errors?.[0]?.extensions?.code === 'VERSION_CONFLICT'),
      ).toBe(true);
      const n = await app.database.db
        .selectFrom('pfa_modification')
        .select(sql<string>`count(*)`.as('n'))
        .where('mirror_id', '=', id)
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(1);
    }
  });
});

describe('commitDrafts and conflicts', () => {
  it('auto-rebases when PEMS changed other fields, and reports overlapping changes as conflicts', async () => {
    const [a, b] = [ids[20] as string, ids[21] as string];
    const ma = await mirrorData(a);
    await edit('s-commit', { id: a, expectedVersion: 0, changes: { monthlyRate: 777 } });
    await edit('s-commit', { id: b, expectedVersion: 0, changes: { monthlyRate: 888, category: 'Mine' } });
    // PEMS moves: a disjoint field on a, the same field on b.
    await app.database.pool.query(
      `UPDATE pfa_mirror SET data = data || '{"model": "PEMS-EDIT"}' WHERE id = $1`,
      [a],
    );
    await app.database.pool.query(
      `UPDATE pfa_mirror SET data = data || '{"monthlyRate": 555}' WHERE id = $1`,
      [b],
    );
    const mb = await mirrorData(b);
    const drafts = await ok<{ drafts: { id: string; record: { id: string }; isStale: boolean }[] }>(
      `query { drafts(organizationId: "HOLNG") { id isStale record { id } } }`,
      {},
      's-commit',
    );
    expect(drafts.drafts.every((d) => d.isStale)).toBe(true);
    const r = await ok<{
      commitDrafts: {
        committed: DraftOut[];
        conflicted: (DraftOut & {
          conflicts: { field: string; base: unknown; theirs: unknown; mine: unknown }[];
        })[];
      };
    }>(COMMIT, { org: 'HOLNG' }, 's-commit');
    expect(r.commitDrafts.committed).toHaveLength(1);
    expect(r.commitDrafts.committed[0]).toMatchObject({
      syncState: 'COMMITTED',
      baseVersion: 2,
      baseValues: { monthlyRate: ma.data.monthlyRate },
    });
    expect(r.commitDrafts.conflicted).toHaveLength(1);
    expect(r.commitDrafts.conflicted[0]?.conflicts).toEqual([
      {
        field: 'monthlyRate',
        base: (
          await app.database.db
            .selectFrom('pfa_mirror_history')
            .select('data')
            .where('mirror_id', '=', b)
            .executeTakeFirstOrThrow()
        ).data.monthlyRate,
        theirs: 555,
        mine: 888,
      },
    ]);
    expect(mb.version).toBe(2);
    // The committed change is visible to everybody; the conflict stays private.
    const other = await ok<{ a: { monthlyRate: number }; b: { monthlyRate: number; category: string } }>(
      `query($a: ID!, $b: ID!) { a: pfaRecord(id: $a) { monthlyRate } b: pfaRecord(id: $b) { monthlyRate category } }`,
      { a, b },
      'someone-else',
      rival,
    );
    expect(other.a.monthlyRate).toBe(777);
    expect(other.b.monthlyRate).toBe(555);
    expect(other.b.category).not.toBe('Mine');
    // A conflict cannot be edited or committed again; it is resolved.
    const conflictId = r.commitDrafts.conflicted[0]?.id as string;
    expect(
      (await edit('s-commit', { id: b, expectedVersion: 1, changes: { monthlyRate: 1 } })).errors?.[0]
        ?.extensions?.code,
    ).toBe('BAD_USER_INPUT');
    const again = await ok<{ commitDrafts: { committed: unknown[]; conflicted: { id: string }[] } }>(
      COMMIT,
      { org: 'HOLNG' },
      's-commit',
    );
    expect(again.commitDrafts.committed).toHaveLength(0);
    expect(again.commitDrafts.conflicted.map((c) => c.id)).toEqual([conflictId]);
    // Another user may not resolve it.
    const stranger = await app.gql(
      `mutation($id: ID!) { resolveConflict(id: $id, resolution: KEEP_MINE) { draft { id } } }`,
      { variables: { id: conflictId }, token: rival, session: 'x' },
    );
    expect(stranger.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const kept = await ok<{ resolveConflict: { draft: DraftOut; record: { monthlyRate: number } } }>(
      `mutation($id: ID!) { resolveConflict(id: $id, resolution: KEEP_MINE) { draft { id syncState baseVersion baseValues delta } record { monthlyRate } } }`,
      { id: conflictId },
      'a-newer-session',
    );
    expect(kept.resolveConflict.draft).toMatchObject({
      syncState: 'COMMITTED',
      baseVersion: 2,
      baseValues: { monthlyRate: 555, category: mb.data.category },
      delta: { monthlyRate: 888, category: 'Mine' },
    });
    expect(kept.resolveConflict.record.monthlyRate).toBe(888);
  });

  it('ACCEPT_THEIRS drops the change; conflicts of every session are listed with allSessions', async () => {
    const id = ids[30] as string;
    await edit('s-old', { id, expectedVersion: 0, changes: { forecastEnd: '2031-01-01' } });
    await app.database.pool.query(
      `UPDATE pfa_mirror SET data = data || '{"forecastEnd": "2030-06-30"}' WHERE id = $1`,
      [id],
    );
    const c = await ok<{ commitDrafts: { conflicted: { id: string }[] } }>(COMMIT, { org: 'HOLNG' }, 's-old');
    const conflictId = c.commitDrafts.conflicted[0]?.id as string;
    const listed = await ok<{ drafts: { id: string; syncState: string }[] }>(
      `{ drafts(organizationId: "HOLNG", allSessions: true) { id syncState } }`,
      {},
      's-new',
    );
    expect(listed.drafts).toContainEqual({ id: conflictId, syncState: 'CONFLICT' });
    const onlyNew = await ok<{ drafts: { id: string }[] }>(
      `{ drafts(organizationId: "HOLNG") { id } }`,
      {},
      's-new',
    );
    expect(onlyNew.drafts.map((d) => d.id)).not.toContain(conflictId);
    const r = await ok<{ resolveConflict: { draft: null; record: { forecastEnd: string } } }>(
      `mutation($id: ID!) { resolveConflict(id: $id, resolution: ACCEPT_THEIRS) { draft { id } record { forecastEnd } } }`,
      { id: conflictId },
      's-new',
    );
    expect(r.resolveConflict).toEqual({ draft: null, record: { forecastEnd: '2030-06-30' } });
    const gone = await app.database.db
      .selectFrom('pfa_modification')
      .select('id')
      .where('id', '=', conflictId)
      .execute();
    expect(gone).toHaveLength(0);
  });

  it('a change pending from another session counts as theirs; the same value is no conflict', async () => {
    const [x, y] = [ids[40] as string, ids[41] as string];
    await edit('s-p1', { id: x, expectedVersion: 0, changes: { monthlyRate: 10 } });
    await edit('s-p1', { id: y, expectedVersion: 0, changes: { monthlyRate: 20 } });
    await edit('s-p2', { id: x, expectedVersion: 0, changes: { monthlyRate: 11 } }, rival);
    await edit('s-p2', { id: y, expectedVersion: 0, changes: { monthlyRate: 20 } }, rival);
    await ok(COMMIT, { org: 'HOLNG' }, 's-p2', rival);
    const r = await ok<{
      commitDrafts: {
        committed: { id: string }[];
        conflicted: { conflicts: { field: string; theirs: unknown; mine: unknown }[] }[];
      };
    }>(COMMIT, { org: 'HOLNG' }, 's-p1');
    expect(r.commitDrafts.committed).toHaveLength(1);
    expect(r.commitDrafts.conflicted[0]?.conflicts).toEqual([
      expect.objectContaining({ field: 'monthlyRate', theirs: 11, mine: 10 }),
    ]);
  });

  it('never overwrites silently when a commit races a mirror update', async () => {
    for (let round = 0; round < 12; round++) {
      const id = ids[100 + round] as string;
      const session = `s-racecommit-${round}`;
      await edit(session, { id, expectedVersion: 0, changes: { forecastEnd: '2032-01-01' } });
      const before = await mirrorData(id);
      const [commit] = await Promise.all([
        app.gql<{
          commitDrafts: { committed: { id: string; baseVersion: number }[]; conflicted: { id: string }[] };
        }>(COMMIT, { variables: { org: 'HOLNG' }, session, token: editor }),
        (async () => {
          await new Promise((res) => setTimeout(res, round % 4));
          await app.database.pool.query(
            `UPDATE pfa_mirror SET data = data || '{"forecastEnd": "2033-03-03"}' WHERE id = $1`,
            [id],
          );
        })(),
      ]);
      expect(commit.errors).toBeUndefined();
      const row = await app.database.db
        .selectFrom('pfa_modification')
        .select(['sync_state', 'base_version', 'base_values'])
        .where('session_id', '=', session)
        .executeTakeFirstOrThrow();
      if (row.sync_state === 'committed') {
        // Committed on the old base: write-back will send the old recordid and find the conflict.
        expect(row.base_version).toBe(before.version);
        expect(row.base_values).toEqual({ forecastEnd: before.data.forecastEnd });
      } else {
        expect(row.sync_state).toBe('conflict');
      }
    }
  });

  it('discards drafts (all or by id) and refuses ids that are not the session’s', async () => {
    await edit('s-discard', { id: ids[50] as string, expectedVersion: 0, changes: { monthlyRate: 1 } });
    const d2 = await edit('s-discard', {
      id: ids[51] as string,
      expectedVersion: 0,
      changes: { monthlyRate: 2 },
    });
    const foreign = await edit(
      's-discard-other',
      { id: ids[52] as string, expectedVersion: 0, changes: { monthlyRate: 3 } },
      rival,
    );
    const bad = await app.gql(
      `mutation($ids: [ID!]) { discardDrafts(organizationId: "HOLNG", ids: $ids) { discardedCount } }`,
      {
        variables: { ids: [d2.data?.updatePfaRecord.draft?.id, foreign.data?.updatePfaRecord.draft?.id] },
        session: 's-discard',
        token: editor,
      },
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const one = await ok<{ discardDrafts: { discardedCount: number } }>(
      `mutation($ids: [ID!]) { discardDrafts(organizationId: "HOLNG", ids: $ids) { discardedCount } }`,
      { ids: [d2.data?.updatePfaRecord.draft?.id] },
      's-discard',
    );
    expect(one.discardDrafts.discardedCount).toBe(1);
    const all = await ok<{ discardDrafts: { discardedCount: number } }>(
      `mutation { discardDrafts(organizationId: "HOLNG") { discardedCount } }`,
      {},
      's-discard',
    );
    expect(all.discardDrafts.discardedCount).toBe(1);
  });
});

describe('bulkUpdatePfaRecords', () => {
  const KPI = `{ kpiSummary(organizationId: "HOLNG") { category source dor totalForecastCost recordCount } }`;

  it('shifts exactly the records pfaRecords returns for the filter, and KPIs follow', async () => {
    await sql`SELECT refresh_pfa_materialized_views()`.execute(app.database.db);
    const filter = { category: { in: ['Cranes', 'Generators', 'Pumps'] }, source: { eq: 'Rental' } };
    const listed = await ok<{
      pfaRecords: {
        totalCount: number;
        nodes: { id: string; forecastStart: string | null; forecastEnd: string | null }[];
      };
    }>(
      `query($f: PfaRecordFilter) { pfaRecords(organizationId: "HOLNG", filter: $f, first: 1000) { totalCount nodes { id forecastStart forecastEnd } } }`,
      { f: filter },
      's-bulk',
    );
    const r = await ok<{ bulkUpdatePfaRecords: { affectedCount: number } }>(
      `mutation($f: PfaRecordFilter!) { bulkUpdatePfaRecords(input: { organizationId: "HOLNG", filter: $f, shiftForecastDays: 30, reason: "slip" }) { affectedCount } }`,
      { f: filter },
      's-bulk',
    );
    const withDates = listed.pfaRecords.nodes.filter((n) => n.forecastStart || n.forecastEnd);
    expect(r.bulkUpdatePfaRecords.affectedCount).toBe(withDates.length);
    const drafts = await app.database.db
      .selectFrom('pfa_modification')
      .select(['mirror_id', 'delta', 'sync_state'])
      .where('session_id', '=', 's-bulk')
      .execute();
    expect(drafts.map((d) => String(d.mirror_id)).sort()).toEqual(withDates.map((n) => n.id).sort());
    const shift = (d: string | null) =>
      d ? new Date(Date.parse(`${d}T00:00:00Z`) + 30 * 86_400_000).toISOString().slice(0, 10) : undefined;
    for (const n of withDates) {
      const d = drafts.find((x) => String(x.mirror_id) === n.id);
      expect(d?.delta).toEqual(
        JSON.parse(
          JSON.stringify({ forecastStart: shift(n.forecastStart), forecastEnd: shift(n.forecastEnd) }),
        ),
      );
    }
    // KPIs for this session equal a recomputation from scratch; other sessions unchanged.
    const scope = { organizationId: 'HOLNG', sessionId: 's-bulk' };
    const live = (
      await ok<{
        kpiSummary: {
          category: string;
          source: string;
          dor: string;
          totalForecastCost: number;
          recordCount: number;
        }[];
      }>(KPI, {}, 's-bulk')
    ).kpiSummary;
    const scratch = await app.services.kpi.kpiFromScratch(scope, null);
    const key = (g: { category: string | null; source: string | null; dor: string | null }) =>
      JSON.stringify([g.category, g.source, g.dor]);
    for (const g of scratch) {
      const l = live.find((x) => key(x) === key(g));
      expect(l?.recordCount).toBe(g.recordCount);
      expect(Math.abs((l?.totalForecastCost ?? 0) - g.totalForecastCost)).toBeLessThan(
        1e-6 * Math.max(1, g.totalForecastCost),
      );
    }
    // Shifting back by -30 empties every draft.
    const back = await ok<{ bulkUpdatePfaRecords: { affectedCount: number } }>(
      `mutation($f: PfaRecordFilter!) { bulkUpdatePfaRecords(input: { organizationId: "HOLNG", filter: $f, shiftForecastDays: -30 }) { affectedCount } }`,
      { f: filter },
      's-bulk',
    );
    expect(back.bulkUpdatePfaRecords.affectedCount).toBe(withDates.length);
    expect(
      await app.database.db
        .selectFrom('pfa_modification')
        .select('id')
        .where('session_id', '=', 's-bulk')
        .execute(),
    ).toHaveLength(0);
  });

  it('refuses more than the configured maximum and end-before-start results, writing nothing', async () => {
    const before = await counts();
    const tooMany = await app.gql(
      `mutation { bulkUpdatePfaRecords(input: { organizationId: "HOLNG", filter: {}, changes: { isFundsTransferable: true } }) { affectedCount } }`,
      { session: 's-bulk2', token: editor },
    );
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooMany.errors?.[0]?.message).toMatch(/limited to 300/);
    const backwards = await app.gql(
      `mutation { bulkUpdatePfaRecords(input: { organizationId: "HOLNG", filter: { category: { eq: "Cranes" } }, changes: { forecastEnd: "1990-01-01" } }) { affectedCount } }`,
      { session: 's-bulk2', token: editor },
    );
    expect(backwards.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await counts()).toEqual(before);
  });

  it('sets fields, keeps earlier edits of the session, and leaves conflicts alone', async () => {
    const id = ids[200] as string;
    const m = await mirrorData(id);
    await edit('s-bulk3', { id, expectedVersion: 0, changes: { monthlyRate: 4321 } });
    const r = await ok<{ bulkUpdatePfaRecords: { affectedCount: number } }>(
      `mutation($f: PfaRecordFilter!) { bulkUpdatePfaRecords(input: { organizationId: "HOLNG", filter: $f, changes: { contract: "C-NEW", isFundsTransferable: true } }) { affectedCount } }`,
      { f: { pfaId: { eq: m.data.pfaId } } },
      's-bulk3',
    );
    expect(r.bulkUpdatePfaRecords.affectedCount).toBe(1);
    const d = await app.database.db
      .selectFrom('pfa_modification')
      .select(['delta', 'current_version', 'base_values'])
      .where('session_id', '=', 's-bulk3')
      .executeTakeFirstOrThrow();
    const expected: Record<string, unknown> = { monthlyRate: 4321, contract: 'C-NEW' };
    if (m.data.isFundsTransferable !== true) expected.isFundsTransferable = true;
    expect(d.delta).toEqual(expected);
    expect(d.current_version).toBe(2);
    expect(d.base_values).toMatchObject({ monthlyRate: m.data.monthlyRate, contract: m.data.contract });
  });
});

describe('pending changes from SQL fixtures', () => {
  it('counts a committed fixture as pending for everyone', async () => {
    const id = ids[300] as string;
    await insertModification(app.database.db, {
      org: 'HOLNG',
      mirrorId: id,
      session: 's-fixture',
      user: RIVAL,
      state: 'committed',
      delta: { category: 'Fixture' },
    });
    const r = await ok<{ pfaRecord: { category: string } }>(
      `query($id: ID!) { pfaRecord(id: $id) { category } }`,
      { id },
      null,
    );
    expect(r.pfaRecord.category).toBe('Fixture');
  });
});
