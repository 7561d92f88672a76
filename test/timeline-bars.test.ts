import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { sql } from 'kysely';
import { readBool, readDate, readText } from '../src/domain/values.js';
import { checkLimits } from '../src/graphql/limits.js';
import { withoutLastElement } from '../src/repositories/timeline.repository.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * timelineBars (issue 11): the bars of a Gantt viewport in one request. Every answer is compared
 * with a recomputation in TypeScript from the raw rows (mirror data, pending deltas in commit
 * order, the caller's own open draft; DOMAIN §3), not with the service's SQL merge.
 */

const ORG = 'TLB';
const OTHER = 'TLX';
const FROM = '2025-03-01';
const TO = '2025-05-31';

let app: TestApp;
let ids: Map<string, string>;
let alice: string; // editor, session tl-A
let bob: string; // editor, session tl-B
let carol: string; // editor, session tl-C (commits)

const base = { category: 'Cranes', source: 'Rental', monthlyRate: 1000 };
const EXTRA: { pfaId: string; data: Record<string, unknown> }[] = [
  { pfaId: 'T-IN', data: { ...base, forecastStart: '2025-04-01', forecastEnd: '2025-04-20' } },
  // Same start as T-IN: the record id breaks the tie.
  { pfaId: 'T-TIE', data: { ...base, forecastStart: '2025-04-01', forecastEnd: '2025-04-02' } },
  { pfaId: 'T-END-ON-FROM', data: { ...base, forecastStart: '2025-01-01', forecastEnd: FROM } },
  { pfaId: 'T-START-ON-TO', data: { ...base, forecastStart: TO, forecastEnd: '2025-09-01' } },
  { pfaId: 'T-BEFORE', data: { ...base, forecastStart: '2025-01-01', forecastEnd: '2025-02-28' } },
  { pfaId: 'T-AFTER', data: { ...base, forecastStart: '2025-06-01', forecastEnd: '2025-07-01' } },
  {
    pfaId: 'T-SPAN',
    data: {
      ...base,
      category: 'Generators',
      forecastStart: '2024-01-01',
      forecastEnd: '2026-01-01',
      originalStart: '2024-02-01',
      originalEnd: '2025-12-01',
      actualStart: '2024-01-03',
      isActualized: true,
    },
  },
  { pfaId: 'T-NO-END', data: { ...base, forecastStart: '2025-04-01' } },
  { pfaId: 'T-GARBAGE', data: { ...base, forecastStart: 'TBA', forecastEnd: '2025-04-01' } },
  // Free text travels intact (commas, quotes, backslashes, non-ASCII).
  {
    pfaId: 'T-TEXT,"1"',
    data: {
      ...base,
      category: 'Cranes, "big" \\ ünï',
      forecastStart: '2025-03-02',
      forecastEnd: '2025-03-03',
    },
  },
  // A string that ends in a backslash, and quotes around a comma: hard cases for cutting the
  // last element off a json_agg text.
  {
    pfaId: 'T-SLASH\\',
    data: { ...base, category: 'ends, "with" \\', forecastStart: '2025-03-05', forecastEnd: '2025-03-06' },
  },
  {
    pfaId: 'T-NO-CATEGORY',
    data: { source: 'Rental', forecastStart: '2025-03-15', forecastEnd: '2025-03-16' },
  },
  {
    pfaId: 'T-DISC',
    data: { ...base, forecastStart: '2025-04-01', forecastEnd: '2025-04-30', isDiscontinued: true },
  },
  { pfaId: 'T-REMOVED', data: { ...base, forecastStart: '2025-04-01', forecastEnd: '2025-04-30' } },
  { pfaId: 'T-MOVE-IN', data: { ...base, forecastStart: '2025-08-01', forecastEnd: '2025-08-10' } },
  { pfaId: 'T-MOVE-OUT', data: { ...base, forecastStart: '2025-04-05', forecastEnd: '2025-04-06' } },
  { pfaId: 'T-PENDING', data: { ...base, forecastStart: '2026-02-01', forecastEnd: '2026-02-10' } },
  { pfaId: 'T-B-DRAFT', data: { ...base, forecastStart: '2027-01-01', forecastEnd: '2027-01-10' } },
];

const id = (pfaId: string): string => ids.get(pfaId) as string;

const BAR_FIELDS = [
  'id',
  'pfaId',
  'category',
  'forecastStart',
  'forecastEnd',
  'originalStart',
  'originalEnd',
  'actualStart',
  'actualEnd',
  'hasDraft',
] as const;
type Columns = Record<(typeof BAR_FIELDS)[number], unknown[]>;
interface Bar {
  id: string;
  pfaId: string;
  category: string | null;
  forecastStart: string;
  forecastEnd: string;
  originalStart: string | null;
  originalEnd: string | null;
  actualStart: string | null;
  actualEnd: string | null;
  hasDraft: boolean;
}

interface Answer {
  from: string;
  to: string;
  count: number;
  truncated: boolean;
  totalCount: number;
  bars: Columns;
}

const QUERY = `query($org: ID!, $from: LocalDate!, $to: LocalDate!, $filter: PfaRecordFilter, $limit: Int) {
  timelineBars(organizationId: $org, from: $from, to: $to, filter: $filter, limit: $limit) {
    from to count truncated totalCount
    bars { ${BAR_FIELDS.join(' ')} }
  }
}`;

async function bars(
  variables: Record<string, unknown>,
  token: string,
  session: string | null,
): Promise<Answer> {
  const r = await app.gql<{ timelineBars: Answer }>(QUERY, {
    variables: { org: ORG, from: FROM, to: TO, ...variables },
    token,
    session,
  });
  expect(r.errors).toBeUndefined();
  return (r.data as { timelineBars: Answer }).timelineBars;
}

async function edit(token: string, session: string, pfaId: string, changes: Record<string, unknown>) {
  const r = await app.gql(
    `mutation($input: UpdatePfaRecordInput!) { updatePfaRecord(input: $input) { draft { id } } }`,
    { variables: { input: { id: id(pfaId), expectedVersion: 0, changes } }, token, session },
  );
  expect(r.errors).toBeUndefined();
}

/** The bars a caller should see, recomputed from the raw rows. */
async function expected(
  session: string | null,
  options: { includeRemoved?: boolean; discontinued?: boolean; category?: string } = {},
): Promise<Columns> {
  const { rows: mirror } = await sql<{
    id: string;
    pfa_id: string;
    data: Record<string, unknown>;
    removed: boolean;
  }>`SELECT id::text AS id, pfa_id, data, removed_from_pems_at IS NOT NULL AS removed
     FROM pfa_mirror WHERE organization_id = ${ORG}`.execute(app.database.db);
  const { rows: mods } = await sql<{
    mirror_id: string;
    session_id: string;
    sync_state: string;
    delta: Record<string, unknown>;
  }>`SELECT mirror_id::text AS mirror_id, session_id, sync_state::text AS sync_state, delta
     FROM pfa_modification WHERE organization_id = ${ORG}
     ORDER BY committed_at NULLS LAST, id`.execute(app.database.db);
  const out: Bar[] = [];
  for (const m of mirror) {
    let data = { ...m.data };
    for (const d of mods)
      if (d.mirror_id === m.id && (d.sync_state === 'committed' || d.sync_state === 'syncing'))
        data = { ...data, ...d.delta };
    const own = mods.find(
      (d) =>
        d.mirror_id === m.id &&
        d.session_id === session &&
        (d.sync_state === 'draft' || d.sync_state === 'conflict'),
    );
    if (own) data = { ...data, ...own.delta };
    const start = readDate(data.forecastStart);
    const end = readDate(data.forecastEnd);
    if (start === null || end === null || start > TO || end < FROM) continue;
    if (m.removed && !options.includeRemoved) continue;
    if (!options.discontinued && readBool(data.isDiscontinued) === true) continue;
    if (options.category !== undefined && readText(data.category) !== options.category) continue;
    out.push({
      id: m.id,
      pfaId: m.pfa_id,
      category: readText(data.category),
      forecastStart: start,
      forecastEnd: end,
      originalStart: readDate(data.originalStart),
      originalEnd: readDate(data.originalEnd),
      actualStart: readDate(data.actualStart),
      actualEnd: readDate(data.actualEnd),
      hasDraft: own !== undefined,
    });
  }
  out.sort((a, b) =>
    a.forecastStart !== b.forecastStart
      ? a.forecastStart < b.forecastStart
        ? -1
        : 1
      : Number(BigInt(a.id) - BigInt(b.id)),
  );
  return Object.fromEntries(BAR_FIELDS.map((f) => [f, out.map((bar) => bar[f])])) as Columns;
}

const has = (answer: Answer, pfaId: string): boolean => answer.bars.id.includes(id(pfaId));

beforeAll(async () => {
  app = await startTestApp();
  ids = await insertRecords(app.database.db, ORG, 400, EXTRA);
  // Another organization's bars in the same window are never seen.
  await insertRecords(app.database.db, OTHER, 50, [
    { pfaId: 'T-IN', data: { ...base, forecastStart: '2025-04-01', forecastEnd: '2025-04-20' } },
  ]);
  alice = await app.token('editor', [ORG], 'alice');
  bob = await app.token('editor', [ORG], 'bob');
  carol = await app.token('editor', [ORG], 'carol');
  await sql`UPDATE pfa_mirror SET removed_from_pems_at = now() WHERE id = ${id('T-REMOVED')}::bigint`.execute(
    app.database.db,
  );
  // Alice's session: one record moved into the window, one out of it.
  await edit(alice, 'tl-A', 'T-MOVE-IN', { forecastStart: '2025-03-10', forecastEnd: '2025-03-20' });
  await edit(alice, 'tl-A', 'T-MOVE-OUT', { forecastStart: '2026-01-01', forecastEnd: '2026-01-05' });
  // Bob's open draft moves another one in, for Bob only.
  await edit(bob, 'tl-B', 'T-B-DRAFT', { forecastStart: '2025-05-01', forecastEnd: '2025-05-03' });
  // Carol commits a change that moves a record into the window for everybody.
  await edit(carol, 'tl-C', 'T-PENDING', { forecastStart: '2025-05-01', forecastEnd: '2025-05-02' });
  const commit = await app.gql(
    `mutation { commitDrafts(organizationId: "${ORG}") { committed { id } conflicted { id } } }`,
    { token: carol, session: 'tl-C' },
  );
  expect(commit.errors).toBeUndefined();
}, 60_000);

afterAll(async () => {
  await app?.close();
});

describe('timelineBars answers', () => {
  it('lists the bars overlapping the window on merged values: own draft moves in and out, pending commit, removed and discontinued left out', async () => {
    const mine = await bars({}, alice, 'tl-A');
    const want = await expected('tl-A');
    expect(mine.bars).toEqual(want);
    expect(mine.count).toBe(want.id.length);
    expect(mine.totalCount).toBe(want.id.length);
    expect(mine.truncated).toBe(false);
    expect(mine.from).toBe(FROM);
    expect(mine.to).toBe(TO);
    // The cases the data was built for, spelled out.
    for (const pfaId of ['T-IN', 'T-TIE', 'T-END-ON-FROM', 'T-START-ON-TO', 'T-SPAN', 'T-NO-CATEGORY'])
      expect(has(mine, pfaId)).toBe(true);
    for (const pfaId of ['T-BEFORE', 'T-AFTER', 'T-NO-END', 'T-GARBAGE', 'T-DISC', 'T-REMOVED'])
      expect(has(mine, pfaId)).toBe(false);
    expect(has(mine, 'T-MOVE-IN')).toBe(true);
    expect(has(mine, 'T-MOVE-OUT')).toBe(false);
    expect(has(mine, 'T-PENDING')).toBe(true);
    expect(has(mine, 'T-B-DRAFT')).toBe(false);
    const moved = mine.bars.id.indexOf(id('T-MOVE-IN'));
    expect(mine.bars.forecastStart[moved]).toBe('2025-03-10');
    expect(mine.bars.hasDraft[moved]).toBe(true);
    expect(mine.bars.category[mine.bars.id.indexOf(id('T-NO-CATEGORY'))]).toBeNull();
    const text = mine.bars.id.indexOf(id('T-TEXT,"1"'));
    expect([mine.bars.pfaId[text], mine.bars.category[text]]).toEqual(['T-TEXT,"1"', 'Cranes, "big" \\ ünï']);
    const span = mine.bars.id.indexOf(id('T-SPAN'));
    expect(mine.bars.originalEnd[span]).toBe('2025-12-01');
    expect(mine.bars.actualStart[span]).toBe('2024-01-03');
    // Ties on the start are ordered by record id.
    const [inAt, tieAt] = [mine.bars.id.indexOf(id('T-IN')), mine.bars.id.indexOf(id('T-TIE'))];
    expect(inAt < tieAt).toBe(BigInt(id('T-IN')) < BigInt(id('T-TIE')));
    // Generated records fill the window too: the answer is more than the hand-made cases.
    expect(mine.count).toBeGreaterThan(20);
  });

  it('shows other sessions their own view: drafts of others never, pending commits always', async () => {
    const theirs = await bars({}, bob, 'tl-B');
    expect(theirs.bars).toEqual(await expected('tl-B'));
    expect(has(theirs, 'T-B-DRAFT')).toBe(true);
    expect(has(theirs, 'T-MOVE-IN')).toBe(false);
    expect(has(theirs, 'T-MOVE-OUT')).toBe(true);
    expect(has(theirs, 'T-PENDING')).toBe(true);
    const shared = await bars({}, alice, null);
    expect(shared.bars).toEqual(await expected(null));
    expect(shared.bars.hasDraft.every((d) => d === false)).toBe(true);
    expect(has(shared, 'T-PENDING')).toBe(true);
    expect(has(shared, 'T-B-DRAFT')).toBe(false);
  });

  it('applies the filter language with its defaults (isDiscontinued, includeRemoved, fields)', async () => {
    const removed = await bars({ filter: { includeRemoved: true } }, alice, 'tl-A');
    expect(removed.bars).toEqual(await expected('tl-A', { includeRemoved: true }));
    expect(has(removed, 'T-REMOVED')).toBe(true);
    const discontinued = await bars(
      { filter: { or: [{ isDiscontinued: true }, { isDiscontinued: false }] } },
      alice,
      'tl-A',
    );
    expect(discontinued.bars).toEqual(await expected('tl-A', { discontinued: true }));
    expect(has(discontinued, 'T-DISC')).toBe(true);
    const cranes = await bars({ filter: { category: { eq: 'Generators' } } }, alice, 'tl-A');
    expect(cranes.bars).toEqual(await expected('tl-A', { category: 'Generators' }));
    expect(has(cranes, 'T-SPAN')).toBe(true);
    expect(cranes.count).toBeLessThan((await expected('tl-A')).id.length);
  });

  it('stops at the limit, says so, and counts every overlapping bar only when the limit cut', async () => {
    const all = await expected('tl-A');
    const cut = await bars({ limit: 5 }, alice, 'tl-A');
    expect(cut.count).toBe(5);
    expect(cut.truncated).toBe(true);
    expect(cut.totalCount).toBe(all.id.length);
    expect(cut.bars.id).toEqual(all.id.slice(0, 5));
    expect(cut.bars.forecastEnd).toEqual(all.forecastEnd.slice(0, 5));
    const exact = await bars({ limit: all.id.length }, alice, 'tl-A');
    expect(exact.truncated).toBe(false);
    expect(exact.bars.id).toEqual(all.id);
    const fewer = await bars({ limit: all.id.length - 1 }, alice, 'tl-A');
    expect(fewer.truncated).toBe(true);
    expect(fewer.totalCount).toBe(all.id.length);
  });

  it('cuts every column at the limit, in order, whatever the bar the limit cuts off', async () => {
    const all = await expected('tl-A');
    const at = (pfaId: string) => all.id.indexOf(id(pfaId));
    // A limit of k drops bar k (0-based), the limit + 1st: one such limit per hard case (a free
    // text with quotes, commas or a final backslash, a null category, a draft, dates present or
    // null), the bar before it and after it, plus the first and last possible cuts.
    const cases = ['T-TEXT,"1"', 'T-SLASH\\', 'T-NO-CATEGORY', 'T-MOVE-IN', 'T-SPAN'].map(at);
    for (const j of cases) expect(j).toBeGreaterThanOrEqual(0);
    const limits = new Set([1, 2, all.id.length - 1, ...cases.flatMap((j) => [j - 1, j, j + 1])]);
    for (const limit of [...limits].filter((k) => k >= 1 && k < all.id.length)) {
      const cut = await bars({ limit }, alice, 'tl-A');
      const want = Object.fromEntries(BAR_FIELDS.map((f) => [f, all[f].slice(0, limit)]));
      expect({ limit, bars: cut.bars }).toEqual({ limit, bars: want });
      expect([cut.count, cut.truncated, cut.totalCount]).toEqual([limit, true, all.id.length]);
    }
  });

  it('writes the columns into the HTTP body as JSON, no placeholder left', async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${alice}`,
        'x-session-id': 'tl-A',
      },
      body: JSON.stringify({ query: QUERY, variables: { org: ORG, from: FROM, to: TO } }),
    });
    const text = await res.text();
    expect(text).not.toContain('@raw-json');
    const body = JSON.parse(text) as { data: { timelineBars: Answer } };
    expect(body.data.timelineBars.bars).toEqual(await expected('tl-A'));
    // Fields in the order asked, the columns among them.
    expect(Object.keys(body.data.timelineBars)).toEqual([
      'from',
      'to',
      'count',
      'truncated',
      'totalCount',
      'bars',
    ]);
    expect(Object.keys(body.data.timelineBars.bars)).toEqual([...BAR_FIELDS]);
  });

  it('answers an empty window and a one-day window', async () => {
    const empty = await bars({ from: '2031-01-01', to: '2031-12-31' }, alice, 'tl-A');
    expect(empty).toMatchObject({ count: 0, truncated: false, totalCount: 0 });
    expect(empty.bars.id).toEqual([]);
    const day = await bars({ from: '2025-03-01', to: '2025-03-01' }, alice, 'tl-A');
    expect(has(day, 'T-END-ON-FROM')).toBe(true);
    expect(day.bars.forecastStart.every((d) => (d as string) <= '2025-03-01')).toBe(true);
    expect(day.bars.forecastEnd.every((d) => (d as string) >= '2025-03-01')).toBe(true);
  });
});

describe('withoutLastElement: the limit + 1st bar cut off a json_agg text', () => {
  it('gives the json_agg text of one element fewer, for strings PostgreSQL escapes, null and booleans', async () => {
    const values = ['a', 'b, c', '"q"', 'x\\', '\\"', ', "', 'ü ✓', null, 'tab\there', '\\\\', 'end"', ''];
    const agg = async (k: number) => {
      const { rows } = await sql<{ t: string; b: string }>`
        SELECT json_agg(v ORDER BY i)::text AS t, json_agg(i % 2 = 0 ORDER BY i)::text AS b
        FROM unnest(${values}::text[]) WITH ORDINALITY AS x(v, i) WHERE i <= ${k}`.execute(app.database.db);
      return rows[0] as { t: string; b: string };
    };
    let shorter = await agg(1);
    for (let k = 2; k <= values.length; k++) {
      const full = await agg(k);
      expect(withoutLastElement(full.t)).toBe(shorter.t);
      expect(withoutLastElement(full.b)).toBe(shorter.b);
      expect(JSON.parse(withoutLastElement(full.t))).toEqual(values.slice(0, k - 1));
      shorter = full;
    }
    expect(() => withoutLastElement('["only"]')).toThrow();
    expect(() => withoutLastElement('[null]')).toThrow();
  });
});

describe('timelineBars refusals', () => {
  const problem = async (variables: Record<string, unknown>, token = alice) => {
    const r = await app.gql(QUERY, { variables: { org: ORG, from: FROM, to: TO, ...variables }, token });
    expect(r.data?.timelineBars ?? null).toBeNull();
    return { status: r.status, extensions: r.errors?.[0]?.extensions ?? {} };
  };

  it('refuses a limit outside 1–50,000 before executing, naming the argument', async () => {
    for (const limit of [50_001, 0, -5])
      expect(await problem({ limit })).toEqual({
        status: 400,
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', argument: 'limit' }),
      });
    expect((await bars({ limit: 50_000 }, alice, 'tl-A')).truncated).toBe(false);
  });

  it('refuses a window that ends before it starts or spans more than three years, naming `to`', async () => {
    const bad = { code: 'BAD_USER_INPUT', argument: 'to' };
    expect((await problem({ from: '2025-03-02', to: '2025-03-01' })).extensions).toMatchObject(bad);
    // 2024-01-01 … 2026-12-31 holds 1,096 days (2024 is a leap year): allowed; one day more is not.
    expect((await bars({ from: '2024-01-01', to: '2026-12-31' }, alice, 'tl-A')).count).toBeGreaterThan(0);
    expect((await problem({ from: '2024-01-01', to: '2027-01-01' })).extensions).toMatchObject(bad);
    expect((await problem({ from: '2025-02-30' })).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('refuses another organization with FORBIDDEN', async () => {
    const r = await app.gql(QUERY, { variables: { org: OTHER, from: FROM, to: TO }, token: alice });
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('timelineBars cost rule', () => {
  const aliased = (n: number, limit = '') =>
    `{ ${Array.from(
      { length: n },
      (_, i) =>
        `t${i}: timelineBars(organizationId: "${ORG}", from: "${FROM}", to: "${TO}"${limit}) { count bars { id forecastStart forecastEnd } }`,
    ).join(' ')} }`;

  it('refuses 14 (and 4) full-size timelineBars in one request; 3 pass', async () => {
    for (const n of [14, 4]) {
      const r = await app.gql(aliased(n), { token: alice });
      expect(r.status).toBe(400);
      expect(r.data).toBeUndefined();
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
      expect(Number(r.errors?.[0]?.extensions?.cost)).toBeGreaterThan(50_000);
    }
    const ok = await app.gql<Record<string, { count: number }>>(aliased(3), { token: alice });
    expect(ok.errors).toBeUndefined();
    expect(Object.keys(ok.data ?? {})).toHaveLength(3);
    // Smaller limits cost less: 14 windows of 1,000 bars fit.
    const small = await app.gql(aliased(14, ', limit: 1000'), { token: alice });
    expect(small.errors).toBeUndefined();
  });

  it('lets no limit value lower the estimate of the rest of the request', async () => {
    const pages = Array.from(
      { length: 14 },
      (_, i) => `p${i}: pfaRecords(organizationId: "${ORG}", first: 1000) { nodes { id pfaId category } }`,
    ).join(' ');
    const r = await app.gql(
      `{ t: timelineBars(organizationId: "${ORG}", from: "${FROM}", to: "${TO}", limit: -1000000) { count } ${pages} }`,
      { token: alice },
    );
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'limit' });
  });

  it('leaves the limits of pfaRecords as they were', async () => {
    const over = await app.gql(`{ pfaRecords(organizationId: "${ORG}", first: 1001) { nodes { id } } }`, {
      token: alice,
    });
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first' });
    const pages = Array.from(
      { length: 14 },
      (_, i) =>
        `p${i}: pfaRecords(organizationId: "${ORG}", first: 1000) { nodes { id pfaId category class source dor } }`,
    ).join(' ');
    const many = await app.gql(`{ ${pages} }`, { token: alice });
    expect(many.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
  });

  it('estimates 1 + ⌈limit / 4⌉ + the selection, arrays counted once', () => {
    const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
    const estimate = (source: string, variables: Record<string, unknown> = {}) => {
      const document = parse(source);
      const operation = getOperationAST(document);
      if (!operation) throw new Error('no operation');
      const e = checkLimits(
        document,
        operation,
        variables,
        { maxDepth: 1e9, maxAliases: 1e9, maxCost: 0, maxPageSize: 1000 },
        schema,
      );
      return Number(e?.extensions.cost);
    };
    const field = (limit: string) =>
      `timelineBars(organizationId: "A", from: "2025-01-01", to: "2025-02-01"${limit}) { count bars { id forecastStart } }`;
    // count 1 + bars (1 + id 1 + forecastStart 1) = 4
    expect(estimate(`{ ${field(', limit: 1000')} }`)).toBe(1 + 250 + 4);
    expect(estimate(`{ ${field('')} }`)).toBe(1 + 12_500 + 4);
    expect(estimate(`query($n: Int) { ${field(', limit: $n')} }`, { n: 10 })).toBe(1 + 3 + 4);
    expect(estimate(`query($n: Int = 400) { ${field(', limit: $n')} }`)).toBe(1 + 100 + 4);
  });
});
