import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { SignJWT } from 'jose';
import { recordCosts } from '../src/domain/costs.js';
import { readBool, readDate, readMoney, readText } from '../src/domain/values.js';
import { startTestApp, TEST_SECRET, type TestApp } from './helpers/app.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * The read API of DOMAIN §5 through real HTTP and a real PostgreSQL. Filter semantics are checked
 * against an independent evaluation in TypeScript over the same merged records.
 */

let app: TestApp;
let editorToken: string;
let otherToken: string;
const EDITOR = 'user-editor';
const OTHER = 'user-other';

interface Row {
  id: string;
  orgId: string;
  data: Record<string, unknown>;
}

const SPECIAL = [
  {
    pfaId: 'SPECIAL-1',
    data: {
      pfaId: 'SPECIAL-1',
      category: 'Cranes',
      source: 'Rental',
      monthlyRate: 'TBA',
      forecastStart: '31/02/2025',
      manufacturer: '50% Off_Tools',
    },
  },
  {
    pfaId: 'SPECIAL-2',
    data: {
      pfaId: 'SPECIAL-2',
      category: null,
      source: 'Purchase',
      purchasePrice: '1250.50',
      manufacturer: 'Caterpillar',
    },
  },
  {
    pfaId: 'SPECIAL-3',
    data: {
      pfaId: 'SPECIAL-3',
      category: 'Pumps',
      source: 'Rental',
      monthlyRate: 1000,
      forecastStart: '2025-03-01T23:30:00-05:00',
      forecastEnd: '2025-06-01',
    },
  },
  {
    pfaId: 'SPECIAL-4',
    data: {
      pfaId: 'SPECIAL-4',
      category: 'Cranes',
      source: 'Rental',
      isDiscontinued: 'true',
      monthlyRate: 50,
    },
  },
];

let holngIds: Map<string, string>;
let org3Ids: Map<string, string>;

async function gqlOk<T>(
  query: string,
  variables: Record<string, unknown> = {},
  session: string | null = 'sA',
  token = editorToken,
): Promise<T> {
  const r = await app.gql<T>(query, { variables, session, token });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data as T;
}

async function errorCode(
  query: string,
  variables: Record<string, unknown> = {},
  opts: { token?: string | null; session?: string | null } = {},
) {
  const r = await app.gql(query, {
    variables,
    session: opts.session === undefined ? 'sA' : opts.session,
    token: opts.token === undefined ? editorToken : opts.token,
  });
  return {
    code: r.errors?.[0]?.extensions?.code,
    message: r.errors?.[0]?.message ?? '',
    data: r.data,
    status: r.status,
  };
}

/** Merged records for a session computed in TypeScript from the raw tables (independent of the SQL merge). */
async function mergedInTs(
  org: string,
  session: string | null,
): Promise<{ rows: Row[]; drafts: Set<string> }> {
  const mirror = await app.database.db
    .selectFrom('pfa_mirror')
    .select(['id', 'organization_id', 'data'])
    .where('organization_id', '=', org)
    .execute();
  const mods = await app.database.db
    .selectFrom('pfa_modification')
    .select(['mirror_id', 'session_id', 'sync_state', 'delta', 'committed_at', 'id'])
    .where('organization_id', '=', org)
    .where('sync_state', '<>', 'synced')
    .execute();
  const pending = mods
    .filter((m) => m.sync_state === 'committed' || m.sync_state === 'syncing')
    .sort(
      (a, b) =>
        (a.committed_at as Date).getTime() - (b.committed_at as Date).getTime() ||
        Number(a.id) - Number(b.id),
    );
  const own = mods.filter(
    (m) => session && m.session_id === session && (m.sync_state === 'draft' || m.sync_state === 'conflict'),
  );
  const rows = mirror.map((m) => {
    let data = { ...m.data };
    for (const p of pending) if (String(p.mirror_id) === String(m.id)) data = { ...data, ...p.delta };
    for (const o of own) if (String(o.mirror_id) === String(m.id)) data = { ...data, ...o.delta };
    return { id: String(m.id), orgId: m.organization_id, data };
  });
  return { rows, drafts: new Set(own.map((o) => String(o.mirror_id))) };
}

type Filter = Record<string, unknown>;

function fieldValue(row: Row, field: string): unknown {
  const d = row.data;
  switch (field) {
    case 'pfaId':
      return readText(d.pfaId);
    case 'monthlyRate':
    case 'purchasePrice':
      return readMoney(d[field]);
    case 'planCost':
    case 'forecastCost':
    case 'actualCost':
    case 'variance':
      return recordCosts(d)[field];
    default:
      if (/Start$|End$/.test(field)) return readDate(d[field]);
      return readText(d[field]);
  }
}

const BOOLS = ['isActualized', 'hasActuals', 'hasPlan', 'isDiscontinued', 'isFundsTransferable'];

