import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sql } from 'kysely';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * Property-based fuzzing of the whole request path (issue 10 point 2): generated filters,
 * orderings, page sizes, cursors, edits, bulk edits, draft ids and header values — NUL bytes, huge
 * and oddly-encoded strings, deep nesting, impossible dates, extreme numbers, wrong types — go to
 * the real server over HTTP. Properties:
 *   1. no response is INTERNAL_SERVER_ERROR or a 5xx;
 *   2. a refused mutation writes nothing: every mutation runs in a session of its own, and a
 *      session whose mutation was refused has no pfa_modification and no pfa_modification_event
 *      row afterwards.
 * Cases go in concurrent batches (BATCH per property run, RUNS runs): at least 10,000 per CI run.
 * FUZZ_RUNS / FUZZ_SEED reproduce or widen a run; a failure prints fast-check's seed and path.
 */

const BATCH = 50;
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

let app: TestApp;
let editor: string;
let recordIds: string[];
let realCursors: string[];
let sessionCounter = 0;

beforeAll(async () => {
  app = await startTestApp();
  const ids = await insertRecords(app.database.db, 'HOLNG', 150);
  recordIds = [...ids.values()];
  editor = await app.token('editor', ['HOLNG']);
  const page = await app.gql<{ pfaRecords: { edges: { cursor: string }[] } }>(
    `{ pfaRecords(organizationId: "HOLNG", first: 5, orderBy: [FORECAST_START_DESC]) { edges { cursor } } }`,
    { token: editor },
  );
  realCursors = page.data?.pfaRecords.edges.map((e) => e.cursor) ?? [];
  expect(realCursors.length).toBe(5);
}, 120_000);

afterAll(async () => {
  await app?.close();
});

// ------------------------------------------------------------------------------- generators

/** Odd text: control characters, combining marks, RTL, emoji, non-characters, lone surrogates. */
const ODD = [
  '\u0001',
  '\u007f',
  'e\u0301',
  '\u202e',
  '\u200b',
  '\ufeff',
  '😀',
  '👩\u200d💻',
  '中文',
  '\uffff',
  '\ud800',
  '\udfff',
  '\u0000',
];
const shortString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...ODD), fc.string({ maxLength: 3 })), { maxLength: 4 })
      .map((parts) => parts.join('')),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '\u0000',
      'a\u0000b',
      '\ud800',
      'x\udfff',
      '\ud83d\ude00',
      '%',
      '_',
      '\\',
      "'; DROP TABLE pfa_mirror; --",
      'Crane',
      'Rental',
      'Purchase',
      '',
      ' ',
      '\u202e\u200b',
      'e\u0301',
      '\uffff',
      '0000-01-01',
      'NaN',
    ),
  },
);
/** Mostly short; now and then longer than any limit (up to 5,000 characters). */
const nastyString = fc.oneof(
  { weight: 12, arbitrary: shortString },
  { weight: 1, arbitrary: fc.integer({ min: 150, max: 5000 }).map((n) => 'x'.repeat(n)) },
);

const isoDate = fc
  .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const nastyDate = fc.oneof(
  { weight: 3, arbitrary: isoDate },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '0000-01-01',
      '0000-12-31',
      '0001-01-01',
      '9999-12-31',
      '10000-01-01',
      '-0001-01-01',
      '2025-02-29',
      '2024-02-29',
      '2025-13-01',
      '2025-00-10',
      '2025-1-1',
      '2025-01-01T00:00:00Z',
      '20250101',
      '',
      'tomorrow',
      '2025-01-01\u0000',
    ),
  },
  { weight: 1, arbitrary: nastyString },
);

const nastyNumber = fc.oneof(
  { weight: 3, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.integer() },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      1e308,
      -1e308,
      5e-324,
      -0,
      0,
      0.005,
      1e12,
      1e13,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 53 + 2,
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('NaN', '1e308', '-0', 'Infinity', '12', '1,250.00') },
);

