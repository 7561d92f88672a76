import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runDemo } from '../examples/node-client/src/demo.js';
import { DEFAULT_MANIFEST_PATH } from '../src/http/persisted-queries.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * Issue 13 through real clients: two sessions' views of one record in one @apollo/client
 * InMemoryCache (keyFields ['id', 'viewKey']); PERSISTED_QUERIES apq/only/off; the typed
 * example client (examples/node-client) run end to end against the server.
 */
const ORG = 'HOLNG';
let db: TestDatabase;
let app: TestApp;
let only: TestApp;
let off: TestApp;
let recordId: string;

const LIST = gql`
  query List($org: ID!) {
    pfaRecords(organizationId: $org, first: 1) {
      nodes {
        id
        viewKey
        monthlyRate
      }
    }
  }
`;

const RECORD = gql`
  query Rec($id: ID!) {
    pfaRecord(id: $id) {
      id
      viewKey
      monthlyRate
      draft {
        id
      }
    }
  }
`;

beforeAll(async () => {
  db = await createTestDatabase();
  await insertRecords(db.db, ORG, 30);
  app = await startTestApp({ database: db });
  only = await startTestApp({ database: db, env: { PERSISTED_QUERIES: 'only' } });
  off = await startTestApp({ database: db, env: { PERSISTED_QUERIES: 'off' } });
  const page = await app.gql<{ pfaRecords: { nodes: { id: string }[] } }>(
    `query { pfaRecords(organizationId: "${ORG}", first: 1) { nodes { id } } }`,
  );
  recordId = page.data!.pfaRecords.nodes[0]!.id;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await only?.close();
  await off?.close();
  await db?.drop();
});

function apollo(url: string, token: string, keyed: boolean) {
  return new ApolloClient({
    link: new HttpLink({ uri: `${url}/graphql`, headers: { authorization: `Bearer ${token}` } }),
    cache: new InMemoryCache(keyed ? { typePolicies: { PfaRecord: { keyFields: ['id', 'viewKey'] } } } : {}),
  });
}

