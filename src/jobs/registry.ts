/**
 * The typed job registry: every job name, its payload and result types, its retry policy and
 * how it is deduplicated — in one place, checked at start-up (every name has exactly one
 * handler). Both gateways (BullMQ and in-process) and the operator CLI run handlers from here.
 *
 * No BullMQ here: processors throw PermanentJobError for what must not be retried; the BullMQ
 * worker turns it into an UnrecoverableError, the in-process runner simply stops retrying.
 */
import type { Logger } from 'pino';
import type { JobName } from './gateway.js';

export type { JobName } from './gateway.js';

export const JOB_NAMES: readonly JobName[] = [
  'read-sync',
  'write-sync',
  'refresh-views',
  'maintenance',
  'sync-sweep',
];

/** What a sync sweep queues: write-back of old committed changes, or the periodic read sync. */
export type SweepDirection = 'write' | 'read';

export interface JobPayloads {
  'read-sync': {
    organizationId: string;
    /** Force a full read (else incremental when a watermark exists). */ full?: boolean;
  };
  'write-sync': { organizationId: string };
  'refresh-views': { reason: string };
  maintenance: { reason: string };
  /**
   * write: a write-sync for every organization with changes committed longer than the grace
   * period ago; read: an (incremental) read-sync for every organization. Organizations whose
   * sync is already queued or running are skipped.
   */
  'sync-sweep': { direction: SweepDirection; reason: string };
}

export interface ReadSyncResult {
  runId: string;
  mode: 'full' | 'incremental';
  status: 'succeeded' | 'partial';
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  removed: number;
  durationMs: number;
  recordsPerSecond: number;
  watermark: string | null;
}

export interface WriteSyncResult {
  runId: string;
  status: 'succeeded' | 'partial';
  synced: number;
  conflicted: number;
  /** Left committed after a transient failure (the job is retried with backoff). */
  failed: number;
  recovered: number;
  durationMs: number;
}

export interface RefreshResult {
  refreshed: boolean;
  /** Another refresh held the lock: this one had nothing to add. */
  skipped: boolean;
  durationMs: number;
}

export interface MaintenanceResult {
  archived: number;
  deletedSyncLogs: number;
  /** Retention (0 when the setting keeps them). */
  deletedEvents: number;
  deletedHistory: number;
  deletedRefreshLogs: number;
  deletedSessions: number;
  durationMs: number;
}

export interface SweepResult {
  direction: SweepDirection;
  /** Organizations a sync was queued for. */
  queued: string[];
  /** Organizations skipped: their sync was already waiting or running. */
  skipped: string[];
  durationMs: number;
}

export interface JobResults {
  'read-sync': ReadSyncResult;
  'write-sync': WriteSyncResult;
  'refresh-views': RefreshResult;
  maintenance: MaintenanceResult;
  'sync-sweep': SweepResult;
}

/** What a handler learns about the run it is part of. */
export interface JobRun {
  jobId: string;
  /** 1 for the first attempt. */
  attempt: number;
  log: Logger;
  /** Progress for operators (CLI bar, BullMQ job progress); never required. */
  progress?: (p: JobProgress) => void;
}

export interface JobProgress {
  phase: string;
  done: number;
  total?: number;
  ratePerSecond?: number;
}

export type JobHandler<N extends JobName> = (payload: JobPayloads[N], run: JobRun) => Promise<JobResults[N]>;
export type JobHandlers = { [N in JobName]: JobHandler<N> };

/** A failure retrying cannot fix (bad payload, PEMS not configured, a conflict of principle). */
export class PermanentJobError extends Error {
  override readonly name = 'PermanentJobError';
}

/** A run that did part of its work and must run again later (e.g. changes left committed). */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}

export interface JobPolicy {
  /** Attempts in all (the first included). */
  attempts: number;
  /** Exponential backoff base: attempt n waits base · 2^(n−1), ± jitter. */
  backoffMs: number;
  /** Share of the delay randomised (0..1): retries of many jobs do not stampede PEMS together. */
  jitter: number;
  /** Delay before a run starts: requests within this window collapse into one run. */
  debounceMs: number;
}

