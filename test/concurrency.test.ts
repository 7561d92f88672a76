import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * Many users at once (DOMAIN §3, one writer per record): every race here runs through the real
 * server with requests in flight at the same time (each request on its own pooled connection),
 * and is repeated ROUNDS times so that a 1-in-5 failure cannot hide.
 */

const ROUNDS = 12;
let app: TestApp;
let ids: string[];
let alice: string;
let bob: string;

const UPDATE = `mutation($input: UpdatePfaRecordInput!) {
  updatePfaRecord(input: $input) { draft { id currentVersion delta } }
}`;
const BULK = `mutation($input: BulkUpdatePfaRecordsInput!) { bulkUpdatePfaRecords(input: $input) { affectedCount } }`;
const COMMIT = `mutation($org: ID!) { commitDrafts(organizationId: $org) {
  committed { id syncState baseValues delta }
  conflicted { id syncState conflicts { field base theirs mine } }
} }`;
const RESOLVE = `mutation($id: ID!, $r: ConflictResolution!) { resolveConflict(id: $id, resolution: $r) {
  draft { id syncState } } }`;

type Gql = Awaited<ReturnType<TestApp['gql']>>;
interface CommitOut {
  commitDrafts: {
    committed: { id: string; syncState: string; baseValues: Record<string, unknown> }[];
    conflicted: {
      id: string;
      syncState: string;
      conflicts: { field: string; base: unknown; theirs: unknown; mine: unknown }[];
    }[];
  };
}

function ok<T>(r: Gql): T {
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data as T;
}
const code = (r: Gql) => r.errors?.[0]?.extensions?.code;