function matches(row: Row, f: Filter, drafts: Set<string>): boolean {
  for (const [key, value] of Object.entries(f)) {
    if (value === undefined || value === null) continue;
    if (key === 'and' && !(value as Filter[]).every((x) => matches(row, x, drafts))) return false;
    if (key === 'or' && !(value as Filter[]).some((x) => matches(row, x, drafts))) return false;
    if (key === 'not' && matches(row, value as Filter, drafts)) return false;
    if (['and', 'or', 'not'].includes(key)) continue;
    if (key === 'hasDraft') {
      if (drafts.has(row.id) !== value) return false;
      continue;
    }
    if (key === 'dataContains') {
      if (!Object.entries(value as Filter).every(([k, v]) => row.data[k] === v)) return false;
      continue;
    }
    if (key === 'search') {
      const fields = ['pfaId', 'category', 'class', 'manufacturer', 'model', 'equipment', 'contract'].map(
        (k) => readText(row.data[k])?.toLowerCase() ?? '',
      );
      if (
        !(value as string)
          .split(/\s+/)
          .filter(Boolean)
          .every((w) => fields.some((x) => x.includes(w.toLowerCase())))
      )
        return false;
      continue;
    }
    if (BOOLS.includes(key)) {
      const b = readBool(row.data[key]) === true;
      if (b !== value) return false;
      continue;
    }
    const v = fieldValue(row, key) as string | number | null;
    for (const [op, arg] of Object.entries(value as Filter)) {
      if (arg === undefined || arg === null) continue;
      const a = arg as string | number;
      const ok = (() => {
        switch (op) {
          case 'eq':
            return v !== null && v === a;
          case 'ne':
            return v !== null && v !== a;
          case 'gt':
            return v !== null && v > a;
          case 'gte':
            return v !== null && v >= a;
          case 'lt':
            return v !== null && v < a;
          case 'lte':
            return v !== null && v <= a;
          case 'in':
            return v !== null && (arg as unknown[]).includes(v);
          case 'notIn':
            return v !== null && !(arg as unknown[]).includes(v);
          case 'contains':
            return v !== null && String(v).toLowerCase().includes(String(a).toLowerCase());
          case 'startsWith':
            return v !== null && String(v).toLowerCase().startsWith(String(a).toLowerCase());
          case 'isNull':
            return (v === null) === arg;
          default:
            throw new Error(`test has no evaluator for ${op}`);
        }
      })();
      if (!ok) return false;
    }
  }
  return true;
}

function namesDiscontinued(f: Filter): boolean {
  return Object.entries(f).some(([k, v]) =>
    k === 'isDiscontinued'
      ? v !== undefined
      : k === 'and' || k === 'or'
        ? (v as Filter[]).some(namesDiscontinued)
        : k === 'not'
          ? namesDiscontinued(v as Filter)
          : false,
  );
}

const PAGE_QUERY = `query Page($org: ID!, $filter: PfaRecordFilter, $orderBy: [PfaRecordOrderBy!], $first: Int, $after: String) {
  pfaRecords(organizationId: $org, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id pfaId forecastStart monthlyRate category forecastEnd } }
  }
}`;

interface PageData {
  pfaRecords: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: {
      cursor: string;
      node: {
        id: string;
        pfaId: string;
        forecastStart: string | null;
        monthlyRate: number | null;
        category: string | null;
        forecastEnd: string | null;
      };
    }[];
  };
}

beforeAll(async () => {
  app = await startTestApp();
  const db = app.database.db;
  holngIds = await insertRecords(db, 'HOLNG', 900, SPECIAL);
  await insertRecords(db, 'ORG2', 100);
  org3Ids = await insertRecords(db, 'ORG3', 30);
  editorToken = await app.token('editor', ['HOLNG', 'ORG2'], EDITOR);
  otherToken = await app.token('editor', ['HOLNG'], OTHER);
  const ids = [...holngIds.values()];
  // Session sA (the editor): drafts; sB (another user): drafts on some of the same records;
  // sC: pending commits visible to everybody.
  for (let i = 0; i < 40; i++) {
    await insertModification(db, {
      org: 'HOLNG',
      mirrorId: ids[i * 7] as string,
      session: 'sA',
      user: EDITOR,
      state: 'draft',
      delta: { forecastStart: '2024-01-0' + ((i % 9) + 1), category: i % 2 ? 'Cranes' : 'Generators' },
    });
    await insertModification(db, {
      org: 'HOLNG',
      mirrorId: ids[i * 7] as string,
      session: 'sB',
      user: OTHER,
      state: 'draft',
      delta: { category: 'Other', monthlyRate: 1 },
    });
    await insertModification(db, {
      org: 'HOLNG',
      mirrorId: ids[i * 11 + 3] as string,
      session: 'sC',
      user: OTHER,
      state: 'committed',
      delta: { manufacturer: 'Caterpillar', isDiscontinued: i % 5 === 0 },
    });
  }
  await sql`SELECT refresh_pfa_materialized_views()`.execute(db);
  // The session must belong to the editor before anyone else uses its id.
  await gqlOk('{ drafts(organizationId: "HOLNG") { id } }');
});
afterAll(async () => app?.close());

