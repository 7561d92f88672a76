import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { registry } from '../src/metrics.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * The exact response cache (src/graphql/response-cache.ts) against the same database read without
 * it: after every kind of write, the cached server's answer equals the uncached one's, and a read
 * that starts after a write was acknowledged — on another server, as another process would —
 * never sees what was there before.
 */

const ORG = 'HOLNG';
const USER = 'planner-cache';
const SESSION = 'cache-s1';
let cached: TestApp;
let other: TestApp;
let reference: TestApp;
let ids: string[];
let pfaIds: string[];

const GRID = `query($org: ID!) {
  pfaRecords(organizationId: $org, first: 5, orderBy: [MONTHLY_RATE_DESC]) {
    nodes { id monthlyRate forecastEnd category version data }
    totalCount
    pageInfo { hasNextPage }
  }
}`;
const KPI = `query($org: ID!) {
  kpiSummary(organizationId: $org) { category source dor totalPlanCost totalForecastCost recordCount refreshedAt }
}`;
const EDIT = `mutation($input: UpdatePfaRecordInput!) { updatePfaRecord(input: $input) { draft { id } } }`;
const COMMIT = `mutation($org: ID!) { commitDrafts(organizationId: $org) { committed { id } conflicted { id } } }`;

const token = { role: 'editor' as const, orgs: [ORG], sub: USER };

beforeAll(async () => {
  cached = await startTestApp({ defaultToken: token, env: { RESPONSE_CACHE_MB: '16' } });
  other = await startTestApp({
    database: cached.database,
    defaultToken: token,
    env: { RESPONSE_CACHE_MB: '16' },
  });
  reference = await startTestApp({
    database: cached.database,
    defaultToken: token,
    env: { RESPONSE_CACHE_MB: '0' },
  });
  const records = await insertRecords(cached.database.db, ORG, 60);
  ids = [...records.values()];
  pfaIds = [...records.keys()];
  await sql`SELECT refresh_pfa_materialized_views()`.execute(cached.database.db);
});
afterAll(async () => {
  await other?.close();
  await reference?.close();
  await cached?.close();
});

async function read(app: TestApp, query: string, session: string | null = SESSION): Promise<unknown> {
  const r = await app.gql(query, { variables: { org: ORG }, session });
  expect(r.errors).toBeUndefined();
  return r.data;
}

const stats = () => cached.app.responseCache as NonNullable<TestApp['app']['responseCache']>;

/** Primes the cache (a miss, then a hit), runs the write, and compares with the uncached server. */
async function afterWrite(query: string, write: () => Promise<void>, session: string | null = SESSION) {
  const before = await read(cached, query, session);
  const hits = stats().hits;
  expect(await read(cached, query, session)).toEqual(before);
  expect(stats().hits).toBe(hits + 1);
  await write();
  const after = await read(cached, query, session);
  expect(after).toEqual(await read(reference, query, session));
  return { before, after };
}

const editDraft = (id: string, changes: Record<string, unknown>, session = SESSION) =>
  cached.gql(EDIT, {
    variables: { input: { id, expectedVersion: 0, changes, reason: 'cache test' } },
    session,
  });