const mirror = async (id: string) =>
  app.database.db
    .selectFrom('pfa_mirror')
    .select(['data', 'version'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

const pfaIdOf = async (id: string) =>
  (
    await app.database.db
      .selectFrom('pfa_mirror')
      .select('pfa_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).pfa_id;

beforeAll(async () => {
  app = await startTestApp();
  ids = [...(await insertRecords(app.database.db, 'HOLNG', 400)).values()];
  alice = await app.token('editor', ['HOLNG'], 'alice');
  bob = await app.token('editor', ['HOLNG'], 'bob');
});
afterAll(async () => app?.close());

describe('two sessions commit the same field at the same moment', () => {
  it(`exactly one commits and the other gets the field conflict, ${ROUNDS} rounds`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = ids[round] as string;
      const before = (await mirror(id)).data;
      const sa = `race-a-${round}`;
      const sb = `race-b-${round}`;
      const ea = await app.gql(UPDATE, {
        variables: { input: { id, expectedVersion: 0, changes: { model: `A-${round}` } } },
        session: sa,
        token: alice,
      });
      const eb = await app.gql(UPDATE, {
        variables: { input: { id, expectedVersion: 0, changes: { model: `B-${round}` } } },
        session: sb,
        token: bob,
      });
      ok(ea);
      ok(eb);
      const [ca, cb] = await Promise.all([
        app.gql(COMMIT, { variables: { org: 'HOLNG' }, session: sa, token: alice }),
        app.gql(COMMIT, { variables: { org: 'HOLNG' }, session: sb, token: bob }),
      ]);
      const ra = ok<CommitOut>(ca).commitDrafts;
      const rb = ok<CommitOut>(cb).commitDrafts;
      const committed = [...ra.committed, ...rb.committed];
      const conflicted = [...ra.conflicted, ...rb.conflicted];
      expect({ round, committed: committed.length, conflicted: conflicted.length }).toEqual({
        round,
        committed: 1,
        conflicted: 1,
      });
      const winner = ra.committed.length === 1 ? `A-${round}` : `B-${round}`;
      const loser = winner.startsWith('A') ? `B-${round}` : `A-${round}`;
      expect(conflicted[0]?.conflicts).toEqual([
        { field: 'model', base: before.model ?? null, theirs: winner, mine: loser },
      ]);
    }
  });
});

describe('one session edits and bulk-edits the same record at the same moment', () => {
  it(`keeps both changes or refuses one with VERSION_CONFLICT, never a silent loss, ${ROUNDS} rounds`, async () => {
    let bothKept = 0;
    let refused = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const id = ids[50 + round] as string;
      const pfaId = (
        await app.database.db
          .selectFrom('pfa_mirror')
          .select('pfa_id')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).pfa_id;
      const session = `mixed-${round}`;
      const [single, bulk] = await Promise.all([
        app.gql(UPDATE, {
          variables: { input: { id, expectedVersion: 0, changes: { model: `M-${round}` } } },
          session,
          token: alice,
        }),
        app.gql(BULK, {
          variables: {
            input: {
              organizationId: 'HOLNG',
              filter: { pfaId: { eq: pfaId } },
              changes: { manufacturer: `Maker-${round}` },
            },
          },
          session,
          token: alice,
        }),
      ]);
      expect(code(bulk)).toBeUndefined();
      const draft = await app.database.db
        .selectFrom('pfa_modification')
        .select(['delta', 'current_version'])
        .where('mirror_id', '=', id)
        .where('session_id', '=', session)
        .executeTakeFirstOrThrow();
      if (single.errors) {
        expect(code(single)).toBe('VERSION_CONFLICT');
        expect(draft.delta).toEqual({ manufacturer: `Maker-${round}` });
        refused++;
      } else {
        // Both acknowledged: both must be in the draft.
        expect(draft.delta).toEqual({ model: `M-${round}`, manufacturer: `Maker-${round}` });
        expect(draft.current_version).toBe(2);
        bothKept++;
      }
    }
    expect(bothKept + refused).toBe(ROUNDS);
  });
});

describe('your own pending change is not "theirs"', () => {
  it('a follow-up edit of a field whose earlier commit is still pending commits without a conflict', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const id = ids[100 + round] as string;
      const session = `follow-${round}`;
      const before = (await mirror(id)).data;
      ok(
        await app.gql(UPDATE, {
          variables: { input: { id, expectedVersion: 0, changes: { forecastEnd: '2031-06-30' } } },
          session,
          token: alice,
        }),
      );
      expect(
        ok<CommitOut>(await app.gql(COMMIT, { variables: { org: 'HOLNG' }, session, token: alice }))
          .commitDrafts.committed,
      ).toHaveLength(1);
      const second = ok<{ updatePfaRecord: { draft: { delta: Record<string, unknown> } } }>(
        await app.gql(UPDATE, {
          variables: { input: { id, expectedVersion: 0, changes: { forecastEnd: '2031-08-31' } } },
          session,
          token: alice,
        }),
      );
      expect(second.updatePfaRecord.draft.delta).toEqual({ forecastEnd: '2031-08-31' });
      const c = ok<CommitOut>(await app.gql(COMMIT, { variables: { org: 'HOLNG' }, session, token: alice }));
      expect(c.commitDrafts.conflicted).toEqual([]);
      expect(c.commitDrafts.committed[0]?.baseValues).toEqual({ forecastEnd: '2031-06-30' });
      // Both pending, in commit order; the mirror is untouched until write-back.
      const pending = await app.database.db
        .selectFrom('pfa_modification')
        .select(['delta', 'sync_state'])
        .where('mirror_id', '=', id)
        .orderBy('committed_at')
        .orderBy('id')
        .execute();
      expect(pending.map((p) => [p.sync_state, p.delta.forecastEnd])).toEqual([
        ['committed', '2031-06-30'],
        ['committed', '2031-08-31'],
      ]);
      expect((await mirror(id)).data.forecastEnd).toBe(before.forecastEnd);
    }
  });

  it("KEEP_MINE rebases onto theirs including the session's own pending change", async () => {
    const id = ids[150] as string;
    // Bob's pending change of the field, then Alice's pending change, then Alice edits again
    // from a base Bob moved: a real conflict (theirs = Bob's value ≠ her base).
    const sb = 'keep-b';
    const sa = 'keep-a';
    ok(
      await app.gql(UPDATE, {
        variables: { input: { id, expectedVersion: 0, changes: { model: 'mine-1' } } },
        session: sa,
        token: alice,
      }),
    );
    ok(
      await app.gql(UPDATE, {
        variables: { input: { id, expectedVersion: 0, changes: { model: 'bob' } } },
        session: sb,
        token: bob,
      }),
    );
    expect(
      ok<CommitOut>(await app.gql(COMMIT, { variables: { org: 'HOLNG' }, session: sb, token: bob }))
        .commitDrafts.committed,
    ).toHaveLength(1);
    const c = ok<CommitOut>(
      await app.gql(COMMIT, { variables: { org: 'HOLNG' }, session: sa, token: alice }),
    );
    expect(c.commitDrafts.conflicted[0]?.conflicts[0]).toMatchObject({
      field: 'model',
      theirs: 'bob',
      mine: 'mine-1',
    });
    const kept = ok<{ resolveConflict: { draft: { syncState: string } } }>(
      await app.gql(RESOLVE, {
        variables: { id: c.commitDrafts.conflicted[0]?.id, r: 'KEEP_MINE' },
        session: sa,
        token: alice,
      }),
    );
    expect(kept.resolveConflict.draft.syncState).toBe('COMMITTED');
    const row = await app.database.db
      .selectFrom('pfa_modification')
      .select(['base_values'])
      .where('id', '=', c.commitDrafts.conflicted[0]?.id as string)
      .executeTakeFirstOrThrow();
    expect(row.base_values).toEqual({ model: 'bob' });
  });
});

