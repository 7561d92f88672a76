import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo } from 'graphql';
import { recordCosts } from '../src/domain/costs.js';
import { recordSlips } from '../src/domain/slips.js';
import { daysBetween, readBool, readDate, readMoney, readText } from '../src/domain/values.js';
import { RECORD_FIELDS } from '../src/domain/record-fields.js';
import { connectionSelectsRecordData } from '../src/graphql/record-selection.js';
import { CursorCodec } from '../src/repositories/cursor-codec.js';
import { coveringIndexPage, genericPlanSafe } from '../src/repositories/page-plan.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * The grid's request path (issue 11): a page that does not select `data` is read without the
 * merged documents (typed columns instead) and gives the same field values; `data` is read when
 * any shape of the selection asks for it; which page shapes may keep a generic plan; the day
 * arithmetic and the cursor IVs.
 */

let app: TestApp;
const SESSION = 'grid-s1';
const USER = 'user-editor';

/** A document of odd encodings every reader must take alike (strings for numbers, dates with times). */
const ODD_DOCUMENT: Record<string, unknown> = {
  category: 'Cranes',
  source: 'Rental',
  monthlyRate: '1250.50',
  purchasePrice: 1e3,
  originalStart: '2025-01-31T23:30:00-05:00',
  originalEnd: '2025-03-01',
  forecastStart: '2025-02-29',
  forecastEnd: '2025-06-01T00:00:00Z',
  actualStart: '2025-01-15',
  actualEnd: '2025-04-15',
  isActualized: 'TRUE',
  hasActuals: 'false',
  hasPlan: true,
  isFundsTransferable: 'yes',
  model: 42,
  dor: '',
};

/** Values the tolerant readers and the SQL parse functions must read alike (parse-functions.test.ts). */
const ODD: { pfaId: string; data: Record<string, unknown> }[] = [
  { pfaId: 'ODD-1', data: ODD_DOCUMENT },
  // The same odd document, untouched by any modification: read from the typed columns.
  { pfaId: 'ODD-4', data: ODD_DOCUMENT },
  {
    pfaId: 'ODD-2',
    data: {
      category: null,
      source: 'Purchase',
      purchasePrice: '.5',
      monthlyRate: -3,
      originalStart: '0001-01-01',
      originalEnd: '9999-12-31',
      forecastStart: 'soon',
      forecastEnd: ['2025-01-01'],
      isActualized: true,
      manufacturer: 'Caterpillar',
      contract: { no: 1 },
    },
  },
  {
    pfaId: 'ODD-3',
    data: {
      category: 'Pumps',
      source: 'Rental',
      monthlyRate: 123456789012345678901234567890,
      purchasePrice: '5.',
      originalStart: '2024-02-29',
      originalEnd: '2024-02-28',
      forecastStart: '2024-12-31',
      forecastEnd: '2026-01-01',
      equipment: 'EQ-3',
    },
  },
];

const SCALARS = `id viewKey organizationId pfaId category class source dor areaSilo manufacturer model contract
  equipment monthlyRate purchasePrice originalStart originalEnd forecastStart forecastEnd actualStart actualEnd
  isActualized hasActuals hasPlan isDiscontinued isFundsTransferable version pemsVersion lastSyncedAt
  removedFromPemsAt planCost forecastCost actualCost variance forecastSlipDays startSlipDays
  forecastDurationDays planDurationDays`;

type Node = Record<string, unknown> & { id: string; data?: Record<string, unknown> };

let ids: Map<string, string>;

