/**
 * npm run worker — runs the background jobs (read-sync, write-sync, refresh-views, maintenance)
 * from the BullMQ queues. Requires Redis (REDIS_URL) and PostgreSQL (DATABASE_URL); PEMS_URL for
 * the sync jobs. Scales separately from the API; SIGTERM/SIGINT let running jobs finish.
 */
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { createDb, createPool, installProcessGuards } from './db/database.js';
import { startWorker } from './jobs/bullmq-worker.js';
import { redisAnswers } from './jobs/queues.js';
import { createEventBus } from './events/bus.js';
import { publishJobEvents } from './events/job-events.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ level: config.LOG_LEVEL, base: { service: 'pfa-vanguard-worker' } });
  // A lost PostgreSQL/Redis connection is logged and worked through; any other uncaught error exits.
  installProcessGuards(log);
  if (!config.REDIS_URL)
    throw new ConfigError('invalid configuration:\n  REDIS_URL: is required by the worker');
  if (!config.DATABASE_URL)
    throw new ConfigError('invalid configuration:\n  DATABASE_URL: is required by the worker');
  const ping = await redisAnswers(config.REDIS_URL, 3_000);
  if (!ping.ok)
    throw new Error(`Redis at REDIS_URL does not answer (${ping.error ?? 'no answer'}): the worker needs it`);

  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: config.DB_POOL_MAX,
    statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
    applicationName: 'pfa-vanguard-worker',
    log, // every client has an 'error' listener: a lost connection fails its job (retried), not the process
  });
  const db = createDb(pool);
  // Job progress and kpiChanged after syncs/refreshes reach the API processes through Redis
  // (before the worker takes its first job).
  const events = await createEventBus(config.REDIS_URL, log);
  publishJobEvents(events, db, log);
  const worker = await startWorker({ config, log, pool, db }, config.REDIS_URL);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: letting running jobs finish');
    const hard = setTimeout(() => {
      log.error(
        'jobs did not finish in 5 minutes: exiting (their changes are picked up again by the next worker)',
      );
      process.exit(1);
    }, 5 * 60_000);
    hard.unref();
    void (async () => {
      await worker.close();
      await events.close();
      await db.destroy();
      log.info('worker stopped');
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('worker failed to start:', error);
  process.exit(1);
});
