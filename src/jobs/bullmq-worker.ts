/**
 * The BullMQ side that runs jobs: one Worker per queue, every processor from the registry
 * (checked at start), PermanentJobError → UnrecoverableError (never retried), metrics per job.
 * `npm run worker` (src/worker.ts) runs it alone; `npm start` may run it beside the API.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Services } from '../services.js';
import type { PemsClient } from '../pems/client.js';
import { BullmqJobGateway } from './bullmq-gateway.js';
import { executeJob, isPermanentFailure } from './execute.js';
import type { JobName } from './gateway.js';
import { createJobHandlers } from './handlers.js';
import { DEFAULT_JOB_SETTINGS, createPemsClient, settingsFromConfig, type JobSettings } from './job-deps.js';
import { registerJobMetrics } from './job-metrics.js';
import { DEFAULT_QUEUE_PREFIX, QUEUE_NAMES, createRedis } from './queues.js';
import { JOB_NAMES, checkPayload, type JobProgress } from './registry.js';

export type WorkerServices = Pick<Services, 'config' | 'log' | 'pool' | 'db'>;

export interface WorkerOptions {
  /** Default: a client from PEMS_URL (null when unset: sync jobs fail "PEMS not configured"). */
  pems?: PemsClient | null;
  prefix?: string;
  settings?: Partial<JobSettings>;
  /** Jobs run at once per queue (different organizations; one per organization by dedup). */
  concurrency?: Partial<Record<JobName, number>>;
  /** BullMQ lock: a job whose worker died is taken over after this (default 15 s). */
  lockDurationMs?: number;
  /** How often stalled jobs are looked for (default 5 s). */
  stalledIntervalMs?: number;
  /** Install the schedulers from this process too (default true; idempotent). */
  schedule?: boolean;
}

export interface JobWorker {
  /** The gateway the processors use to ask for refreshes. */
  readonly gateway: BullmqJobGateway;
  /** Lets the running jobs finish, then stops taking jobs and closes every connection. */
  close(): Promise<void>;
}

const DEFAULT_CONCURRENCY: Readonly<Record<JobName, number>> = {
  'read-sync': 2,
  'write-sync': 4,
  'refresh-views': 1,
  maintenance: 1,
  'sync-sweep': 1,
};

/** Starts a BullMQ Worker for every queue. Requires Redis (throws when it does not answer). */
export async function startWorker(
  services: WorkerServices,
  redisUrl: string,
  options: WorkerOptions = {},
): Promise<JobWorker> {
  const { config, log } = services;
  const prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
  const pems = options.pems === undefined ? createPemsClient(config) : options.pems;
  const gateway = await BullmqJobGateway.connect({
    redisUrl,
    log,
    prefix,
    kpiRefreshIntervalMs: config.KPI_REFRESH_INTERVAL_MS,
    schedule: options.schedule ?? true,
    // Without PEMS there is nothing to sync: the sweeps are off (and removed).
    writeSweepIntervalMs: pems ? config.WRITE_SYNC_SWEEP_INTERVAL_MS : 0,
    readSyncIntervalMs: pems ? config.READ_SYNC_INTERVAL_MS : 0,
  });
  if (!pems) log.warn('PEMS_URL not set: read-sync and write-sync jobs will fail with "PEMS not configured"');
  const handlers = createJobHandlers({
    db: services.db,
    pool: services.pool,
    log,
    pems,
    requestRefresh: (reason) => gateway.requestRefresh(reason),
    enqueueIfIdle: (name, organizationId) => gateway.enqueueIfIdle(name, organizationId),
    settings: { ...DEFAULT_JOB_SETTINGS, ...settingsFromConfig(config), ...options.settings },
  });
  const unregisterMetrics = registerJobMetrics(services.db, gateway);

  const connection: Redis = createRedis(redisUrl, 'worker');
  connection.on('error', (err: Error) => log.warn({ err: err.message }, 'Redis connection error (worker)'));
  const workers: Worker[] = [];
  for (const name of JOB_NAMES) {
    const processor = async (job: Job): Promise<unknown> => {
      let lastProgress = 0;
      const progress = (p: JobProgress): void => {
        const now = Date.now();
        if (now - lastProgress < 1_000) return;
        lastProgress = now;
        job.updateProgress({ ...p }).catch(() => undefined);
      };
      try {
        const payload = checkPayload(name, job.data);
        return await executeJob(handlers, name, payload, {
          jobId: String(job.id),
          attempt: job.attemptsMade + 1,
          log: log.child({ jobId: job.id, queue: name }),
          progress,
        });
      } catch (error) {
        if (isPermanentFailure(error))
          throw new UnrecoverableError(error instanceof Error ? error.message : String(error));
        throw error;
      }
    };
    const worker = new Worker(QUEUE_NAMES[name], processor, {
      connection,
      prefix,
      concurrency: options.concurrency?.[name] ?? DEFAULT_CONCURRENCY[name],
      // A job holds its organization's slot (one job per organization), so a worker killed in
      // the middle of a write-back held up every later commit of that organization until the
      // lock expired and a stalled check found it: 75–80 s with BullMQ's 30 s / 30 s (20-user
      // soak, worker SIGKILL). The lock is renewed every lockDuration / 2 by a timer, which
      // only an event loop blocked for 15 s would miss (then the job runs again: every job is
      // safe to run twice).
      lockDuration: options.lockDurationMs ?? 15_000,
      stalledInterval: options.stalledIntervalMs ?? 5_000,
      maxStalledCount: 3,
    });
    worker.on('error', (err: Error) => log.warn({ err: err.message, queue: name }, 'worker error'));
    worker.on('failed', (job, err) =>
      log.warn(
        { queue: name, jobId: job?.id, attempts: job?.attemptsMade, err: err.message },
        'job attempt failed',
      ),
    );
    workers.push(worker);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log.info({ prefix, queues: JOB_NAMES, pems: pems ? 'configured' : 'not configured' }, 'job worker started');

  let closing: Promise<void> | null = null;
  return {
    gateway,
    close: () =>
      (closing ??= (async () => {
        await Promise.all(workers.map((w) => w.close()));
        unregisterMetrics();
        await gateway.close();
        await connection.quit().catch(() => connection.disconnect());
        log.info('job worker stopped');
      })()),
  };
}
