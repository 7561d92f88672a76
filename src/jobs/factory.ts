/**
 * Picks the job system at boot: BullMQ when Redis answers a quick ping, else the same
 * processors in-process (saying so in the log and in /readyz).
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { PemsClient } from '../pems/client.js';
import { BullmqJobGateway } from './bullmq-gateway.js';
import { startWorker, type JobWorker, type WorkerOptions } from './bullmq-worker.js';
import type { QueueCounts, EnqueuedJob, FailedJob, JobGateway, JobName } from './gateway.js';
import { InProcessJobGateway } from './in-process-gateway.js';
import { DEFAULT_JOB_SETTINGS, createPemsClient, settingsFromConfig, type JobSettings } from './job-deps.js';
import { registerJobMetrics } from './job-metrics.js';
import { redisAnswers } from './queues.js';

export interface JobSystemDeps {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  db: Db;
}

export interface JobSystemOptions {
  /** Redis to use when it answers (usually config.REDIS_URL); absent → in-process. */
  redisUrl?: string;
  /**
   * The PEMS client for jobs run in this process. undefined → from PEMS_URL; null → none (sync
   * jobs fail "PEMS not configured"). The API-only BullMQ gateway never calls PEMS itself.
   */
  pems?: PemsClient | null;
  /** With BullMQ, also run a worker in this process (embedded mode: "npm start runs both"). */
  worker?: boolean | Omit<WorkerOptions, 'pems' | 'prefix' | 'settings'>;
  prefix?: string;
  settings?: Partial<JobSettings>;
  /** How long the Redis ping may take before jobs go in-process. Default 1 s. */
  pingTimeoutMs?: number;
}

/** The JobGateway the API uses, plus what boot needs around it. */
export interface JobSystem extends JobGateway {
  /** Facts for /readyz: jobs (mode), redis, pems. */
  readiness(): Promise<Record<string, unknown>>;
  /** The worker running in this process, if any. */
  readonly worker: JobWorker | null;
}

class BullmqJobSystem implements JobSystem {
  readonly mode = 'bullmq' as const;
  constructor(
    private readonly gateway: BullmqJobGateway,
    readonly worker: JobWorker | null,
    private readonly pems: PemsClient | null,
    private readonly unregisterMetrics: () => void,
  ) {}
  enqueue(name: JobName, organizationId: string): Promise<EnqueuedJob> {
    return this.gateway.enqueue(name, organizationId);
  }
  async counts(): Promise<QueueCounts> {
    return this.gateway.counts();
  }
  failedJobs(limit?: number): Promise<FailedJob[]> {
    return this.gateway.failedJobs(limit);
  }
  requestRefresh(reason: string): void {
    this.gateway.requestRefresh(reason);
  }
  async readiness(): Promise<Record<string, unknown>> {
    return {
      ...(await this.gateway.readiness()),
      worker: this.worker ? 'in this process' : 'separate (npm run worker)',
      ...(this.worker ? { pems: this.pems ? 'configured' : 'not configured' } : {}),
    };
  }
  async close(): Promise<void> {
    this.unregisterMetrics();
    await this.worker?.close();
    await this.gateway.close();
  }
}

class InProcessJobSystem implements JobSystem {
  readonly mode = 'in-process' as const;
  readonly worker = null;
  constructor(
    readonly gateway: InProcessJobGateway,
    private readonly unregisterMetrics: () => void,
  ) {}
  enqueue(name: JobName, organizationId: string): Promise<EnqueuedJob> {
    return this.gateway.enqueue(name, organizationId);
  }
  requestRefresh(reason: string): void {
    this.gateway.requestRefresh(reason);
  }
  async counts(): Promise<QueueCounts> {
    return this.gateway.counts();
  }
  failedJobs(limit?: number): Promise<FailedJob[]> {
    return this.gateway.failedJobs(limit);
  }
  readiness(): Promise<Record<string, unknown>> {
    return this.gateway.readiness();
  }
  close(): Promise<void> {
    this.unregisterMetrics();
    return this.gateway.close();
  }
}

/**
 * BullMQ when `redisUrl` answers within the ping timeout (with a worker in this process when
 * `worker` is set), else in-process. Registers the job gauges on /metrics.
 */
export async function createJobGateway(
  deps: JobSystemDeps,
  options: JobSystemOptions = {},
): Promise<JobSystem> {
  const { config, log } = deps;
  const pems = options.pems === undefined ? createPemsClient(config) : options.pems;
  const settings: JobSettings = {
    ...DEFAULT_JOB_SETTINGS,
    ...settingsFromConfig(config),
    ...options.settings,
  };
  let reason: string;
  if (options.redisUrl) {
    const ping = await redisAnswers(options.redisUrl, options.pingTimeoutMs ?? 1_000);
    if (ping.ok) {
      const gateway = await BullmqJobGateway.connect({
        redisUrl: options.redisUrl,
        log,
        ...(options.prefix ? { prefix: options.prefix } : {}),
        kpiRefreshIntervalMs: config.KPI_REFRESH_INTERVAL_MS,
        // The sync schedules belong to the processes that run sync jobs (they know PEMS): set here
        // only with a worker in this process; an API alone leaves them to `npm run worker`.
        ...(options.worker
          ? {
              // Without PEMS there is nothing to sync: the sweeps are off (and removed).
              writeSweepIntervalMs: pems ? config.WRITE_SYNC_SWEEP_INTERVAL_MS : 0,
              readSyncIntervalMs: pems ? config.READ_SYNC_INTERVAL_MS : 0,
            }
          : {}),
      });
      let worker: JobWorker | null = null;
      if (options.worker) {
        try {
          worker = await startWorker(deps, options.redisUrl, {
            ...(typeof options.worker === 'object' ? options.worker : {}),
            pems,
            settings,
            ...(options.prefix ? { prefix: options.prefix } : {}),
          });
        } catch (error) {
          await gateway.close();
          throw error;
        }
      }
      const unregister = registerJobMetrics(deps.db, gateway);
      log.info(
        { redis: redactUrl(options.redisUrl), worker: worker ? 'in-process' : 'separate' },
        'jobs: BullMQ on Redis',
      );
      return new BullmqJobSystem(gateway, worker, pems, unregister);
    }
    reason = 'unreachable at start: jobs run in-process'; // the cause is logged below, not shown on /readyz
    log.warn(
      { redis: redactUrl(options.redisUrl), err: ping.error },
      'Redis does not answer: running jobs in-process (no durable queue)',
    );
  } else {
    reason = 'not configured (REDIS_URL): jobs run in-process';
    log.warn('REDIS_URL not set: running jobs in-process (no durable queue)');
  }
  const gateway = new InProcessJobGateway(
    { db: deps.db, pool: deps.pool, log, pems, settings },
    {
      log,
      kpiRefreshIntervalMs: config.KPI_REFRESH_INTERVAL_MS,
      reason,
      writeSweepIntervalMs: config.WRITE_SYNC_SWEEP_INTERVAL_MS,
      readSyncIntervalMs: config.READ_SYNC_INTERVAL_MS,
    },
  );
  return new InProcessJobSystem(gateway, registerJobMetrics(deps.db, gateway));
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://?';
  }
}
