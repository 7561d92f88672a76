#!/usr/bin/env node
/**
 * Smoke test of the production build: runs `node dist/src/main.js` (NODE_ENV=production, no tsx)
 * on a fresh database of DATABASE_URL's server, waits for the start banner, then checks /healthz,
 * /readyz and a real GraphQL query with a signed token, and that SIGTERM stops it cleanly. Also
 * checks that dist/src/worker.js loads (it refuses to start without REDIS_URL, by design).
 * Usage (after npm run build): DATABASE_URL=postgres://… node .ci/smoke-dist.mjs
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  console.error('DATABASE_URL is required (the server to create the smoke database on)');
  process.exit(2);
}
const dbName = `ci_dist_smoke_${process.pid}`;
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const secret = randomBytes(24).toString('base64url');

async function admin(sqlText, url = adminUrl) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sqlText);
  } finally {
    await c.end();
  }
}

function fail(message) {
  throw new Error(message);
}

await admin(`CREATE DATABASE ${dbName}`);
let child;
try {
  const started = Date.now();
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: dbUrl.toString(),
    AUTH_JWT_SECRET: secret,
  };
  delete env.REDIS_URL; // jobs in-process: no queues left behind in a shared Redis
  env.PORT = '0';
  env.HOST = '127.0.0.1';
  child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start banner within 120 s:\n${out}`)), 120_000);
    const poll = setInterval(() => {
      const m = /GraphQL \+ GraphiQL:\s+(http:\/\/\S+)\/graphql/.exec(out);
      if (m) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(m[1]);
      }
    }, 100);
    void exited.then(({ code }) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`dist/src/main.js exited (${code}) before serving:\n${out}`));
    });
  });
  console.log(`dist/src/main.js serving at ${base} after ${Date.now() - started} ms`);

  const health = await fetch(`${base}/healthz`);
  if (health.status !== 200) fail(`/healthz answered ${health.status}`);
  const ready = await fetch(`${base}/readyz`);
  const readyBody = await ready.json();
  if (ready.status !== 200 || readyBody.migrations !== 'current')
    fail(`/readyz answered ${ready.status} ${JSON.stringify(readyBody)}`);

  // The service migrated the empty database; one organization to query.
  await admin("INSERT INTO organization (id, name) VALUES ('HOLNG', 'Smoke test')", dbUrl.toString());
  const { signToken } = await import(pathToFileURL(path.join(root, 'dist/src/auth/tokens.js')).href);
  const token = await signToken(secret, { sub: 'ci-smoke', orgs: ['HOLNG'], role: 'viewer' }, 600);
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query:
        '{ pfaRecords(organizationId: "HOLNG", first: 5) { pageInfo { hasNextPage } } kpiSummary(organizationId: "HOLNG") { category } }',
    }),
  });
  const body = await res.json();
  if (res.status !== 200 || body.errors || !body.data?.pfaRecords)
    fail(`/graphql answered ${res.status} ${JSON.stringify(body)}`);
  console.log('/healthz, /readyz and an authenticated GraphQL query: ok');

  const noAuth = await (
    await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    })
  ).json();
  if (JSON.stringify(noAuth).includes('stacktrace'))
    fail('a production error response carries a stack trace');

  child.kill('SIGTERM');
  const { code, signal } = await exited;
  if (code !== 0) fail(`SIGTERM: exit code ${code} (signal ${signal})\n${out}`);
  console.log('SIGTERM: drained and exited 0');
  child = null;

  const worker = spawnSync(process.execPath, ['dist/src/worker.js'], {
    cwd: root,
    env: { ...env, REDIS_URL: '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (worker.status !== 1 || !/REDIS_URL: is required by the worker/.test(worker.stderr + worker.stdout))
    fail(
      `dist/src/worker.js did not load as expected (exit ${worker.status}):\n${worker.stderr}${worker.stdout}`,
    );
  console.log('dist/src/worker.js loads (and asks for REDIS_URL)');
} finally {
  if (child) child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
}
