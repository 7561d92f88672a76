import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { execute, parse, type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { createFastExecutor } from '../src/graphql/fast-execute.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * The compiled executor (src/graphql/fast-execute.ts) answers read queries instead of graphql-js.
 * Every document here is sent to two servers on one database — the default one and one with
 * FAST_EXECUTION=false (graphql-js only) — and the two answers must be equal, byte for byte
 * except the cursors (each encryption has its own nonce). The counters then say which path
 * answered: a test whose documents silently all went to graphql-js would prove nothing.
 */

const ORG = 'FXA';
const SESSION = 'fx-s1';
/** Records whose values are hard to write as JSON exactly (projected pages), and ones JSON cannot carry. */
const PROJECTED = 'PJA';
const UNSAFE = 'PJB';
/** Values whose float8 conversion or arithmetic PostgreSQL refuses, and the page shapes of review. */
const EXTREME = 'PJC';
let fast: TestApp;
let plain: TestApp;
let ids: string[];

const RECORD_FIELDS = `id organizationId pfaId category class source dor areaSilo manufacturer model
  monthlyRate purchasePrice originalStart originalEnd forecastStart forecastEnd actualStart actualEnd
  isActualized hasActuals hasPlan isDiscontinued isFundsTransferable version pemsVersion lastSyncedAt
  viewKey removedFromPemsAt planCost forecastCost actualCost variance forecastSlipDays startSlipDays
  forecastDurationDays planDurationDays`;

/**
 * Cursors differ per encryption, and an internal error's correlation id per error: compare them as
 * "a cursor (an id) was there".
 */
function masked(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body), (key, value: unknown) => {
    if (typeof value !== 'string') return value;
    if (key === 'cursor' || key === 'startCursor' || key === 'endCursor') return '<cursor>';
    if (key === 'correlationId') return '<id>';
    if (key === 'message') return value.replace(/correlation id [0-9a-f-]{36}/, 'correlation id <id>');
    return value;
  });
}

async function both(
  query: string,
  variables?: Record<string, unknown>,
  options: { session?: string | null } = {},
): Promise<{ status: number; body: unknown }> {
  const session = options.session === undefined ? SESSION : options.session;
  const send = async (app: TestApp) => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      authorization: `Bearer ${await app.token('editor', [ORG, 'HOLNG', PROJECTED, UNSAFE, EXTREME], 'fx-user')}`,
    };
    if (session) headers['x-session-id'] = session;
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, text: await res.text() };
  };
  const [a, b] = await Promise.all([send(fast), send(plain)]);
  expect(a.status).toBe(b.status);
  // Byte for byte (the contract), cursors and correlation ids aside: a reparse would hide a
  // number or a string escape written differently.
  const maskedText = (text: string) =>
    text
      .replace(/"(cursor|startCursor|endCursor)":"[^"]*"/g, '"$1":"<cursor>"')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>');
  expect(maskedText(a.text)).toBe(maskedText(b.text));
  const body = masked(JSON.parse(a.text));
  const reference = masked(JSON.parse(b.text));
  expect(body).toEqual(reference);
  // Same keys in the same order, not only deep-equal.
  expect(JSON.stringify(body)).toBe(JSON.stringify(reference));
  return { status: a.status, body };
}

const stats = () => ({
  ...(fast.app.fastExecution as { fast: number; fallback: number; unsupported: number }),
});

beforeAll(async () => {
  fast = await startTestApp();
  plain = await startTestApp({ database: fast.database, env: { FAST_EXECUTION: 'false' } });
  expect(plain.app.fastExecution).toBeNull();
  const map = await insertRecords(fast.database.db, ORG, 40, [
    { pfaId: 'FX-ODD', data: { category: 'Cranes, "big" \\ ünï', monthlyRate: 'n/a', forecastStart: 'TBA' } },
  ]);
  ids = [...map.values()];
  // Drafts in the session, so `draft`, `viewKey` and merged values differ from the mirror.
  for (const id of ids.slice(0, 5)) {
    const r = await fast.gql(
      `mutation($id: ID!) { updatePfaRecord(input: { id: $id, expectedVersion: 0, changes: { monthlyRate: 777, category: "Drafted" } }) { record { id } } }`,
      { variables: { id }, session: SESSION, token: await fast.token('editor', [ORG], 'fx-user') },
    );
    expect(r.errors).toBeUndefined();
  }
}, 120_000);

afterAll(async () => {
  await plain?.close();
  await fast?.close();
});

