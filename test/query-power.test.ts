import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { recordCosts } from '../src/domain/costs.js';
import { readBool, readDate, readText } from '../src/domain/values.js';
import { coveringIndexPage } from '../src/repositories/page-plan.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * Issue 12 points 1, 2, 3 and 5 through real HTTP and PostgreSQL: pfaAggregate, fieldValues, me,
 * hints, slip/duration fields, removedFromPemsAt, pfaRecordByPfaId and the drafts rules. Every
 * answer is compared with an independent evaluation in TypeScript over the raw tables (mirror JSON
 * overlaid by pending deltas in commit order and the session's own drafts), with and without a
 * session that holds drafts.
 */

let app: TestApp;
let editorToken: string;
let otherToken: string;
const EDITOR = 'user-editor';
const OTHER = 'user-other';
const DAY = 86_400_000;

type Filter = Record<string, unknown>;
interface Row {
  id: string;
  data: Record<string, unknown>;
  removed: boolean;
  hasDraft: boolean;
}

const EXTRA = [
  {
    pfaId: 'Q-NO-END',
    data: {
      pfaId: 'Q-NO-END',
      category: 'Cranes',
      source: 'Rental',
      monthlyRate: 900,
      originalStart: '2025-02-01',
      forecastStart: '2025-03-01',
      forecastEnd: '2025-09-01',
    },
  },
  {
    pfaId: 'Q-BAD-DATE',
    data: {
      pfaId: 'Q-BAD-DATE',
      category: 'Cranes',
      source: 'Rental',
      monthlyRate: 'TBA',
      originalEnd: '31/02/2025',
      forecastEnd: '2025-01-05',
    },
  },
  {
    pfaId: 'Q-REMOVED-1',
    data: {
      pfaId: 'Q-REMOVED-1',
      category: 'Pumps',
      source: 'Purchase',
      purchasePrice: 500,
      forecastStart: '2025-01-01',
      forecastEnd: '2025-02-01',
    },
  },
  {
    pfaId: 'Q-REMOVED-2',
    data: {
      pfaId: 'Q-REMOVED-2',
      category: 'Pumps',
      source: 'Rental',
      monthlyRate: 100,
      forecastStart: '2025-01-01',
      forecastEnd: '2025-02-01',
    },
  },
];

let ids: Map<string, string>;
const generatedIds = (): string[] =>
  [...ids.entries()].filter(([k]) => !k.startsWith('Q-')).map(([, v]) => v);

async function gql<T>(
  query: string,
  variables: Record<string, unknown> = {},
  session: string | null = 'sA',
  token = editorToken,
) {
  return app.gql<T>(query, { variables, session, token }) as Promise<{
    status: number;
    data?: T;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
    extensions?: {
      hints?: {
        path: string;
        field: string;
        value: string;
        message: string;
        closest: { value: string; count: number }[];
      }[];
    };
  }>;
}

async function gqlOk<T>(
  query: string,
  variables: Record<string, unknown> = {},
  session: string | null = 'sA',
  token = editorToken,
): Promise<T> {
  const r = await gql<T>(query, variables, session, token);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data as T;
}

/** Merged records computed in TypeScript from the raw tables (independent of the SQL merge). */
async function mergedInTs(org: string, session: string | null): Promise<Row[]> {
  const mirror = await app.database.db
    .selectFrom('pfa_mirror')
    .select(['id', 'data', 'removed_from_pems_at'])
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
    (m) =>
      session !== null &&
      m.session_id === session &&
      (m.sync_state === 'draft' || m.sync_state === 'conflict'),
  );
  return mirror.map((m) => {
    let data = { ...m.data };
    for (const p of pending) if (String(p.mirror_id) === String(m.id)) data = { ...data, ...p.delta };
    for (const o of own) if (String(o.mirror_id) === String(m.id)) data = { ...data, ...o.delta };
    return {
      id: String(m.id),
      data,
      removed: m.removed_from_pems_at !== null,
      hasDraft: own.some((o) => String(o.mirror_id) === String(m.id)),
    };
  });
}

const dayDiff = (data: Record<string, unknown>, from: string, to: string): number | null => {
  const a = readDate(data[from]);
  const b = readDate(data[to]);
  return a === null || b === null ? null : Math.round((Date.parse(b) - Date.parse(a)) / DAY);
};

function value(row: Row, field: string): string | number | null {
  switch (field) {
    case 'forecastSlipDays':
      return dayDiff(row.data, 'originalEnd', 'forecastEnd');
    case 'startSlipDays':
      return dayDiff(row.data, 'originalStart', 'forecastStart');
    case 'forecastDurationDays':
      return dayDiff(row.data, 'forecastStart', 'forecastEnd');
    case 'planDurationDays':
      return dayDiff(row.data, 'originalStart', 'originalEnd');
    default:
      return /Start$|End$/.test(field) ? readDate(row.data[field]) : readText(row.data[field]);
  }
}

function namesDiscontinued(f: Filter): boolean {
  return Object.entries(f).some(([k, v]) =>
    k === 'isDiscontinued'
      ? v !== undefined && v !== null
      : k === 'and' || k === 'or'
        ? (v as Filter[]).some(namesDiscontinued)
        : k === 'not'
          ? namesDiscontinued(v as Filter)
          : false,
  );
}

