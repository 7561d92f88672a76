import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
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
 * Issue 9 §3 for Redis: a private redis-server (never the machine's) is shut down and started
 * again (SHUTDOWN SAVE, as a restart with persistence does). While it is gone the API answers
 * every request: commits succeed (the change is committed in PostgreSQL; its write-back is queued
 * again by the next commit or the scheduled sweep), /readyz says "degraded" with states only, and
 * what needs the queue right now (syncToPems) is SERVICE_UNAVAILABLE, 503, retryable. Neither the
 * API nor the worker exits; the worker runs jobs again once Redis is back, including the job
 * that was waiting in Redis during the outage.
 */

const ORG = 'HOLNG';
const PREFIX = 'pfa'; // src/main.ts and src/worker.ts use the default prefix (a private Redis)
const ENV = {
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: TEST_SECRET,
  KPI_REFRESH_INTERVAL_MS: '0',
  WRITE_SYNC_SWEEP_INTERVAL_MS: '0',
  READ_SYNC_INTERVAL_MS: '0',
};

let t: TestDatabase;
let redis: PrivateRedis;
let api: ServiceProcess;
let baseUrl: string;
let pfaIds: string[];
let editor: string;
let admin: string;

type Errors = { message: string; extensions?: Record<string, unknown> }[];

async function gql(query: string, variables: Record<string, unknown>, token: string, session?: string) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: `Bearer ${token}`,
  };
  if (session) headers['x-session-id'] = session;
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { data?: Record<string, unknown>; errors?: Errors },
  };
}

const BULK = `mutation($input: BulkUpdatePfaRecordsInput!) { bulkUpdatePfaRecords(input: $input) { affectedCount } }`;
const COMMIT = `mutation($org: ID!) { commitDrafts(organizationId: $org) { committed { id } conflicted { id } } }`;
const READ = `query($org: ID!) { pfaRecords(organizationId: $org, first: 10) { totalCount } }`;

/** Edits one record in the user's session and commits it; returns the HTTP answers. */
async function editAndCommit(token: string, session: string, pfaId: string, rate: number) {
  const edit = await gql(
    BULK,
    { input: { organizationId: ORG, filter: { pfaId: { eq: pfaId } }, changes: { monthlyRate: rate } } },
    token,
    session,
  );
  const commit = await gql(COMMIT, { org: ORG }, token, session);
  return { edit, commit };
}

async function withQueue<T>(name: string, fn: (q: Queue) => Promise<T>): Promise<T> {
  const q = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port }, prefix: PREFIX });
  q.on('error', () => undefined);
  try {
    return await fn(q);
  } finally {
    await q.close();
  }
}

const queuedWriteSyncs = () =>
  withQueue('write-sync', async (q) => {
    const c = await q.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
    return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c.active ?? 0);
  });

async function eventually<T>(
  what: string,
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
}

async function modificationStates(pfaId: string): Promise<string[]> {
  const { rows } = await sql<{ sync_state: string }>`
    SELECT m.sync_state FROM pfa_modification m JOIN pfa_mirror r ON r.organization_id = m.organization_id AND r.id = m.mirror_id
    WHERE r.pfa_id = ${pfaId} ORDER BY m.id`.execute(t.db);
  return rows.map((r) => r.sync_state);
}

