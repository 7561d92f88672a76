import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertRecords } from './helpers/fixtures.js';

/** Relay conventions: backward paging with the same keyset guarantees as forward paging. */

let app: TestApp;

interface Page {
  pfaRecords: {
    nodes: { id: string }[];
    pageInfo: {
      hasNextPage: boolean;
      hasPreviousPage: boolean;
      startCursor: string | null;
      endCursor: string | null;
    };
  };
}
const PAGE = `query($orderBy: [PfaRecordOrderBy!], $first: Int, $after: String, $last: Int, $before: String, $f: PfaRecordFilter) {
  pfaRecords(organizationId: "HOLNG", orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before, filter: $f) {
    nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`;

async function page(
  variables: Record<string, unknown>,
  session: string | null = null,
): Promise<Page['pfaRecords']> {
  const r = await app.gql<Page>(PAGE, { variables, session });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return (r.data as Page).pfaRecords;
}

beforeAll(async () => {
  app = await startTestApp();
  // Some records without a forecast end or a rate: NULLs sort last in both directions.
  const extra = Array.from({ length: 7 }, (_, i) => ({
    pfaId: `HOLNG-NULL-${i}`,
    data: {
      category: 'Cranes',
      source: 'Rental',
      forecastStart: '2026-01-01',
      ...(i % 2 ? { monthlyRate: 10 } : {}),
    },
  }));
  await insertRecords(app.database.db, 'HOLNG', 130, extra);
});
afterAll(async () => app?.close());

describe('backward paging (last/before)', () => {
  for (const orderBy of [
    [],
    ['FORECAST_END_DESC'],
    ['MONTHLY_RATE_ASC', 'CATEGORY_DESC'],
    ['FORECAST_END_ASC'],
  ]) {
    it(`walks the same records as forward paging, reversed (${orderBy.join(',') || 'default'})`, async () => {
      const forward: string[] = [];
      let after: string | null = null;
      for (;;) {
        const p = await page({ orderBy, first: 17, after });
        forward.push(...p.nodes.map((n) => n.id));
        expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
        if (!p.pageInfo.hasNextPage) break;
        after = p.pageInfo.endCursor;
      }
      expect(new Set(forward).size).toBe(forward.length);
      const backward: string[] = [];
      let before: string | null = null;
      for (;;) {
        const p = await page({ orderBy, last: 13, before });
        backward.unshift(...p.nodes.map((n) => n.id));
        expect(p.pageInfo.hasNextPage).toBe(before !== null);
        if (!p.pageInfo.hasPreviousPage) break;
        before = p.pageInfo.startCursor;
      }
      expect(backward).toEqual(forward);
    });
  }

  it('a forward cursor works backward and the other way round', async () => {
    const first = await page({ orderBy: ['FORECAST_END_DESC'], first: 40 });
    const mid = await page({ orderBy: ['FORECAST_END_DESC'], first: 20, after: first.pageInfo.endCursor });
    const back = await page({ orderBy: ['FORECAST_END_DESC'], last: 40, before: mid.pageInfo.startCursor });
    expect(back.nodes).toEqual(first.nodes);
  });

  it('refuses mixing directions and oversized pages', async () => {
    for (const variables of [{ first: 5, last: 5 }, { last: 1001 }, { last: 0 }]) {
      const r = await app.gql(PAGE, { variables });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('Node, viewKey and mutations that return what they changed', () => {
  const token = () => app.token('editor', ['HOLNG'], 'relay-user');

  it('node(id) and nodes(ids) return records as pfaRecord does; another organization is FORBIDDEN', async () => {
    const list = await page({ first: 3 });
    const ids = list.nodes.map((n) => n.id);
    const r = await app.gql<{
      node: { __typename: string; id: string; viewKey: string };
      nodes: ({ id: string } | null)[];
    }>(
      `query($id: ID!, $ids: [ID!]!) { node(id: $id) { __typename id ... on PfaRecord { viewKey } } nodes(ids: $ids) { id } }`,
      { variables: { id: ids[0], ids: [ids[2], '999999999', ids[1]] } },
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.node).toEqual({ __typename: 'PfaRecord', id: ids[0], viewKey: 'base' });
    expect(r.data?.nodes).toEqual([{ id: ids[2] }, null, { id: ids[1] }]);
    const other = await insertRecords(app.database.db, 'ORG9', 1);
    const f = await app.gql(`query($id: ID!) { node(id: $id) { id } }`, {
      variables: { id: [...other.values()][0] },
      token: await app.token('viewer', ['HOLNG']),
    });
    expect(f.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('a session view has its own viewKey', async () => {
    const id = (await page({ first: 1 })).nodes[0]?.id as string;
    const q = `query($id: ID!) { pfaRecord(id: $id) { id viewKey } }`;
    const t = await token();
    const base = await app.gql<{ pfaRecord: { viewKey: string } }>(q, { variables: { id }, token: t });
    const mine = await app.gql<{ pfaRecord: { viewKey: string } }>(q, {
      variables: { id },
      token: t,
      session: 'view-a',
    });
    expect(base.data?.pfaRecord.viewKey).toBe('base');
    expect(mine.data?.pfaRecord.viewKey).toBe('session:view-a');
  });

  it('bulkUpdatePfaRecords returns the drafts it wrote; discardDrafts the ids and records as now seen', async () => {
    const t = await token();
    const bulk = await app.gql<{
      bulkUpdatePfaRecords: {
        affectedCount: number;
        drafts: { id: string; delta: Record<string, unknown>; record: { id: string; model: string } }[];
      };
    }>(
      `mutation { bulkUpdatePfaRecords(input: { organizationId: "HOLNG", filter: { pfaId: { startsWith: "HOLNG-NULL" } }, changes: { model: "bulk-m" } }) {
        affectedCount drafts(first: 3) { id delta record { id model } } } }`,
      { token: t, session: 'payloads' },
    );
    expect(bulk.errors).toBeUndefined();
    expect(bulk.data?.bulkUpdatePfaRecords.affectedCount).toBe(7);
    const drafts = bulk.data?.bulkUpdatePfaRecords.drafts ?? [];
    expect(drafts).toHaveLength(3);
    for (const d of drafts)
      expect(d).toMatchObject({ delta: { model: 'bulk-m' }, record: { model: 'bulk-m' } });
    const discard = await app.gql<{
      discardDrafts: {
        discardedCount: number;
        discardedIds: string[];
        records: { id: string; model: string | null; draft: unknown }[];
      };
    }>(
      `mutation($ids: [ID!]) { discardDrafts(organizationId: "HOLNG", ids: $ids) { discardedCount discardedIds records { id model draft { id } } } }`,
      { token: t, session: 'payloads', variables: { ids: drafts.map((d) => d.id) } },
    );
    expect(discard.errors).toBeUndefined();
    expect(discard.data?.discardDrafts.discardedIds.sort()).toEqual(drafts.map((d) => d.id).sort());
    expect(discard.data?.discardDrafts.records.map((r) => r.id).sort()).toEqual(
      drafts.map((d) => d.record.id).sort(),
    );
    for (const r of discard.data?.discardDrafts.records ?? []) expect(r).toMatchObject({ draft: null });
    expect(discard.data?.discardDrafts.records.some((r) => r.model === 'bulk-m')).toBe(false);
  });
});
