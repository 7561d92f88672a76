import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * Issue 10, class 2 ("validate before SQL; never INTERNAL for anything a client controls"): the
 * probes that reached PostgreSQL or blew the stack, replayed against a running service. Each must
 * be BAD_USER_INPUT (or the client error the contract names), naming the bad value, and write
 * nothing.
 */

let app: TestApp;
let editor: string;
let recordId: string;
const SESSION = 'probe-session';

beforeAll(async () => {
  app = await startTestApp();
  const ids = await insertRecords(app.database.db, 'HOLNG', 30);
  recordId = [...ids.values()][0] as string;
  editor = await app.token('editor', ['HOLNG']);
});

afterAll(async () => {
  await app?.close();
});

async function writes(): Promise<number> {
  const [m, e] = await Promise.all([
    app.database.db
      .selectFrom('pfa_modification')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    app.database.db
      .selectFrom('pfa_modification_event')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return Number(m.n) + Number(e.n);
}

async function expectRefused(
  query: string,
  variables: Record<string, unknown> | undefined,
  argument: string | RegExp,
) {
  const before = await writes();
  const r = await app.gql(query, { token: editor, session: SESSION, ...(variables ? { variables } : {}) });
  expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  if (typeof argument === 'string') expect(r.errors?.[0]?.extensions?.argument).toBe(argument);
  else expect(String(r.errors?.[0]?.extensions?.argument)).toMatch(argument);
  expect(await writes()).toBe(before);
  return r.errors?.[0];
}

const RECORDS = `query($f: PfaRecordFilter) { pfaRecords(organizationId: "HOLNG", filter: $f) { nodes { id } } }`;
const UPDATE = `mutation($input: UpdatePfaRecordInput!) { updatePfaRecord(input: $input) { draft { id } } }`;
const BULK = `mutation($input: BulkUpdatePfaRecordsInput!) { bulkUpdatePfaRecords(input: $input) { affectedCount } }`;

describe('NUL bytes are refused with the path of the bad value', () => {
  it('in a filter variable', async () => {
    await expectRefused(RECORDS, { f: { category: { eq: 'Cra\u0000nes' } } }, 'variables.f.category.eq');
    await expectRefused(RECORDS, { f: { or: [{}, { search: 'a\u0000' }] } }, 'variables.f.or[1].search');
    await expectRefused(RECORDS, { f: { dataContains: { 'k\u0000': 1 } } }, /^variables\.f\.dataContains/);
  });

  it('in a filter written inline in the document', async () => {
    await expectRefused(
      `{ pfaRecords(organizationId: "HOLNG", filter: { model: { contains: "x\\u0000" } }) { nodes { id } } }`,
      undefined,
      'pfaRecords.filter.model.contains',
    );
  });

  it('in changes and reason, writing nothing', async () => {
    await expectRefused(
      UPDATE,
      { input: { id: recordId, expectedVersion: 0, changes: { category: 'Pumps\u0000' } } },
      'variables.input.changes.category',
    );
    await expectRefused(
      UPDATE,
      { input: { id: recordId, expectedVersion: 0, changes: { category: 'Pumps' }, reason: 'why\u0000' } },
      'variables.input.reason',
    );
    await expectRefused(
      BULK,
      { input: { organizationId: 'HOLNG', filter: {}, changes: { model: 'M\u0000' } } },
      'variables.input.changes.model',
    );
  });

  it('in the X-Session-Id header', async () => {
    // Node's HTTP parser answers 400 to a NUL or control character in any header before the
    // service sees it; whatever it lets through is checked (1–64 letters, digits, - or _).
    for (const value of ['a\u0000b', 'a\u0001b']) {
      const raw = await rawRequest(`x-session-id: ${value}\r\n`);
      expect(raw.status).toBe(400);
      expect(raw.body).not.toMatch(/INTERNAL_SERVER_ERROR/);
    }
    const r = await app.gql(RECORDS, { token: editor, session: 'x'.repeat(65) });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.argument).toBe('X-Session-Id');
  });
});

describe('dates outside 0001-01-01 … 9999-12-31 are BAD_USER_INPUT', () => {
  it('forecastStart: { gte: "0000-01-01" } in a variable and inline', async () => {
    await expectRefused(RECORDS, { f: { forecastStart: { gte: '0000-01-01' } } }, /forecastStart/);
    const inline = await app.gql(
      `{ pfaRecords(organizationId: "HOLNG", filter: { forecastStart: { gte: "0000-01-01" } }) { nodes { id } } }`,
      { token: editor },
    );
    // A literal that does not fit its type is a validation error of the document (DOMAIN §5).
    expect(inline.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('in changes, writing nothing', async () => {
    await expectRefused(
      UPDATE,
      { input: { id: recordId, expectedVersion: 0, changes: { forecastStart: '0000-12-31' } } },
      /forecastStart/,
    );
    await expectRefused(
      UPDATE,
      { input: { id: recordId, expectedVersion: 0, changes: { forecastEnd: '10000-01-01' } } },
      /forecastEnd/,
    );
  });
});

describe('deep or huge variables are BAD_USER_INPUT', () => {
  // Written as text: JSON.stringify of a value this deep overflows the client's stack too.
  const deep = (n: number, inner: string) =>
    Array.from({ length: n }, (_, i) => (i % 2 ? '{"not":' : '{"and":[')).join('') +
    inner +
    Array.from({ length: n }, (_, i) => (i % 2 ? '}' : ']}'))
      .reverse()
      .join('');

  it('a filter variable nested 5,000 deep', async () => {
    const before = await writes();
    const r = await postText(
      `{"query":${JSON.stringify(RECORDS)},"variables":{"f":${deep(5000, '{"category":{"eq":"Cranes"}}')}}}`,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(String(r.errors?.[0]?.extensions?.argument)).toMatch(/^variables\.f/);
    expect(r.errors?.[0]?.message).toMatch(/deep/);
    expect(await writes()).toBe(before);
  });

  it('a filter nested 5,000 deep inside a bulk edit', async () => {
    const before = await writes();
    const r = await postText(
      `{"query":${JSON.stringify(BULK)},"variables":{"input":{"organizationId":"HOLNG","shiftForecastDays":1,"filter":${deep(5000, '{}')}}}}`,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await writes()).toBe(before);
  });

  it('a filter nested 5,000 deep written inline in the document', async () => {
    const inline = 'filter: ' + '{ and: ['.repeat(5000) + '{}' + '] }'.repeat(5000);
    const r = await app.gql(`{ pfaRecords(organizationId: "HOLNG", ${inline}) { nodes { id } } }`, {
      token: editor,
    });
    expect(r.status).toBeLessThan(500);
    expect(r.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
  });

  it('a variable of a million list entries', async () => {
    const r = await app.gql(RECORDS, {
      token: editor,
      variables: { f: { pfaId: { in: Array.from({ length: 200_000 }, () => 'x') } } },
    });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('a persisted-query mismatch is the client’s error', () => {
  it('a wrong sha256 is BAD_REQUEST, not INTERNAL', async () => {
    const query = '{ __typename }';
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${editor}` },
      body: JSON.stringify({
        query,
        extensions: {
          persistedQuery: { version: 1, sha256Hash: createHash('sha256').update('other').digest('hex') },
        },
      }),
    });
    const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(res.status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('a malformed hash or version is BAD_REQUEST too', async () => {
    for (const persistedQuery of [
      { version: 1, sha256Hash: 'not-hex' },
      { version: 1, sha256Hash: 42 },
      { version: 2, sha256Hash: 'ab' },
      'persisted',
    ]) {
      const res = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${editor}` },
        body: JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery } }),
      });
      const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      expect(body.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
      expect(res.status).toBeLessThan(500);
    }
  });
});

/** POST a body given as text, with the editor's token and the probe session. */
async function postText(body: string) {
  const res = await fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${editor}`,
      'x-session-id': SESSION,
    },
    body,
  });
  return {
    status: res.status,
    ...((await res.json()) as { errors?: { message: string; extensions?: Record<string, unknown> }[] }),
  };
}

/** One POST with a hand-written header block (fetch refuses control characters in headers). */
function rawRequest(extraHeaders: string): Promise<{ status: number; body: string }> {
  const url = new URL(app.url);
  const body = JSON.stringify({ query: '{ __typename }' });
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(
        `POST /graphql HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n` +
          `authorization: Bearer ${editor}\r\n${extraHeaders}content-length: ${Buffer.byteLength(body)}\r\n` +
          `connection: close\r\n\r\n${body}`,
      );
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}
