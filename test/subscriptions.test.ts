import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signToken } from '../src/auth/tokens.js';
import { TEST_SECRET } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import { ignoreDropRace } from './helpers/jobs.js';
import {
  startApiProcess,
  startPrivateRedis,
  startServiceProcess,
  type PrivateRedis,
  type ServiceProcess,
} from './helpers/service-process.js';

/**
 * Issue 13 §4 through real clients: two API processes on one private Redis, graphql-ws clients on
 * each; a commit through either reaches kpiChanged subscribers of both; draftsChanged reaches the
 * committing session only; tokens are checked on connect and the socket closes (4401) at `exp`;
 * a subscriber that stops reading holds up nobody.
 */
const ORG = 'HOLNG';
const ENV = {
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: TEST_SECRET,
  KPI_REFRESH_INTERVAL_MS: '0',
  WRITE_SYNC_SWEEP_INTERVAL_MS: '0',
  READ_SYNC_INTERVAL_MS: '0',
};
const ROUNDS = 10;

let t: TestDatabase;
let redis: PrivateRedis;
const apis: { api: ServiceProcess; baseUrl: string }[] = [];
let editor: string;
let pfaIds: string[];
const clients: Client[] = [];
let worker: ServiceProcess | undefined;

async function gql(baseUrl: string, query: string, variables: Record<string, unknown>, session?: string) {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${editor}`,
      ...(session ? { 'x-session-id': session } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

function wsClient(
  baseUrl: string,
  token: string,
  session?: string,
  onClose?: (code: number) => void,
): Client {
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}`, ...(session ? { 'x-session-id': session } : {}) },
    retryAttempts: 0,
    lazy: false,
    ...(onClose ? { on: { closed: (e: unknown) => onClose((e as { code: number }).code) } } : {}),
  });
  clients.push(client);
  return client;
}

