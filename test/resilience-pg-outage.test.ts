import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { signToken } from '../src/auth/tokens.js';
import { TEST_SECRET } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import { ignoreDropRace } from './helpers/jobs.js';
import { startApiProcess, type ServiceProcess } from './helpers/service-process.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

/**
 * Issue 9 §3 and issue 10 §5: PostgreSQL away for a while (a TCP proxy in front of it cuts every
 * connection and refuses new ones; the shared server is never touched). While it lasts, every
 * request gets SERVICE_UNAVAILABLE (HTTP 503, retryable) and /readyz reports the database down
 * with component states only (no PostgreSQL error text; that goes to the log). Once the proxy
 * accepts again, the next request succeeds and /readyz is green, without restarting anything.
 */

const ORG = 'HOLNG';
const CYCLES = 3;
const CLIENTS = 8;

let t: TestDatabase;
let proxy: TcpProxy;
let api: ServiceProcess;
let baseUrl: string;
let pfaIds: string[];
const tokens: string[] = [];

interface Answer {
  started: number;
  finished: number;
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

const READ = `query($org: ID!) { pfaRecords(organizationId: $org, first: 25) { totalCount nodes { id monthlyRate } } }`;
const BULK = `mutation($input: BulkUpdatePfaRecordsInput!) { bulkUpdatePfaRecords(input: $input) { affectedCount } }`;
const COMMIT = `mutation($org: ID!) { commitDrafts(organizationId: $org) { committed { id } conflicted { id } } }`;

async function gql(query: string, variables: Record<string, unknown>, token: string, session?: string) {
  const started = performance.now();
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
  const body = (await res.json()) as Answer['body'];
  return { started, finished: performance.now(), status: res.status, body };
}

async function readyz(): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/readyz`);
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function classify(a: Answer): 'ok' | 'unavailable' | 'other' {
  if (a.status === 200 && !a.body.errors?.length) return 'ok';
  if (
    a.status === 503 &&
    a.body.errors?.length &&
    a.body.errors.every(
      (e) => e.extensions?.code === 'SERVICE_UNAVAILABLE' && e.extensions.retryable === true,
    )
  )
    return 'unavailable';
  return 'other';
}

async function load(i: number, stop: () => boolean, answers: Answer[]): Promise<void> {
  const token = tokens[i] as string;
  for (let n = 0; !stop(); n++) {
    const kind = n % 3;
    answers.push(
      kind === 0
        ? await gql(READ, { org: ORG }, token)
        : kind === 1
          ? await gql(
              BULK,
              {
                input: {
                  organizationId: ORG,
                  filter: { pfaId: { eq: pfaIds[i] } },
                  changes: { monthlyRate: 2000 + n },
                },
              },
              token,
              `s${i}`,
            )
          : await gql(COMMIT, { org: ORG }, token, `s${i}`),
    );
    await sleep(10);
  }
}

beforeAll(async () => {
  t = await createTestDatabase();
  t.pool.on('error', ignoreDropRace);
  pfaIds = [...(await insertRecords(t.db, ORG, 200)).keys()];
  for (let i = 0; i < CLIENTS; i++)
    tokens.push(await signToken(TEST_SECRET, { sub: `planner-${i}`, orgs: [ORG], role: 'editor' }));
  const pgUrl = new URL(process.env.PFA_TEST_ADMIN_URL as string);
  proxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
  ({ api, baseUrl } = await startApiProcess({
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: TEST_SECRET,
    DATABASE_URL: proxy.urlFor(t.url),
    DB_POOL_MAX: '6',
  }));
}, 120_000);

afterAll(async () => {
  await proxy?.accept().catch(() => undefined);
  await api?.stop();
  await proxy?.close();
  await t?.drop();
});

describe('PostgreSQL unreachable for a while (TCP proxy refuses)', () => {
  it(`answers 503 + retryable while it lasts, /readyz shows it, and recovers at once (${CYCLES} outages)`, async () => {
    const totals = { ok: 0, unavailable: 0, other: 0 };
    const others: Answer[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      expect((await readyz()).status).toBe(200);
      const answers: Answer[] = [];
      let stopped = false;
      const clients = Array.from({ length: CLIENTS }, (_, i) => load(i, () => stopped, answers));
      await sleep(150);

      await proxy.refuse();
      const downAt = performance.now();
      await sleep(300);
      const down = await readyz();
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ postgres: 'unreachable', status: 'unavailable' });
      // Component states only: no PostgreSQL or socket error text on this open endpoint.
      expect(down.text).not.toMatch(/ECONNREFUSED|connect|terminated|127\.0\.0\.1|timeout/i);
      await sleep(1_200);

      const upAt = performance.now();
      await proxy.accept();
      // The very next request succeeds: nothing to restart, no stale connection handed out.
      const next = await gql(READ, { org: ORG }, tokens[0] as string);
      expect({ status: next.status, errors: next.body.errors }).toEqual({ status: 200, errors: undefined });
      await sleep(200);
      stopped = true;
      await Promise.all(clients);

      expect(api.exit).toBeNull();
      // Requests sent and answered while the proxy refused (one sent just before accept() may
      // reach PostgreSQL after it, and rightly succeed).
      const during = answers.filter((a) => a.started > downAt && a.finished < upAt);
      expect(during.length).toBeGreaterThanOrEqual(CLIENTS);
      expect(during.map(classify).filter((c) => c !== 'unavailable')).toEqual([]);
      for (const a of answers) {
        const c = classify(a);
        totals[c] += 1;
        if (c === 'other') others.push(a);
      }
      const up = await readyz();
      expect(up.status).toBe(200);
      expect(up.body).toMatchObject({ postgres: 'ok', migrations: 'current' });
    }
    process.stdout.write(`resilience-pg-outage: ${JSON.stringify(totals)}\n`);
    expect(others.slice(0, 3)).toEqual([]);
    expect(totals.ok).toBeGreaterThan(0);
    expect(api.exit).toBeNull();
    expect(api.lines.filter((l) => l.level >= 60)).toEqual([]);
    // The detail /readyz leaves out is in the log.
    const logged = api.lines.find((l) => l.msg === 'readiness: PostgreSQL unreachable');
    expect(JSON.stringify(logged?.err)).toMatch(/ECONNREFUSED|terminated/);
  }, 120_000);

  it('recovers from connections cut while the port stays open (failover, idle killer), 10 rounds', async () => {
    for (let round = 0; round < 10; round++) {
      const answers: Answer[] = [];
      let stopped = false;
      const clients = Array.from({ length: CLIENTS }, (_, i) => load(i, () => stopped, answers));
      await sleep(50 + Math.floor(Math.random() * 100));
      proxy.cut();
      await sleep(100);
      stopped = true;
      await Promise.all(clients);
      expect(api.exit).toBeNull();
      expect(answers.map(classify).filter((c) => c === 'other')).toEqual([]);
      const next = await gql(READ, { org: ORG }, tokens[0] as string);
      expect({ status: next.status, errors: next.body.errors }).toEqual({ status: 200, errors: undefined });
    }
  }, 120_000);
});
