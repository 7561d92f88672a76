/**
 * JobGateway on BullMQ: a queue per job name; every job deduplicated by (job, organization)
 * with keepLastIfActive — while one runs, requests collapse into at most one more run after it,
 * never two in parallel — retry and backoff from the registry; the KPI refresh on a job
 * scheduler every KPI_REFRESH_INTERVAL_MS and maintenance nightly.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  MAX_FAILED_JOBS,
  type EnqueuedJob,
  type FailedJob,
  type JobGateway,
  type JobName,
} from './gateway.js';
import {
  DEFAULT_QUEUE_PREFIX,
  MAINTENANCE_CRON,
  QUEUE_NAMES,
  SCHEDULER_IDS,
  createRedis,
  redisAnswers,
  withTimeout,
} from './queues.js';
import { JOB_NAMES, JOB_POLICIES, dedupKey, payloadFor, type JobPayloads } from './registry.js';

export interface BullmqGatewayOptions {
  redisUrl: string;
  log: Logger;
  prefix?: string;
  /** 0 disables the periodic refresh. */
  kpiRefreshIntervalMs: number;
  /** Install the job schedulers (refresh, maintenance). Default true. */
  schedule?: boolean;
  /** Cron pattern of nightly maintenance; null disables it. */
  maintenanceCron?: string | null;
  /**
   * The write-back sweep every this many ms (WRITE_SYNC_SWEEP_INTERVAL_MS); 0 removes it; absent
   * leaves it as it is (a process that runs no sync jobs leaves the schedule to the worker).
   */
  writeSweepIntervalMs?: number;
  /** The read sync of every organization every this many ms (READ_SYNC_INTERVAL_MS); 0 removes it; absent leaves it. */
  readSyncIntervalMs?: number;
}

/** States in which a job still holds its (job, organization): a sweep adds nothing then. */
const PENDING_STATES: ReadonlySet<string> = new Set([
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
]);

export type QueueCounts = Record<JobName, Record<'waiting' | 'active' | 'delayed' | 'failed', number>>;

const ENQUEUE_TIMEOUT_MS = 5_000;

/** Job options for a payload: dedup, retries with exponential backoff + jitter, history kept bounded. */
export function jobOptions<N extends JobName>(name: N, payload: JobPayloads[N]): JobsOptions {
  const policy = JOB_POLICIES[name];
  return {
    deduplication: { id: dedupKey(name, payload), keepLastIfActive: true },
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs, jitter: policy.jitter },
    ...(policy.debounceMs > 0 ? { delay: policy.debounceMs } : {}),
    removeOnComplete: { age: 7 * 24 * 3600, count: 1_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 5_000 },
  };
}

export class BullmqJobGateway implements JobGateway {
  readonly mode = 'bullmq' as const;
  private closed = false;

  private constructor(
    private readonly connection: Redis,
    private readonly queues: ReadonlyMap<JobName, Queue>,
    private readonly log: Logger,
    private readonly redisUrl: string,
  ) {}

  /** Connects (throws when Redis does not answer) and installs the schedulers. */
  static async connect(options: BullmqGatewayOptions): Promise<BullmqJobGateway> {
    const connection = createRedis(options.redisUrl, 'client');
    connection.on('error', (err: Error) =>
      options.log.warn({ err: err.message }, 'Redis connection error (job queue)'),
    );
    const prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
    const queues = new Map<JobName, Queue>(
      JOB_NAMES.map((name) => [name, new Queue(QUEUE_NAMES[name], { connection, prefix })] as const),
    );
    for (const queue of queues.values())
      queue.on('error', (err: Error) => options.log.warn({ err: err.message }, 'queue error'));
    const gateway = new BullmqJobGateway(connection, queues, options.log, options.redisUrl);
    try {
      await withTimeout(connection.ping(), ENQUEUE_TIMEOUT_MS, 'Redis');
      if (options.schedule ?? true) {
        await gateway.schedule(options.kpiRefreshIntervalMs, options.maintenanceCron ?? MAINTENANCE_CRON);
        await gateway.scheduleSweeps(options.writeSweepIntervalMs, options.readSyncIntervalMs);
      }
    } catch (error) {
      await gateway.close();
      throw error;
    }
    return gateway;
  }

