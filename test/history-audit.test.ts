import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/** Issue 12 point 7: as-of reads (transaction time) and the audit trail. */

const ORG = 'HOLNG';
let app: TestApp;
let ids: Map<string, string>;
const T: Record<string, string> = {};

async function dbNow(): Promise<string> {
  await new Promise((r) => setTimeout(r, 15));
  const { rows } = await sql<{ t: Date }>`SELECT clock_timestamp() AS t`.execute(app.database.db);
  await new Promise((r) => setTimeout(r, 15));
  return (rows[0] as { t: Date }).t.toISOString();
}

/** A PEMS-side change: a direct write to the mirror (the trigger keeps the history). */
async function pemsWrite(pfaId: string, patch: Record<string, unknown>): Promise<void> {
  await sql`UPDATE pfa_mirror SET data = data || ${JSON.stringify(patch)}::jsonb, last_synced_at = now()
            WHERE organization_id = ${ORG} AND pfa_id = ${pfaId}`.execute(app.database.db);
}

const A = 'HOLNG-A';
const B = 'HOLNG-B';
const C = 'HOLNG-C';
const D = 'HOLNG-D';
const rec = (pfaId: string, category: string) => ({
  pfaId,
  data: {
    pfaId,
    category,
    source: 'Rental',
    dor: 'PROJECT',
    monthlyRate: 1000,
    forecastStart: '2026-01-01',
    forecastEnd: '2026-03-01',
  },
});

beforeAll(async () => {
  app = await startTestApp({ env: { HISTORY_RETENTION_DAYS: '30' } });
  ids = await insertRecords(app.database.db, ORG, 0, [rec(A, 'V1'), rec(C, 'C1')]);
  T.t1 = await dbNow();
  await pemsWrite(A, { category: 'V2' });
  T.t2 = await dbNow();
  const more = await insertRecords(app.database.db, ORG, 0, [rec(B, 'B1')]);
  ids.set(B, more.get(B) as string);
  await pemsWrite(A, { category: 'V3' });
  T.t3 = await dbNow();
  await sql`UPDATE pfa_mirror SET removed_from_pems_at = clock_timestamp() WHERE organization_id = ${ORG} AND pfa_id = ${C}`.execute(
    app.database.db,
  );
  await pemsWrite(A, { category: 'V4', monthlyRate: 2000 });
  T.t4 = await dbNow();
  // Neither pending changes nor drafts belong in an as-of read.
  await insertModification(app.database.db, {
    org: ORG,
    mirrorId: ids.get(A) as string,
    session: 's-mine',
    user: 'user-editor',
    delta: { category: 'DRAFT' },
    state: 'draft',
  });
  await insertModification(app.database.db, {
    org: ORG,
    mirrorId: ids.get(B) as string,
    session: 's-x',
    user: 'someone',
    delta: { category: 'PENDING' },
    state: 'committed',
  });
});

afterAll(async () => {
  await app.close();
});

async function asOf(t: string, session = 's-mine'): Promise<Record<string, string>> {
  const r = await app.gql<{
    pfaRecords: { nodes: { pfaId: string; category: string }[]; totalCount: number };
  }>(
    `query($t: DateTime) { pfaRecords(organizationId: "${ORG}", asOf: $t, orderBy: [PFA_ID_ASC]) { nodes { pfaId category } totalCount } }`,
    { variables: { t }, session, token: await app.token('editor', [ORG]) },
  );
  expect(r.errors).toBeUndefined();
  const page = (r.data as NonNullable<typeof r.data>).pfaRecords;
  expect(page.totalCount).toBe(page.nodes.length);
  return Object.fromEntries(page.nodes.map((n) => [n.pfaId, n.category]));
}