const FILTERS: Filter[] = [
  {},
  { category: { eq: 'Cranes' } },
  { category: { ne: 'Cranes' } },
  { category: { in: ['Cranes', 'Pumps', 'Generators'] } },
  { category: { notIn: ['Cranes', 'Pumps'] } },
  { category: { isNull: true } },
  { manufacturer: { contains: 'CAT' } },
  { manufacturer: { contains: '%' } },
  { manufacturer: { contains: '_' } },
  { model: { startsWith: 'd' } },
  { pfaId: { startsWith: 'holng-pfa-00001' } },
  { contract: { isNull: false }, source: { eq: 'Purchase' } },
  { monthlyRate: { gt: 1000.5, lte: 5000 } },
  { monthlyRate: { isNull: true } },
  { purchasePrice: { gte: 1250.5 } },
  { forecastStart: { gte: '2025-01-01', lt: '2025-07-01' } },
  { forecastStart: { eq: '2025-03-02' } },
  { actualEnd: { isNull: false } },
  { originalEnd: { lte: '2025-01-31' } },
  { isActualized: true },
  { isActualized: false, hasPlan: true },
  { isDiscontinued: true },
  { or: [{ isDiscontinued: true }, { category: { eq: 'Cranes' } }] },
  { not: { source: { eq: 'Rental' } } },
  {
    and: [
      { or: [{ category: { eq: 'Cranes' } }, { category: { eq: 'Generators' } }] },
      { not: { monthlyRate: { lt: 2000.5 } } },
    ],
  },
  { not: { and: [{ category: { eq: 'Cranes' } }, { isFundsTransferable: true }] } },
  { hasDraft: true },
  { hasDraft: false, category: { eq: 'Cranes' } },
  { dataContains: { manufacturer: 'Caterpillar' } },
  { dataContains: { manufacturer: 'Caterpillar', source: 'Rental' } },
  { search: 'cat' },
  { search: '  HOLNG-PFA   cran ' },
  { search: '50%' },
  { planCost: { gt: 10000.5 } },
  { variance: { lt: -0.5 } },
  { forecastCost: { gte: 100000.5 }, actualCost: { isNull: false } },
  { or: [] },
  { and: [] },
];