describe('exact response cache: every write is seen', () => {
  it('serves a repeated grid page and KPI summary from the cache, byte for byte the same', async () => {
    for (const query of [GRID, KPI]) {
      const first = await cached.gql(query, { variables: { org: ORG }, session: SESSION });
      const hits = stats().hits;
      const second = await cached.gql(query, { variables: { org: ORG }, session: SESSION });
      expect(stats().hits).toBe(hits + 1);
      expect(JSON.stringify(second)).toBe(JSON.stringify(first));
      expect(second.data).toEqual(await read(reference, query));
    }
    // The outcomes are on /metrics too (process-wide: every app of this test process).
    const metric = await registry.getSingleMetric('pfa_response_cache_requests_total')?.get();
    const hit = metric?.values.find((v) => v.labels.outcome === 'hit')?.value ?? 0;
    expect(hit).toBeGreaterThanOrEqual(2);
  });

  it("the caller's own draft changes its grid and KPIs", async () => {
    const id = ids[0] as string;
    for (const query of [GRID, KPI]) {
      const { before, after } = await afterWrite(query, async () => {
        const r = await editDraft(
          query === KPI ? (ids[3] as string) : id,
          query === KPI ? { category: 'Cache Test', isDiscontinued: false } : { monthlyRate: 987_654 },
        );
        expect(r.errors).toBeUndefined();
      });
      expect(after).not.toEqual(before);
    }
  });

  it("another session's draft does not change the caller's answer, and the cached one is kept", async () => {
    const { before, after } = await afterWrite(GRID, async () => {
      const r = await editDraft(ids[1] as string, { monthlyRate: 999_999 }, 'cache-s2');
      expect(r.errors).toBeUndefined();
    });
    expect(after).toEqual(before);
    const hits = stats().hits;
    await read(cached, GRID);
    expect(stats().hits).toBe(hits + 1);
  });

  it('a commit changes what every session and no session sees', async () => {
    await editDraft(ids[2] as string, { monthlyRate: 888_888 }, 'cache-s3');
    for (const session of [null, 'cache-s4'])
      for (const query of [GRID, KPI]) {
        const { before, after } = await afterWrite(
          query,
          async () => {
            const r = await cached.gql(COMMIT, { variables: { org: ORG }, session: 'cache-s3' });
            expect(r.errors).toBeUndefined();
            // The next pair commits the next draft.
            await editDraft(
              ids[2] as string,
              { monthlyRate: 888_000 + Math.floor(Math.random() * 1000) },
              'cache-s3',
            );
          },
          session,
        );
        expect(after).not.toEqual(before);
      }
  });

  it('a read sync (mirror UPDATE), a new record and a deleted record change the answer', async () => {
    const db = cached.database.db;
    let added = 0;
    const writes = [
      () =>
        sql`UPDATE pfa_mirror SET data = data || '{"monthlyRate": 5000000, "category": "Cranes"}'
            WHERE organization_id = ${ORG} AND id = ${ids[10]}::bigint`.execute(db),
      () =>
        insertRecords(db, ORG, 0, [
          { pfaId: `HOLNG-CACHE-NEW-${++added}`, data: { monthlyRate: 6000000, category: 'Cranes' } },
        ]),
      () =>
        sql`DELETE FROM pfa_mirror WHERE organization_id = ${ORG} AND id = ${ids[10]}::bigint`.execute(db),
    ];
    for (const write of writes)
      for (const query of [GRID, KPI]) {
        const { before, after } = await afterWrite(query, async () => {
          await write();
        });
        if (query === GRID) expect(after).not.toEqual(before);
      }
  });

  it('a refresh of the KPI caches changes refreshedAt, and keeps cached grid pages', async () => {
    const { before, after } = await afterWrite(KPI, async () => {
      await sql`SELECT refresh_pfa_materialized_views()`.execute(cached.database.db);
    });
    expect(after).not.toEqual(before);
    await read(cached, GRID);
    await sql`SELECT refresh_pfa_materialized_views()`.execute(cached.database.db);
    const hits = stats().hits;
    expect(await read(cached, GRID)).toEqual(await read(reference, GRID));
    expect(stats().hits).toBe(hits + 1);
  });

  it('leaves drafts, history and asOf reads, and answers with errors, to the normal path', async () => {
    const uncacheable = stats().uncacheable;
    const withDraft = `query($org: ID!) { pfaRecords(organizationId: $org, first: 2) { nodes { id draft { id } } } }`;
    await read(cached, withDraft);
    await read(cached, withDraft);
    const asOf = `query($org: ID!) { pfaRecords(organizationId: $org, first: 2, asOf: "${new Date().toISOString()}") { nodes { id } } }`;
    await cached.gql(asOf, { variables: { org: ORG } });
    expect(stats().uncacheable).toBe(uncacheable + 3);
    const stored = stats().stored;
    const bad = await cached.gql(
      `query { pfaRecords(organizationId: "HOLNG", first: 2, filter: { category: { in: [] } }) { nodes { id } } }`,
    );
    await cached.gql(
      `query { pfaRecords(organizationId: "HOLNG", first: 2, filter: { category: { in: [] } }) { nodes { id } } }`,
    );
    if (bad.errors) expect(stats().stored).toBe(stored);
    const forbidden = await cached.gql(`query { kpiSummary(organizationId: "ORG9") { category } }`);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('exact response cache: bounded', () => {
  it('keeps keys and answers within RESPONSE_CACHE_MB, evicting the least recently used', async () => {
    const small = await startTestApp({
      database: cached.database,
      defaultToken: token,
      env: { RESPONSE_CACHE_MB: '1' },
    });
    try {
      const PAGE = `query($org: ID!, $first: Int, $pad: [String!]) {
        pfaRecords(organizationId: $org, first: $first, filter: { pfaId: { notIn: $pad } }) { nodes { id pfaId data } }
      }`;
      const pad = Array.from({ length: 100 }, (_, i) => `${'x'.repeat(190)}${i}`);
      // Distinct keys: page sizes 1..60, each with a 20 KB filter (the key counts too).
      for (let first = 1; first <= 60; first++) {
        const r = await small.gql(PAGE, { variables: { org: ORG, first, pad } });
        expect(r.errors).toBeUndefined();
      }
      const s = small.app.responseCache as NonNullable<TestApp['app']['responseCache']>;
      expect(s.stored).toBe(60);
      expect(s.evicted).toBeGreaterThan(0);
      expect(s.bytes).toBeLessThanOrEqual(1024 * 1024);
      expect(s.entries).toBe(60 - s.evicted);
      // The most recent answer is still there; the first one was evicted.
      const hits = s.hits;
      await small.gql(PAGE, { variables: { org: ORG, first: 60, pad } });
      expect(s.hits).toBe(hits + 1);
      await small.gql(PAGE, { variables: { org: ORG, first: 1, pad } });
      expect(s.hits).toBe(hits + 1);
      // An entry larger than a quarter of the cache (here by its 140 KB key) is served, not kept.
      const { stored, entries } = s;
      const wide = Array.from({ length: 700 }, (_, i) => `${'y'.repeat(190)}${i}`);
      const big = await small.gql(PAGE, { variables: { org: ORG, first: 5, pad: wide } });
      expect(big.errors).toBeUndefined();
      expect({ stored: s.stored, entries: s.entries }).toEqual({ stored, entries });
      // A kept answer whose key now answers with more than a quarter of the cache leaves it.
      await small.gql(PAGE, { variables: { org: ORG, first: 2, pad } });
      const kept = s.entries;
      const db = cached.database.db;
      const firstTwo = sql`SELECT id FROM pfa_mirror WHERE organization_id = ${ORG} ORDER BY id LIMIT 2`;
      await sql`UPDATE pfa_mirror SET data = data || jsonb_build_object('notes', repeat('z', 80000))
                WHERE organization_id = ${ORG} AND id IN (${firstTwo})`.execute(db);
      try {
        const grown = await small.gql(PAGE, { variables: { org: ORG, first: 2, pad } });
        expect(grown.errors).toBeUndefined();
        expect(s.entries).toBe(kept - 1);
      } finally {
        await sql`UPDATE pfa_mirror SET data = data - 'notes' WHERE organization_id = ${ORG} AND id IN (${firstTwo})`.execute(
          db,
        );
      }
    } finally {
      await small.close();
    }
  });
});

describe('exact response cache: reads racing writes on another server', () => {
  it('a read that starts after a write was acknowledged never sees an older value (12 rounds)', async () => {
    const id = ids[20] as string;
    const db = cached.database.db;
    const QUERY = `query($pfaId: String!) {
      pfaRecords(organizationId: "HOLNG", first: 1, filter: { pfaId: { eq: $pfaId } }) { nodes { monthlyRate purchasePrice } }
    }`;
    // Two counters, each only ever raised: monthlyRate by commits of drafts (the pending overlay),
    // purchasePrice by read-sync writes to the mirror from another connection (another process).
    const acked = { commit: 0, sync: 0 };
    let done = false;
    let reads = 0;
    const stale: string[] = [];
    const reader = async (app: TestApp, session: string | null) => {
      while (!done) {
        const floor = { ...acked };
        const r = await app.gql<{ pfaRecords: { nodes: { monthlyRate: number; purchasePrice: number }[] } }>(
          QUERY,
          {
            variables: { pfaId: pfaIds[20] },
            session,
          },
        );
        const node = r.data?.pfaRecords.nodes[0];
        const seen = {
          commit: (node?.monthlyRate ?? 0) - 100_000,
          sync: (node?.purchasePrice ?? 0) - 100_000,
        };
        reads += 1;
        if (seen.commit < floor.commit || seen.sync < floor.sync)
          stale.push(`read started after ${JSON.stringify(floor)} saw ${JSON.stringify(seen)}`);
      }
    };
    const writer = async () => {
      for (let i = 1; i <= 12 * 5; i++) {
        if (i % 2 === 0) {
          await sql`UPDATE pfa_mirror SET data = data || jsonb_build_object('purchasePrice', ${100_000 + i}::int)
                    WHERE organization_id = ${ORG} AND id = ${id}::bigint`.execute(db);
          acked.sync = i;
        } else {
          const e = await reference.gql(EDIT, {
            variables: {
              input: { id, expectedVersion: 0, changes: { monthlyRate: 100_000 + i }, reason: 'race' },
            },
            session: 'cache-race',
          });
          expect(e.errors).toBeUndefined();
          const c = await reference.gql(COMMIT, { variables: { org: ORG }, session: 'cache-race' });
          expect(c.errors).toBeUndefined();
          acked.commit = i;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      done = true;
    };
    await sql`UPDATE pfa_mirror SET data = data || '{"monthlyRate": 100000, "purchasePrice": 100000}'
              WHERE organization_id = ${ORG} AND id = ${id}::bigint`.execute(db);
    const hits = stats().hits + other.app.responseCache!.hits;
    await Promise.all([
      writer(),
      reader(cached, SESSION),
      reader(cached, null),
      reader(other, SESSION),
      reader(other, null),
    ]);
    expect(stale).toEqual([]);
    expect(reads).toBeGreaterThan(60);
    // The race ran through the cache, not around it.
    expect(stats().hits + other.app.responseCache!.hits).toBeGreaterThan(hits);
    const last = await read(other, GRID, null);
    expect(last).toEqual(await read(reference, GRID, null));
  });
});