/** Any JSON-ish value, for places that expect something specific. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  nastyNumber,
  fc.boolean(),
  fc.constant(null),
  fc.constant([]),
  fc.constant({}),
);

const TEXT_FIELDS = [
  'pfaId',
  'category',
  'class',
  'source',
  'dor',
  'areaSilo',
  'manufacturer',
  'model',
  'contract',
  'equipment',
];
const NUMBER_FIELDS = ['monthlyRate', 'purchasePrice', 'planCost', 'forecastCost', 'actualCost', 'variance'];
const DATE_FIELDS = [
  'originalStart',
  'originalEnd',
  'forecastStart',
  'forecastEnd',
  'actualStart',
  'actualEnd',
];
const BOOL_FIELDS = [
  'isActualized',
  'hasActuals',
  'hasPlan',
  'isDiscontinued',
  'isFundsTransferable',
  'hasDraft',
  'includeRemoved',
];

const list = <T>(a: fc.Arbitrary<T>, filler: T) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.array(a, { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 900, max: 1200 }).map((n) => Array.from({ length: n }, () => filler)),
    },
  );

const stringOps = fc.record(
  {
    eq: nastyString,
    ne: nastyString,
    in: list(nastyString, 'x'),
    notIn: list(nastyString, 'y'),
    contains: nastyString,
    startsWith: nastyString,
    isNull: fc.boolean(),
  },
  { requiredKeys: [] },
);
const numberOps = fc.record(
  {
    eq: nastyNumber,
    ne: nastyNumber,
    gt: nastyNumber,
    gte: nastyNumber,
    lt: nastyNumber,
    lte: nastyNumber,
    in: list(nastyNumber, 1),
    isNull: fc.boolean(),
  },
  { requiredKeys: [] },
);
const dateOps = fc.record(
  { eq: nastyDate, gt: nastyDate, gte: nastyDate, lt: nastyDate, lte: nastyDate, isNull: fc.boolean() },
  { requiredKeys: [] },
);

/** One field condition (or something that is not one). */
const condition: fc.Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(fc.constantFrom(...TEXT_FIELDS), stringOps),
  fc.tuple(fc.constantFrom(...NUMBER_FIELDS), numberOps),
  fc.tuple(fc.constantFrom(...DATE_FIELDS), dateOps),
  fc.tuple(fc.constantFrom(...BOOL_FIELDS), fc.oneof(fc.boolean(), junk)),
  fc.tuple(fc.constant('search'), nastyString),
  fc.tuple(
    fc.constant('dataContains'),
    fc.oneof(
      fc.dictionary(shortString, junk, { maxKeys: 4 }),
      fc.dictionary(shortString, fc.dictionary(shortString, junk, { maxKeys: 2 }), { maxKeys: 2 }),
      fc.constantFrom({ a: { b: { c: { d: { e: 1 } } } } }, [1, 2], { model: 'x'.repeat(2500) }),
    ),
  ),
  fc.tuple(fc.oneof(fc.constantFrom('unknownField', 'id', '__proto__'), nastyString), junk),
  fc.tuple(fc.constantFrom(...TEXT_FIELDS, ...DATE_FIELDS), junk),
);

const conditions = fc
  .array(condition, { maxLength: 4 })
  .map((c) => Object.fromEntries(c) as Record<string, unknown>);
const { filter } = fc.letrec<{ filter: Record<string, unknown> }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    conditions,
    fc
      .tuple(
        conditions,
        fc.constantFrom('and', 'or', 'not'),
        fc.array(tie('filter'), { minLength: 1, maxLength: 3 }),
      )
      .map(([f, op, subs]) => ({ ...f, [op]: op === 'not' ? subs[0] : subs })),
  ),
}));

/** Shapes the limits exist for: very many branches, very deep nesting. */
const hugeFilter = fc.oneof(
  fc.nat({ max: 3000 }).map((n) => ({ or: Array.from({ length: n }, () => ({})) })),
  fc.nat({ max: 800 }).map((n) => ({ or: Array.from({ length: n }, (_, i) => ({ search: `w${i}` })) })),
  fc
    .nat({ max: 600 })
    .map((n) => ({ and: Array.from({ length: n }, (_, i) => ({ dataContains: { model: `M${i}` } })) })),
  fc.integer({ min: 1, max: 400 }).map((n) => {
    let f: Record<string, unknown> = { hasDraft: false };
    for (let i = 0; i < n; i++) f = i % 3 === 0 ? { not: f } : { and: [f, {}] };
    return f;
  }),
);

const anyFilter = fc.oneof(
  { weight: 8, arbitrary: filter },
  { weight: 1, arbitrary: hugeFilter },
  { weight: 1, arbitrary: junk },
);

const ORDER_VALUES = [
  'ID_ASC',
  'FORECAST_START_DESC',
  'MONTHLY_RATE_ASC',
  'PLAN_COST_DESC',
  'PFA_ID_ASC',
  'VARIANCE_ASC',
  'CATEGORY_DESC',
];
const orderBy = fc.oneof(
  fc.array(fc.constantFrom(...ORDER_VALUES), { maxLength: 4 }),
  fc.array(fc.oneof(fc.constantFrom(...ORDER_VALUES), nastyString), { maxLength: 3 }),
  junk,
);