describe('pfaRecords filters', () => {
  it.each(FILTERS.map((f) => [JSON.stringify(f), f] as [string, Filter]))(
    '%s matches an independent evaluation',
    async (_name: string, filter: Filter) => {
      const { rows, drafts } = await mergedInTs('HOLNG', 'sA');
      const expected = rows
        .filter((r) => namesDiscontinued(filter) || readBool(r.data.isDiscontinued) !== true)
        .filter((r) => matches(r, filter, drafts))
        .map((r) => r.id)
        .sort();
      const data = await gqlOk<PageData>(PAGE_QUERY, { org: 'HOLNG', filter, first: 1000 });
      const got = data.pfaRecords.edges.map((e) => e.node.id).sort();
      expect(got).toEqual(expected);
      expect(data.pfaRecords.totalCount).toBe(expected.length);
    },
  );

  it('a session sees its own drafts, other sessions never; pending commits are seen by all', async () => {
    const id = [...holngIds.values()][0] as string;
    const q = `query($id: ID!) { pfaRecord(id: $id) { category monthlyRate draft { id } } }`;
    const mine = await gqlOk<{ pfaRecord: { category: string; draft: unknown } }>(q, { id }, 'sA');
    const theirs = await gqlOk<{ pfaRecord: { category: string; monthlyRate: number } }>(
      q,
      { id },
      'sB',
      otherToken,
    );
    const none = await gqlOk<{ pfaRecord: { category: string; draft: unknown } }>(q, { id }, null);
    expect(mine.pfaRecord.category).toBe('Generators');
    expect(mine.pfaRecord.draft).not.toBeNull();
    expect(theirs.pfaRecord.category).toBe('Other');
    expect(theirs.pfaRecord.monthlyRate).toBe(1);
    expect(none.pfaRecord.draft).toBeNull();
    expect(none.pfaRecord.category).not.toBe('Other');
    const pendingId = [...holngIds.values()][3] as string;
    for (const [session, token] of [
      ['sA', editorToken],
      ['sB', otherToken],
      [null, editorToken],
    ] as const) {
      const r = await gqlOk<{ pfaRecord: { manufacturer: string } }>(
        `query($id: ID!) { pfaRecord(id: $id) { manufacturer } }`,
        { id: pendingId },
        session,
        token,
      );
      expect(r.pfaRecord.manufacturer).toBe('Caterpillar');
    }
    // No duplicates although two sessions have drafts on the same records.
    const all = await gqlOk<PageData>(PAGE_QUERY, {
      org: 'HOLNG',
      first: 1000,
      filter: { or: [{ isDiscontinued: true }, { isDiscontinued: false }] },
    });
    const ids = all.pfaRecords.edges.map((e) => e.node.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(holngIds.size);
  });
});

describe('keyset pagination', () => {
  const ORDERS: string[][] = [
    [],
    ['FORECAST_START_ASC'],
    ['MONTHLY_RATE_DESC'],
    ['CATEGORY_ASC', 'FORECAST_END_DESC'],
    ['PLAN_COST_DESC'],
    ['ID_DESC'],
  ];

  it.each(ORDERS.map((o) => [o.join(',') || '(default)', o] as [string, string[]]))(
    'walks %s end to end with no duplicates or gaps while another session edits',
    async (_n: string, orderBy: string[]) => {
      const reference = await gqlOk<PageData>(PAGE_QUERY, { org: 'HOLNG', orderBy, first: 1000 });
      const expectedIds = reference.pfaRecords.edges.map((e) => e.node.id);
      // Another session keeps editing while we walk: its drafts must not move our pages.
      let stop = false;
      const ids = [...holngIds.values()];
      const editor = (async () => {
        for (let i = 0; !stop; i++) {
          await app.database.pool.query(
            `UPDATE pfa_modification SET delta = jsonb_build_object('forecastStart', $1::text, 'monthlyRate', $2::int) WHERE session_id = 'sB' AND organization_id = 'HOLNG'`,
            [`2023-0${(i % 9) + 1}-01`, i],
          );
          await insertModification(app.database.db, {
            org: 'HOLNG',
            mirrorId: ids[(i * 13 + 500) % ids.length] as string,
            session: `walk-${_n.replace(/[^A-Za-z0-9]/g, '')}-${i}`,
            user: OTHER,
            state: 'draft',
            delta: { forecastStart: '2020-01-01' },
          });
        }
      })();
      const walked: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 100; page++) {
        const d: PageData = await gqlOk<PageData>(PAGE_QUERY, { org: 'HOLNG', orderBy, first: 37, after });
        walked.push(...d.pfaRecords.edges.map((e) => e.node.id));
        if (!d.pfaRecords.pageInfo.hasNextPage) break;
        after = d.pfaRecords.pageInfo.endCursor;
      }
      stop = true;
      await editor;
      expect(walked).toEqual(expectedIds);
    },
  );

  it('orders NULLs last in both directions', async () => {
    for (const dir of ['ASC', 'DESC']) {
      const d = await gqlOk<PageData>(PAGE_QUERY, {
        org: 'HOLNG',
        orderBy: [`MONTHLY_RATE_${dir}`],
        first: 1000,
      });
      const rates = d.pfaRecords.edges.map((e) => e.node.monthlyRate);
      const firstNull = rates.indexOf(null);
      expect(firstNull).toBeGreaterThan(0);
      expect(rates.slice(firstNull).every((r) => r === null)).toBe(true);
      const nonNull = rates.slice(0, firstNull) as number[];
      const sorted = [...nonNull].sort((a, b) => (dir === 'ASC' ? a - b : b - a));
      expect(nonNull).toEqual(sorted);
    }
  });
});

