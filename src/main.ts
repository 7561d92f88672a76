/**
 * npm start — the API (and, in embedded mode, everything else it needs).
 *
 * No DATABASE_URL: an embedded PostgreSQL 15 under DATA_DIR, migrated, loaded with demo data on
 * first start, a PEMS simulator in-process over the same generated data, jobs in-process when
 * Redis is not reachable, a random JWT secret kept in DATA_DIR, and demo tokens printed.
 * With DATABASE_URL: that server, never an embedded one, never demo data.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { createServiceLog } from './util/service-log.js';
import { ORGANIZATION_CODE, signToken } from './auth/tokens.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createDb, createPool, installProcessGuards } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedHandle } from './db/embedded-postgres.js';
import { migrateToLatest } from './db/migrator.js';
import { seedDatabase } from './db/seed.js';
import { createApp } from './http/server.js';
import { registerGauge, registerPoolMetrics } from './http/metrics.js';
import { startJobs } from './jobs/boot.js';
import { createServices } from './services.js';
import { createEventBus } from './events/bus.js';
import { publishJobEvents } from './events/job-events.js';

const DEMO_DB = 'pfa_vanguard';

function demoSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  admin.on('error', () => undefined); // a lost connection fails the pending query, which throws
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function main(config: Config): Promise<void> {
  // Buffered JSON lines on stdout, written out at exit (src/util/service-log.ts).
  const { log, flushSync } = createServiceLog(config.LOG_LEVEL, 'pfa-vanguard');
  // A lost PostgreSQL/Redis connection is logged and served through; any other uncaught error exits.
  installProcessGuards(log);
  const embeddedMode = !config.DATABASE_URL;
  const cleanup: (() => Promise<void>)[] = [];
  let embedded: EmbeddedHandle | null = null;

  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    log.info('no DATABASE_URL: starting the embedded PostgreSQL (demo mode)');
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(config.DATA_DIR, 'pg'),
      port: config.EMBEDDED_PG_PORT,
      log: (l) => log.info(l),
    });
    const handle = embedded;
    cleanup.push(() => handle.stop());
    databaseUrl = await ensureDatabase(embedded.url, DEMO_DB);
  }

  const pool = createPool({
    connectionString: databaseUrl,
    max: config.DB_POOL_MAX,
    statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
    log, // every client has an 'error' listener: a lost connection fails its request, not the process
  });
  cleanup.unshift(() => pool.end());
  registerPoolMetrics(pool);
  const db = createDb(pool);
  const applied = await migrateToLatest(db);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const jwtSecret = config.AUTH_JWT_SECRET ?? demoSecret(config.DATA_DIR);
  // Demo mode: no identity provider configured, tokens signed with the random secret (HS256).
  const demoAuth = !config.AUTH_JWT_SECRET && !config.AUTH_JWKS_URL;
  if (demoAuth) log.warn('AUTH_JWT_SECRET not set: using a random demo secret kept in %s', config.DATA_DIR);

  if (embeddedMode) {
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM pfa_mirror');
    if (Number(rows[0]?.n) === 0) {
      log.info({ records: config.DEMO_RECORDS }, 'loading demo data (first start)');
      const t = Date.now();
      const seedPool = createPool({ connectionString: databaseUrl, max: 3 }); // no statement timeout
      await seedDatabase(seedPool, {
        records: config.DEMO_RECORDS,
        orgs: 12,
        drafts: Math.min(2000, Math.floor(config.DEMO_RECORDS / 50)),
        committed: Math.min(100, Math.floor(config.DEMO_RECORDS / 500)),
      }).finally(() => seedPool.end());
      log.info({ ms: Date.now() - t }, 'demo data loaded');
    }
  }

  const jobs = await startJobs({ config, log, pool, db, embeddedMode, demoRecords: config.DEMO_RECORDS });
  cleanup.unshift(() => jobs.close());

  // Live updates: Redis pub/sub when the jobs use Redis (several processes), else in-process.
  const events = await createEventBus(jobs.gateway.mode === 'bullmq' ? config.REDIS_URL : undefined, log);
  cleanup.unshift(() => events.close());
  publishJobEvents(events, db, log);
  const services = createServices({ config, log, pool, db, jwtSecret, jobs: jobs.gateway, events });

  // Demo tokens: the editor owns the first seeded session, so GraphiQL opens on real drafts.
  let graphiqlHeaders: Record<string, string> | undefined;
  const tokens: Record<string, string> = {};
  if (demoAuth) {
    const { rows: orgs } = await pool.query<{ id: string }>('SELECT id FROM organization ORDER BY id');
    const { rows: sessions } = await pool.query<{ id: string; owner_user_id: string }>(
      "SELECT id, owner_user_id FROM pfa_session WHERE organization_id = 'HOLNG' ORDER BY id LIMIT 1",
    );
    const orgIds = orgs.map((o) => o.id).filter((id) => ORGANIZATION_CODE.test(id));
    const editor = sessions[0]?.owner_user_id ?? 'demo-editor-1';
    // As long as a token may live (AUTH_MAX_TOKEN_LIFETIME, default 7 days), no longer.
    const lifetime = config.AUTH_MAX_TOKEN_LIFETIME;
    tokens.viewer = await signToken(
      jwtSecret,
      { sub: 'demo-viewer', orgs: orgIds, role: 'viewer' },
      lifetime,
    );
    tokens.editor = await signToken(jwtSecret, { sub: editor, orgs: orgIds, role: 'editor' }, lifetime);
    tokens.admin = await signToken(jwtSecret, { sub: 'demo-admin', orgs: orgIds, role: 'admin' }, lifetime);
    graphiqlHeaders = {
      Authorization: `Bearer ${tokens.editor}`,
      'X-Session-Id': sessions[0]?.id ?? 'my-sandbox',
    };
  }

  const app = await createApp(services, {
    ...(graphiqlHeaders ? { graphiqlHeaders } : {}),
    readiness: jobs.readiness,
  });
  const cache = app.responseCache;
  if (cache) {
    registerGauge(
      'pfa_response_cache_bytes',
      'Bytes the exact response cache holds (keys and answers, UTF-16)',
      () => Promise.resolve(cache.bytes),
    );
    registerGauge('pfa_response_cache_entries', 'Answers the exact response cache holds', () =>
      Promise.resolve(cache.entries),
    );
  }
  const url = await app.listen(config.PORT, config.HOST);
  log.info(
    { url: `${url}/graphql`, jobs: jobs.gateway.mode, pems: jobs.pemsUrl ?? 'not configured' },
    'PFA Vanguard is up',
  );
  const metricsAddress = app.metricsServer?.address();
  const metricsUrl =
    metricsAddress && typeof metricsAddress === 'object'
      ? `http://${config.METRICS_HOST ?? config.HOST}:${metricsAddress.port}/metrics`
      : `${url}/metrics`;
  const lines = [
    '',
    `  GraphQL + GraphiQL:  ${url}/graphql`,
    `  Health:              ${url}/healthz   ${url}/readyz   ${metricsUrl}`,
    `  Jobs:                ${jobs.gateway.mode}${jobs.pemsUrl ? `   PEMS: ${jobs.pemsUrl}` : ''}`,
  ];
  for (const [role, token] of Object.entries(tokens)) lines.push(`  Demo ${role.padEnd(6)} token: ${token}`);
  if (graphiqlHeaders) lines.push(`  Demo session:        X-Session-Id: ${graphiqlHeaders['X-Session-Id']}`);
  flushSync();
  process.stdout.write(`${lines.join('\n')}\n\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    const hard = setTimeout(() => process.exit(1), 20_000);
    hard.unref();
    void (async () => {
      await app.close();
      for (const step of cleanup)
        await step().catch((err: unknown) => log.error({ err }, 'shutdown step failed'));
      log.info('stopped');
      process.exit(0);
    })();
  };
  // embedded-postgres installs an exit hook that ends the process on a signal at once; ours
  // drains requests first and stops PostgreSQL itself.
  process.removeAllListeners('SIGTERM');
  process.removeAllListeners('SIGINT');
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
main(config).catch((err: unknown) => {
  process.stderr.write(
    `failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