beforeAll(async () => {
  app = await startTestApp({ defaultToken: { role: 'editor', orgs: ['HOLNG'], sub: USER } });
  ids = await insertRecords(app.database.db, 'HOLNG', 150, ODD);
  const odd1 = ids.get('ODD-1') as string;
  const odd3 = ids.get('ODD-3') as string;
  // The session's draft and another session's committed (pending) change: the merged half.
  await insertModification(app.database.db, {
    org: 'HOLNG',
    mirrorId: odd1,
    session: SESSION,
    user: USER,
    delta: { forecastEnd: '2025-07-15', monthlyRate: '99', category: 'Cranes' },
    state: 'draft',
  });
  await insertModification(app.database.db, {
    org: 'HOLNG',
    mirrorId: odd3,
    session: 'grid-other',
    user: 'user-other',
    delta: { source: 'Purchase', isActualized: 'false' },
    state: 'committed',
  });
  const generated = [...ids.values()].slice(0, 3);
  for (const [i, id] of generated.entries())
    await insertModification(app.database.db, {
      org: 'HOLNG',
      mirrorId: id,
      session: SESSION,
      user: USER,
      delta: { forecastStart: `2025-0${i + 1}-10`, purchasePrice: i * 1000.25 },
      state: 'draft',
    });
});

afterAll(async () => {
  await app?.close();
});

async function page(selection: string, session: string | null = SESSION): Promise<Node[]> {
  const r = await app.gql<{ pfaRecords: { nodes: Node[] } }>(
    `{ pfaRecords(organizationId: "HOLNG", first: 1000) { nodes { ${selection} } } }`,
    { session },
  );
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data?.pfaRecords.nodes ?? [];
}

/** The fields as the resolvers used to compute them: the tolerant readers over the merged document. */
function fromDocument(node: Node): Record<string, unknown> {
  const data = node.data as Record<string, unknown>;
  const read = { text: readText, money: readMoney, date: readDate, boolean: readBool };
  const costs = recordCosts(data);
  return {
    ...Object.fromEntries(RECORD_FIELDS.map((f) => [f.key, read[f.type](data[f.key])])),
    ...costs,
    ...recordSlips(data),
  };
}

/**
 * Rows the service's page statements returned, observed on the pool's clients (string queries
 * and the read timeout's Query objects alike).
 */
async function pageRows<T>(fn: () => Promise<T>): Promise<Record<string, unknown>[]> {
  const pool = app.database.pool as unknown as {
    connect: (...a: unknown[]) => Promise<{ query: (...a: unknown[]) => unknown }>;
  };
  const rows: Record<string, unknown>[] = [];
  const originalConnect = pool.connect.bind(pool);
  pool.connect = async (...a: unknown[]) => {
    const client = await originalConnect(...a);
    const q = client.query;
    client.query = (...args: unknown[]) => {
      const first = args[0] as {
        text?: string;
        once?: (e: string, l: (r: { rows: never[] }) => void) => void;
      };
      const text = typeof args[0] === 'string' ? args[0] : first?.text;
      const result = q.apply(client, args);
      const isPage = typeof text === 'string' && /UNION ALL/.test(text) && /\bsk0\b/.test(text);
      if (isPage && typeof first?.once === 'function') first.once('end', (r) => rows.push(...r.rows));
      else if (isPage && result instanceof Promise)
        void result.then((r: { rows: never[] }) => rows.push(...r.rows)).catch(() => undefined);
      return result;
    };
    const release = (client as unknown as { release: (...r: unknown[]) => void }).release;
    (client as unknown as { release: (...r: unknown[]) => void }).release = (...r: unknown[]) => {
      client.query = q;
      (client as unknown as { release: unknown }).release = release;
      release.apply(client, r);
    };
    return client;
  };
  try {
    await fn();
  } finally {
    pool.connect = originalConnect;
  }
  return rows;
}