describe('@apollo/client InMemoryCache', () => {
  it("keeps a session's view and the baseline of one record apart with keyFields ['id', 'viewKey']", async () => {
    const token = await app.token('editor');
    const edit = await app.gql(
      `mutation($id: ID!) { updatePfaRecord(input: { id: $id, expectedVersion: 0, changes: { monthlyRate: 1234.5 } }) { record { monthlyRate } } }`,
      { variables: { id: recordId }, session: 'apollo-a', token },
    );
    expect(edit.errors).toBeUndefined();
    for (const keyed of [true, false]) {
      const client = apollo(app.url, token, keyed);
      // Session A's grid (watched) and, later, the baseline record read without a session.
      const inA = client.watchQuery({
        query: LIST,
        variables: { org: ORG },
        context: { headers: { 'x-session-id': 'apollo-a' } },
      });
      const seenA: (number | null)[] = [];
      const sub = inA.subscribe({
        next: (r) => {
          const rec = (r.data as { pfaRecords?: { nodes: { monthlyRate: number | null }[] } } | undefined)
            ?.pfaRecords?.nodes[0];
          if (rec) seenA.push(rec.monthlyRate);
        },
      });
      for (let i = 0; i < 50 && seenA.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(seenA[0]).toBe(1234.5);
      const base = await client.query({ query: RECORD, variables: { id: recordId } });
      const baseRecord = (
        base.data as { pfaRecord: { monthlyRate: number; draft: unknown; viewKey: string } }
      ).pfaRecord;
      expect(baseRecord.monthlyRate).not.toBe(1234.5);
      expect(baseRecord.draft).toBeNull();
      await new Promise((r) => setTimeout(r, 100));
      const current = (inA.getCurrentResult().data as { pfaRecords: { nodes: { monthlyRate: number }[] } })
        .pfaRecords.nodes[0]!;
      const entries = Object.keys(client.cache.extract() as Record<string, unknown>).filter((k) =>
        k.startsWith('PfaRecord:'),
      );
      if (keyed) {
        // The session's view is untouched by the baseline read: two cache entries.
        expect(current.monthlyRate).toBe(1234.5);
        expect(seenA.every((v) => v === 1234.5)).toBe(true);
        expect(entries).toHaveLength(2);
      } else {
        // Control: with the default key (id alone) the baseline overwrites the session's view.
        expect(current.monthlyRate).toBe(baseRecord.monthlyRate);
        expect(entries).toHaveLength(1);
      }
      sub.unsubscribe();
      client.stop();
    }
  });
});

describe('PERSISTED_QUERIES', () => {
  const manifest = JSON.parse(readFileSync(DEFAULT_MANIFEST_PATH, 'utf8')) as Record<string, string>;
  const [pageKey, pageText] = Object.entries(manifest).find(([, text]) =>
    text.includes('query RecordsPage'),
  )!;
  const pageHash = pageKey.replace(/^sha256:/, '');

  async function post(target: TestApp, body: unknown) {
    const res = await fetch(`${target.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await target.token('editor')}`,
      },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as {
        data?: unknown;
        errors?: { message: string; extensions?: { code?: string } }[];
      },
    };
  }
  const vars = { organizationId: ORG, first: 2 };

  it('only: runs manifest operations by hash or by text, refuses anything else with BAD_REQUEST', async () => {
    const byHash = await post(only, {
      variables: vars,
      extensions: { persistedQuery: { version: 1, sha256Hash: pageHash } },
    });
    expect(byHash.body.errors).toBeUndefined();
    expect((byHash.body.data as { pfaRecords: { nodes: unknown[] } }).pfaRecords.nodes).toHaveLength(2);
    const byText = await post(only, { query: pageText, variables: vars });
    expect(byText.body.errors).toBeUndefined();
    const adHoc = await post(only, { query: `{ me { userId } }` });
    expect(adHoc.status).toBe(400);
    expect(adHoc.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(adHoc.body.errors?.[0]?.message).toContain('PERSISTED_QUERIES=only');
    const unknownHash = await post(only, {
      query: `{ me { userId } }`,
      extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } },
    });
    expect(unknownHash.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it("apq: Apollo's protocol (unknown hash → PERSISTED_QUERY_NOT_FOUND, then registered)", async () => {
    const query = `query ApqProbe { me { userId } }`;
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const ext = { persistedQuery: { version: 1, sha256Hash } };
    const first = await post(app, { extensions: ext });
    expect(first.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await post(app, { query, extensions: ext });
    expect(register.body.errors).toBeUndefined();
    const again = await post(app, { extensions: ext });
    expect(again.body.errors).toBeUndefined();
  });

  it('off: the persisted-query protocol is PERSISTED_QUERY_NOT_SUPPORTED, plain queries run', async () => {
    const r = await post(off, { extensions: { persistedQuery: { version: 1, sha256Hash: pageHash } } });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
    const plain = await post(off, { query: `{ me { userId } }` });
    expect(plain.body.errors).toBeUndefined();
  });
});

describe('examples/node-client', () => {
  it('runs its walk-through (typed documents, session edit, conflict, commit, kpiChanged) under PERSISTED_QUERIES=only', async () => {
    const lines: string[] = [];
    const report = await runDemo({ baseUrl: only.url, token: await only.token('editor') }, ORG, (l) =>
      lines.push(l),
    );
    expect(report.totalCount).toBeGreaterThan(5);
    expect(report.secondPage).toBe(5);
    expect(report.edited.monthlyRate).toBe(1234.5);
    expect(report.edited.viewKey).not.toBe('base');
    expect(report.committed).toBeGreaterThan(0);
    expect(report.kpiEvents).toBeGreaterThan(0);
    expect(report.resolved).toHaveLength(report.conflicted);
  }, 30_000);
});