/** Retry and dedup defaults, one place for both gateways. */
export const JOB_POLICIES: Readonly<Record<JobName, JobPolicy>> = Object.freeze({
  'read-sync': { attempts: 5, backoffMs: 5_000, jitter: 0.5, debounceMs: 0 },
  'write-sync': { attempts: 10, backoffMs: 2_000, jitter: 0.5, debounceMs: 0 },
  'refresh-views': { attempts: 3, backoffMs: 5_000, jitter: 0.5, debounceMs: 1_000 },
  maintenance: { attempts: 3, backoffMs: 60_000, jitter: 0.5, debounceMs: 0 },
  // The next scheduled sweep is the retry.
  'sync-sweep': { attempts: 1, backoffMs: 5_000, jitter: 0.5, debounceMs: 0 },
});

/** The delay before attempt `attemptsMade + 1` (attemptsMade ≥ 1), exponential with jitter. */
export function backoffDelay(
  policy: JobPolicy,
  attemptsMade: number,
  random: () => number = Math.random,
): number {
  const base = policy.backoffMs * 2 ** Math.max(0, attemptsMade - 1);
  const capped = Math.min(base, 15 * 60_000);
  return Math.round(capped * (1 - policy.jitter / 2 + policy.jitter * random()));
}

/**
 * Jobs with the same key never run in parallel and collapse while they wait: one per
 * (job, organization) for syncs, one for the whole database for refresh and maintenance.
 */
export function dedupKey<N extends JobName>(name: N, payload: JobPayloads[N]): string {
  if (name === 'read-sync' || name === 'write-sync') {
    return `${name}:${(payload as { organizationId: string }).organizationId}`;
  }
  if (name === 'sync-sweep') return `${name}:${(payload as JobPayloads['sync-sweep']).direction}`;
  return name;
}

/** The payload an API request turns into. */
export function payloadFor<N extends JobName>(
  name: N,
  organizationId: string,
  reason = 'api',
): JobPayloads[N] {
  switch (name) {
    case 'read-sync':
    case 'write-sync':
      return { organizationId } as JobPayloads[N];
    case 'refresh-views':
    case 'maintenance':
      return { reason: `${reason}:${organizationId}` } as JobPayloads[N];
    case 'sync-sweep':
      return { direction: 'write', reason: `${reason}:${organizationId}` } as JobPayloads[N];
    default:
      throw new PermanentJobError(`unknown job ${String(name)}`);
  }
}

const ORGANIZATION_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Validates a payload that crossed a process boundary (Redis); throws PermanentJobError. */
export function checkPayload<N extends JobName>(name: N, data: unknown): JobPayloads[N] {
  if (typeof data !== 'object' || data === null)
    throw new PermanentJobError(`${name}: payload is not an object`);
  const p = data as Record<string, unknown>;
  if (name === 'read-sync' || name === 'write-sync') {
    if (typeof p.organizationId !== 'string' || !ORGANIZATION_ID.test(p.organizationId)) {
      throw new PermanentJobError(
        `${name}: organizationId must be an organization code, got ${JSON.stringify(p.organizationId)}`,
      );
    }
    if (name === 'read-sync' && p.full !== undefined && typeof p.full !== 'boolean') {
      throw new PermanentJobError('read-sync: full must be a boolean');
    }
  } else if (name === 'sync-sweep' && p.direction !== 'write' && p.direction !== 'read') {
    throw new PermanentJobError(
      `sync-sweep: direction must be "write" or "read", got ${JSON.stringify(p.direction)}`,
    );
  } else if (typeof p.reason !== 'string') {
    throw new PermanentJobError(`${name}: reason must be a string`);
  }
  return data as JobPayloads[N];
}

/** Fails at start-up when a job name has no handler or an unknown name has one. */
export function checkHandlers(handlers: Partial<Record<string, unknown>>): JobHandlers {
  const missing = JOB_NAMES.filter((n) => typeof handlers[n] !== 'function');
  const unknown = Object.keys(handlers).filter((k) => !(JOB_NAMES as readonly string[]).includes(k));
  if (missing.length || unknown.length) {
    throw new Error(
      `job registry: ${[
        missing.length ? `no handler for ${missing.join(', ')}` : '',
        unknown.length ? `handlers for unknown jobs ${unknown.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ')}`,
    );
  }
  return handlers as JobHandlers;
}