describe('asOf', () => {
  it('reads each record as it was after three PEMS-side changes; leaves out later and removed records', async () => {
    expect(await asOf(T.t1 as string)).toEqual({ [A]: 'V1', [C]: 'C1' });
    expect(await asOf(T.t2 as string)).toEqual({ [A]: 'V2', [C]: 'C1' });
    expect(await asOf(T.t3 as string)).toEqual({ [A]: 'V3', [B]: 'B1', [C]: 'C1' });
    expect(await asOf(T.t4 as string)).toEqual({ [A]: 'V4', [B]: 'B1' });
    // Today, for comparison: the caller's draft and the pending commit show without asOf.
    const now = await app.gql<{ pfaRecords: { nodes: { pfaId: string; category: string }[] } }>(
      `{ pfaRecords(organizationId: "${ORG}", orderBy: [PFA_ID_ASC]) { nodes { pfaId category } } }`,
      { session: 's-mine', token: await app.token('editor', [ORG]) },
    );
    expect(now.data?.pfaRecords.nodes.map((n) => n.category)).toEqual(['DRAFT', 'PENDING']);
  });

  it('pfaRecord(id:, asOf:) gives the version current then, with its costs; null before it existed', async () => {
    const q = `query($id: ID!, $t: DateTime) { pfaRecord(id: $id, asOf: $t) { category version monthlyRate forecastCost draft { id } } }`;
    const token = await app.token('editor', [ORG]);
    const at = async (id: string, t: string) =>
      (
        await app.gql<{
          pfaRecord: {
            category: string;
            version: number;
            monthlyRate: number;
            forecastCost: number;
            draft: unknown;
          } | null;
        }>(q, { variables: { id, t }, session: 's-mine', token })
      ).data?.pfaRecord;
    expect(await at(ids.get(A) as string, T.t1 as string)).toEqual({
      category: 'V1',
      version: 1,
      monthlyRate: 1000,
      forecastCost: (59 / 30.44) * 1000,
      draft: null,
    });
    expect((await at(ids.get(A) as string, T.t3 as string))?.version).toBe(3);
    expect(await at(ids.get(A) as string, T.t4 as string)).toMatchObject({
      category: 'V4',
      version: 4,
      monthlyRate: 2000,
    });
    expect(await at(ids.get(B) as string, T.t1 as string)).toBeNull();
  });

  it('a future instant or one before the retention horizon is BAD_USER_INPUT', async () => {
    for (const t of [
      new Date(Date.now() + 3_600_000).toISOString(),
      new Date(Date.now() - 40 * 86_400_000).toISOString(),
    ]) {
      const r = await app.gql(
        `query($t: DateTime) { pfaRecords(organizationId: "${ORG}", asOf: $t) { totalCount } }`,
        { variables: { t } },
      );
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

interface AuditNode {
  at: string;
  userId: string;
  action: string;
  recordId: string;
  fields: string[];
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

async function audit(user: string, args: string, o: { first?: number } = {}): Promise<AuditNode[]> {
  const token = await app.token('editor', [ORG], user);
  const out: AuditNode[] = [];
  let after: string | null = null;
  for (;;) {
    const r: Awaited<ReturnType<TestApp['gql']>> = await app.gql(
      `query($a: String) { auditEvents(organizationId: "${ORG}", ${args} first: ${o.first ?? 100}, after: $a) {
         nodes { at userId action recordId fields before after } pageInfo { hasNextPage endCursor } } }`,
      { variables: { a: after }, token },
    );
    expect(r.errors).toBeUndefined();
    const page = (
      r.data as { auditEvents: { nodes: AuditNode[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }
    ).auditEvents;
    out.push(...page.nodes);
    if (!page.pageInfo.hasNextPage) return out;
    after = page.pageInfo.endCursor;
  }
}

describe('auditEvents', () => {
  beforeAll(async () => {
    const edit = async (user: string, session: string, pfaId: string, category: string, commit: boolean) => {
      const token = await app.token('editor', [ORG], user);
      const u = await app.gql(
        `mutation($id: ID!, $c: String) { updatePfaRecord(input: { id: $id, expectedVersion: 0, changes: { category: $c }, reason: "audit test" }) { record { id } } }`,
        { variables: { id: ids.get(pfaId), c: category }, token, session },
      );
      expect(u.errors).toBeUndefined();
      if (commit) {
        const c = await app.gql(`mutation { commitDrafts(organizationId: "${ORG}") { committed { id } } }`, {
          token,
          session,
        });
        expect(c.errors).toBeUndefined();
      }
    };
    const d = await insertRecords(app.database.db, ORG, 0, [rec(D, 'D1')]);
    ids.set(D, d.get(D) as string);
    await edit('alice', 'alice-s1', D, 'Alice committed', true);
    await edit('alice', 'alice-s2', B, 'Alice draft', false);
    await edit('bob', 'bob-s1', D, 'Bob draft', false);
  });

  it('shows commits and PEMS changes to everyone, draft events only to their owner', async () => {
    const alice = await audit('alice', '');
    const bob = await audit('bob', '');
    const mine = (events: AuditNode[], user: string) =>
      events.filter((e) => e.userId === user).map((e) => `${e.action}:${e.after.category as string}`);
    expect(mine(alice, 'alice').sort()).toEqual([
      'committed:Alice committed',
      'created:Alice committed',
      'created:Alice draft',
    ]);
    expect(mine(alice, 'bob')).toEqual([]);
    expect(mine(bob, 'alice')).toEqual(['committed:Alice committed']);
    expect(mine(bob, 'bob')).toEqual(['created:Bob draft']);
    // Independent count: every pfa_modification_event row visible by the rule, plus history rows.
    const { rows } = await sql<{ n: number }>`
      SELECT (SELECT count(*) FROM pfa_modification_event WHERE organization_id = ${ORG}
                AND (action NOT IN ('created', 'edited', 'emptied', 'discarded', 'conflicted') OR user_id = 'alice'))::int
           + (SELECT count(*) FROM pfa_mirror_history WHERE organization_id = ${ORG})::int AS n`.execute(
      app.database.db,
    );
    expect(alice.length).toBe(rows[0]?.n);
    // Newest first.
    const times = alice.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('PEMS changes name the changed fields with before and after; paging by cursor loses nothing', async () => {
    const pems = await audit('alice', `recordId: "${ids.get(A)}", userId: "system:pems",`);
    expect(pems.map((e) => [e.action, e.fields, e.before, e.after])).toEqual([
      [
        'pems-changed',
        ['category', 'monthlyRate'],
        { category: 'V3', monthlyRate: 1000 },
        { category: 'V4', monthlyRate: 2000 },
      ],
      ['pems-changed', ['category'], { category: 'V2' }, { category: 'V3' }],
      ['pems-changed', ['category'], { category: 'V1' }, { category: 'V2' }],
    ]);
    const all = await audit('alice', '');
    const paged = await audit('alice', '', { first: 2 });
    expect(paged).toEqual(all);
    const since = await audit('alice', `since: "${T.t2}", until: "${T.t4}",`);
    expect(since.filter((e) => e.action === 'pems-changed').map((e) => e.after.category)).toEqual([
      'V4',
      'V3',
    ]);
  });

  it('refuses a cursor made for other arguments, and other organizations', async () => {
    const token = await app.token('editor', [ORG], 'alice');
    const first = await app.gql<{ auditEvents: { pageInfo: { endCursor: string } } }>(
      `{ auditEvents(organizationId: "${ORG}", first: 1) { pageInfo { endCursor } } }`,
      { token },
    );
    const cursor = first.data?.auditEvents.pageInfo.endCursor;
    const other = await app.gql(
      `query($a: String) { auditEvents(organizationId: "${ORG}", userId: "bob", first: 1, after: $a) { nodes { at } } }`,
      { variables: { a: cursor }, token },
    );
    expect(other.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const forbidden = await app.gql(`{ auditEvents(organizationId: "ORG2") { nodes { at } } }`, { token });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
