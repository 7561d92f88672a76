import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { signToken } from '../src/auth/tokens.js';
import { TEST_SECRET } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import { ignoreDropRace } from './helpers/jobs.js';
import { startApiProcess, type ServiceProcess } from './helpers/service-process.js';

/**
 * Issue 9 §3: a lost PostgreSQL connection is an error, not an exit. The real API process (not an
 * in-test server: an unhandled 'error' event ends a process) serves reads, bulk edits and commits
 * from many concurrent clients while pg_terminate_backend kills every connection it holds to its
 * own test database, round after round. The process stays up, every request either succeeds or
 * gets SERVICE_UNAVAILABLE (HTTP 503, retryable), and the request after each round succeeds.
 */

const ORG = 'HOLNG';
const ROUNDS = 12;
const CLIENTS = 12;
const RECORDS = 400;

let t: TestDatabase;
let api: ServiceProcess;
let baseUrl: string;
let admin: pg.Client;
let pfaIds: string[];
const tokens: string[] = [];

interface Answer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function gql(
  query: string,
  variables: Record<string, unknown>,
  token: string,
  session?: string,
): Promise<Answer> {
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
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const READ = `query($org: ID!, $after: String) {
  pfaRecords(organizationId: $org, first: 40, after: $after, orderBy: [MONTHLY_RATE_DESC]) {
    totalCount nodes { id pfaId monthlyRate forecastCost draft { id } }
  }
}`;
const BULK = `mutation($input: BulkUpdatePfaRecordsInput!) { bulkUpdatePfaRecords(input: $input) { affectedCount } }`;
const COMMIT = `mutation($org: ID!) { commitDrafts(organizationId: $org) { committed { id } conflicted { id } } }`;

/** Ends every connection the API holds to its own database (never another test's). */
async function killServiceConnections(): Promise<number> {
  const { rowCount } = await admin.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = $1 AND application_name = 'pfa-vanguard' AND pid <> pg_backend_pid()`,
    [new URL(t.url).pathname.slice(1)],
  );
  return rowCount ?? 0;
}

/** One client's requests: a read, a bulk edit of its own record, a commit — until told to stop. */
async function client(i: number, round: number, stop: () => boolean, answers: Answer[]): Promise<void> {
  const token = tokens[i] as string;
  const session = `s${i}`;
  for (let n = 0; !stop(); n++) {
    const kind = n % 3;
    const answer =
      kind === 0
        ? await gql(READ, { org: ORG }, token)
        : kind === 1
          ? await gql(
              BULK,
              {
                input: {
                  organizationId: ORG,
                  filter: { pfaId: { eq: pfaIds[(i * ROUNDS + round) % pfaIds.length] } },
                  changes: { monthlyRate: 1000 + round * 100 + n },
                },
              },
              token,
              session,
            )
          : await gql(COMMIT, { org: ORG }, token, session);
    answers.push(answer);
  }
}

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  t = await createTestDatabase();
  t.pool.on('error', ignoreDropRace);
  pfaIds = [...(await insertRecords(t.db, ORG, RECORDS)).keys()];
  for (let i = 0; i < CLIENTS; i++)
    tokens.push(await signToken(TEST_SECRET, { sub: `planner-${i}`, orgs: [ORG], role: 'editor' }));
  admin = new pg.Client({ connectionString: process.env.PFA_TEST_ADMIN_URL });
  admin.on('error', () => undefined);
  await admin.connect();
  ({ api, baseUrl } = await startApiProcess({
    NODE_ENV: 'production',
    AUTH_JWT_SECRET: TEST_SECRET,
    DATABASE_URL: t.url,
    DB_POOL_MAX: '8',
  }));
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await admin?.end().catch(() => undefined);
  await t?.drop();
});

describe('pg_terminate_backend on the API connections while requests run', () => {
  it(`keeps the process up and answers SERVICE_UNAVAILABLE, ${ROUNDS} rounds`, async () => {
    const totals = { ok: 0, unavailable: 0, other: 0, killed: 0 };
    const others: Answer[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const answers: Answer[] = [];
      let stopped = false;
      const clients = Array.from({ length: CLIENTS }, (_, i) => client(i, round, () => stopped, answers));
      // Kill twice, at moments that fall inside requests, transactions and idle gaps alike.
      await sleep(60 + Math.floor(Math.random() * 120));
      totals.killed += await killServiceConnections();
      await sleep(20 + Math.floor(Math.random() * 80));
      totals.killed += await killServiceConnections();
      await sleep(80);
      stopped = true;
      await Promise.all(clients);

      expect(api.exit).toBeNull();
      for (const a of answers) {
        const c = classify(a);
        totals[c] += 1;
        if (c === 'other') others.push(a);
      }
      // PostgreSQL accepts connections again at once: the very next request succeeds.
      const next = await gql(READ, { org: ORG }, tokens[0] as string);
      expect({ status: next.status, errors: next.body.errors }).toEqual({ status: 200, errors: undefined });
    }
    process.stdout.write(`resilience-pg-kill: ${JSON.stringify(totals)}\n`);
    expect(others.slice(0, 3)).toEqual([]);
    // The kills really hit requests (else this test could not fail).
    expect(totals.killed).toBeGreaterThanOrEqual(ROUNDS);
    expect(totals.unavailable).toBeGreaterThan(0);
    expect(totals.ok).toBeGreaterThan(totals.unavailable);
    expect(api.exit).toBeNull();
    // Lost connections are logged (warn), never as a fatal error; the cause never reaches clients.
    expect(api.lines.filter((l) => l.level >= 60)).toEqual([]);
    expect(
      api.lines.some((l) => l.msg === 'PostgreSQL connection lost; the pool opens a new one when needed'),
    ).toBe(true);
  }, 240_000);

  it('answers readiness with component states only', async () => {
    const res = await fetch(`${baseUrl}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ postgres: 'ok', status: expect.any(String) });
  });
});