function matches(row: Row, f: Filter): boolean {
  for (const [key, ops] of Object.entries(f)) {
    if (ops === undefined || ops === null || key === 'includeRemoved') continue;
    if (key === 'and') {
      if (!(ops as Filter[]).every((x) => matches(row, x))) return false;
    } else if (key === 'or') {
      if (!(ops as Filter[]).some((x) => matches(row, x))) return false;
    } else if (key === 'not') {
      if (matches(row, ops as Filter)) return false;
    } else if (key === 'isDiscontinued') {
      if ((readBool(row.data.isDiscontinued) === true) !== ops) return false;
    } else {
      const v = value(row, key);
      for (const [op, arg] of Object.entries(ops as Filter)) {
        const a = arg as string | number;
        const ok =
          op === 'isNull'
            ? (v === null) === arg
            : v !== null &&
              (op === 'eq'
                ? v === a
                : op === 'ne'
                  ? v !== a
                  : op === 'in'
                    ? (arg as unknown[]).includes(v)
                    : op === 'gt'
                      ? v > a
                      : op === 'gte'
                        ? v >= a
                        : op === 'lt'
                          ? v < a
                          : op === 'lte'
                            ? v <= a
                            : op === 'contains'
                              ? String(v).toLowerCase().includes(String(a).toLowerCase())
                              : (() => {
                                  throw new Error(`test evaluator lacks ${op}`);
                                })());
        if (!ok) return false;
      }
    }
  }
  return true;
}

/** The records pfaRecords would return for a filter, in TypeScript. */
function selected(rows: Row[], filter: Filter): Row[] {
  return rows.filter(
    (r) =>
      (filter.includeRemoved === true || !r.removed) &&
      (namesDiscontinued(filter) || readBool(r.data.isDiscontinued) !== true) &&
      matches(r, filter),
  );
}

const GROUP_OF: Record<string, (r: Row) => string | number | null> = {
  CATEGORY: (r) => readText(r.data.category),
  CLASS: (r) => readText(r.data.class),
  SOURCE: (r) => readText(r.data.source),
  DOR: (r) => readText(r.data.dor),
  AREA_SILO: (r) => readText(r.data.areaSilo),
  MANUFACTURER: (r) => readText(r.data.manufacturer),
  MODEL: (r) => readText(r.data.model),
  FORECAST_START_MONTH: (r) => readDate(r.data.forecastStart)?.slice(0, 7) ?? null,
  FORECAST_START_YEAR: (r) => {
    const d = readDate(r.data.forecastStart);
    return d === null ? null : Number(d.slice(0, 4));
  },
};
const FIELD_OF: Record<string, string> = {
  CATEGORY: 'category',
  CLASS: 'class',
  SOURCE: 'source',
  DOR: 'dor',
  AREA_SILO: 'areaSilo',
  MANUFACTURER: 'manufacturer',
  MODEL: 'model',
  FORECAST_START_MONTH: 'forecastStartMonth',
  FORECAST_START_YEAR: 'forecastStartYear',
};

interface Agg {
  recordCount: number;
  actualizedCount: number;
  totalPlanCost: number;
  totalForecastCost: number;
  totalActualCost: number;
  totalVariance: number;
  minForecastStart: string | null;
  maxForecastEnd: string | null;
  [key: string]: unknown;
}

function aggregateInTs(rows: Row[], groupBy: string[]): Map<string, Agg> {
  const groups = new Map<string, Agg>();
  for (const r of rows) {
    const key = JSON.stringify(groupBy.map((g) => (GROUP_OF[g] as (r: Row) => unknown)(r)));
    const g = groups.get(key) ?? {
      recordCount: 0,
      actualizedCount: 0,
      totalPlanCost: 0,
      totalForecastCost: 0,
      totalActualCost: 0,
      totalVariance: 0,
      minForecastStart: null,
      maxForecastEnd: null,
    };
    const c = recordCosts(r.data);
    g.recordCount++;
    if (readBool(r.data.isActualized) === true) g.actualizedCount++;
    g.totalPlanCost += c.planCost;
    g.totalForecastCost += c.forecastCost;
    g.totalActualCost += c.actualCost;
    g.totalVariance += c.variance;
    const fs = readDate(r.data.forecastStart);
    const fe = readDate(r.data.forecastEnd);
    if (fs !== null && (g.minForecastStart === null || fs < g.minForecastStart)) g.minForecastStart = fs;
    if (fe !== null && (g.maxForecastEnd === null || fe > g.maxForecastEnd)) g.maxForecastEnd = fe;
    groups.set(key, g);
  }
  return groups;
}

const closeTo = (got: number, want: number) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));

const AGG_QUERY = `query($org: ID!, $filter: PfaRecordFilter, $groupBy: [PfaGroupBy!]) {
  pfaAggregate(organizationId: $org, filter: $filter, groupBy: $groupBy) {
    category class source dor areaSilo manufacturer model forecastStartMonth forecastStartYear
    recordCount actualizedCount totalPlanCost totalForecastCost totalActualCost totalVariance
    minForecastStart maxForecastEnd
  }
}`;

const VALUES_QUERY = `query($org: ID!, $field: PfaValueField!, $filter: PfaRecordFilter, $search: String, $first: Int) {
  fieldValues(organizationId: $org, field: $field, filter: $filter, search: $search, first: $first) { value count }
}`;