describe('a page without `data`', () => {
  it('gives every field the value the merged document gives (untouched, drafted and pending records)', async () => {
    const withData = await page(`${SCALARS} data`);
    const without = await page(SCALARS);
    expect(without.length).toBe(withData.length);
    expect(without.length).toBeGreaterThan(100);
    for (const [i, node] of withData.entries()) {
      const { data: _data, ...fields } = node;
      expect(without[i]).toEqual(fields);
      // And what the document says, read in TypeScript.
      const expected = fromDocument(node);
      const got = Object.fromEntries(Object.keys(expected).map((k) => [k, node[k]]));
      expect(got).toEqual(expected);
    }
    const odd = without.filter((n) => String(n.pfaId).startsWith('ODD-'));
    expect(odd).toHaveLength(4);
    const oddValues = {
      originalStart: '2025-02-01',
      forecastStart: null,
      isActualized: true,
      hasActuals: false,
    };
    expect(odd.find((n) => n.pfaId === 'ODD-1')).toMatchObject({
      ...oddValues,
      monthlyRate: 99,
      forecastEnd: '2025-07-15',
      model: null,
      dor: '',
      isFundsTransferable: null,
    });
    expect(odd.find((n) => n.pfaId === 'ODD-4')).toMatchObject({
      ...oddValues,
      monthlyRate: 1250.5,
      purchasePrice: 1000,
      forecastEnd: '2025-06-01',
      model: null,
      dor: '',
      isFundsTransferable: null,
    });
    expect(odd.find((n) => n.pfaId === 'ODD-2')).toMatchObject({
      monthlyRate: null,
      purchasePrice: 0.5,
      planCost: 0.5,
      originalStart: '0001-01-01',
      originalEnd: '9999-12-31',
      planDurationDays: 3652058,
      forecastEnd: null,
      contract: null,
    });
  });

  it('reads no document of a record no modification touches (and reads them when selected)', async () => {
    const modified = 1 + 1 + 3; // ODD-1 and three generated records drafted, ODD-3 pending
    const without = await pageRows(() => page('id planCost'));
    expect(without.length).toBeGreaterThan(100);
    const documents = without.filter((r) => r.data !== null && r.data !== undefined);
    expect(documents.length).toBeLessThanOrEqual(modified);
    // Without a session only the pending change is merged.
    const baseline = await pageRows(() => page('id', null));
    expect(baseline.filter((r) => r.data !== null && r.data !== undefined).length).toBeLessThanOrEqual(1);
    const withData = await pageRows(() => page('id data'));
    expect(withData.every((r) => typeof r.data === 'object' && r.data !== null)).toBe(true);
  });

  it('reads `data` for every shape of selection that asks for it, and it is the merged document', async () => {
    const byId = new Map<string, Record<string, unknown>>();
    for (const id of ids.values()) {
      const r = await app.gql<{ pfaRecord: { data: Record<string, unknown> } | null }>(
        `query($id: ID!) { pfaRecord(id: $id) { data } }`,
        { variables: { id }, session: SESSION },
      );
      if (r.data?.pfaRecord) byId.set(id, r.data.pfaRecord.data);
    }
    const shapes = [
      `{ pfaRecords(organizationId: "HOLNG", first: 1000) { nodes { id data } } }`,
      `{ pfaRecords(organizationId: "HOLNG", first: 1000) { nodes { id doc: data } } }`,
      `{ pfaRecords(organizationId: "HOLNG", first: 1000) { edges { node { id data } } } }`,
      `{ pfaRecords(organizationId: "HOLNG", first: 1000) { nodes { id ... on PfaRecord { data } } } }`,
      `{ pfaRecords(organizationId: "HOLNG", first: 1000) { nodes { ...F } } } fragment F on PfaRecord { id ... on Node { ... on PfaRecord { data } } }`,
      `{ pfaRecords(organizationId: "HOLNG", first: 1000) { ...C } } fragment C on PfaRecordConnection { edges { ...E } } fragment E on PfaRecordEdge { node { id data } }`,
      `query($on: Boolean!) { pfaRecords(organizationId: "HOLNG", first: 1000) { nodes { id data @include(if: $on) } } }`,
    ];
    for (const query of shapes) {
      const r = await app.gql<{ pfaRecords: { nodes?: Node[]; edges?: { node: Node }[] } }>(query, {
        session: SESSION,
        ...(query.includes('$on') ? { variables: { on: true } } : {}),
      });
      expect(r.errors).toBeUndefined();
      const nodes = r.data?.pfaRecords.nodes ?? r.data?.pfaRecords.edges?.map((e) => e.node) ?? [];
      expect(nodes.length).toBeGreaterThan(100);
      for (const n of nodes) expect(n.data ?? n.doc).toEqual(byId.get(n.id));
    }
  });
});

