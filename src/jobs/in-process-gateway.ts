/**
 * JobGateway without Redis: the same processors, run in this process. The same rules as on
 * BullMQ: runs serialised per (job, organization), requests collapsing into at most one more run
 * while one is active (keepLastIfActive), the refresh debounced, retries with exponential
 * backoff and jitter, PermanentJobError never retried, the periodic refresh and nightly
 * maintenance on timers. What it cannot give is durability: a job waiting when the process stops
 * is forgotten — the data it would act on is not (committed changes stay committed, and the next
 * write-sync sends them).
 */
import type { Logger } from 'pino';
import { executeJob, isPermanentFailure } from './execute.js';
import {
  MAX_FAILED_JOBS,
  type EnqueuedJob,
  type FailedJob,
  type JobGateway,
  type JobName,
} from './gateway.js';
import { createJobHandlers, NEEDS_PEMS } from './handlers.js';
import type { JobDeps } from './job-deps.js';
import {
  JOB_NAMES,
  JOB_POLICIES,
  PermanentJobError,
  backoffDelay,
  dedupKey,
  payloadFor,
  type JobHandlers,
  type JobPayloads,
} from './registry.js';

interface Slot {
  key: string;
  name: JobName;
  payload: JobPayloads[JobName];
  jobId: string;
  state: 'delayed' | 'waiting' | 'active';
  attempt: number;
  timer: NodeJS.Timeout | null;
  /** Asked for again while active: run once more afterwards (latest payload). */
  again: { payload: JobPayloads[JobName]; jobId: string } | null;
}

export interface InProcessOptions {
  log: Logger;
  /** 0 disables the periodic refresh. */
  kpiRefreshIntervalMs: number;
  /** Local time of nightly maintenance; null disables it. */
  maintenanceAt?: { hour: number; minute: number } | null;
  /** Jobs running at once over all keys (they share this process's CPU and pool). */
  maxConcurrent?: number;
  /** Why there is no Redis (for /readyz). */
  reason?: string;
  /** The write-back sweep every this many ms (WRITE_SYNC_SWEEP_INTERVAL_MS); 0 or absent: off. Off without PEMS. */
  writeSweepIntervalMs?: number;
  /** The read sync of every organization every this many ms (READ_SYNC_INTERVAL_MS); 0 or absent: off. Off without PEMS. */
  readSyncIntervalMs?: number;
}

export type InProcessDeps = Omit<JobDeps, 'requestRefresh'>;

export class InProcessJobGateway implements JobGateway {
  readonly mode = 'in-process' as const;
  private readonly handlers: JobHandlers;
  private readonly slots = new Map<string, Slot>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly queue: Slot[] = [];
  /** Jobs that gave up, newest last (bounded). */
  private readonly failed: FailedJob[] = [];
  /** The sweeps running on timers, for /readyz and tests. */
  readonly sweeps: { write: number; read: number } = { write: 0, read: 0 };
  private running = 0;
  private seq = 0;
  private closed = false;
  private readonly log: Logger;
  private readonly maxConcurrent: number;

  constructor(
    private readonly deps: InProcessDeps,
    private readonly options: InProcessOptions,
  ) {
    this.log = options.log;
    this.maxConcurrent = options.maxConcurrent ?? 2;
    this.handlers = createJobHandlers({
      ...deps,
      requestRefresh: (reason) => this.requestRefresh(reason),
      enqueueIfIdle: async (name, organizationId) => this.enqueueIfIdle(name, organizationId),
    });
    if (options.kpiRefreshIntervalMs > 0) {
      const every = setInterval(() => this.requestRefresh('schedule'), options.kpiRefreshIntervalMs);
      every.unref();
      this.timers.add(every);
    }
    const at = options.maintenanceAt === undefined ? { hour: 2, minute: 30 } : options.maintenanceAt;
    if (at) this.scheduleMaintenance(at);
    // Without PEMS there is nothing to sync: no sweeps.
    if (deps.pems) {
      this.every(options.writeSweepIntervalMs ?? 0, 'write');
      this.every(options.readSyncIntervalMs ?? 0, 'read');
    }
  }

  private every(ms: number, direction: 'write' | 'read'): void {
    if (ms <= 0) return;
    const timer = setInterval(() => {
      if (!this.closed) this.submit('sync-sweep', { direction, reason: 'schedule' });
    }, ms);
    timer.unref();
    this.timers.add(timer);
    this.sweeps[direction] = ms;
  }

  /** Adds a sync unless one for the organization is already waiting, delayed or running (null then). */
  enqueueIfIdle(name: 'read-sync' | 'write-sync', organizationId: string): EnqueuedJob | null {
    if (this.closed) return null;
    const payload = payloadFor(name, organizationId);
    if (this.slots.has(dedupKey(name, payload))) return null;
    return this.submit(name, payload);
  }

  async failedJobs(limit = MAX_FAILED_JOBS): Promise<FailedJob[]> {
    const n = Math.max(1, Math.min(limit, MAX_FAILED_JOBS));
    return this.failed.slice(-n).reverse();
  }

