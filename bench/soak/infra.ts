/**
 * What the soak test runs on: its own database on DATABASE_URL's server (created, migrated,
 * seeded, dropped), its own Redis (a private redis-server, so the service's default BullMQ
 * prefix cannot meet anybody else's queues), and the service's API and worker as child
 * processes started the way an operator starts them (`src/main.ts`, `src/worker.ts`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDb, createPool } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrator.js';
import { seedDatabase } from '../../src/db/seed.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** application_name of the harness's own connections: the connection killer spares them. */
export const HARNESS_APP = 'pfa-soak-harness';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves true when the promise settles within ms, else false; leaves no timer behind. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SoakDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
  /** pg_terminate_backend on every connection to this database except the harness's own. */
  killConnections(): Promise<number>;
}

export async function createSoakDatabase(
  adminUrl: string,
  name: string,
  seed: { records: number; orgs: number },
): Promise<SoakDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const admin = new pg.Client({ connectionString: adminUrl, application_name: HARNESS_APP });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const setupPool = createPool({ connectionString: url, max: 3, applicationName: HARNESS_APP });
  setupPool.on('error', () => undefined);
  const db = createDb(setupPool);
  try {
    await migrateToLatest(db);
    await seedDatabase(setupPool, { records: seed.records, orgs: seed.orgs, drafts: 0, committed: 0 });
  } finally {
    await db.destroy();
  }
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: HARNESS_APP });
  pool.on('error', () => undefined);
  pool.on('connect', (c) => c.on('error', () => undefined));
  return {
    name,
    url,
    pool,
    async killConnections() {
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity
         WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> $2`,
        [name, HARNESS_APP],
      );
      return Number(rows[0]?.n ?? 0);
    },
    async drop() {
      await pool.end().catch(() => undefined);
      const c = new pg.Client({ connectionString: adminUrl, application_name: HARNESS_APP });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

/** A redis-server of our own on a free port (no persistence); null when none is on PATH. */
export async function startPrivateRedis(logFile: string): Promise<PrivateRedis | null> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--logfile', logFile],
    { stdio: 'ignore' },
  );
  const failed = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(true));
    child.once('spawn', () => resolve(false));
  });
  if (failed) return null;
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      if (!(await within(exited, 3000))) child.kill('SIGKILL');
    },
  };
}

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code/signal when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts `src/<entry>` with tsx, its output appended to logFile. */
export function startService(
  name: string,
  entry: 'main.ts' | 'worker.ts',
  env: Record<string, string>,
  logFile: string,
): ServiceProcess {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', entry)], {
    cwd: ROOT,
    stdio: ['ignore', out, out],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  closeSync(out);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    child,
    logFile,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await within(exited, 15_000))) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Waits until GET url answers 200 (or the process ends, or the timeout passes). */
export async function waitForHttp(url: string, proc: ServiceProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  void proc.exited.then(() => (ended = true));
  while (Date.now() < deadline) {
    if (ended) throw new Error(`${proc.name} exited while starting:\n${tail(proc.logFile)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms:\n${tail(proc.logFile)}`);
}

/** Waits until the log file contains `text`. */
export async function waitForLog(proc: ServiceProcess, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ended = false;
  void proc.exited.then(() => (ended = true));
  while (Date.now() < deadline) {
    if (ended) throw new Error(`${proc.name} exited while starting:\n${tail(proc.logFile)}`);
    try {
      if (readFileSync(proc.logFile, 'utf8').includes(text)) return;
    } catch {
      // not written yet
    }
    await sleep(200);
  }
  throw new Error(`${proc.name} did not log "${text}" within ${timeoutMs} ms:\n${tail(proc.logFile)}`);
}