describe('a record read without its document, reached again through another field', () => {
  it('reads the document when `data` is asked of it (draft { record { data } })', async () => {
    const nested = await page('id draft { id record { id data } }');
    const drafted = nested.filter((n) => n.draft !== null);
    expect(drafted.length).toBeGreaterThan(1);
    const direct = new Map((await page('id data')).map((n) => [n.id, n.data]));
    for (const n of drafted) {
      const record = (n.draft as { record: { id: string; data: unknown } }).record;
      expect(record.id).toBe(n.id);
      expect(record.data).toEqual(direct.get(n.id));
    }
  });
});

describe('which selections need the document', () => {
  const infoOf = (document: string): GraphQLResolveInfo => {
    const doc = parse(document);
    const fragments: Record<string, FragmentDefinitionNode> = {};
    let field: FieldNode | undefined;
    for (const d of doc.definitions) {
      if (d.kind === 'FragmentDefinition') fragments[d.name.value] = d;
      if (d.kind === 'OperationDefinition') field = d.selectionSet.selections[0] as FieldNode;
    }
    return { fieldNodes: [field as FieldNode], fragments } as unknown as GraphQLResolveInfo;
  };
  it.each([
    ['{ p { nodes { id category } pageInfo { endCursor } totalCount } }', false],
    ['{ p { edges { cursor node { id planCost draft { id delta } } } } }', false],
    ['{ p { nodes { id history { data } } } }', false],
    ['{ p { nodes { id draft { record { data } } } } }', false],
    ['{ p { nodes { data } } }', true],
    ['{ p { nodes { x: data } } }', true],
    ['{ p { edges { node { data } } } }', true],
    [
      '{ p { ...C } } fragment C on PfaRecordConnection { nodes { ...R } } fragment R on PfaRecord { data }',
      true,
    ],
    ['{ p { ... on PfaRecordConnection { edges { ... { node { data } } } } } }', true],
    ['{ p { nodes { data @skip(if: true) } } }', true],
    ['{ p { nodes { ...Missing } } }', true],
  ])('%s → %s', (document, expected) => {
    expect(connectionSelectsRecordData(infoOf(document))).toBe(expected);
  });
});

describe('page shapes that may keep a generic plan', () => {
  it.each([
    [
      'grid: category + source equal, forecast window, by forecastStart',
      {
        category: { eq: 'Cranes' },
        source: { eq: 'Rental' },
        forecastStart: { gte: '2025-01-01' },
        forecastEnd: { lte: '2025-12-31' },
      },
      'forecastStart',
      true,
    ],
    [
      'timeline window by forecastStart',
      { forecastStart: { gte: '2025-01-01', lt: '2025-03-01' } },
      'forecastStart',
      true,
    ],
    ['no filter, by id', null, 'id', true],
    [
      'flags and hasDraft, by id',
      { isActualized: false, hasDraft: true, and: [{ hasPlan: true }] },
      'id',
      true,
    ],
    ['category equal, by id (no such index)', { category: { eq: 'Cranes' } }, 'id', false],
    [
      'category equal, by forecastStart (source missing)',
      { category: { eq: 'Cranes' } },
      'forecastStart',
      false,
    ],
    [
      'category in a list',
      { category: { in: ['Cranes'] }, source: { eq: 'Rental' } },
      'forecastStart',
      false,
    ],
    ['search', { search: 'cat' }, 'id', false],
    ['dataContains', { dataContains: { model: 'X' } }, 'id', false],
    ['or', { or: [{ isActualized: true }] }, 'id', false],
    ['not', { not: { isActualized: true } }, 'id', false],
    ['isDiscontinued named', { isDiscontinued: false }, 'id', false],
    ['money range', { monthlyRate: { gt: 5 } }, 'id', false],
    ['cost order', null, 'planCost', false],
    ['text contains', { category: { contains: 'ran' } }, 'id', false],
  ])('%s', (_title, filter, order, expected) => {
    expect(genericPlanSafe(filter as never, order)).toBe(expected);
  });
});