async function readyz() {
  const res = await fetch(`${baseUrl}/readyz`);
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

beforeAll(async () => {
  t = await createTestDatabase();
  t.pool.on('error', ignoreDropRace);
  await insertRecords(t.db, ORG, 50);
  editor = await signToken(TEST_SECRET, { sub: 'planner-1', orgs: [ORG], role: 'editor' });
  admin = await signToken(TEST_SECRET, { sub: 'admin-1', orgs: [ORG], role: 'admin' });
  redis = await startPrivateRedis();
  ({ api, baseUrl } = await startApiProcess({ ...ENV, DATABASE_URL: t.url, REDIS_URL: redis.url }));
  // Records the API lists (generated data marks some as removed from PEMS: those match no filter).
  const page = await gql(
    `query($org: ID!) { pfaRecords(organizationId: $org, first: 20) { nodes { pfaId } } }`,
    { org: ORG },
    editor,
  );
  pfaIds = (page.body.data?.pfaRecords as { nodes: { pfaId: string }[] }).nodes.map((n) => n.pfaId);
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await redis?.close();
  await t?.drop();
});

describe('Redis shut down and started again', () => {
  it('loses no request: commits succeed during the outage and stay committed; the API recovers', async () => {
    expect((await readyz()).body).toMatchObject({ jobs: 'bullmq', redis: 'ok', status: 'ok' });
    const before = await editAndCommit(editor, 'sA', pfaIds[0] as string, 1111);
    expect(before.commit.body).toEqual({
      data: { commitDrafts: { committed: [{ id: expect.any(String) }], conflicted: [] } },
    });
    await eventually('write-back queued by the commit', queuedWriteSyncs, (n) => n >= 1);
    await withQueue('write-sync', (q) => q.obliterate({ force: true })); // start from an empty queue

    await redis.stop();

    const read = await gql(READ, { org: ORG }, editor);
    expect(read).toEqual({ status: 200, body: { data: { pfaRecords: { totalCount: expect.any(Number) } } } });
    // Several users commit at the same moment while Redis is gone: every commit succeeds.
    const users = await Promise.all(
      [2, 3, 4, 5, 6].map((i) =>
        signToken(TEST_SECRET, { sub: `planner-${i}`, orgs: [ORG], role: 'editor' }),
      ),
    );
    const during = await Promise.all(
      users.map((tok, i) => editAndCommit(tok, `s${i}`, pfaIds[i + 1] as string, 2000 + i)),
    );
    for (const d of during) {
      expect(d.edit).toEqual({ status: 200, body: { data: { bulkUpdatePfaRecords: { affectedCount: 1 } } } });
      expect(d.commit).toEqual({
        status: 200,
        body: { data: { commitDrafts: { committed: [{ id: expect.any(String) }], conflicted: [] } } },
      });
    }
    // Committed in PostgreSQL: the write-back of the organization picks them up when it runs.
    for (let i = 0; i < users.length; i++)
      expect(await modificationStates(pfaIds[i + 1] as string)).toEqual(['committed']);

    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ postgres: 'ok', redis: 'unreachable', status: 'degraded' });
    expect(ready.text).not.toMatch(/ECONNREFUSED|connect|127\.0\.0\.1|Connection/);

    // What needs the queue now says so, retryable.
    const sync = await gql(
      `mutation($org: ID!) { syncToPems(organizationId: $org) { jobId } }`,
      { org: ORG },
      admin,
    );
    expect(sync.status).toBe(503);
    expect(sync.body.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });

    await redis.start();
    await eventually('/readyz sees Redis again', readyz, (r) => r.body.redis === 'ok');
    const after = await editAndCommit(editor, 'sA', pfaIds[0] as string, 3333);
    expect(after.commit.status).toBe(200);
    // The organization's write-back is queued again; it sends every committed change, those
    // committed during the outage included (which are still waiting for it).
    await eventually('write-back queued again after the outage', queuedWriteSyncs, (n) => n >= 1);
    expect(await modificationStates(pfaIds[1] as string)).toEqual(['committed']);

    expect(api.exit).toBeNull();
    expect(api.lines.filter((l) => l.level >= 60)).toEqual([]);
    expect(api.lines.some((l) => l.msg === 'write-sync not queued' || /not queued/.test(l.msg))).toBe(true);
  }, 120_000);

  it('the worker survives the outage and runs jobs again, the one waiting in Redis included', async () => {
    await redis.start(); // should the test before have stopped halfway
    const worker = await startServiceProcess(
      'src/worker.ts',
      { ...ENV, DATABASE_URL: t.url, REDIS_URL: redis.url },
      (l) => l.msg === 'job worker started',
    );
    try {
      const add = (id: string, delay = 0) =>
        withQueue('refresh-views', (q) =>
          q.add(
            'refresh-views',
            { reason: 'test' },
            { jobId: id, attempts: 5, backoff: { type: 'fixed', delay: 200 }, delay },
          ),
        );
      const state = (id: string) => withQueue('refresh-views', async (q) => (await q.getJob(id))?.getState());
      await add('before');
      await eventually(
        'a job before the outage',
        () => state('before'),
        (s) => s === 'completed',
      );

      await add('waiting-through-outage', 1_500); // due while Redis is down
      await redis.stop();
      await new Promise((r) => setTimeout(r, 3_000));
      expect(worker.exit).toBeNull();
      await redis.start();

      await eventually(
        'the job that waited in Redis',
        () => state('waiting-through-outage'),
        (s) => s === 'completed',
        60_000,
      );
      await add('after');
      await eventually(
        'a job after the outage',
        () => state('after'),
        (s) => s === 'completed',
        60_000,
      );
      expect(worker.exit).toBeNull();
      expect(worker.lines.filter((l) => l.level >= 60)).toEqual([]);
    } finally {
      await worker.stop();
    }
  }, 180_000);
});