/** Real cursors, tampered ones, and made-up strings. */
const cursor = fc.oneof(
  fc.constant(null),
  fc.nat({ max: 4 }).map((i) => realCursors[i] as string),
  fc
    .tuple(fc.nat({ max: 4 }), fc.nat(), fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 3 }))
    .map(([i, at, s]) => {
      const c = realCursors[i] as string;
      const p = at % c.length;
      return c.slice(0, p) + s + c.slice(p + 1);
    }),
  fc
    .array(junk, { maxLength: 3 })
    .map((v) => Buffer.from(JSON.stringify(v)).toString('base64url') + '.AAAAAAAAAAAAAAAAAAAAAA'),
  nastyString,
);

const first = fc.oneof(fc.integer({ min: -5, max: 1100 }), nastyNumber, fc.constant(null));

const EDITABLE = [
  'category',
  'class',
  'source',
  'dor',
  'areaSilo',
  'manufacturer',
  'model',
  'contract',
  'equipment',
  'monthlyRate',
  'purchasePrice',
  'forecastStart',
  'forecastEnd',
  'isDiscontinued',
  'isFundsTransferable',
];
const changes = fc.oneof(
  fc.dictionary(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...EDITABLE) },
      { weight: 1, arbitrary: fc.constantFrom('pfaId', 'originalStart', 'isActualized', 'bogus') },
    ),
    fc.oneof(nastyString, nastyNumber, nastyDate, fc.boolean(), fc.constant(null)),
    { maxKeys: 4 },
  ),
  junk,
);
const reason = fc.oneof(fc.constant(undefined), nastyString, nastyNumber);
const recordId = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 149 }).map((i) => recordIds[i] as string) },
  {
    weight: 1,
    arbitrary: fc.oneof(nastyString, fc.constantFrom('0', '-1', '99999999999999999999', '1e3', ' 1')),
  },
);
const shift = fc.oneof(
  fc.integer({ min: -4000, max: 4000 }),
  fc.constantFrom(3650, -3650, 3651, 2 ** 31, 0),
  nastyNumber,
  fc.constant(undefined),
);

/** A session header: usually a good one (a fresh session per mutation), sometimes anything fetch can send. */
const sessionHeader = fc.oneof(
  { weight: 6, arbitrary: fc.constant('fresh') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 80 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', ' ', 'a'.repeat(65), 'ü', 'a b', 'my-sandbox', 'x'.repeat(5000)),
  },
);

/** Reads share one session (or send an odd header): a fresh one each would only add inserts. */
const readSession = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('fz-reader', '') },
  { weight: 1, arbitrary: sessionHeader },
);

type Case =
  | {
      kind: 'read';
      filter: unknown;
      orderBy: unknown;
      first: unknown;
      after: unknown;
      inline: boolean;
      session: string;
    }
  | {
      kind: 'update';
      id: unknown;
      expectedVersion: unknown;
      changes: unknown;
      reason: unknown;
      session: string;
    }
  | {
      kind: 'bulk';
      filter: unknown;
      shift: unknown;
      shiftStart: unknown;
      changes: unknown;
      reason: unknown;
      session: string;
    }
  | { kind: 'drafts'; op: 'commitDrafts' | 'discardDrafts'; ids: unknown; session: string };

const aCase: fc.Arbitrary<Case> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      filter: anyFilter,
      orderBy,
      first,
      after: cursor,
      inline: fc.nat({ max: 3 }).map((n) => n === 0),
      session: readSession,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('update' as const),
      id: recordId,
      expectedVersion: fc.oneof(fc.integer({ min: -2, max: 3 }), nastyNumber),
      changes,
      reason,
      session: sessionHeader,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bulk' as const),
      filter: anyFilter,
      shift,
      shiftStart: shift,
      changes,
      reason,
      session: sessionHeader,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('drafts' as const),
      op: fc.constantFrom('commitDrafts' as const, 'discardDrafts' as const),
      ids: fc.oneof(
        fc.constant(undefined),
        fc.array(fc.oneof(recordId, nastyString), { maxLength: 5 }),
        junk,
      ),
      session: sessionHeader,
    }),
  },
);

// ------------------------------------------------------------------------------- requests

