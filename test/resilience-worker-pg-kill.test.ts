import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import pg from 'pg';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { TEST_SECRET } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { ignoreDropRace } from './helpers/jobs.js';
import {
  startPrivateRedis,
  startServiceProcess,
  type PrivateRedis,
  type ServiceProcess,
} from './helpers/service-process.js';

/**
 * Issue 9 §3 for the worker: `npm run worker` (src/worker.ts, a real process) runs read syncs
 * (which hold a staging connection across PEMS page requests: a checked-out client that is idle
 * most of the time) while pg_terminate_backend kills every connection it has to its own test
 * database, 10 rounds. The process stays up; a job whose connection was killed fails that attempt
 * and BullMQ retries it: every job completes, none is lost.
 */

const ORG = 'HOLNG';
const ROUNDS = Number(process.env.ROUNDS ?? 10);
const RECORDS = 1_500;

let t: TestDatabase;
let redis: PrivateRedis;
let sim: PemsSimulator;
let worker: ServiceProcess;
let admin: pg.Client;
let queue: Queue;

async function killWorkerConnections(): Promise<number> {
  const { rowCount } = await admin.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = $1 AND application_name = 'pfa-vanguard-worker' AND pid <> pg_backend_pid()`,
    [new URL(t.url).pathname.slice(1)],
  );
  return rowCount ?? 0;
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
}

beforeAll(async () => {
  [t, redis, sim] = await Promise.all([
    createTestDatabase(),
    startPrivateRedis(),
    startPemsSimulator({ orgs: 1, records: RECORDS, host: '127.0.0.1' }),
  ]);
  t.pool.on('error', ignoreDropRace);
  // Every PEMS page takes a while: the read holds its staging connection meanwhile.
  sim.setFaults({ latencyMs: 600 });
  admin = new pg.Client({ connectionString: process.env.PFA_TEST_ADMIN_URL });
  admin.on('error', () => undefined);
  await admin.connect();
  worker = await startServiceProcess(
    'src/worker.ts',
    {
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: TEST_SECRET, // production wants one, though the worker verifies no tokens
      DATABASE_URL: t.url,
      REDIS_URL: redis.url,
      PEMS_URL: sim.url,
      PEMS_RATE_LIMIT_PER_SECOND: '1000',
      KPI_REFRESH_INTERVAL_MS: '0',
      WRITE_SYNC_SWEEP_INTERVAL_MS: '0',
      READ_SYNC_INTERVAL_MS: '0',
    },
    (l) => l.msg === 'job worker started',
  );
  queue = new Queue('read-sync', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'pfa' });
  queue.on('error', () => undefined);
}, 120_000);

afterAll(async () => {
  await queue?.close();
  await worker?.stop();
  await admin?.end().catch(() => undefined);
  await sim?.close();
  await redis?.close();
  await t?.drop();
});

describe('pg_terminate_backend on the worker connections while read syncs run', () => {
  it(`keeps the worker up and completes every job (${ROUNDS} rounds)`, async () => {
    let killed = 0;
    let killedWhileActive = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const id = `round-${round}`;
      // Full reads: every round pages the whole organization through staging.
      await queue.add(
        'read-sync',
        { organizationId: ORG, full: true },
        { jobId: id, attempts: 20, backoff: { type: 'fixed', delay: 100 } },
      );
      const job = async () => (await queue.getJob(id))?.getState();
      await until(`job ${id} active`, job, (s) => s === 'active' || s === 'completed');
      await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 400)));
      const active = (await job()) === 'active';
      const n = await killWorkerConnections();
      killed += n;
      if (active && n > 0) killedWhileActive += 1;
      await until(`job ${id} done`, job, (s) => s === 'completed' || s === 'failed').catch((e: unknown) => {
        throw new Error(
          `${String(e)}\nworker exit: ${JSON.stringify(worker.exit)}\nworker log:\n${worker.lines
            .slice(-30)
            .map((l) => JSON.stringify(l))
            .join('\n')}`,
        );
      });
      if (process.env.DEBUG_WORKER) process.stdout.write(`round ${round}: active=${active} killed=${n}\n`);
      expect(await job()).toBe('completed');
      expect(worker.exit).toBeNull();
    }
    process.stdout.write(`resilience-worker-pg-kill: ${JSON.stringify({ killed, killedWhileActive })}\n`);
    if (process.env.DEBUG_WORKER)
      for (const l of worker.lines)
        process.stdout.write(
          `${l.time as number} ${String(l.jobId)} ${l.msg} ${JSON.stringify(l.err ?? '')}\n`,
        );
    expect(killedWhileActive).toBeGreaterThanOrEqual(ROUNDS / 2);
    const attempts = await Promise.all(
      Array.from({ length: ROUNDS }, async (_, r) => (await queue.getJob(`round-${r}`))?.attemptsMade ?? 0),
    );
    // Some attempts really were cut short and retried (else this test could not fail).
    expect(attempts.some((a) => a > 1)).toBe(true);
    expect(worker.exit).toBeNull();
    expect(worker.lines.filter((l) => l.level >= 60)).toEqual([]);
  }, 300_000);
});