const PAGE_QUERY = `query($org: ID!, $filter: PfaRecordFilter, $orderBy: [PfaRecordOrderBy!], $first: Int, $after: String) {
  pfaRecords(organizationId: $org, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    nodes { id pfaId forecastSlipDays startSlipDays forecastDurationDays planDurationDays removedFromPemsAt }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface PageNode {
  id: string;
  pfaId: string;
  forecastSlipDays: number | null;
  startSlipDays: number | null;
  forecastDurationDays: number | null;
  planDurationDays: number | null;
  removedFromPemsAt: string | null;
}
interface Page {
  pfaRecords: { nodes: PageNode[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

async function allPages(
  variables: Record<string, unknown>,
  session: string | null,
  size = 37,
): Promise<PageNode[]> {
  const out: PageNode[] = [];
  let after: string | null = null;
  for (let i = 0; i < 100; i++) {
    const d: Page = await gqlOk<Page>(
      PAGE_QUERY,
      { org: 'HOLNG', ...variables, first: size, after },
      session,
    );
    out.push(...d.pfaRecords.nodes);
    if (!d.pfaRecords.pageInfo.hasNextPage) return out;
    after = d.pfaRecords.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

beforeAll(async () => {
  app = await startTestApp();
  editorToken = await app.token('editor', ['HOLNG', 'ORG2', 'NEWORG'], EDITOR);
  otherToken = await app.token('editor', ['HOLNG'], OTHER);
  ids = await insertRecords(app.database.db, 'HOLNG', 400, EXTRA);
  await insertRecords(app.database.db, 'ORG2', 30, [
    { pfaId: 'ORG2-ONLY', data: { pfaId: 'ORG2-ONLY', category: 'Org2 Category', source: 'Rental' } },
  ]);
  const db = app.database.db;
  // Two removed records at times with microseconds (the API shows milliseconds).
  await sql`UPDATE pfa_mirror SET removed_from_pems_at = '2026-03-01T10:00:00.123456Z' WHERE pfa_id = 'Q-REMOVED-1'`.execute(
    db,
  );
  await sql`UPDATE pfa_mirror SET removed_from_pems_at = '2026-03-01T10:00:00.123789Z' WHERE pfa_id = 'Q-REMOVED-2'`.execute(
    db,
  );
  // The KPI cache as a sync leaves it (every sync that changes data refreshes it); the
  // modifications below come after the refresh and are corrected live.
  await sql`SELECT refresh_pfa_materialized_views()`.execute(db);
  const g = generatedIds();
  const at = (i: number) => g[i] as string;
  // The editor's session sA: drafts that move records into and out of groups and filters.
  await insertModification(db, {
    org: 'HOLNG',
    mirrorId: at(0),
    session: 'sA',
    user: EDITOR,
    state: 'draft',
    delta: { category: 'Cranes', forecastEnd: '2029-06-30' },
  });
  await insertModification(db, {
    org: 'HOLNG',
    mirrorId: at(1),
    session: 'sA',
    user: EDITOR,
    state: 'draft',
    delta: { isDiscontinued: true },
  });
  await insertModification(db, {
    org: 'HOLNG',
    mirrorId: at(2),
    session: 'sA',
    user: EDITOR,
    state: 'draft',
    delta: { forecastStart: '2025-07-15', monthlyRate: 12345.67, source: 'Rental' },
  });
  await insertModification(db, {
    org: 'HOLNG',
    mirrorId: at(3),
    session: 'sA',
    user: EDITOR,
    state: 'draft',
    delta: { manufacturer: 'Draft Maker Inc', category: 'Earthmoving' },
  });
  // A pending commit of somebody else: seen by everyone.
  await insertModification(db, {
    org: 'HOLNG',
    mirrorId: at(4),
    session: 'sC',
    user: OTHER,
    state: 'committed',
    delta: { category: 'Generators', monthlyRate: 2000 },
  });
  await insertModification(db, {
    org: 'HOLNG',
    mirrorId: at(0),
    session: 'sC',
    user: OTHER,
    state: 'committed',
    delta: { monthlyRate: 777 },
  });
  // Another user's private draft: never seen by the editor.
  await insertModification(db, {
    org: 'HOLNG',
    mirrorId: at(5),
    session: 'sB',
    user: OTHER,
    state: 'draft',
    delta: { category: 'Secret Category', isDiscontinued: false },
  });
  // An old session of the editor's with a conflict.
  await insertModification(db, {
    org: 'HOLNG',
    mirrorId: at(6),
    session: 'sOld',
    user: EDITOR,
    state: 'conflict',
    delta: { model: 'Conflicted' },
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
});

const AGG_CASES: [string, Filter | null, string[]][] = [
  ['everything, one row', null, []],
  ['by category', null, ['CATEGORY']],
  [
    'grid filter by category',
    {
      category: { eq: 'Earthmoving' },
      source: { eq: 'Rental' },
      forecastStart: { gte: '2024-06-01' },
      forecastEnd: { lte: '2027-12-31' },
    },
    ['CATEGORY'],
  ],
  [
    'rentals by category and forecast month',
    { source: { eq: 'Rental' } },
    ['CATEGORY', 'FORECAST_START_MONTH'],
  ],
  ['discontinued by source and dor', { isDiscontinued: true }, ['SOURCE', 'DOR']],
  [
    'slipped by year and manufacturer',
    { forecastSlipDays: { gt: 0 } },
    ['FORECAST_START_YEAR', 'MANUFACTURER'],
  ],
  ['with removed, by class, area, model', { includeRemoved: true }, ['CLASS', 'AREA_SILO', 'MODEL']],
  [
    'or/not, by category',
    { or: [{ category: { in: ['Cranes', 'Generators'] } }, { not: { forecastDurationDays: { lte: 200 } } }] },
    ['CATEGORY'],
  ],
];

describe('pfaAggregate', () => {
  it.each(
    AGG_CASES.flatMap(([name, f, g]) => [
      [`${name} (session sA)`, f, g, 'sA'] as const,
      [`${name} (no session)`, f, g, null] as const,
    ]),
  )('%s equals sums over the merged JSON', async (_name, filter, groupBy, session) => {
    const rows = selected(await mergedInTs('HOLNG', session), filter ?? {});
    expect(rows.length).toBeGreaterThan(0);
    const expected = aggregateInTs(rows, [...groupBy]);
    const data = await gqlOk<{ pfaAggregate: Agg[] }>(AGG_QUERY, { org: 'HOLNG', filter, groupBy }, session);
    expect(data.pfaAggregate).toHaveLength(expected.size);
    for (const got of data.pfaAggregate) {
      const key = JSON.stringify(groupBy.map((g) => got[FIELD_OF[g] as string]));
      const want = expected.get(key);
      if (!want) throw new Error(`unexpected group ${key}`);
      expect(got.recordCount).toBe(want.recordCount);
      expect(got.actualizedCount).toBe(want.actualizedCount);
      closeTo(got.totalPlanCost, want.totalPlanCost);
      closeTo(got.totalForecastCost, want.totalForecastCost);
      closeTo(got.totalActualCost, want.totalActualCost);
      closeTo(got.totalVariance, want.totalVariance);
      expect(got.minForecastStart).toBe(want.minForecastStart);
      expect(got.maxForecastEnd).toBe(want.maxForecastEnd);
      // Keys not grouped by are null.
      for (const [g, f] of Object.entries(FIELD_OF)) if (!groupBy.includes(g)) expect(got[f]).toBeNull();
    }
  });

  // Without a filter and without the forecast bounds, CATEGORY/SOURCE/DOR totals come from the
  // live-corrected KPI cache (refreshed in beforeAll before the drafts and commits were made).
  const KPI_AGG_QUERY = AGG_QUERY.replace('minForecastStart maxForecastEnd', '');
  it.each(
    [[], ['CATEGORY'], ['SOURCE', 'DOR'], ['DOR', 'CATEGORY', 'SOURCE']].flatMap((g) => [
      [g, 'sA'] as const,
      [g, null] as const,
    ]),
  )(
    'from the KPI cache: groupBy %j (session %s) equals sums over the merged JSON',
    async (groupBy, session) => {
      const expected = aggregateInTs(selected(await mergedInTs('HOLNG', session), {}), [...groupBy]);
      const data = await gqlOk<{ pfaAggregate: Agg[] }>(KPI_AGG_QUERY, { org: 'HOLNG', groupBy }, session);
      expect(data.pfaAggregate).toHaveLength(expected.size);
      for (const got of data.pfaAggregate) {
        const want = expected.get(JSON.stringify(groupBy.map((g) => got[FIELD_OF[g] as string])));
        if (!want) throw new Error(`unexpected group ${JSON.stringify(got)}`);
        expect(got.recordCount).toBe(want.recordCount);
        expect(got.actualizedCount).toBe(want.actualizedCount);
        closeTo(got.totalPlanCost, want.totalPlanCost);
        closeTo(got.totalForecastCost, want.totalForecastCost);
        closeTo(got.totalActualCost, want.totalActualCost);
        closeTo(got.totalVariance, want.totalVariance);
      }
    },
  );

  it("each session sees its own drafts in the totals, never another's", async () => {
    const filter = { category: { in: ['Cranes', 'Secret Category'] } };
    const q = (session: string | null, token = editorToken) =>
      gqlOk<{ pfaAggregate: Agg[] }>(AGG_QUERY, { org: 'HOLNG', filter }, session, token);
    const counts = await Promise.all([q('sA'), q(null), q('sB', otherToken)]);
    const expected = await Promise.all(
      ['sA', null, 'sB'].map(async (s) => selected(await mergedInTs('HOLNG', s), filter).length),
    );
    expect(counts.map((c) => c.pfaAggregate[0]?.recordCount)).toEqual(expected);
    expect(expected[0]).not.toBe(expected[1]);
    expect(expected[2]).not.toBe(expected[1]);
    const secret = await gqlOk<{ pfaAggregate: Agg[] }>(
      AGG_QUERY,
      { org: 'HOLNG', groupBy: ['CATEGORY'] },
      'sA',
    );
    expect(secret.pfaAggregate.map((a) => a.category)).not.toContain('Secret Category');
  });

  it('a filter that matches nothing: one zero row without groupBy, no rows with it', async () => {
    const filter = { pfaId: { eq: 'NOPE' } };
    const one = await gqlOk<{ pfaAggregate: Agg[] }>(AGG_QUERY, { org: 'HOLNG', filter });
    expect(one.pfaAggregate).toEqual([
      expect.objectContaining({
        recordCount: 0,
        totalForecastCost: 0,
        minForecastStart: null,
        maxForecastEnd: null,
      }),
    ]);
    const grouped = await gqlOk<{ pfaAggregate: Agg[] }>(AGG_QUERY, {
      org: 'HOLNG',
      filter,
      groupBy: ['CATEGORY'],
    });
    expect(grouped.pfaAggregate).toEqual([]);
  });

  it('rejects a group key named twice, another organization and a bad filter', async () => {
    const twice = await gql(AGG_QUERY, { org: 'HOLNG', groupBy: ['CATEGORY', 'CATEGORY'] });
    expect(twice.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const foreign = await gql(AGG_QUERY, { org: 'ORG3' });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const bad = await gql(AGG_QUERY, { org: 'HOLNG', filter: { forecastSlipDays: { gt: 1.5 } } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('fieldValues', () => {
  const expectedValues = (rows: Row[], field: string, search?: string) => {
    const counts = new Map<string, number>();
    for (const r of rows) {
      const v = readText(r.data[field]);
      if (v === null || (search && !v.toLowerCase().includes(search.toLowerCase()))) continue;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    return [...counts]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  };

  const check = async (
    field: string,
    key: string,
    filter: Filter | null,
    session: string | null,
    search?: string,
    first = 100,
  ) => {
    const rows = selected(await mergedInTs('HOLNG', session), filter ?? {});
    const want = expectedValues(rows, key, search).slice(0, first);
    expect(want.length).toBeGreaterThan(0);
    const got = await gqlOk<{ fieldValues: { value: string; count: number }[] }>(
      VALUES_QUERY,
      { org: 'HOLNG', field, filter, search, first },
      session,
    );
    expect(got.fieldValues).toEqual(want);
  };

  it.each([
    ['CATEGORY', 'category', null],
    ['SOURCE', 'source', null],
    ['DOR', 'dor', null],
    ['CATEGORY', 'category', { source: { eq: 'Rental' } }],
    ['MANUFACTURER', 'manufacturer', null],
    ['MODEL', 'model', { category: { eq: 'Cranes' } }],
    ['CLASS', 'class', { isDiscontinued: true }],
    ['AREA_SILO', 'areaSilo', { includeRemoved: true }],
    ['CONTRACT', 'contract', { forecastSlipDays: { gt: 30 } }],
    ['EQUIPMENT', 'equipment', { category: { eq: 'Earthmoving' } }],
  ] as [string, string, Filter | null][])(
    '%s (%s) with filter %j counts as TypeScript does, with and without drafts',
    async (field, key, filter) => {
      await check(field, key, filter, 'sA');
      await check(field, key, filter, null);
    },
  );

  it('search and first', async () => {
    await check('CATEGORY', 'category', null, 'sA', 'RAN');
    await check('MANUFACTURER', 'manufacturer', null, 'sA', 'cat', 2);
    await check('MANUFACTURER', 'manufacturer', { source: { eq: 'Purchase' } }, null, 'a', 3);
  });

  it('stays exact from the KPI cache: after a refresh, with drafts and commits made after it', async () => {
    const db = app.database.db;
    await sql`SELECT refresh_pfa_materialized_views()`.execute(db);
    await check('CATEGORY', 'category', null, 'sA');
    const g = generatedIds();
    await insertModification(db, {
      org: 'HOLNG',
      mirrorId: g[10] as string,
      session: 'sA',
      user: EDITOR,
      state: 'draft',
      delta: { category: 'Brand New Category' },
    });
    await insertModification(db, {
      org: 'HOLNG',
      mirrorId: g[11] as string,
      session: 'sC',
      user: OTHER,
      state: 'committed',
      delta: { category: 'Cranes', isDiscontinued: false },
    });
    await check('CATEGORY', 'category', null, 'sA');
    await check('CATEGORY', 'category', null, null);
    await check('DOR', 'dor', null, 'sA');
    const got = await gqlOk<{ fieldValues: { value: string }[] }>(
      VALUES_QUERY,
      { org: 'HOLNG', field: 'CATEGORY' },
      'sA',
    );
    expect(got.fieldValues.map((v) => v.value)).toContain('Brand New Category');
    const none = await gqlOk<{ fieldValues: { value: string }[] }>(
      VALUES_QUERY,
      { org: 'HOLNG', field: 'CATEGORY' },
      null,
    );
    expect(none.fieldValues.map((v) => v.value)).not.toContain('Brand New Category');
  });

  it('rejects first out of range and a search with NUL', async () => {
    for (const first of [0, 1001]) {
      const r = await gql(VALUES_QUERY, { org: 'HOLNG', field: 'CATEGORY', first });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const nul = await gql(VALUES_QUERY, { org: 'HOLNG', field: 'MODEL', search: 'a\u0000b' });
    expect(nul.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('hints for exact values that match nothing', () => {
  it('names the closest existing values when eq matches nothing in the organization', async () => {
    const r = await gql<Page>(PAGE_QUERY, { org: 'HOLNG', filter: { category: { eq: 'Crane' } }, first: 10 });
    expect(r.data?.pfaRecords.nodes).toEqual([]);
    const hints = r.extensions?.hints ?? [];
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatchObject({ path: 'filter.category.eq', field: 'category', value: 'Crane' });
    expect(hints[0]?.closest[0]?.value).toBe('Cranes');
    expect(hints[0]?.message).toContain('fieldValues(field: CATEGORY)');
  });

  it('checks `in` lists and nested filters, in pfaAggregate and fieldValues too', async () => {
    const filter = {
      and: [{ manufacturer: { in: ['Caterpillar', 'caterpilar'] } }, { areaSilo: { eq: 'Nowhere' } }],
    };
    const agg = await gql<{ pfaAggregate: Agg[] }>(AGG_QUERY, {
      org: 'HOLNG',
      filter,
      groupBy: ['CATEGORY'],
    });
    expect(agg.data?.pfaAggregate).toEqual([]);
    const hinted = (agg.extensions?.hints ?? []).map((h) => [h.path, h.value]);
    expect(hinted).toEqual([
      ['filter.and[0].manufacturer.in[1]', 'caterpilar'],
      ['filter.and[1].areaSilo.eq', 'Nowhere'],
    ]);
    expect(agg.extensions?.hints?.[0]?.closest[0]?.value).toBe('Caterpillar');
    const values = await gql<{ fieldValues: unknown[] }>(VALUES_QUERY, {
      org: 'HOLNG',
      field: 'MODEL',
      filter: { dor: { eq: 'nope' } },
    });
    expect(values.data?.fieldValues).toEqual([]);
    expect(values.extensions?.hints?.[0]).toMatchObject({ field: 'dor', value: 'nope' });
  });

  it('says nothing when the values exist (the other conditions emptied the answer) or rows came back', async () => {
    const empty = await gql<Page>(PAGE_QUERY, {
      org: 'HOLNG',
      filter: { category: { eq: 'Cranes' }, pfaId: { eq: 'NOPE' } },
      first: 10,
    });
    expect(empty.data?.pfaRecords.nodes).toEqual([]);
    expect(empty.extensions?.hints).toBeUndefined();
    const some = await gql<Page>(PAGE_QUERY, {
      org: 'HOLNG',
      filter: { or: [{ category: { eq: 'Cranes' } }, { category: { eq: 'Crane' } }] },
      first: 10,
    });
    expect(some.data?.pfaRecords.nodes.length).toBeGreaterThan(0);
    expect(some.extensions?.hints).toBeUndefined();
  });

  it("a value only in the caller's own draft exists for the caller, not for others", async () => {
    const q = (session: string | null) =>
      gql<Page>(
        PAGE_QUERY,
        {
          org: 'HOLNG',
          filter: { manufacturer: { eq: 'Draft Maker Inc' }, pfaId: { eq: 'NOPE' } },
          first: 5,
        },
        session,
      );
    expect((await q('sA')).extensions?.hints).toBeUndefined();
    expect((await q(null)).extensions?.hints?.[0]?.value).toBe('Draft Maker Inc');
  });
});

describe('slips and durations', () => {
  const slipFields = ['forecastSlipDays', 'startSlipDays', 'forecastDurationDays', 'planDurationDays'];

  it.each(['sA', null])(
    'record fields equal date differences of the merged JSON (session %s)',
    async (session) => {
      const rows = new Map((await mergedInTs('HOLNG', session)).map((r) => [r.id, r]));
      const nodes = await allPages(
        { filter: { includeRemoved: true, or: [{ isDiscontinued: true }, { isDiscontinued: false }] } },
        session,
        500,
      );
      expect(nodes.length).toBe(rows.size);
      for (const n of nodes) {
        const row = rows.get(n.id) as Row;
        for (const f of slipFields)
          expect([n.pfaId, f, n[f as keyof PageNode]]).toEqual([n.pfaId, f, value(row, f)]);
      }
      const noEnd = nodes.find((n) => n.pfaId === 'Q-NO-END');
      expect(noEnd).toMatchObject({
        forecastSlipDays: null,
        startSlipDays: 28,
        forecastDurationDays: 184,
        planDurationDays: null,
      });
      expect(nodes.find((n) => n.pfaId === 'Q-BAD-DATE')?.forecastSlipDays).toBeNull();
    },
  );

  const ORDER_CASES: [Filter | null, string][] = [
    [null, 'FORECAST_SLIP_DAYS_DESC'],
    [null, 'FORECAST_SLIP_DAYS_ASC'],
    [{ forecastSlipDays: { gt: 0 } }, 'FORECAST_SLIP_DAYS_DESC'],
    [{ startSlipDays: { gte: -10, lte: 40 } }, 'START_SLIP_DAYS_ASC'],
    [{ forecastDurationDays: { gte: 100, lte: 200 } }, 'FORECAST_DURATION_DAYS_DESC'],
    [{ forecastDurationDays: { in: [184, 14, 15, 16, 17, 18, 19, 20] } }, 'FORECAST_DURATION_DAYS_ASC'],
    [{ planDurationDays: { isNull: true } }, 'PLAN_DURATION_DAYS_ASC'],
    [{ not: { forecastSlipDays: { ne: 0 } } }, 'PLAN_DURATION_DAYS_DESC'],
  ];

  it.each(ORDER_CASES.flatMap(([f, o]) => [[f, o, 'sA'] as const, [f, o, null] as const]))(
    'filter %j ordered by %s, keyset pages of 37, equals the TypeScript order (session %s)',
    async (filter, orderBy, session) => {
      const field = orderBy
        .replace(/_(ASC|DESC)$/, '')
        .toLowerCase()
        .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const desc = orderBy.endsWith('_DESC');
      const rows = selected(await mergedInTs('HOLNG', session), filter ?? {});
      expect(rows.length).toBeGreaterThan(0);
      const expected = rows
        .map((r) => ({ id: r.id, v: value(r, field) as number | null }))
        .sort((a, b) => {
          if (a.v !== b.v) {
            if (a.v === null) return 1; // NULLs last in both directions
            if (b.v === null) return -1;
            return desc ? b.v - a.v : a.v - b.v;
          }
          return desc ? Number(b.id) - Number(a.id) : Number(a.id) - Number(b.id);
        })
        .map((r) => r.id);
      const got = (await allPages({ filter, orderBy: [orderBy] }, session)).map((n) => n.id);
      expect(got).toEqual(expected);
    },
  );

  // The grid's forecastStart order with a slip filter: ids come from an index-only scan of
  // idx_pfa_mirror_forecast_start first (page-plan.ts coveringIndexPage), then the rows.
  const START_CASES: [Filter, string][] = [
    [{ forecastSlipDays: { gt: 0 } }, 'FORECAST_START_ASC'],
    [{ forecastSlipDays: { gt: 30 }, forecastEnd: { lte: '2026-12-31' } }, 'FORECAST_START_DESC'],
    [{ startSlipDays: { lt: 0 }, includeRemoved: true }, 'FORECAST_START_ASC'],
    [{ or: [{ forecastSlipDays: { gt: 60 } }, { planDurationDays: { lt: 30 } }] }, 'FORECAST_START_DESC'],
  ];

  it.each(START_CASES.flatMap(([f, o]) => [[f, o, 'sA'] as const, [f, o, null] as const]))(
    'filter %j ordered by %s (ids from the covering index), keyset pages of 37, equals the TypeScript order (session %s)',
    async (filter, orderBy, session) => {
      expect(coveringIndexPage(filter, ['forecastStart', 'id'])).toBe(true);
      const desc = orderBy.endsWith('_DESC');
      const rows = selected(await mergedInTs('HOLNG', session), filter);
      expect(rows.length).toBeGreaterThan(0);
      const expected = rows
        .map((r) => ({ id: r.id, v: value(r, 'forecastStart') as string | null }))
        .sort((a, b) => {
          if (a.v !== b.v) {
            if (a.v === null) return desc ? -1 : 1; // NULLs first descending, last ascending
            if (b.v === null) return desc ? 1 : -1;
            return (a.v < b.v ? -1 : 1) * (desc ? -1 : 1);
          }
          return desc ? Number(b.id) - Number(a.id) : Number(a.id) - Number(b.id);
        })
        .map((r) => r.id);
      const got = (await allPages({ filter, orderBy: [orderBy] }, session)).map((n) => n.id);
      expect(got).toEqual(expected);
    },
  );

  it('the slip of a draft moves the record for that session only', async () => {
    // The draft's forecast end (2029-06-30) lies more than 500 days after any generated plan end.
    const id = generatedIds()[0] as string;
    const filter = { forecastSlipDays: { gt: 500 } };
    const mine = await gqlOk<Page>(PAGE_QUERY, { org: 'HOLNG', filter, first: 5 }, 'sA');
    expect(mine.pfaRecords.nodes.map((n) => n.id)).toEqual([id]);
    expect(mine.pfaRecords.nodes[0]?.forecastSlipDays).toBeGreaterThan(500);
    const none = await gqlOk<Page>(PAGE_QUERY, { org: 'HOLNG', filter, first: 5 }, null);
    expect(none.pfaRecords.nodes).toEqual([]);
  });
});

describe('removedFromPemsAt', () => {
  it('filters (with includeRemoved) and orders with keyset pages at microsecond timestamps', async () => {
    const q = (filter: Filter, orderBy: string[] = ['REMOVED_FROM_PEMS_AT_ASC']) =>
      allPages({ filter, orderBy }, 'sA', 1);
    const removed = await q({ includeRemoved: true, removedFromPemsAt: { isNull: false } });
    expect(removed.map((n) => n.pfaId)).toEqual(['Q-REMOVED-1', 'Q-REMOVED-2']);
    expect(removed.map((n) => n.removedFromPemsAt)).toEqual([
      '2026-03-01T10:00:00.123Z',
      '2026-03-01T10:00:00.123Z',
    ]);
    const desc = await q({ includeRemoved: true, removedFromPemsAt: { gte: '2026-03-01T10:00:00.123Z' } }, [
      'REMOVED_FROM_PEMS_AT_DESC',
    ]);
    expect(desc.map((n) => n.pfaId)).toEqual(['Q-REMOVED-2', 'Q-REMOVED-1']);
    expect(await q({ includeRemoved: true, removedFromPemsAt: { gt: '2026-03-01T10:00:00.123Z' } })).toEqual(
      [],
    );
    expect(await q({ removedFromPemsAt: { isNull: false } })).toEqual([]);
    const all = await allPages(
      { filter: { includeRemoved: true }, orderBy: ['REMOVED_FROM_PEMS_AT_DESC'] },
      'sA',
      50,
    );
    expect(all.slice(0, 2).map((n) => n.pfaId)).toEqual(['Q-REMOVED-2', 'Q-REMOVED-1']);
    expect(new Set(all.map((n) => n.id)).size).toBe(all.length);
  });

  it('rejects a DateTime that is not one', async () => {
    const r = await gql(PAGE_QUERY, {
      org: 'HOLNG',
      filter: { includeRemoved: true, removedFromPemsAt: { gt: 'yesterday' } },
    });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('me', () => {
  it('lists the organizations of the token with their names', async () => {
    await app.database.db
      .updateTable('organization')
      .set({ name: 'Holland LNG' })
      .where('id', '=', 'HOLNG')
      .execute();
    const d = await gqlOk<{
      me: { userId: string; role: string; organizations: { id: string; name: string }[] };
    }>('{ me { userId role organizations { id name } } }', {}, null);
    expect(d.me).toEqual({
      userId: EDITOR,
      role: 'editor',
      organizations: [
        { id: 'HOLNG', name: 'Holland LNG' },
        { id: 'ORG2', name: 'ORG2 project' },
        { id: 'NEWORG', name: 'NEWORG' },
      ],
    });
    const viewer = await app.token('viewer', ['ORG2'], 'v1');
    const v = await gqlOk<{ me: { role: string; organizations: { id: string }[] } }>(
      '{ me { role organizations { id } } }',
      {},
      null,
      viewer,
    );
    expect(v.me).toEqual({ role: 'viewer', organizations: [{ id: 'ORG2' }] });
    const anon = await gql('{ me { userId } }', {}, null, '' as string);
    expect(anon.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('lookups that meet the user’s words', () => {
  const BY_PFA = `query($org: ID!, $pfaId: String!) { pfaRecordByPfaId(organizationId: $org, pfaId: $pfaId) { id pfaId category removedFromPemsAt draft { id } } }`;
  type ByPfa = {
    pfaRecordByPfaId: {
      id: string;
      pfaId: string;
      category: string;
      removedFromPemsAt: string | null;
      draft: unknown;
    } | null;
  };

  it('pfaRecordByPfaId returns the merged record for the session, removed ones too', async () => {
    const id = generatedIds()[0] as string;
    const pfaId = [...ids].find(([, v]) => v === id)?.[0] as string;
    const mine = await gqlOk<ByPfa>(BY_PFA, { org: 'HOLNG', pfaId }, 'sA');
    expect(mine.pfaRecordByPfaId).toMatchObject({ id, pfaId, category: 'Cranes' });
    expect(mine.pfaRecordByPfaId?.draft).not.toBeNull();
    const none = await gqlOk<ByPfa>(BY_PFA, { org: 'HOLNG', pfaId }, null);
    const base = (await mergedInTs('HOLNG', null)).find((r) => r.id === id) as Row;
    expect(none.pfaRecordByPfaId).toMatchObject({ id, category: readText(base.data.category), draft: null });
    const removed = await gqlOk<ByPfa>(BY_PFA, { org: 'HOLNG', pfaId: 'Q-REMOVED-1' });
    expect(removed.pfaRecordByPfaId?.removedFromPemsAt).toBe('2026-03-01T10:00:00.123Z');
    expect((await gqlOk<ByPfa>(BY_PFA, { org: 'HOLNG', pfaId: 'q-removed-1' })).pfaRecordByPfaId).toBeNull();
    expect((await gqlOk<ByPfa>(BY_PFA, { org: 'HOLNG', pfaId: 'ORG2-ONLY' })).pfaRecordByPfaId).toBeNull();
    const foreign = await gql(BY_PFA, { org: 'ORG2', pfaId: 'ORG2-ONLY' }, null, otherToken);
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('pfaRecord with a PEMS identifier says to use pfaRecordByPfaId', async () => {
    const r = await gql('query($id: ID!) { pfaRecord(id: $id) { id } }', { id: 'HOLNG-PFA-0000003' });
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toContain('pfaRecordByPfaId');
    const ok = await gqlOk<{ pfaRecord: { id: string } }>('query($id: ID!) { pfaRecord(id: $id) { id } }', {
      id: generatedIds()[7],
    });
    expect(ok.pfaRecord.id).toBe(generatedIds()[7]);
  });

  const DRAFTS = `query($all: Boolean, $state: [SyncState!]) { drafts(organizationId: "HOLNG", allSessions: $all, state: $state) { id syncState sessionId } }`;
  type Drafts = { drafts: { id: string; syncState: string; sessionId: string }[] };

  it('drafts without a session and without allSessions is BAD_USER_INPUT', async () => {
    const r = await gql(DRAFTS, {}, null);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.message).toContain('allSessions');
    const all = await gqlOk<Drafts>(DRAFTS, { all: true }, null);
    expect(new Set(all.drafts.map((d) => d.sessionId))).toEqual(new Set(['sA', 'sOld']));
  });

  it('drafts(state:) lists only those states', async () => {
    const conflicts = await gqlOk<Drafts>(DRAFTS, { all: true, state: ['CONFLICT'] }, null);
    expect(conflicts.drafts.map((d) => [d.sessionId, d.syncState])).toEqual([['sOld', 'CONFLICT']]);
    const mods = await app.database.db
      .selectFrom('pfa_modification')
      .select(['id', 'sync_state'])
      .where('session_id', '=', 'sA')
      .where('user_id', '=', EDITOR)
      .execute();
    const drafts = await gqlOk<Drafts>(DRAFTS, { state: ['DRAFT', 'COMMITTED'] }, 'sA');
    expect(drafts.drafts.map((d) => d.id).sort()).toEqual(
      mods
        .filter((m) => m.sync_state === 'draft' || m.sync_state === 'committed')
        .map((m) => String(m.id))
        .sort(),
    );
    expect(drafts.drafts.length).toBeGreaterThan(0);
    expect((await gqlOk<Drafts>(DRAFTS, { state: ['CONFLICT'] }, 'sA')).drafts).toEqual([]);
    expect((await gqlOk<Drafts>(DRAFTS, { state: [] }, 'sA')).drafts).toEqual([]);
  });
});