/** A JS value as a GraphQL literal (enum-looking strings of orderBy stay enums). */
function literal(v: unknown, enumish = false): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return enumish && /^[A-Z_]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => literal(x, enumish)).join(', ')}]`;
  return `{ ${Object.entries(v as Record<string, unknown>)
    .filter(([k]) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(k))
    .map(([k, x]) => `${k}: ${literal(x, enumish)}`)
    .join(', ')} }`;
}

function request(c: Case): { query: string; variables: Record<string, unknown> } {
  switch (c.kind) {
    case 'read':
      return c.inline
        ? {
            query: `{ pfaRecords(organizationId: "HOLNG", filter: ${literal(c.filter)}, orderBy: ${literal(c.orderBy, true)}, first: ${literal(c.first)}, after: ${literal(c.after)}) { nodes { id forecastStart monthlyRate } pageInfo { endCursor } } }`,
            variables: {},
          }
        : {
            query: `query($f: PfaRecordFilter, $o: [PfaRecordOrderBy!], $n: Int, $a: String) { pfaRecords(organizationId: "HOLNG", filter: $f, orderBy: $o, first: $n, after: $a) { nodes { id forecastStart monthlyRate } pageInfo { endCursor } } }`,
            variables: { f: c.filter, o: c.orderBy, n: c.first, a: c.after },
          };
    case 'update':
      return {
        query: `mutation($input: UpdatePfaRecordInput!) { updatePfaRecord(input: $input) { draft { id currentVersion } record { id forecastCost } } }`,
        variables: {
          input: { id: c.id, expectedVersion: c.expectedVersion, changes: c.changes, reason: c.reason },
        },
      };
    case 'bulk':
      return {
        query: `mutation($input: BulkUpdatePfaRecordsInput!) { bulkUpdatePfaRecords(input: $input) { affectedCount } }`,
        variables: {
          input: {
            organizationId: 'HOLNG',
            filter: c.filter,
            shiftForecastDays: c.shift,
            shiftForecastStartDays: c.shiftStart,
            changes: c.changes,
            reason: c.reason,
          },
        },
      };
    case 'drafts':
      return {
        query: `mutation($ids: [ID!]) { ${c.op}(organizationId: "HOLNG", ids: $ids) { __typename } }`,
        variables: { ids: c.ids },
      };
  }
}

interface Outcome {
  status: number;
  codes: string[];
  ok: boolean;
  session: string | null;
  mutation: boolean;
}

async function send(c: Case): Promise<Outcome | null> {
  const session = c.session === 'fresh' ? `fz${++sessionCounter}` : c.session;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Bearer ${editor}`,
  };
  if (session) headers['x-session-id'] = session;
  let body: string;
  try {
    body = JSON.stringify(request(c));
  } catch {
    return null; // a value JSON cannot carry (never generated today)
  }
  let res: Response;
  try {
    res = await fetch(`${app.url}/graphql`, { method: 'POST', headers, body });
  } catch (e) {
    // fetch itself refuses header values that are not ByteStrings: nothing was sent.
    // (By name: undici's TypeError comes from another realm than the test's.)
    const err = e as { name?: string; message?: string; cause?: { message?: string } };
    if (err.name === 'TypeError' && /header|ByteString/i.test(`${err.message} ${err.cause?.message ?? ''}`))
      return null;
    throw e;
  }
  const text = await res.text();
  let parsed: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    parsed = {};
  }
  const codes = (parsed.errors ?? []).map((e) => String(e.extensions?.code));
  return {
    status: res.status,
    codes,
    ok: codes.length === 0 && !!parsed.data,
    session: c.session === 'fresh' ? session : null,
    mutation: c.kind !== 'read',
  };
}

// ------------------------------------------------------------------------------- the property

describe('fuzz: no input a client can send makes the service fail or write on a refusal', () => {
  it(`${RUNS} batches of ${BATCH} generated requests`, async () => {
    let cases = 0;
    let sent = 0;
    let refused = 0;
    const started = Date.now();
    const cpuBefore = process.cpuUsage();
    await fc.assert(
      fc.asyncProperty(fc.array(aCase, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const outcomes = await Promise.all(batch.map(send));
        cases += batch.length;
        const done = outcomes.filter((o): o is Outcome => o !== null);
        sent += done.length;
        for (const o of done) {
          expect(o.codes).not.toContain('INTERNAL_SERVER_ERROR');
          expect(o.status).toBeLessThan(500);
        }
        const refusedSessions = done
          .filter((o) => o.mutation && !o.ok && o.session)
          .map((o) => o.session as string);
        refused += done.filter((o) => !o.ok).length;
        if (refusedSessions.length) {
          const { rows } = await sql<{ n: string }>`
            SELECT (SELECT count(*) FROM pfa_modification WHERE session_id = ANY(${refusedSessions}::text[]))
                 + (SELECT count(*) FROM pfa_modification_event WHERE session_id = ANY(${refusedSessions}::text[])) AS n`.execute(
            app.database.db,
          );
          expect(Number(rows[0]?.n)).toBe(0);
        }
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true },
    );
    const seconds = (Date.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // The numbers the CI log keeps: how many cases, how long.
    console.log(
      `fuzz: ${cases} generated cases (${sent} sent, ${refused} refused, none INTERNAL) in ${seconds.toFixed(1)} s (this process: ${cpuSeconds.toFixed(1)} s of CPU, client and server)`,
    );
    expect(cases).toBe(RUNS * BATCH);
    if (!process.env.FUZZ_RUNS) expect(cases).toBeGreaterThanOrEqual(10_000);
  }, 900_000);
});