describe('bulk edits: relative date shifts and the date range', () => {
  it('shiftForecastEndDays extends only the end; a shift leaving 0001…9999 refuses the whole edit', async () => {
    const id = ids[200] as string;
    const pfaId = (
      await app.database.db
        .selectFrom('pfa_mirror')
        .select('pfa_id')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).pfa_id;
    const before = (await mirror(id)).data as { forecastStart: string; forecastEnd: string };
    const r = ok<{ bulkUpdatePfaRecords: { affectedCount: number } }>(
      await app.gql(BULK, {
        variables: {
          input: { organizationId: 'HOLNG', filter: { pfaId: { eq: pfaId } }, shiftForecastEndDays: 14 },
        },
        session: 'shift-end',
        token: alice,
      }),
    );
    expect(r.bulkUpdatePfaRecords.affectedCount).toBe(1);
    const d = await app.database.db
      .selectFrom('pfa_modification')
      .select('delta')
      .where('mirror_id', '=', id)
      .where('session_id', '=', 'shift-end')
      .executeTakeFirstOrThrow();
    const plus14 = new Date(Date.parse(`${before.forecastEnd}T00:00:00Z`) + 14 * 86_400_000)
      .toISOString()
      .slice(0, 10);
    expect(d.delta).toEqual({ forecastEnd: plus14 });

    // A record ending 9999-12-01 cannot move 3650 days later: nothing is written for any record.
    await sql`UPDATE pfa_mirror SET data = data || '{"forecastEnd": "9999-12-01"}' WHERE id = ${ids[201]}::bigint`.execute(
      app.database.db,
    );
    const countMods = async () =>
      Number(
        (await sql<{ n: string }>`SELECT count(*) AS n FROM pfa_modification`.execute(app.database.db))
          .rows[0]?.n,
      );
    const mods = await countMods();
    const refused = await app.gql(BULK, {
      variables: {
        input: {
          organizationId: 'HOLNG',
          filter: { pfaId: { in: [await pfaIdOf(ids[201] as string), await pfaIdOf(ids[202] as string)] } },
          shiftForecastDays: 3650,
        },
      },
      session: 'shift-far',
      token: alice,
    });
    expect(code(refused)).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(/outside 0001-01-01/);
    expect(await countMods()).toBe(mods);
  });
});