/** Collects the events of one subscription; `next(n)` waits until n have arrived. */
function collect<T>(client: Client, query: string, variables: Record<string, unknown>) {
  const events: T[] = [];
  const errors: unknown[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const done = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        if (v.errors) errors.push(...v.errors);
        if (v.data) events.push(v.data);
        for (const w of [...waiters]) if (events.length >= w.n) w.resolve();
      },
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  return {
    events,
    errors,
    stop: done,
    until(n: number, ms = 15_000) {
      if (events.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${events.length}/${n} events, errors ${JSON.stringify(errors)}`)),
          ms,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

const KPI = `subscription($org: ID!) { kpiChanged(organizationId: $org) { organizationId refreshedAt changeSeq } }`;
const DRAFTS = `subscription($org: ID!) { draftsChanged(organizationId: $org) { organizationId sessionId changeSeq reason } }`;
const BULK = `mutation($input: BulkUpdatePfaRecordsInput!) { bulkUpdatePfaRecords(input: $input) { affectedCount } }`;
const COMMIT = `mutation($org: ID!) { commitDrafts(organizationId: $org) { committed { id } conflicted { id } } }`;

async function editAndCommit(baseUrl: string, session: string, pfaId: string, rate: number) {
  const edit = await gql(
    baseUrl,
    BULK,
    { input: { organizationId: ORG, filter: { pfaId: { eq: pfaId } }, changes: { monthlyRate: rate } } },
    session,
  );
  expect(edit.errors).toBeUndefined();
  const commit = await gql(baseUrl, COMMIT, { org: ORG }, session);
  expect(commit.errors).toBeUndefined();
}

async function connectionClosed(client: Client): Promise<number> {
  return new Promise((resolve) => {
    client.on('closed', (e) => resolve((e as { code: number }).code));
  });
}

beforeAll(async () => {
  t = await createTestDatabase();
  t.pool.on('error', ignoreDropRace);
  await insertRecords(t.db, ORG, 30);
  editor = await signToken(TEST_SECRET, { sub: 'planner-1', orgs: [ORG], role: 'editor' });
  redis = await startPrivateRedis();
  for (let i = 0; i < 2; i++)
    apis.push(await startApiProcess({ ...ENV, DATABASE_URL: t.url, REDIS_URL: redis.url }));
  const page = await gql(
    apis[0]!.baseUrl,
    `query($org: ID!) { pfaRecords(organizationId: $org, first: 20) { nodes { pfaId } } }`,
    { org: ORG },
  );
  pfaIds = (page.data?.pfaRecords as { nodes: { pfaId: string }[] }).nodes.map((n) => n.pfaId);
}, 180_000);

afterAll(async () => {
  for (const c of clients) await c.dispose();
  await worker?.stop();
  for (const a of apis) await a.api.stop();
  await redis?.close();
  await t?.drop();
});

describe('subscriptions across two API processes', () => {
  it(`delivers kpiChanged to subscribers of both processes after a commit through either (${ROUNDS} rounds)`, async () => {
    const [a, b] = [apis[0]!, apis[1]!];
    const onA = collect<{ kpiChanged: { organizationId: string; changeSeq: number } }>(
      wsClient(a.baseUrl, editor),
      KPI,
      { org: ORG },
    );
    const onB = collect<{ kpiChanged: { organizationId: string; changeSeq: number } }>(
      wsClient(b.baseUrl, editor),
      KPI,
      { org: ORG },
    );
    // The commit's own session sees draftsChanged; another session of the same user does not.
    const mine = collect<{ draftsChanged: { sessionId: string; reason: string } }>(
      wsClient(b.baseUrl, editor, 'sub-s1'),
      DRAFTS,
      { org: ORG },
    );
    const other = collect<{ draftsChanged: { sessionId: string } }>(
      wsClient(a.baseUrl, editor, 'sub-other'),
      DRAFTS,
      { org: ORG },
    );
    // Until both processes deliver (their subscriptions are registered), commits in another session.
    for (let i = 0; onA.events.length === 0 || onB.events.length === 0; i++) {
      if (i === 30)
        throw new Error(
          `no kpiChanged on one of the processes after 30 commits (A ${onA.events.length}, B ${onB.events.length}, errors ${JSON.stringify([onA.errors, onB.errors])})`,
        );
      await editAndCommit(a.baseUrl, 'sub-warm', pfaIds[19]!, 500 + i);
      await new Promise((r) => setTimeout(r, 300));
    }
    await new Promise((r) => setTimeout(r, 300));
    onA.events.length = 0;
    onB.events.length = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const via = i % 2 === 0 ? a : b;
      await editAndCommit(via.baseUrl, 'sub-s1', pfaIds[i]!, 1000 + i);
      await Promise.all([onA.until(i + 1), onB.until(i + 1)]);
    }
    expect(onA.errors).toEqual([]);
    expect(onA.events).toHaveLength(ROUNDS);
    expect(onB.events).toHaveLength(ROUNDS);
    const seqs = onA.events.map((e) => e.kpiChanged.changeSeq);
    expect(onB.events.map((e) => e.kpiChanged.changeSeq)).toEqual(seqs);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
    expect(onA.events.every((e) => e.kpiChanged.organizationId === ORG)).toBe(true);
    await mine.until(2 * ROUNDS); // an edit and a commit per round
    expect(mine.events.map((e) => e.draftsChanged.reason).slice(0, 2)).toEqual(['bulkEdit', 'commit']);
    expect(mine.events.every((e) => e.draftsChanged.sessionId === 'sub-s1')).toBe(true);
    expect(other.events).toEqual([]);
  }, 120_000);

  it('a subscriber that stops reading holds up nobody', async () => {
    const a = apis[0]!;
    // A raw socket that subscribes and then never reads (paused): its events pile up server-side.
    const stuck = new WebSocket(`${a.baseUrl.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    await new Promise((r) => stuck.once('open', r));
    stuck.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${editor}` } }));
    await new Promise((r) => stuck.once('message', r));
    stuck.send(
      JSON.stringify({ id: '1', type: 'subscribe', payload: { query: KPI, variables: { org: ORG } } }),
    );
    stuck.pause();
    (stuck as unknown as { _socket: { pause(): void } })._socket.pause();
    const live = collect<{ kpiChanged: { changeSeq: number } }>(wsClient(a.baseUrl, editor), KPI, {
      org: ORG,
    });
    for (let i = 0; live.events.length === 0; i++) {
      if (i === 30) throw new Error('no kpiChanged after 30 commits');
      await editAndCommit(a.baseUrl, 'sub-warm', pfaIds[19]!, 700 + i);
      await new Promise((r) => setTimeout(r, 300));
    }
    live.events.length = 0;
    for (let i = 0; i < ROUNDS; i++) {
      await editAndCommit(a.baseUrl, 'sub-s2', pfaIds[i]!, 2000 + i);
      await live.until(i + 1);
    }
    expect(live.events).toHaveLength(ROUNDS);
    stuck.terminate();
  }, 120_000);

  it('refuses a missing or bad token (4401) and closes the connection when the token expires', async () => {
    const a = apis[0]!;
    const bad = wsClient(a.baseUrl, 'not-a-token');
    expect(await connectionClosed(bad)).toBe(4401);
    const shortLived = await signToken(TEST_SECRET, { sub: 'planner-1', orgs: [ORG], role: 'editor' }, 3);
    const client = wsClient(a.baseUrl, shortLived);
    const sub = collect(client, KPI, { org: ORG });
    const code = await connectionClosed(client);
    expect(code).toBe(4401);
    expect(sub.events).toEqual([]);
  }, 30_000);

  it('answers FORBIDDEN for another organization and BAD_REQUEST for a query over WebSocket', async () => {
    const a = apis[0]!;
    const client = wsClient(a.baseUrl, editor);
    const forbidden = collect(client, KPI, { org: 'OTHER' });
    const query = collect(client, `query { me { userId } }`, {});
    await new Promise((r) => setTimeout(r, 1000));
    expect(JSON.stringify(forbidden.errors)).toContain('FORBIDDEN');
    expect(JSON.stringify(query.errors)).toContain('BAD_REQUEST');
  }, 30_000);

  it('jobProgress and kpiChanged of a refresh run by the worker process reach an API process', async () => {
    const [a, b] = [apis[0]!, apis[1]!];
    const admin = await signToken(TEST_SECRET, { sub: 'admin-1', orgs: [ORG], role: 'admin' });
    const res = await fetch(`${a.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({
        query: `mutation($o: ID!) { refreshKpis(organizationId: $o) { jobId state } }`,
        variables: { o: ORG },
      }),
    });
    const body = (await res.json()) as { data?: { refreshKpis: { jobId: string } }; errors?: unknown };
    expect(body.errors).toBeUndefined();
    const jobId = body.data!.refreshKpis.jobId;
    // The job waits in Redis (no worker yet): subscribe on the other API process, then start one.
    const adminClient = wsClient(b.baseUrl, admin);
    const progress = collect<{ jobProgress: { id: string; state: string; processed: number } }>(
      adminClient,
      `subscription($id: ID!) { jobProgress(id: $id) { id state processed total } }`,
      { id: jobId },
    );
    const kpi = collect<{ kpiChanged: { organizationId: string } }>(adminClient, KPI, { org: ORG });
    const viewer = await signToken(TEST_SECRET, { sub: 'viewer-1', orgs: [ORG], role: 'viewer' });
    const notAdmin = collect(wsClient(b.baseUrl, viewer), `subscription { jobProgress(id: "1") { id } }`, {});
    await new Promise((r) => setTimeout(r, 500));
    worker = await startServiceProcess(
      'src/worker.ts',
      { ...ENV, DATABASE_URL: t.url, REDIS_URL: redis.url },
      (l) => /worker/i.test(l.msg),
    );
    const states = () => progress.events.map((e) => e.jobProgress.state);
    for (let i = 0; i < 600 && !states().includes('completed'); i++)
      await new Promise((r) => setTimeout(r, 100));
    await kpi.until(1, 30_000);
    // A failed attempt (retried by BullMQ) shows as active → failed before the next active.
    expect(states()[0]).toBe('active');
    expect(states()[states().length - 1]).toBe('completed');
    expect(states().every((s) => ['active', 'failed', 'completed'].includes(s))).toBe(true);
    expect(progress.events.every((e) => e.jobProgress.id === jobId)).toBe(true);
    expect(kpi.events[0]!.kpiChanged.organizationId).toBe(ORG);
    expect(JSON.stringify(notAdmin.errors)).toContain('FORBIDDEN');
  }, 120_000);
});