describe('coveringIndexPage: ids first from an index alone', () => {
  it.each([
    [
      'slip filter in a forecast window, by forecastStart',
      { forecastSlipDays: { gt: 30 }, forecastStart: { gte: '2025-01-01' } },
      ['forecastStart', 'id'],
      true,
    ],
    [
      'category and plan end, by forecastStart',
      { category: { eq: 'Cranes' }, originalEnd: { lt: '2026-01-01' } },
      ['forecastStart', 'id'],
      true,
    ],
    [
      'only the order column bounded: nothing to skip',
      { forecastStart: { gte: '2025-01-01' } },
      ['forecastStart', 'id'],
      false,
    ],
    ['no filter', null, ['forecastStart', 'id'], false],
    [
      'source is not in the index',
      { source: { eq: 'Rental' }, forecastSlipDays: { gt: 30 } },
      ['forecastStart', 'id'],
      false,
    ],
    ['ordered by id (no index carries the slip columns)', { forecastSlipDays: { gt: 30 } }, ['id'], false],
    [
      'search reads search_text',
      { search: 'cat', forecastSlipDays: { gt: 30 } },
      ['forecastStart', 'id'],
      false,
    ],
    ['a cost reads money columns', { planCost: { gt: 5 } }, ['forecastStart', 'id'], false],
    [
      'isDiscontinued lifts the predicate',
      { isDiscontinued: true, forecastSlipDays: { gt: 1 } },
      ['forecastStart', 'id'],
      false,
    ],
  ])('%s', (_title, filter, order, expected) => {
    expect(coveringIndexPage(filter as never, order)).toBe(expected);
  });
});

describe('small helpers on the path', () => {
  it('counts days between ISO dates as Date does', () => {
    const viaDate = (a: string, b: string) =>
      Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    const dates: string[] = ['garbage', '', '2025-1-01', '2025-01-01T00:00:00Z', '+02025-01-01'];
    for (const y of [0, 1, 4, 99, 100, 400, 1582, 1900, 1969, 1970, 2000, 2024, 2025, 2100, 9999])
      for (let m = 0; m <= 13; m++)
        for (const d of [0, 1, 15, 28, 29, 30, 31, 32]) dates.push(`${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`);
    const differ: unknown[] = [];
    for (const a of dates)
      for (const b of ['1970-01-01', '2024-02-29', '2025-02-31', '0001-01-01', '9999-12-31', 'x'])
        for (const [s, e] of [
          [a, b],
          [b, a],
        ]) {
          const got = daysBetween(s as string, e as string);
          const want = viaDate(s as string, e as string);
          if (!Object.is(got, want)) differ.push([s, e, got, want]);
        }
    expect(differ).toEqual([]);
  });

  it('gives each cursor its own IV, across refills of the IV pool', () => {
    const codec = new CursorCodec('secret');
    const binding = { organizationId: 'HOLNG', sessionId: null, ordering: 'id:a', filter: null };
    const cursors = Array.from({ length: 600 }, () => codec.encode(binding, ['1']));
    expect(
      new Set(cursors.map((c) => Buffer.from(c, 'base64url').subarray(0, 12).toString('hex'))).size,
    ).toBe(600);
    for (const c of cursors.slice(250, 260)) expect(codec.decode(c, binding, 1)).toEqual(['1']);
  });
});
