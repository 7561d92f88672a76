/**
 * npx tsx bench/subscriptions.ts [--subscribers 1000] [--commits 10]
 *
 * Subscription fan-out (issue 13 §4): one API process (src/main.ts, Redis pub/sub events on a
 * private redis-server), N graphql-ws clients subscribed to kpiChanged of one organization, then
 * commits through HTTP one after another; for each commit, the delay from the moment its HTTP
 * response arrived to each subscriber's event. Prints delivered/expected and p50/p95/max.
 * Needs DATABASE_URL (an admin URL: a scratch database is cloned and dropped) and redis-server.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signToken } from '../src/auth/tokens.js';
import globalSetup from '../test/global-setup-impl.js';
import { TEST_SECRET } from '../test/helpers/app.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { insertRecords } from '../test/helpers/fixtures.js';
import { startApiProcess, startPrivateRedis } from '../test/helpers/service-process.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SUBSCRIBERS = arg('subscribers', 1000);
const COMMITS = arg('commits', 10);
const ORG = 'HOLNG';

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

async function main() {
  await globalSetup(); // the migrated template database the test helpers clone
  const t = await createTestDatabase();
  const redis = await startPrivateRedis();
  const { api, baseUrl } = await startApiProcess({
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: TEST_SECRET,
    DATABASE_URL: t.url,
    REDIS_URL: redis.url,
    WRITE_SYNC_SWEEP_INTERVAL_MS: '0',
    READ_SYNC_INTERVAL_MS: '0',
  });
  const clients: Client[] = [];
  try {
    await insertRecords(t.db, ORG, 50);
    const token = await signToken(TEST_SECRET, { sub: 'bench-1', orgs: [ORG], role: 'editor' });
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'x-session-id': 'bench',
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data!;
    };
    const page = await gql(
      `query($o: ID!) { pfaRecords(organizationId: $o, first: 1) { nodes { pfaId } } }`,
      {
        o: ORG,
      },
    );
    const pfaId = (page.pfaRecords as { nodes: { pfaId: string }[] }).nodes[0]!.pfaId;

    // arrivals[commit][subscriber] = ms timestamp
    const arrivals = new Map<number, number[]>();
    /** The commit being measured (events meanwhile are its kpiChanged), or null in warm-up. */
    let current: number | null = null;
    const warm = new Set<Client>();
    const url = `${baseUrl.replace(/^http/, 'ws')}/graphql`;
    let ready = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: SUBSCRIBERS }, async () => {
        const client = createClient({
          url,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${token}` },
          retryAttempts: 0,
          lazy: false,
        });
        clients.push(client);
        client.subscribe<{ kpiChanged: { changeSeq: number } }>(
          {
            query: `subscription($o: ID!) { kpiChanged(organizationId: $o) { changeSeq } }`,
            variables: { o: ORG },
          },
          {
            next: (v) => {
              const now = performance.now();
              if (!v.data) return;
              if (current !== null) arrivals.get(current)?.push(now);
              else warm.add(client);
            },
            error: (e) => console.error('subscription error', e),
            complete: () => undefined,
          },
        );
        await new Promise<void>((resolve) => client.on('connected', () => resolve()));
        ready += 1;
      }),
    );
    console.log(`${ready} subscribers connected in ${Date.now() - t0} ms`);
    const edit = async (rate: number) => {
      await gql(
        `mutation($i: BulkUpdatePfaRecordsInput!) { bulkUpdatePfaRecords(input: $i) { affectedCount } }`,
        { i: { organizationId: ORG, filter: { pfaId: { eq: pfaId } }, changes: { monthlyRate: rate } } },
      );
    };
    const commit = () =>
      gql(`mutation($o: ID!) { commitDrafts(organizationId: $o) { committed { id } } }`, { o: ORG });
    // Warm up until every subscription is registered server-side.
    for (let i = 0; warm.size < SUBSCRIBERS && i < 50; i++) {
      await edit(100 + i);
      await commit();
      await new Promise((r) => setTimeout(r, 500));
    }
    console.log(`${warm.size} subscriptions registered after warm-up`);

    const delays: number[] = [];
    let delivered = 0;
    for (let c = 0; c < COMMITS; c++) {
      await edit(1000 + c);
      arrivals.set(c, []);
      current = c;
      await commit();
      const done = performance.now();
      await new Promise((r) => setTimeout(r, 1500));
      current = null;
      const got = arrivals.get(c)!;
      delivered += got.length;
      for (const a of got) delays.push(Math.max(0, a - done));
    }
    delays.sort((x, y) => x - y);
    const row = {
      subscribers: SUBSCRIBERS,
      commits: COMMITS,
      delivered,
      expected: SUBSCRIBERS * COMMITS,
      p50Ms: Math.round(pct(delays, 50)),
      p95Ms: Math.round(pct(delays, 95)),
      maxMs: Math.round(delays[delays.length - 1] ?? NaN),
    };
    console.log(JSON.stringify(row));
  } finally {
    for (const c of clients) await c.dispose();
    await api.stop();
    await redis.close();
    await t.drop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