describe('compiled executor answers as graphql-js does', () => {
  const supported: [string, string, Record<string, unknown>?][] = [
    [
      'a page of every scalar field',
      `{ pfaRecords(organizationId: "${ORG}", first: 50) { nodes { ${RECORD_FIELDS} } } }`,
    ],
    [
      'aliases, __typename, repeated keys merged, order of first appearance',
      `{ b: pfaRecords(organizationId: "${ORG}", first: 3) { nodes { id } }
         __typename
         a: pfaRecords(organizationId: "${ORG}", first: 5, orderBy: [FORECAST_START_DESC]) { totalCount nodes { x: category __typename id } }
         b: pfaRecords(organizationId: "${ORG}", first: 3) { nodes { monthlyRate id } pageInfo { hasNextPage } } }`,
    ],
    [
      'named, nested, repeated and inline fragments, one on an interface',
      `query Q { pfaRecords(organizationId: "${ORG}", first: 7) { ...Conn nodes { ... on PfaRecord { model } ...Rec ...Rec } } }
       fragment Conn on PfaRecordConnection { totalCount pageInfo { ...PI } }
       fragment PI on PageInfo { hasNextPage hasPreviousPage endCursor startCursor }
       fragment Rec on PfaRecord { id ... on Node { id } forecastStart ...Costs }
       fragment Costs on PfaRecord { planCost forecastCost variance }`,
    ],
    [
      'literal @skip and @include',
      `{ pfaRecords(organizationId: "${ORG}", first: 4) { nodes { id category @skip(if: true) model @include(if: true) dor @include(if: false) ... @skip(if: false) { source } } } }`,
    ],
    [
      'edges, cursors, pageInfo and a filter from variables',
      `query($org: ID!, $f: PfaRecordFilter, $n: Int) { pfaRecords(organizationId: $org, first: $n, filter: $f) { edges { cursor node { id category } } pageInfo { startCursor endCursor hasNextPage } totalCount } }`,
      { org: ORG, f: { category: { in: ['Drafted', 'Cranes'] } }, n: 3 },
    ],
    [
      'resolvers that load (organization, draft, history, data)',
      `{ pfaRecords(organizationId: "${ORG}", first: 8) { nodes { id organization { id name } draft { id delta modifiedFields baseVersion } history(first: 2) { version } data } } }`,
    ],
    [
      'several root fields of different kinds',
      `{ kpiSummary(organizationId: "${ORG}") { category source dor totalPlanCost totalForecastCost totalActualCost }
         pfaAggregate(organizationId: "${ORG}", groupBy: [CATEGORY]) { category recordCount totalPlanCost minForecastStart }
         fieldValues(organizationId: "${ORG}", field: CATEGORY) { value count }
         me { userId }
         drafts(organizationId: "${ORG}") { id delta record { id monthlyRate } } }`,
    ],
    [
      'a page with no match (hints in extensions)',
      `{ pfaRecords(organizationId: "${ORG}", filter: { category: { eq: "Crane" } }) { nodes { id } totalCount } }`,
    ],
    [
      'response keys named like Object.prototype members, or then',
      `{ then: me { userId } pfaRecords(organizationId: "${ORG}", first: 3) { nodes { toString: id constructor: category valueOf: model hasOwnProperty: pfaId then: id toJSON: monthlyRate } } }`,
    ],
    [
      'variables left out take their defaults, arguments left out theirs',
      `query($n: Int = 4, $all: Boolean = false) { pfaRecords(organizationId: "${ORG}", first: $n) { nodes { id history { version } } } drafts(organizationId: "${ORG}", allSessions: $all) { id } fieldValues(organizationId: "${ORG}", field: SOURCE) { value count } }`,
      {},
    ],
    [
      'timeline bars (column scalars)',
      `{ timelineBars(organizationId: "${ORG}", from: "2025-01-01", to: "2027-12-31") { from to count truncated totalCount bars { id pfaId category forecastStart forecastEnd hasDraft } } }`,
    ],
  ];

  it.each(supported)('%s', async (...row) => {
    const [, query, variables] = row;
    const before = stats();
    const { status, body } = await both(query, variables);
    expect(status).toBe(200);
    expect((body as { errors?: unknown }).errors).toBeUndefined();
    const after = stats();
    expect(after.fast).toBe(before.fast + 1);
    expect(after.fallback).toBe(before.fallback);
  });

  it('the answers hold what the documents asked (not two empty answers)', async () => {
    const { body } = await both(
      `{ pfaRecords(organizationId: "${ORG}", first: 50) { totalCount nodes { id viewKey monthlyRate category draft { id } organization { id } } } }`,
    );
    const nodes = (body as { data: { pfaRecords: { nodes: Record<string, unknown>[] } } }).data.pfaRecords
      .nodes;
    expect(nodes.length).toBeGreaterThan(30);
    expect(nodes).toHaveLength(
      (body as { data: { pfaRecords: { totalCount: number } } }).data.pfaRecords.totalCount,
    );
    const drafted = nodes.filter((n) => n.draft !== null);
    expect(drafted).toHaveLength(5);
    for (const n of drafted)
      expect(n).toMatchObject({ monthlyRate: 777, category: 'Drafted', organization: { id: ORG } });
    expect(nodes.every((n) => n.viewKey === `session:${SESSION}`)).toBe(true);
  });

  it('documents it does not compile go to graphql-js, with the same answer', async () => {
    const unsupported = [
      `{ node(id: "${ids[0]}") { id ... on PfaRecord { category } } }`,
      `{ __schema { queryType { name } } }`,
      `{ __proto__: me { userId } }`,
      `query($yes: Boolean!) { pfaRecords(organizationId: "${ORG}", first: 2) { nodes { id category @include(if: $yes) } } }`,
    ];
    for (const query of unsupported) {
      const before = stats();
      const { status } = await both(query, { yes: true });
      expect(status).toBe(200);
      expect(stats().unsupported).toBe(before.unsupported + 1);
    }
  });
});

