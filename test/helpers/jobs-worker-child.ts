/**
 * A worker process for test/jobs-worker-kill.test.ts: startWorker with short locks and leases,
 * so a killed worker's job and claims are taken over within seconds. Prints "ready" when up.
 * Env: DATABASE_URL, REDIS_URL, PEMS_URL, QUEUE_PREFIX.
 */
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { createDb, createPool } from '../../src/db/database.js';
import { startWorker } from '../../src/jobs/bullmq-worker.js';

const config = loadConfig({ ...process.env, NODE_ENV: 'test', KPI_REFRESH_INTERVAL_MS: '0' });
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const pool = createPool({ connectionString: config.DATABASE_URL as string, max: 20 });
const db = createDb(pool);
const worker = await startWorker({ config, log, pool, db }, config.REDIS_URL as string, {
  prefix: process.env.QUEUE_PREFIX as string,
  settings: { writeLeaseMs: 1_000, writeConcurrency: 8 },
  lockDurationMs: 2_000,
  stalledIntervalMs: 1_000,
  schedule: false,
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker
    .close()
    .then(() => db.destroy())
    .then(() => process.exit(0));
});