  private queue(name: JobName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`no queue for job ${name}`);
    return queue;
  }

  private async schedule(refreshEveryMs: number, maintenanceCron: string | null): Promise<void> {
    const refresh = this.queue('refresh-views');
    if (refreshEveryMs > 0) {
      await refresh.upsertJobScheduler(
        SCHEDULER_IDS.refresh,
        { every: refreshEveryMs },
        {
          name: 'refresh-views',
          data: { reason: 'schedule' },
          opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
        },
      );
    } else {
      await refresh.removeJobScheduler(SCHEDULER_IDS.refresh);
    }
    const maintenance = this.queue('maintenance');
    if (maintenanceCron) {
      await maintenance.upsertJobScheduler(
        SCHEDULER_IDS.maintenance,
        { pattern: maintenanceCron },
        {
          name: 'maintenance',
          data: { reason: 'nightly' },
          opts: { removeOnComplete: { count: 30 }, removeOnFail: { count: 30 } },
        },
      );
    } else {
      await maintenance.removeJobScheduler(SCHEDULER_IDS.maintenance);
    }
  }

  /**
   * The sync sweeps on job schedulers (one tick for all processes, whoever installed it). The
   * first tick comes one interval after the first install; upserting again (every start) keeps
   * the scheduler's rhythm.
   */
  private async scheduleSweeps(writeEveryMs?: number, readEveryMs?: number): Promise<void> {
    const sweep = this.queue('sync-sweep');
    const plan = [
      { id: SCHEDULER_IDS.writeSweep, every: writeEveryMs, direction: 'write' as const },
      { id: SCHEDULER_IDS.readSync, every: readEveryMs, direction: 'read' as const },
    ];
    for (const { id, every, direction } of plan) {
      if (every === undefined) continue;
      if (every > 0) {
        await sweep.upsertJobScheduler(
          id,
          { every, startDate: Date.now() + every },
          {
            name: 'sync-sweep',
            data: { direction, reason: 'schedule' },
            opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
          },
        );
      } else {
        await sweep.removeJobScheduler(id);
      }
    }
  }

  /**
   * Adds a sync unless one for the organization is already waiting, delayed or running (null
   * then): a sweep must not queue a second run behind an active one.
   */
  async enqueueIfIdle(name: 'read-sync' | 'write-sync', organizationId: string): Promise<EnqueuedJob | null> {
    const payload = payloadFor(name, organizationId);
    const queue = this.queue(name);
    const holder = await withTimeout(
      queue.getDeduplicationJobId(dedupKey(name, payload)),
      ENQUEUE_TIMEOUT_MS,
      `queue ${name}`,
    );
    if (holder) {
      const state = await withTimeout(queue.getJobState(holder), ENQUEUE_TIMEOUT_MS, `queue ${name}`);
      if (PENDING_STATES.has(state)) return null;
    }
    return this.add(name, payload);
  }

  async failedJobs(limit = MAX_FAILED_JOBS): Promise<FailedJob[]> {
    const n = Math.max(1, Math.min(limit, MAX_FAILED_JOBS));
    const out: FailedJob[] = [];
    for (const name of JOB_NAMES) {
      // Newest first within a queue (the failed set is ordered by finish time).
      const jobs = await withTimeout(this.queue(name).getFailed(0, n - 1), 2_000, 'Redis');
      for (const job of jobs) {
        const data = job.data as { organizationId?: unknown } | undefined;
        out.push({
          queue: name,
          jobId: String(job.id),
          organizationId: typeof data?.organizationId === 'string' ? data.organizationId : null,
          attempts: job.attemptsMade,
          failedAt: new Date(job.finishedOn ?? job.processedOn ?? job.timestamp),
          error: job.failedReason ?? 'unknown error',
        });
      }
    }
    return out.sort((a, b) => b.failedAt.getTime() - a.failedAt.getTime()).slice(0, n);
  }

  /** Adds (or joins, when deduplicated) a job; returns the id of the job that will do the work. */
  async add<N extends JobName>(name: N, payload: JobPayloads[N]): Promise<EnqueuedJob> {
    if (this.closed) throw new Error('job gateway is closed');
    const queue = this.queue(name);
    const job = await withTimeout(
      queue.add(name, payload, jobOptions(name, payload)),
      ENQUEUE_TIMEOUT_MS,
      `queue ${name}`,
    );
    const state = await withTimeout(job.getState(), ENQUEUE_TIMEOUT_MS, `queue ${name}`).catch(
      () => 'unknown',
    );
    return { jobId: String(job.id), state };
  }

  async enqueue(name: JobName, organizationId: string): Promise<EnqueuedJob> {
    return this.add(name, payloadFor(name, organizationId));
  }

  requestRefresh(reason: string): void {
    if (this.closed) return;
    this.add('refresh-views', { reason }).catch((err: unknown) =>
      this.log.warn({ err: err instanceof Error ? err.message : err, reason }, 'refresh request not queued'),
    );
  }

  async counts(): Promise<QueueCounts> {
    const out = {} as QueueCounts;
    for (const name of JOB_NAMES) {
      const c = await withTimeout(
        this.queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed'),
        2_000,
        'Redis',
      );
      out[name] = {
        waiting: c.waiting ?? 0,
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        failed: c.failed ?? 0,
      };
    }
    return out;
  }

  async readiness(): Promise<Record<string, unknown>> {
    const ping = await redisAnswers(this.redisUrl, 1_000);
    // A state only (/readyz is open to anyone); the cause goes to the log.
    if (!ping.ok) this.log.warn({ err: ping.error ?? 'no answer' }, 'readiness: Redis unreachable');
    return { jobs: this.mode, redis: ping.ok ? 'ok' : 'unreachable' };
  }

  /** Removes every key of every queue (tests). */
  async obliterate(): Promise<void> {
    for (const queue of this.queues.values()) {
      for (const id of Object.values(SCHEDULER_IDS)) await queue.removeJobScheduler(id).catch(() => false);
      await queue.obliterate({ force: true });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const queue of this.queues.values()) await queue.close().catch(() => undefined);
    await this.connection.quit().catch(() => this.connection.disconnect());
  }
}