describe('access', () => {
  it('rejects missing, expired and forged tokens with UNAUTHENTICATED', async () => {
    const q = '{ kpiSummary(organizationId: "HOLNG") { recordCount } }';
    expect((await errorCode(q, {}, { token: null })).code).toBe('UNAUTHENTICATED');
    const expired = await new SignJWT({ orgs: ['HOLNG'], role: 'editor' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await errorCode(q, {}, { token: expired })).code).toBe('UNAUTHENTICATED');
    const forged = await new SignJWT({ orgs: ['HOLNG'], role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-another-secret'));
    expect((await errorCode(q, {}, { token: forged })).code).toBe('UNAUTHENTICATED');
    const noExp = await new SignJWT({ orgs: ['HOLNG'], role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await errorCode(q, {}, { token: noExp })).code).toBe('UNAUTHENTICATED');
    const badRole = await new SignJWT({ orgs: ['HOLNG'], role: 'root' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET));
    expect((await errorCode(q, {}, { token: badRole })).code).toBe('UNAUTHENTICATED');
  });

  it('keeps tenants apart: FORBIDDEN, never an empty answer', async () => {
    const org3Record = [...org3Ids.values()][0] as string;
    expect((await errorCode(`query($id: ID!) { pfaRecord(id: $id) { id } }`, { id: org3Record })).code).toBe(
      'FORBIDDEN',
    );
    expect((await errorCode('{ pfaRecords(organizationId: "ORG3") { totalCount } }')).code).toBe('FORBIDDEN');
    expect((await errorCode('{ kpiSummary(organizationId: "ORG3") { recordCount } }')).code).toBe(
      'FORBIDDEN',
    );
    expect((await errorCode('{ timelineBounds(organizationId: "ORG3") { totalRecords } }')).code).toBe(
      'FORBIDDEN',
    );
    const ghost = await app.token('viewer', ['NOPE']);
    expect(
      (
        await errorCode(
          '{ pfaRecords(organizationId: "NOPE") { totalCount } }',
          {},
          { token: ghost, session: null },
        )
      ).code,
    ).toBe('NOT_FOUND');
    expect((await gqlOk<{ pfaRecord: null }>('{ pfaRecord(id: "999999999") { id } }')).pfaRecord).toBeNull();
  });

  it('lets an admin ask for a read sync of an organization the database does not know yet', async () => {
    const admin = await app.token('admin', ['HOLNG', 'NEWORG']);
    const q = 'mutation($org: ID!) { syncFromPems(organizationId: $org) { jobId } }';
    // Reaches the job runner (disabled in this app), instead of NOT_FOUND for the unknown organization.
    const r = await app.gql(q, { variables: { org: 'NEWORG' }, token: admin });
    expect(r.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const other = await app.gql(q, { variables: { org: 'ELSEWHERE' }, token: admin });
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const pending = await app.gql('mutation { syncToPems(organizationId: "NEWORG") { jobId } }', {
      token: admin,
    });
    expect(pending.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('shows the job queues to admins only', async () => {
    expect((await errorCode('{ jobQueues { mode } }')).code).toBe('FORBIDDEN');
    const admin = await app.token('admin', ['HOLNG']);
    const r = await app.gql<{ jobQueues: { mode: string; queues: unknown[] } }>(
      '{ jobQueues { mode queues { name waiting active delayed failed } } }',
      { token: admin },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.jobQueues).toEqual({ mode: 'disabled', queues: [] });
  });

  it('checks roles and session ownership', async () => {
    const viewer = await app.token('viewer', ['HOLNG']);
    const id = [...holngIds.values()][1] as string;
    const edit = `mutation($id: ID!) { updatePfaRecord(input: { id: $id, expectedVersion: 0, changes: { monthlyRate: 5 } }) { record { id } } }`;
    expect((await errorCode(edit, { id }, { token: viewer, session: 'viewer-s' })).code).toBe('FORBIDDEN');
    expect(
      (await errorCode('mutation { refreshKpis(organizationId: "HOLNG") { jobId } }', {}, {})).code,
    ).toBe('FORBIDDEN');
    // sA belongs to the editor: the other user may neither read nor write in it.
    expect(
      (
        await errorCode(
          '{ drafts(organizationId: "HOLNG") { id } }',
          {},
          { token: otherToken, session: 'sA' },
        )
      ).code,
    ).toBe('FORBIDDEN');
    expect((await errorCode(edit, { id }, { token: otherToken, session: 'sA' })).code).toBe('FORBIDDEN');
    // The same id in another organization is another session.
    const org2 = await errorCode(
      '{ drafts(organizationId: "ORG2") { id } }',
      {},
      { token: await app.token('editor', ['ORG2'], OTHER), session: 'sA' },
    );
    expect(org2.code).toBeUndefined();
    expect(
      (await errorCode('{ drafts(organizationId: "HOLNG") { id } }', {}, { session: 'bad id!' })).code,
    ).toBe('BAD_USER_INPUT');
    expect(
      (await errorCode('{ drafts(organizationId: "HOLNG") { id } }', {}, { session: 'x'.repeat(65) })).code,
    ).toBe('BAD_USER_INPUT');
    expect((await errorCode(edit, { id }, { session: null })).code).toBe('BAD_USER_INPUT');
  });
});

describe('bad input', () => {
  it('answers each mistake with a clear code', async () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['{ pfaRecords(organizationId: "HOLNG", first: 1001) { totalCount } }', {}, 'BAD_USER_INPUT'],
      [
        'query($f: Int) { pfaRecords(organizationId: "HOLNG", first: $f) { totalCount } }',
        { f: 5000 },
        'BAD_USER_INPUT',
      ],
      ['{ pfaRecords(organizationId: "HOLNG", first: 0) { totalCount } }', {}, 'BAD_USER_INPUT'],
      ['{ pfaRecords(organizationId: "HOLNG", after: "garbage") { totalCount } }', {}, 'BAD_USER_INPUT'],
      [
        '{ pfaRecords(organizationId: "HOLNG", orderBy: [NOPE_ASC]) { totalCount } }',
        {},
        'GRAPHQL_VALIDATION_FAILED',
      ],
      [
        'query($o: [PfaRecordOrderBy!]) { pfaRecords(organizationId: "HOLNG", orderBy: $o) { totalCount } }',
        { o: ['NOPE_ASC'] },
        'BAD_USER_INPUT',
      ],
      [
        'query($f: PfaRecordFilter) { pfaRecords(organizationId: "HOLNG", filter: $f) { totalCount } }',
        { f: { forecastStart: { gte: '2025-02-31' } } },
        'BAD_USER_INPUT',
      ],
      [
        'query($f: PfaRecordFilter) { pfaRecords(organizationId: "HOLNG", filter: $f) { totalCount } }',
        { f: { category: { in: Array.from({ length: 1001 }, (_, i) => `c${i}`) } } },
        'BAD_USER_INPUT',
      ],
      [
        'query($f: PfaRecordFilter) { pfaRecords(organizationId: "HOLNG", filter: $f) { totalCount } }',
        { f: { nope: { eq: 1 } } },
        'BAD_USER_INPUT',
      ],
      [
        '{ pfaRecords(organizationId: "HOLNG", filter: { nope: { eq: "x" } }) { totalCount } }',
        {},
        'GRAPHQL_VALIDATION_FAILED',
      ],
      ['{ pfaRecords(organizationId: "HOLNG") { nope } }', {}, 'GRAPHQL_VALIDATION_FAILED'],
      ['{ pfaRecords(organizationId: "HOLNG" { totalCount } }', {}, 'GRAPHQL_PARSE_FAILED'],
      ['{ pfaRecord(id: "abc") { id } }', {}, 'BAD_USER_INPUT'],
    ];
    for (const [query, variables, code] of cases) {
      const r = await errorCode(query, variables);
      expect({ query: query.slice(0, 60), code: r.code }).toEqual({ query: query.slice(0, 60), code });
      expect(r.data?.pfaRecords ?? null).toBeNull();
    }
  });

  it('refuses tampered cursors and cursors of another ordering', async () => {
    const d = await gqlOk<PageData>(PAGE_QUERY, { org: 'HOLNG', orderBy: ['FORECAST_START_ASC'], first: 2 });
    const cursor = d.pfaRecords.pageInfo.endCursor as string;
    const raw = Buffer.from(cursor, 'base64url');
    raw[20] = (raw[20] as number) ^ 0x40; // one bit of the sealed payload
    const forged = Buffer.from(JSON.stringify(['forecastStart:a,id:a', '1999-01-01', '1'])).toString(
      'base64url',
    );
    for (const after of [raw.toString('base64url'), forged, `${cursor}.x`, cursor.slice(0, 20)]) {
      expect(
        (await errorCode(PAGE_QUERY, { org: 'HOLNG', orderBy: ['FORECAST_START_ASC'], after })).code,
      ).toBe('BAD_USER_INPUT');
    }
    expect(
      (await errorCode(PAGE_QUERY, { org: 'HOLNG', orderBy: ['MONTHLY_RATE_ASC'], after: cursor })).code,
    ).toBe('BAD_USER_INPUT');
  });

  it('limits depth, aliases and cost before executing; introspection is exempt from depth', async () => {
    const deep = `{ pfaRecords(organizationId: "HOLNG", first: 1) { nodes { draft { record { draft { record { draft { record { draft { record { draft { record { id } } } } } } } } } } } } }`;
    expect((await errorCode(deep)).message).toMatch(/depth/);
    const aliases = `{ ${Array.from({ length: 21 }, (_, i) => `a${i}: timelineBounds(organizationId: "HOLNG") { totalRecords }`).join(' ')} }`;
    expect((await errorCode(aliases)).message).toMatch(/aliases/);
    const costly = `{ pfaRecords(organizationId: "HOLNG", first: 1000) { nodes { id history(first: 100) { version data pemsVersion supersededAt } } } }`;
    const c = await errorCode(costly);
    expect(c.message).toMatch(/cost/);
    expect(c.data).toBeUndefined();
    const allScalars = `{ pfaRecords(organizationId: "HOLNG", first: 1000) { nodes { id organizationId pfaId category class source dor areaSilo manufacturer model contract equipment monthlyRate purchasePrice originalStart originalEnd forecastStart forecastEnd actualStart actualEnd isActualized hasActuals hasPlan isDiscontinued isFundsTransferable version pemsVersion lastSyncedAt planCost forecastCost actualCost variance data } } }`;
    expect((await errorCode(allScalars)).code).toBeUndefined();
    const introspection = await app.gql<{ __schema: { types: unknown[] } }>(
      `{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name ofType { name ofType { name } } } } } } } } } }`,
      { token: editorToken },
    );
    expect(introspection.errors).toBeUndefined();
    expect(introspection.data?.__schema.types.length).toBeGreaterThan(20);
  });
});

describe('DataLoader batching', () => {
  it('takes a constant number of statements for draft, history and organization of 1,000 records', async () => {
    await app.database.pool.query(
      `UPDATE pfa_mirror SET data = data || '{"notes": "v2"}' WHERE organization_id = 'HOLNG' AND id % 3 = 0`,
    );
    let statements = 0;
    const pool = app.database.pool as unknown as {
      query: (...a: unknown[]) => unknown;
      connect: (...a: unknown[]) => Promise<{ query: (...a: unknown[]) => unknown }>;
    };
    const originalConnect = pool.connect.bind(pool);
    const wrapped = new WeakSet<object>();
    pool.connect = async (...a: unknown[]) => {
      const client = await originalConnect(...a);
      if (!wrapped.has(client)) {
        wrapped.add(client);
        const q = client.query.bind(client);
        client.query = (...args: unknown[]) => {
          // The read timeout's BEGIN; SET LOCAL … / COMMIT around each read are not data statements.
          const text = typeof args[0] === 'string' ? args[0] : '';
          if (!/^\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(text)) statements++;
          return q(...args);
        };
      }
      return client;
    };
    const query = `query($first: Int) { pfaRecords(organizationId: "HOLNG", first: $first) { nodes { id draft { id delta record { id } } history { version } organization { id name } } } }`;
    const counts: number[] = [];
    const liveCount = (await mergedInTs('HOLNG', 'sA')).rows.filter(
      (r) => readBool(r.data.isDiscontinued) !== true,
    ).length;
    try {
      for (const first of [100, 1000]) {
        statements = 0;
        const d = await gqlOk<{ pfaRecords: { nodes: { history: unknown[]; draft: unknown }[] } }>(query, {
          first,
        });
        expect(d.pfaRecords.nodes.length).toBe(first === 100 ? 100 : liveCount);
        counts.push(statements);
      }
    } finally {
      pool.connect = originalConnect;
    }
    expect(counts[1]).toBe(counts[0]);
    expect(counts[1]).toBeLessThanOrEqual(6);
  });
});

describe('kpiSummary and timelineBounds', () => {
  const KPI = `{ kpiSummary(organizationId: "HOLNG") { category source dor totalPlanCost totalForecastCost totalActualCost totalVariance recordCount actualizedCount refreshedAt } }`;
  type Kpi = {
    category: string | null;
    source: string | null;
    dor: string | null;
    totalPlanCost: number;
    totalForecastCost: number;
    totalActualCost: number;
    totalVariance: number;
    recordCount: number;
    actualizedCount: number;
  };

  function expectSameKpis(got: Kpi[], want: Kpi[]) {
    const key = (k: Kpi) => JSON.stringify([k.category, k.source, k.dor]);
    expect(got.map(key).sort()).toEqual(want.map(key).sort());
    const byKey = new Map(want.map((w) => [key(w), w]));
    for (const g of got) {
      const w = byKey.get(key(g)) as Kpi;
      expect(g.recordCount).toBe(w.recordCount);
      expect(g.actualizedCount).toBe(w.actualizedCount);
      for (const f of ['totalPlanCost', 'totalForecastCost', 'totalActualCost', 'totalVariance'] as const) {
        expect(Math.abs(g[f] - w[f])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(w[f])));
      }
    }
  }

  /** KPIs from scratch in TypeScript, over the merged records of the session. */
  async function kpisInTs(session: string | null): Promise<Kpi[]> {
    const { rows } = await mergedInTs('HOLNG', session);
    const groups = new Map<string, Kpi>();
    for (const r of rows) {
      if (readBool(r.data.isDiscontinued) === true) continue;
      const g = {
        category: readText(r.data.category),
        source: readText(r.data.source),
        dor: readText(r.data.dor),
      };
      const k = JSON.stringify([g.category, g.source, g.dor]);
      const acc = groups.get(k) ?? {
        ...g,
        totalPlanCost: 0,
        totalForecastCost: 0,
        totalActualCost: 0,
        totalVariance: 0,
        recordCount: 0,
        actualizedCount: 0,
      };
      const c = recordCosts(r.data);
      acc.totalPlanCost += c.planCost;
      acc.totalForecastCost += c.forecastCost;
      acc.totalActualCost += c.actualCost;
      acc.totalVariance += c.variance;
      acc.recordCount += 1;
      acc.actualizedCount += readBool(r.data.isActualized) === true ? 1 : 0;
      groups.set(k, acc);
    }
    return [...groups.values()];
  }

  it('corrects the cache live for the caller’s drafts and for commits made after the refresh', async () => {
    await sql`SELECT refresh_pfa_materialized_views()`.execute(app.database.db);
    expectSameKpis((await gqlOk<{ kpiSummary: Kpi[] }>(KPI)).kpiSummary, await kpisInTs('sA'));
    // Change drafts and commit something after the refresh; nothing is refreshed.
    const ids = [...holngIds.values()];
    await app.database.pool.query(
      `UPDATE pfa_modification SET delta = delta || '{"monthlyRate": 99999, "source": "Rental", "dor": "NEWDOR"}' WHERE session_id = 'sA' AND id % 2 = 0`,
    );
    await insertModification(app.database.db, {
      org: 'HOLNG',
      mirrorId: ids[801] as string,
      session: 'sLate',
      user: OTHER,
      state: 'committed',
      delta: { category: 'Brand New Category', isDiscontinued: false },
    });
    await insertModification(app.database.db, {
      org: 'HOLNG',
      mirrorId: ids[802] as string,
      session: 'sA',
      user: EDITOR,
      state: 'draft',
      delta: { isDiscontinued: true },
    });
    const got = (await gqlOk<{ kpiSummary: Kpi[] }>(KPI)).kpiSummary;
    expectSameKpis(got, await kpisInTs('sA'));
    expect(got.some((g) => g.dor === 'NEWDOR')).toBe(true);
    expectSameKpis(
      (await gqlOk<{ kpiSummary: Kpi[] }>(KPI, {}, 'sB', otherToken)).kpiSummary,
      await kpisInTs('sB'),
    );
    expectSameKpis((await gqlOk<{ kpiSummary: Kpi[] }>(KPI, {}, null)).kpiSummary, await kpisInTs(null));
  });

  it('recomputes a timeline bound that a draft moves away from', async () => {
    await sql`SELECT refresh_pfa_materialized_views()`.execute(app.database.db);
    const B = `{ timelineBounds(organizationId: "HOLNG") { planStart planEnd forecastStart forecastEnd actualStart actualEnd totalRecords actualizedRecords refreshedAt } }`;
    type Bounds = {
      planStart: string;
      planEnd: string;
      forecastStart: string;
      forecastEnd: string;
      actualStart: string;
      actualEnd: string;
      totalRecords: number;
      actualizedRecords: number;
    };
    async function boundsInTs(session: string | null) {
      const { rows } = await mergedInTs('HOLNG', session);
      const live = rows.filter((r) => readBool(r.data.isDiscontinued) !== true);
      const dates = (k: string, actual = false) =>
        live
          .filter((r) => !actual || readBool(r.data.isActualized) === true)
          .map((r) => readDate(r.data[k]))
          .filter((d): d is string => d !== null)
          .sort();
      return {
        planStart: dates('originalStart')[0],
        planEnd: dates('originalEnd').at(-1),
        forecastStart: dates('forecastStart')[0],
        forecastEnd: dates('forecastEnd').at(-1),
        actualStart: dates('actualStart', true)[0],
        actualEnd: dates('actualEnd', true).at(-1),
        totalRecords: live.length,
        actualizedRecords: live.filter((r) => readBool(r.data.isActualized) === true).length,
      };
    }
    const strip = ({ refreshedAt: _r, ...b }: Bounds & { refreshedAt?: string }) => b;
    expect(strip((await gqlOk<{ timelineBounds: Bounds }>(B)).timelineBounds)).toEqual(
      await boundsInTs('sA'),
    );
    // Move the record holding the earliest forecast start (in sA's view) far into the future.
    const { rows } = await mergedInTs('HOLNG', 'sA');
    const holder = rows
      .filter((r) => readBool(r.data.isDiscontinued) !== true && readDate(r.data.forecastStart) !== null)
      .sort((a, b) =>
        String(readDate(a.data.forecastStart)).localeCompare(String(readDate(b.data.forecastStart))),
      )[0] as Row;
    const existing = await app.database.pool.query(
      `SELECT id FROM pfa_modification WHERE session_id = 'sA' AND mirror_id = $1 AND sync_state = 'draft'`,
      [holder.id],
    );
    if (existing.rowCount)
      await app.database.pool.query(
        `UPDATE pfa_modification SET delta = delta || '{"forecastStart": "2030-01-01", "forecastEnd": "2031-01-01"}' WHERE id = $1`,
        [existing.rows[0].id],
      );
    else
      await insertModification(app.database.db, {
        org: 'HOLNG',
        mirrorId: holder.id,
        session: 'sA',
        user: EDITOR,
        state: 'draft',
        delta: { forecastStart: '2030-01-01', forecastEnd: '2031-01-01' },
      });
    const after = strip((await gqlOk<{ timelineBounds: Bounds }>(B)).timelineBounds);
    expect(after).toEqual(await boundsInTs('sA'));
    expect(after.forecastEnd).toBe('2031-01-01');
    // Other sessions still see the cached bounds, exactly.
    expect(strip((await gqlOk<{ timelineBounds: Bounds }>(B, {}, 'sB', otherToken)).timelineBounds)).toEqual(
      await boundsInTs('sB'),
    );
  });
});