describe('removed means removed', () => {
  const LIST = `query($f: PfaRecordFilter) { pfaRecords(organizationId: "HOLNG", filter: $f, first: 1000) {
    totalCount nodes { id removedFromPemsAt } } }`;
  it('leaves removed records out of lists and KPIs unless asked; lookups still return them; commit conflicts', async () => {
    const id = ids[300] as string;
    ok(
      await app.gql(UPDATE, {
        variables: { input: { id, expectedVersion: 0, changes: { model: 'gone?' } } },
        session: 'rm',
        token: alice,
      }),
    );
    const kpiBefore = ok<{ kpiSummary: { recordCount: number }[] }>(
      await app.gql('{ kpiSummary(organizationId: "HOLNG") { recordCount } }'),
    );
    const countBefore = kpiBefore.kpiSummary.reduce((a, g) => a + g.recordCount, 0);
    const listBefore = ok<{ pfaRecords: { totalCount: number } }>(
      await app.gql(LIST, { variables: { f: {} } }),
    );
    await sql`UPDATE pfa_mirror SET removed_from_pems_at = now() WHERE id = ${id}::bigint`.execute(
      app.database.db,
    );
    await sql`SELECT refresh_pfa_materialized_views()`.execute(app.database.db);

    const list = ok<{ pfaRecords: { totalCount: number; nodes: { id: string }[] } }>(
      await app.gql(LIST, { variables: { f: {} } }),
    );
    expect(list.pfaRecords.totalCount).toBe(listBefore.pfaRecords.totalCount - 1);
    expect(list.pfaRecords.nodes.some((n) => n.id === id)).toBe(false);
    const withRemoved = ok<{ pfaRecords: { nodes: { id: string; removedFromPemsAt: string | null }[] } }>(
      await app.gql(LIST, { variables: { f: { includeRemoved: true, pfaId: { eq: await pfaIdOf(id) } } } }),
    );
    expect(withRemoved.pfaRecords.nodes[0]?.removedFromPemsAt).toEqual(expect.any(String));
    const nested = await app.gql(LIST, { variables: { f: { and: [{ includeRemoved: true }] } } });
    expect(code(nested)).toBe('BAD_USER_INPUT');
    const one = ok<{ pfaRecord: { id: string; removedFromPemsAt: string | null } }>(
      await app.gql(`{ pfaRecord(id: "${id}") { id removedFromPemsAt } }`),
    );
    expect(one.pfaRecord.removedFromPemsAt).toEqual(expect.any(String));
    const kpi = ok<{ kpiSummary: { recordCount: number }[] }>(
      await app.gql('{ kpiSummary(organizationId: "HOLNG") { recordCount } }'),
    );
    expect(kpi.kpiSummary.reduce((a, g) => a + g.recordCount, 0)).toBe(countBefore - 1);
    const bounds = ok<{ timelineBounds: { totalRecords: number } }>(
      await app.gql('{ timelineBounds(organizationId: "HOLNG") { totalRecords } }'),
    );
    expect(bounds.timelineBounds.totalRecords).toBe(countBefore - 1);

    const c = ok<CommitOut>(
      await app.gql(COMMIT, { variables: { org: 'HOLNG' }, session: 'rm', token: alice }),
    );
    expect(c.commitDrafts.committed).toEqual([]);
    expect(c.commitDrafts.conflicted[0]?.conflicts).toEqual([
      { field: 'removedFromPemsAt', base: null, theirs: expect.any(String), mine: null },
    ]);
    const keep = await app.gql(RESOLVE, {
      variables: { id: c.commitDrafts.conflicted[0]?.id, r: 'KEEP_MINE' },
      session: 'rm',
      token: alice,
    });
    expect(code(keep)).toBe('BAD_USER_INPUT');
    const accept = await app.gql(RESOLVE, {
      variables: { id: c.commitDrafts.conflicted[0]?.id, r: 'ACCEPT_THEIRS' },
      session: 'rm',
      token: alice,
    });
    expect(accept.errors).toBeUndefined();
  });
});