  private scheduleMaintenance(at: { hour: number; minute: number }): void {
    const now = new Date();
    const next = new Date(now);
    next.setHours(at.hour, at.minute, 0, 0);
    if (next <= now) next.setDate(next.getDate() + 1);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.submit('maintenance', { reason: 'nightly' });
      if (!this.closed) this.scheduleMaintenance(at);
    }, next.getTime() - now.getTime());
    timer.unref();
    this.timers.add(timer);
  }

  async enqueue(name: JobName, organizationId: string): Promise<EnqueuedJob> {
    if (NEEDS_PEMS.has(name) && !this.deps.pems)
      throw new PermanentJobError('PEMS not configured (set PEMS_URL)');
    return this.submit(name, payloadFor(name, organizationId));
  }

  requestRefresh(reason: string): void {
    if (!this.closed) this.submit('refresh-views', { reason });
  }

  /** Adds a run, or joins the one waiting / queues one more after the active one. */
  submit<N extends JobName>(name: N, payload: JobPayloads[N]): EnqueuedJob {
    if (this.closed) throw new Error('job gateway is closed');
    const key = dedupKey(name, payload);
    const existing = this.slots.get(key);
    if (existing) {
      if (existing.state === 'active') {
        existing.again = { payload, jobId: existing.again?.jobId ?? this.nextId(name) };
        return { jobId: existing.again.jobId, state: 'waiting' };
      }
      if (name === 'read-sync' && (payload as JobPayloads['read-sync']).full) {
        existing.payload = { ...(existing.payload as JobPayloads['read-sync']), full: true };
      }
      return { jobId: existing.jobId, state: existing.state };
    }
    return this.create(name, payload, this.nextId(name));
  }

  private nextId(name: JobName): string {
    this.seq += 1;
    return `in-process:${name}:${this.seq}`;
  }

  private create(name: JobName, payload: JobPayloads[JobName], jobId: string): EnqueuedJob {
    const slot: Slot = {
      key: dedupKey(name, payload),
      name,
      payload,
      jobId,
      state: 'delayed',
      attempt: 0,
      timer: null,
      again: null,
    };
    this.slots.set(slot.key, slot);
    const delay = JOB_POLICIES[name].debounceMs;
    if (delay > 0) this.later(slot, delay);
    else this.ready(slot);
    return { jobId, state: slot.state };
  }

  private later(slot: Slot, ms: number): void {
    slot.state = 'delayed';
    slot.timer = setTimeout(() => {
      slot.timer = null;
      this.ready(slot);
    }, ms);
  }

  private ready(slot: Slot): void {
    slot.state = 'waiting';
    this.queue.push(slot);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.maxConcurrent && this.queue.length > 0) {
      const slot = this.queue.shift() as Slot;
      this.running += 1;
      void this.run(slot).finally(() => {
        this.running -= 1;
        this.pump();
        this.notifyIdle();
      });
    }
  }

  private async run(slot: Slot): Promise<void> {
    slot.state = 'active';
    slot.attempt += 1;
    const policy = JOB_POLICIES[slot.name];
    try {
      await executeJob(this.handlers, slot.name, slot.payload, {
        jobId: slot.jobId,
        attempt: slot.attempt,
        log: this.log.child({ jobId: slot.jobId }),
      });
    } catch (error) {
      const retry = !isPermanentFailure(error) && slot.attempt < policy.attempts && !this.closed;
      if (retry) {
        slot.again = null; // the retry does that work
        const delay = backoffDelay(policy, slot.attempt);
        this.log.info(
          { job: slot.name, jobId: slot.jobId, attempt: slot.attempt, delayMs: delay },
          'job will be retried',
        );
        this.later(slot, delay);
        return;
      }
      this.log.error(
        { job: slot.name, jobId: slot.jobId, attempts: slot.attempt, err: error },
        'job failed for good',
      );
      const organizationId = (slot.payload as { organizationId?: unknown }).organizationId;
      this.failed.push({
        queue: slot.name,
        jobId: slot.jobId,
        organizationId: typeof organizationId === 'string' ? organizationId : null,
        attempts: slot.attempt,
        failedAt: new Date(),
        error: error instanceof Error ? error.message : String(error),
      });
      if (this.failed.length > MAX_FAILED_JOBS) this.failed.shift();
    }
    this.slots.delete(slot.key);
    const again = slot.again;
    if (again && !this.closed) this.create(slot.name, again.payload, again.jobId);
  }

  private notifyIdle(): void {
    if (this.running > 0 || this.queue.length > 0 || this.slots.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves when nothing runs, waits or is delayed (tests, CLI). */
  async idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0 && this.slots.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    return this.idle();
  }

  async counts(): Promise<Record<JobName, Record<'waiting' | 'active' | 'delayed' | 'failed', number>>> {
    const out = Object.fromEntries(
      JOB_NAMES.map((n) => [n, { waiting: 0, active: 0, delayed: 0, failed: 0 }]),
    ) as Record<JobName, Record<'waiting' | 'active' | 'delayed' | 'failed', number>>;
    for (const s of this.slots.values()) {
      out[s.name][s.state] += 1;
      if (s.again) out[s.name].waiting += 1;
    }
    return out;
  }

  async readiness(): Promise<Record<string, unknown>> {
    return {
      jobs: this.mode,
      redis: this.options.reason ?? 'not used: jobs run in-process',
      pems: this.deps.pems ? 'configured' : 'not configured',
      schedules: {
        writeSweepMs: this.sweeps.write || 'off',
        readSyncMs: this.sweeps.read || 'off',
      },
    };
  }

  /** Stops timers, drops delayed runs and waits (up to `graceMs`) for the active ones. */
  async close(graceMs = 30_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
    for (const s of [...this.slots.values()]) {
      if (s.state !== 'active') {
        if (s.timer) clearTimeout(s.timer);
        this.slots.delete(s.key);
      }
    }
    const deadline = Date.now() + graceMs;
    while (this.running > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (this.running > 0)
      this.log.warn({ running: this.running }, 'in-process jobs still running at shutdown');
  }
}