describe('errors: graphql-js writes them, no root resolver runs twice', () => {
  const failing: [string, string, Record<string, unknown>?][] = [
    [
      'a bad argument of the only root field',
      `{ pfaRecords(organizationId: "${ORG}", first: 5000) { nodes { id } } }`,
    ],
    [
      'one of two non-null root fields fails: data null',
      `{ ok: pfaRecords(organizationId: "${ORG}", filter: { category: { eq: "Crane" } }) { nodes { id } }
         bad: pfaRecords(organizationId: "NOPE") { nodes { id } } }`,
    ],
    [
      'a nested resolver fails on every record (paths, null propagation)',
      `{ pfaRecords(organizationId: "${ORG}", first: 3) { nodes { id history(first: 500) { version } } } }`,
    ],
    [
      'a variable that does not coerce',
      `query($n: Int) { pfaRecords(organizationId: "${ORG}", first: $n) { nodes { id } } }`,
      { n: 'ten' },
    ],
    ['a nullable root field that fails', `{ pfaRecord(id: "abc") { id } }`],
    [
      'one of two nullable root fields fails: partial data',
      `query($id: ID!) { ok: pfaRecord(id: $id) { id category } bad: pfaRecord(id: "abc") { id } }`,
      { id: '1' },
    ],
  ];

  it.each(failing)('%s', async (...row) => {
    const [, query, variables] = row;
    const before = stats();
    const { body } = await both(query, variables);
    expect((body as { errors?: unknown[] }).errors?.length).toBeGreaterThan(0);
    const after = stats();
    expect(after.fast).toBe(before.fast);
    // Variables that do not coerce never reach a resolver: nothing to replay.
    expect(after.fallback + after.unsupported).toBeGreaterThanOrEqual(before.fallback + before.unsupported);
  });

  it('a nullable root field fails, another adds a hint: once (its resolver did not run again)', async () => {
    const { body } = await both(
      `{ bad: pfaRecord(id: "abc") { id } ok: pfaRecords(organizationId: "${ORG}", filter: { category: { eq: "Crane" } }) { nodes { id } } }`,
    );
    const b = body as { data: unknown; errors: unknown[]; extensions?: { hints?: unknown[] } };
    expect(b.data).toEqual({ bad: null, ok: { nodes: [] } });
    expect(b.errors).toHaveLength(1);
    expect(b.extensions?.hints).toHaveLength(1);
  });

  it('a non-null root field that fails ends the answer at once, as in graphql-js: no hints of root fields still running', async () => {
    // `ok` would add a hint (no record has category "Crane") after its queries; `bad` is refused
    // before any query, and graphql-js answers `data: null` then, without waiting for `ok`.
    const { body } = await both(
      `{ ok: pfaRecords(organizationId: "${ORG}", filter: { category: { eq: "Crane" } }) { nodes { id } }
         bad: pfaRecords(organizationId: "NOPE") { nodes { id } } }`,
    );
    const b = body as { data: unknown; errors: unknown[]; extensions?: { hints?: unknown[] } };
    expect(b.data).toBeNull();
    expect(b.errors).toHaveLength(1);
    expect(b.extensions?.hints).toBeUndefined();
  });

  it('a root field that answered is not read again when graphql-js writes the errors', async () => {
    const mirror = fast.services.mirror;
    const findPage = mirror.findPage.bind(mirror);
    let pages = 0;
    mirror.findPage = (...args: Parameters<typeof findPage>) => {
      pages += 1;
      return findPage(...args);
    };
    try {
      const before = stats();
      await both(
        `query($id: ID!) { page: pfaRecords(organizationId: "${ORG}", first: 2) { nodes { id } } ok: pfaRecord(id: $id) { id } bad: pfaRecord(id: "abc") { id } }`,
        { id: ids[0] },
      );
      expect(stats().fallback).toBe(before.fallback + 1);
      expect(pages).toBe(1);
    } finally {
      mirror.findPage = findPage;
    }
  });

  it('a non-null root field that fails first ends the answer, as in graphql-js: errors other root fields meet later are not in it', async () => {
    // `bad` is refused without a query (an organization not in the token); `late` is refused
    // once PostgreSQL has said which organization the record belongs to (one not in the token).
    // graphql-js answers `data: null` with `bad`'s error before `late` fails.
    const other = await insertRecords(fast.database.db, 'FXZ', 1);
    const before = stats();
    const { body } = await both(
      `{ bad: pfaRecords(organizationId: "NOPE") { nodes { id } } late: pfaRecord(id: "${[...other.values()][0]}") { id } }`,
    );
    const b = body as { data: unknown; errors: { path?: unknown[] }[] };
    expect(b.data).toBeNull();
    expect(b.errors.map((e) => e.path)).toEqual([['bad']]);
    expect(stats().fallback).toBe(before.fallback + 1);
  });

  it('a completion that gives up leaves no promise of it to reject unhandled (the process guard would exit)', async () => {
    // A monthly rate of 400 digits reads as Infinity, which Float refuses: on that record the
    // compiled path gives up synchronously, after every record's `history` (first: 500 is
    // refused: a rejection) was started. Those rejections must not go unhandled: src/main.ts's
    // process guard exits on one, and jest fails the tests of this file (all of them: the server
    // was started in beforeAll) on one.
    await insertRecords(fast.database.db, 'HOLNG', 3, [
      { pfaId: 'FX-HUGE', data: { category: 'Huge', monthlyRate: '9'.repeat(400) } },
    ]);
    const before = stats();
    const { body } = await both(
      `{ pfaRecords(organizationId: "HOLNG", first: 10) { nodes { id history(first: 500) { version } monthlyRate } } }`,
    );
    const b = body as { data: unknown; errors?: { path?: unknown[] }[] };
    expect(b.data).toBeNull();
    expect(b.errors?.some((e) => e.path?.at(-1) === 'monthlyRate')).toBe(true);
    expect(stats().fallback).toBe(before.fallback + 1);
    // Unhandled rejections are reported after the microtask queue drains: let them surface here.
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('a failing request is answered by a second run, repeated: stable', async () => {
    const before = stats();
    for (let i = 0; i < 10; i++)
      await both(
        `{ pfaRecords(organizationId: "${ORG}", first: 2) { nodes { id history(first: 0) { version } } } }`,
      );
    expect(stats().fallback).toBe(before.fallback + 10);
  });
});

describe('projected pages: untouched records written as JSON by PostgreSQL', () => {
  /** Every field a projected page can carry (record-json.ts), with aliases and a repeated field. */
  const PROJECTABLE = `__typename id organizationId pfaId category class source dor areaSilo
    manufacturer model contract equipment monthlyRate purchasePrice originalStart originalEnd
    forecastStart forecastEnd actualStart actualEnd isActualized hasActuals hasPlan isDiscontinued
    isFundsTransferable version pemsVersion viewKey planCost forecastCost actualCost variance
    forecastSlipDays startSlipDays forecastDurationDays planDurationDays
    rate: monthlyRate kind: __typename category`;
  const rental = (extra: Record<string, unknown>) => ({
    category: 'Cranes',
    source: 'Rental',
    originalStart: '2025-01-10',
    originalEnd: '2025-06-30',
    forecastStart: '2025-02-01',
    forecastEnd: '2025-07-31',
    ...extra,
  });

  beforeAll(async () => {
    await insertRecords(fast.database.db, PROJECTED, 25, [
      {
        pfaId: 'PJ-TEXT',
        data: rental({
          category: 'Cranes, "big" \\ ünï\n\t\u0001\u001f\u007f 😀 \u2028 </script>',
          model: '',
          manufacturer: '\\u0041 "quoted"',
        }),
      },
      { pfaId: 'PJ-RATE-TENTH', data: rental({ monthlyRate: '0.1' }) },
      { pfaId: 'PJ-RATE-DIGITS', data: rental({ monthlyRate: '1234.567890123456789' }) },
      { pfaId: 'PJ-RATE-LARGE', data: rental({ monthlyRate: 999999999999.99 }) },
      // A negative rate is no amount (null): its costs are 0.
      { pfaId: 'PJ-NEGATIVE', data: rental({ monthlyRate: -5, forecastEnd: '2025-02-01' }) },
      { pfaId: 'PJ-BACKWARDS', data: rental({ monthlyRate: 3000, forecastEnd: '2024-12-01' }) },
      { pfaId: 'PJ-PURCHASE', data: { category: 'Trucks', source: 'Purchase', purchasePrice: '250000.5' } },
      { pfaId: 'PJ-PURCHASE-NO-PRICE', data: { category: 'Trucks', source: 'Purchase', monthlyRate: 10 } },
      { pfaId: 'PJ-NO-DATES', data: { category: 'Misc', monthlyRate: 1000, isActualized: 'yes' } },
      {
        pfaId: 'PJ-ACTUALS',
        data: rental({
          monthlyRate: 4321.09,
          isActualized: true,
          hasActuals: 1,
          actualStart: '2025-03-01',
          actualEnd: '2025-05-15',
        }),
      },
      { pfaId: 'PJ-YEAR-ONE', data: rental({ forecastStart: '0001-01-01', originalEnd: '9999-12-31' }) },
    ]);
    // The same values in a record JSON cannot carry exactly: the page is read the ordinary way.
    await insertRecords(fast.database.db, UNSAFE, 3, [
      { pfaId: 'PJ-TINY', data: rental({ monthlyRate: '0.00001' }) },
      { pfaId: 'PJ-HUGE', data: { source: 'Purchase', purchasePrice: '1000000000000000' } },
      // A rate JSON carries, but a variance of 9 days at it is 3e-5 (JavaScript writes 0.00003).
      { pfaId: 'PJ-RATE-SMALL', data: rental({ monthlyRate: '0.0001' }) },
    ]);
    // Drafts of the session on some records: the page mixes JSON and records.
    const { rows } = await fast.database.pool.query<{ id: string }>(
      `SELECT id FROM pfa_mirror WHERE organization_id = $1 ORDER BY id LIMIT 4`,
      [PROJECTED],
    );
    for (const { id } of rows) {
      const r = await fast.gql(
        `mutation($id: ID!) { updatePfaRecord(input: { id: $id, expectedVersion: 0, changes: { monthlyRate: 12.5, category: "Drafted \\"x\\"" } }) { record { id } } }`,
        { variables: { id }, session: SESSION, token: await fast.token('editor', [PROJECTED], 'fx-user') },
      );
      expect(r.errors).toBeUndefined();
    }
  }, 60_000);

  const projection = () => ({ ...fast.services.mirror.projection });

  it.each([
    ['with the session (drafts among the records)', SESSION],
    ['without a session', null],
  ])('every projectable field, hard values, each order, page after page: %s', async (...row) => {
    const session = row[1];
    const before = projection();
    const orders = ['[]', '[FORECAST_START_ASC]', '[MONTHLY_RATE_DESC, PFA_ID_ASC]', '[CATEGORY_ASC]'];
    let pages = 0;
    for (const orderBy of orders) {
      let after: string | null = null;
      for (;;) {
        const { body } = await both(
          `query($after: String) { pfaRecords(organizationId: "${PROJECTED}", first: 7, after: $after, orderBy: ${orderBy}) {
             totalCount nodes { ${PROJECTABLE} } pageInfo { hasNextPage endCursor } } }`,
          { after },
          { session },
        );
        const page = (body as { data: { pfaRecords: { pageInfo: { hasNextPage: boolean } } } }).data
          .pfaRecords;
        pages += 1;
        if (!page.pageInfo.hasNextPage) break;
        // The masked answer hides the cursor: read it from the server that wrote it.
        const next: { data?: { pfaRecords: { pageInfo: { endCursor: string } } } } = await fast.gql(
          `query($after: String) { pfaRecords(organizationId: "${PROJECTED}", first: 7, after: $after, orderBy: ${orderBy}) { pageInfo { endCursor } } }`,
          { variables: { after }, session, token: await fast.token('editor', [PROJECTED], 'fx-user') },
        );
        after = next.data?.pfaRecords.pageInfo.endCursor ?? null;
      }
    }
    expect(pages).toBeGreaterThanOrEqual(4 * 5); // 30-odd live records, 7 a page
    const now = projection();
    expect(now.pages - before.pages).toBeGreaterThanOrEqual(pages);
    expect(now.rereads).toBe(before.rereads);
    // graphql-js alone never reads a projected page.
    expect(plain.services.mirror.projection.pages).toBe(0);
  });

  it('the answers carry the hard values (not two equal wrong answers)', async () => {
    const { body } = await both(
      `{ pfaRecords(organizationId: "${PROJECTED}", first: 100, orderBy: [PFA_ID_ASC]) { nodes { pfaId category manufacturer monthlyRate forecastCost actualCost variance forecastSlipDays } } }`,
      undefined,
      { session: null },
    );
    const nodes = (body as { data: { pfaRecords: { nodes: Record<string, unknown>[] } } }).data.pfaRecords
      .nodes;
    const of = (pfaId: string) => nodes.find((n) => n.pfaId === pfaId);
    expect(of('PJ-TEXT')).toMatchObject({
      category: 'Cranes, "big" \\ ünï\n\t\u0001\u001f\u007f 😀 \u2028 </script>',
      manufacturer: '\\u0041 "quoted"',
    });
    expect(of('PJ-RATE-TENTH')?.monthlyRate).toBe(0.1);
    expect(of('PJ-RATE-DIGITS')?.monthlyRate).toBe(1234.567890123456789);
    expect(of('PJ-NEGATIVE')).toMatchObject({ monthlyRate: null, forecastCost: 0, variance: 0 });
    expect(of('PJ-BACKWARDS')).toMatchObject({ forecastCost: 0, forecastSlipDays: -211 });
    expect(of('PJ-ACTUALS')?.actualCost).toBeCloseTo((75 / 30.44) * 4321.09, 6);
  });

  it.each([
    ['a rate below 1e-4', 'PJ-TINY', 'monthlyRate'],
    ['a price of 1e15', 'PJ-HUGE', 'purchasePrice planCost'],
    ['a variance below 1e-4', 'PJ-RATE-SMALL', 'variance'],
  ])(
    'a value JSON cannot carry exactly (%s): the page is read again the ordinary way, same answer',
    async (...row) => {
      const [, pfaId, fields] = row;
      const before = projection();
      await both(
        `{ pfaRecords(organizationId: "${UNSAFE}", first: 10, filter: { pfaId: { eq: "${pfaId}" } }) { nodes { id pfaId ${fields} } } }`,
      );
      const now = projection();
      expect(now.pages).toBe(before.pages + 1);
      expect(now.rereads).toBe(before.rereads + 1);
      // The same page without the field that JSON cannot carry is projected.
      await both(
        `{ pfaRecords(organizationId: "${UNSAFE}", first: 10, filter: { pfaId: { eq: "${pfaId}" } }) { nodes { id pfaId } } }`,
      );
      expect(projection().rereads).toBe(now.rereads);
    },
  );

  it('a request graphql-js finishes (another root field fails) completes the projected records through the resolvers', async () => {
    const before = { ...projection(), ...stats() };
    const { body } = await both(
      `{ pfaRecords(organizationId: "${PROJECTED}", first: 50) { nodes { ${PROJECTABLE} } } bad: pfaRecord(id: "abc") { id } }`,
    );
    expect((body as { errors?: unknown[] }).errors).toHaveLength(1);
    expect(
      (body as { data: { pfaRecords: { nodes: unknown[] } } }).data.pfaRecords.nodes.length,
    ).toBeGreaterThan(30);
    expect(projection().pages).toBe(before.pages + 1);
    expect(stats().fallback).toBe(before.fallback + 1);
  });

  it.each([
    ['a field it does not carry', 'id lastSyncedAt'],
    ['a document', 'id data'],
    ['a fragment', 'id ... on PfaRecord { category }'],
    ['a directive', 'id category @include(if: true)'],
    ['a field with arguments', 'id history(first: 1) { version }'],
  ])('not projected: %s', async (...row) => {
    const before = projection();
    await both(`{ pfaRecords(organizationId: "${PROJECTED}", first: 20) { nodes { ${row[1]} } } }`);
    expect(projection().pages).toBe(before.pages);
  });

  it('not projected: edges, or nodes twice', async () => {
    const before = projection();
    await both(
      `{ pfaRecords(organizationId: "${PROJECTED}", first: 5) { edges { node { id } } nodes { id } } }`,
    );
    await both(
      `{ pfaRecords(organizationId: "${PROJECTED}", first: 5) { a: nodes { id } b: nodes { pfaId } } }`,
    );
    expect(projection().pages).toBe(before.pages);
  });

  describe('review: money PostgreSQL cannot take to float8, and more page shapes', () => {
    beforeAll(async () => {
      await insertRecords(fast.database.db, EXTREME, 3, [
        // Number() of these is Infinity (graphql-js refuses the Float) and 0; numeric::float8 errs.
        { pfaId: 'PJ-RATE-OVERFLOW', data: rental({ monthlyRate: '1' + '0'.repeat(400) }) },
        { pfaId: 'PJ-RATE-UNDERFLOW', data: rental({ monthlyRate: '0.' + '0'.repeat(399) + '1' }) },
        { pfaId: 'PJ-PRICE-OVERFLOW', data: { source: 'Purchase', purchasePrice: '9'.repeat(320) } },
        // A double, but its cost overflows (float8 * errs; JavaScript: Infinity) …
        { pfaId: 'PJ-COST-OVERFLOW', data: rental({ monthlyRate: '1' + '0'.repeat(308) }) },
        // A PEMS timestamp whose UTC date is in year 10000: JavaScript's day count of it is NaN.
        {
          pfaId: 'PJ-YEAR-10000',
          data: rental({ monthlyRate: 1000, forecastEnd: '9999-12-31T23:00:00-05:00' }),
        },
        // … or underflows to 0 (float8 * errs; JavaScript: 0).
        {
          pfaId: 'PJ-COST-UNDERFLOW',
          data: rental({
            monthlyRate: '0.' + '0'.repeat(322) + '5',
            originalStart: '2025-01-01',
            originalEnd: '2025-01-02',
            forecastStart: '2025-01-01',
            forecastEnd: '2025-01-02',
          }),
        },
      ]);
      // A pending change of another session, and a record gone from PEMS, among the records.
      const { rows } = await fast.database.pool.query<{ id: string; pfa_id: string }>(
        `SELECT id, pfa_id FROM pfa_mirror WHERE organization_id = $1 AND pfa_id IN ('PJ-RATE-TENTH', 'PJ-PURCHASE')`,
        [PROJECTED],
      );
      const idOf = (pfaId: string) => rows.find((r) => r.pfa_id === pfaId)?.id as string;
      await insertModification(fast.database.db, {
        org: PROJECTED,
        mirrorId: idOf('PJ-RATE-TENTH'),
        session: 'fx-other',
        user: 'fx-other',
        delta: { monthlyRate: 99.5, category: 'Pending \u2028' },
        state: 'committed',
      });
      await fast.database.pool.query(`UPDATE pfa_mirror SET removed_from_pems_at = now() WHERE id = $1`, [
        idOf('PJ-PURCHASE'),
      ]);
    }, 60_000);

    it.each([
      ['a rate beyond float8', 'PJ-RATE-OVERFLOW', 'monthlyRate'],
      ['a rate beyond float8, costs only', 'PJ-RATE-OVERFLOW', 'planCost'],
      ['a rate below float8', 'PJ-RATE-UNDERFLOW', 'monthlyRate planCost variance'],
      ['a price beyond float8', 'PJ-PRICE-OVERFLOW', 'purchasePrice'],
      ['a cost beyond float8', 'PJ-COST-OVERFLOW', 'forecastCost'],
      ['a cost below float8', 'PJ-COST-UNDERFLOW', 'monthlyRate planCost'],
      ['a date past 9999, its slips', 'PJ-YEAR-10000', 'forecastSlipDays forecastDurationDays'],
      ['a date past 9999, its costs', 'PJ-YEAR-10000', 'forecastCost'],
      ['a date past 9999, the variance', 'PJ-YEAR-10000', 'planCost variance'],
    ])(
      '%s: the page is read again the ordinary way (not failed), same answer as graphql-js',
      async (...row) => {
        const [, pfaId, fields] = row;
        // The record alone, and among the organization's others.
        for (const filter of [`filter: { pfaId: { eq: "${pfaId}" } }`, '']) {
          const before = projection();
          await both(
            `{ pfaRecords(organizationId: "${EXTREME}", first: 10, ${filter}) { nodes { id pfaId ${fields} } } }`,
          );
          const now = projection();
          expect(now.pages).toBe(before.pages + 1);
          expect(now.rereads).toBe(before.rereads + 1);
        }
      },
    );

    it.each([
      [
        'backward, last',
        `last: 6, orderBy: [FORECAST_START_ASC]`,
        'pageInfo { hasPreviousPage startCursor }',
      ],
      ['backward by cost', `last: 9, orderBy: [PLAN_COST_DESC]`, 'totalCount'],
      [
        'a slip filter',
        `first: 10, filter: { forecastSlipDays: { gt: 0 } }, orderBy: [FORECAST_START_ASC]`,
        '',
      ],
      [
        'a slip filter, start order',
        `first: 10, filter: { startSlipDays: { gte: 0 } }, orderBy: [FORECAST_START_DESC]`,
        '',
      ],
      ['a search', `first: 10, filter: { search: "Cranes" }`, 'totalCount'],
      ['dataContains', `first: 10, filter: { dataContains: { source: "Rental" } }`, ''],
      ['includeRemoved', `first: 50, filter: { includeRemoved: true }`, 'totalCount'],
      ['hasDraft: false', `first: 50, filter: { hasDraft: false }`, ''],
      ['hasDraft: true', `first: 50, filter: { hasDraft: true }`, ''],
      ['no match (hints)', `first: 5, filter: { category: { eq: "Crane" } }`, 'totalCount'],
      ['an order of costs and rates', `first: 40, orderBy: [VARIANCE_DESC, MONTHLY_RATE_ASC]`, ''],
    ])('page shape %s: byte-equal, projected', async (...row) => {
      const [, args, beside] = row;
      for (const session of [SESSION, null]) {
        const before = projection();
        await both(
          `{ p: pfaRecords(organizationId: "${PROJECTED}", ${args}) { __typename ${beside} n: nodes { __typename id v: viewKey pfaId category monthlyRate purchasePrice planCost variance forecastSlipDays version pemsVersion forecastStart } } }`,
          undefined,
          { session },
        );
        expect(projection().pages).toBe(before.pages + 1);
      }
    });

    it('response keys named like the statement columns and relations', async () => {
      const before = projection();
      await both(
        `{ pfaRecords(organizationId: "${PROJECTED}", first: 30, orderBy: [MONTHLY_RATE_DESC]) { nodes {
           sk0: id r: pfaId node_json: category data: monthlyRate node_fields: planCost id: id
           draft_id: viewKey organization_id: version m: __typename } } }`,
      );
      expect(projection().pages).toBe(before.pages + 1);
    });

    it('a request graphql-js finishes because a field below another root field fails', async () => {
      const before = { ...projection(), ...stats() };
      const { body } = await both(
        `{ pfaRecords(organizationId: "${PROJECTED}", first: 40, orderBy: [CATEGORY_DESC]) { nodes { id category rate: monthlyRate planCost variance forecastSlipDays v: viewKey } }
           drafts(organizationId: "${PROJECTED}") { id record { id history(first: 0) { version } } } }`,
      );
      expect((body as { errors?: unknown[] }).errors?.length).toBeGreaterThan(0);
      expect(projection().pages).toBe(before.pages + 1);
      expect(stats().fallback).toBe(before.fallback + 1);
    });

    it('backward from a cursor, page after page', async () => {
      let before: string | null = null;
      for (let i = 0; i < 6; i++) {
        const query = `query($before: String) { pfaRecords(organizationId: "${PROJECTED}", last: 4, before: $before, orderBy: [MONTHLY_RATE_DESC]) {
            nodes { id pfaId monthlyRate forecastCost } pageInfo { hasPreviousPage startCursor } } }`;
        await both(query, { before });
        const next: {
          data?: { pfaRecords: { pageInfo: { hasPreviousPage: boolean; startCursor: string } } };
        } = await fast.gql(query, {
          variables: { before },
          session: SESSION,
          token: await fast.token('editor', [PROJECTED], 'fx-user'),
        });
        if (!next.data?.pfaRecords.pageInfo.hasPreviousPage) break;
        before = next.data.pfaRecords.pageInfo.startCursor;
      }
    });

    it('a projected page beside root fields that load the same records (the record loader)', async () => {
      const { rows } = await fast.database.pool.query<{ id: string }>(
        `SELECT id FROM pfa_mirror WHERE organization_id = $1 ORDER BY id LIMIT 12`,
        [PROJECTED],
      );
      const ids = rows.map((r) => r.id);
      const before = projection();
      await both(
        `query($id: ID!) {
           pfaRecords(organizationId: "${PROJECTED}", first: 12) { nodes { id category monthlyRate planCost } }
           pfaRecord(id: $id) { id category monthlyRate planCost data draft { id } }
           pfaRecordByPfaId(organizationId: "${PROJECTED}", pfaId: "PJ-TEXT") { id category version lastSyncedAt }
           drafts(organizationId: "${PROJECTED}") { id record { id category monthlyRate } } }`,
        { id: ids[8] },
      );
      expect(projection().pages).toBe(before.pages + 1);
    });
  });
});

describe('a method of a source object answering a field (no source of this schema has one)', () => {
  it("gets graphql-js's info, its path included, or graphql-js answers", async () => {
    // graphql-js's default resolver calls a function property with (args, context, info).
    const where = (_a: unknown, _c: unknown, info: GraphQLResolveInfo) =>
      `${String(info.path.prev?.key)}.${String(info.path.key)}`;
    const schema = makeExecutableSchema({
      typeDefs: 'type Item { where: String } type Query { items: [Item!]! }',
      resolvers: { Query: { items: (_p: unknown) => [{ where }, { where }] } },
    });
    const executor = createFastExecutor(schema);
    const document = parse('{ items { where } }');
    const operation = document.definitions[0] as OperationDefinitionNode;
    const reference = await execute({ schema, document, contextValue: {} });
    expect(JSON.stringify(reference)).toBe('{"data":{"items":[{"where":"0.where"},{"where":"1.where"}]}}');
    const plan = executor.planOf(document, operation);
    expect(plan).not.toBeNull();
    const context = {};
    const data =
      (await executor.execute(plan as NonNullable<typeof plan>, document, operation, {}, context)) ??
      (await execute({ schema, document, contextValue: context })).data;
    expect(JSON.stringify({ data })).toBe(JSON.stringify(reference));
  });
});
