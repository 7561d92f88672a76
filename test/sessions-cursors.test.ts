import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { LruCache } from '../src/util/lru-cache.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertRecords } from './helpers/fixtures.js';

/** Sessions that cannot be squatted and cursors that cannot be read or replayed (issue: hostile clients). */

let app: TestApp;
let ids: string[];
let viewer: string;
let alice: string;
let bob: string;

const PAGE = `query($org: ID!, $f: PfaRecordFilter, $after: String) {
  pfaRecords(organizationId: $org, filter: $f, orderBy: [MONTHLY_RATE_DESC], first: 2, after: $after) {
    nodes { id monthlyRate } pageInfo { endCursor hasNextPage } } }`;
const UPDATE = `mutation($input: UpdatePfaRecordInput!) { updatePfaRecord(input: $input) { draft { id } } }`;
type Gql = Awaited<ReturnType<TestApp['gql']>>;
const code = (r: Gql) => r.errors?.[0]?.extensions?.code;
const sessions = async () =>
  Number(
    (await sql<{ n: string }>`SELECT count(*) AS n FROM pfa_session`.execute(app.database.db)).rows[0]?.n,
  );

beforeAll(async () => {
  app = await startTestApp();
  ids = [...(await insertRecords(app.database.db, 'HOLNG', 60)).values()];
  await insertRecords(app.database.db, 'ORG2', 10);
  viewer = await app.token('viewer', ['HOLNG', 'ORG2'], 'vic');
  alice = await app.token('editor', ['HOLNG', 'ORG2'], 'alice');
  bob = await app.token('editor', ['HOLNG', 'ORG2'], 'bob');
});
afterAll(async () => app?.close());

describe('sessions', () => {
  it('a read never creates a session, so a viewer cannot squat an id an editor then uses', async () => {
    const before = await sessions();
    const read = await app.gql(PAGE, { variables: { org: 'HOLNG' }, session: 'my-sandbox', token: viewer });
    expect(read.errors).toBeUndefined();
    expect(await sessions()).toBe(before);
    const edit = await app.gql(UPDATE, {
      variables: { input: { id: ids[0], expectedVersion: 0, changes: { model: 'mine' } } },
      session: 'my-sandbox',
      token: alice,
    });
    expect(edit.errors).toBeUndefined();
    expect(await sessions()).toBe(before + 1);
    // Now it is Alice's: Bob cannot read or write in it.
    expect(
      code(await app.gql(PAGE, { variables: { org: 'HOLNG' }, session: 'my-sandbox', token: bob })),
    ).toBe('FORBIDDEN');
  });

  it('createSession returns a fresh id owned by the caller', async () => {
    const r = await app.gql<{ createSession: { id: string; organizationId: string } }>(
      'mutation { createSession(organizationId: "HOLNG") { id organizationId createdAt } }',
      { token: alice },
    );
    const id = r.data?.createSession.id as string;
    expect(id).toMatch(/^s-[A-Za-z0-9_-]{16}$/);
    const again = await app.gql<{ createSession: { id: string } }>(
      'mutation { createSession(organizationId: "HOLNG") { id } }',
      { token: alice },
    );
    expect(again.data?.createSession.id).not.toBe(id);
    const owner = await app.database.db
      .selectFrom('pfa_session')
      .select('owner_user_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(owner.owner_user_id).toBe('alice');
    expect(code(await app.gql(PAGE, { variables: { org: 'HOLNG' }, session: id, token: bob }))).toBe(
      'FORBIDDEN',
    );
    expect(
      code(await app.gql('mutation { createSession(organizationId: "HOLNG") { id } }', { token: viewer })),
    ).toBe('FORBIDDEN');
  });

  it('the owner cache is bounded and its entries expire', () => {
    let now = 0;
    const cache = new LruCache<string, string>(3, 1000, () => now);
    for (const k of ['a', 'b', 'c', 'd']) cache.set(k, k.toUpperCase());
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe('B');
    cache.set('e', 'E'); // evicts c (b was used more recently)
    expect(cache.get('c')).toBeUndefined();
    now = 1000;
    expect(cache.get('b')).toBeUndefined();
  });
});

describe('cursors', () => {
  it('carry no draft values in clear and only work for the organization, session and filter they were made for', async () => {
    // A draft value that sorts first in Alice's session: the cursor holds it (encrypted).
    const session = 'cur-a';
    await app.gql(UPDATE, {
      variables: { input: { id: ids[5], expectedVersion: 0, changes: { monthlyRate: 987654.32 } } },
      session,
      token: alice,
    });
    const first = await app.gql<{
      pfaRecords: { nodes: { id: string; monthlyRate: number }[]; pageInfo: { endCursor: string } };
    }>(PAGE, { variables: { org: 'HOLNG' }, session, token: alice });
    expect(first.data?.pfaRecords.nodes[0]?.monthlyRate).toBe(987654.32);
    const cursor = first.data?.pfaRecords.pageInfo.endCursor as string;
    const decoded = Buffer.from(cursor, 'base64url').toString('latin1');
    expect(decoded).not.toContain('987654');
    expect(decoded).not.toContain('monthlyRate');

    const next = await app.gql(PAGE, { variables: { org: 'HOLNG', after: cursor }, session, token: alice });
    expect(next.errors).toBeUndefined();
    // Replayed elsewhere: refused.
    for (const [label, r] of [
      ['no session', await app.gql(PAGE, { variables: { org: 'HOLNG', after: cursor }, token: alice })],
      [
        'other session',
        await app.gql(PAGE, { variables: { org: 'HOLNG', after: cursor }, session: 'cur-b', token: alice }),
      ],
      [
        'other organization',
        await app.gql(PAGE, { variables: { org: 'ORG2', after: cursor }, session, token: alice }),
      ],
      [
        'other filter',
        await app.gql(PAGE, {
          variables: { org: 'HOLNG', after: cursor, f: { source: { eq: 'Rental' } } },
          session,
          token: alice,
        }),
      ],
    ] as const) {
      expect({ label, code: code(r) }).toEqual({ label, code: 'BAD_USER_INPUT' });
    }
    // Altered by one bit: refused.
    const raw = Buffer.from(cursor, 'base64url');
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    const altered = await app.gql(PAGE, {
      variables: { org: 'HOLNG', after: raw.toString('base64url') },
      session,
      token: alice,
    });
    expect(code(altered)).toBe('BAD_USER_INPUT');
  });
});
