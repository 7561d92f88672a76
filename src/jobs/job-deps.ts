import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { PemsClient } from '../pems/client.js';
import type { EnqueuedJob } from './gateway.js';
import { PermanentJobError } from './registry.js';

/** Tunables of the processors; defaults suit production, tests shrink the timings. */
export interface JobSettings {
  /** Rows per PEMS grid page (and per staging batch). */
  readPageSize: number;
  /** Records per COPY + merge transaction (smaller than a page: the loaders start sooner and overlap). */
  readBatchSize: number;
  /** Batches merged in parallel during a read (one connection each). */
  readLoaders: number;
  /** A full read at least this often, even when a watermark would allow an incremental one (0: never forced). */
  fullSyncEveryMs: number;
  /** PEMS updates in flight at once during write-back. */
  writeConcurrency: number;
  /** A change left `syncing` longer than this belonged to a worker that died: back to `committed`. */
  writeLeaseMs: number;
  /** Tries per change and per page within one run for transient PEMS failures (then the job retries). */
  attemptsPerRun: number;
  /** First in-run retry delay; doubles per try, ± 50% jitter. */
  retryBaseMs: number;
  archiveAfterDays: number;
  syncLogRetentionDays: number;
  /**
   * The write sweep queues write-back for changes committed longer ago than this (a commit queues
   * its own write-back at once; the sweep catches what that missed: Redis down, retries exhausted).
   */
  writeSweepGraceMs: number;
  /** Maintenance deletes audit events older than this (0: kept); an open change's events stay. */
  auditRetentionDays: number;
  /** Maintenance deletes superseded record versions older than this (0: kept). */
  historyRetentionDays: number;
  /** Maintenance deletes KPI refresh log rows older than this, the newest excepted (0: kept). */
  refreshLogRetentionDays: number;
  /** Maintenance removes sessions unused this long whose modifications are all archived (0: kept). */
  sessionIdleDays: number;
}

export const DEFAULT_JOB_SETTINGS: Readonly<JobSettings> = Object.freeze({
  readPageSize: 5_000,
  readBatchSize: 2_000,
  readLoaders: 3,
  fullSyncEveryMs: 24 * 3_600_000,
  writeConcurrency: 12,
  writeLeaseMs: 120_000,
  attemptsPerRun: 4,
  retryBaseMs: 250,
  archiveAfterDays: 30,
  syncLogRetentionDays: 90,
  writeSweepGraceMs: 30_000,
  auditRetentionDays: 365,
  historyRetentionDays: 365,
  refreshLogRetentionDays: 30,
  sessionIdleDays: 90,
});

/** The settings the environment chooses (retention); the rest keep their defaults. */
export function settingsFromConfig(config: Config): Partial<JobSettings> {
  return {
    auditRetentionDays: config.AUDIT_RETENTION_DAYS,
    historyRetentionDays: config.HISTORY_RETENTION_DAYS,
    refreshLogRetentionDays: config.REFRESH_LOG_RETENTION_DAYS,
    sessionIdleDays: config.SESSION_IDLE_DAYS,
    writeLeaseMs: config.WRITE_SYNC_LEASE_MS,
  };
}

/** What processors need; built once per process (API in-process runner, worker, CLI). */
export interface JobDeps {
  db: Db;
  pool: pg.Pool;
  log: Logger;
  /** null: PEMS is not configured, and the sync jobs fail saying so. */
  pems: PemsClient | null;
  /** Ask for a KPI refresh soon (deduplicated by the gateway). */
  requestRefresh: (reason: string) => void;
  settings: JobSettings;
  /**
   * Queue a sync of the organization unless one is already waiting or running (then null). The
   * sync sweep needs it; a runner without a queue (the CLI) leaves it out.
   */
  enqueueIfIdle?: (name: 'read-sync' | 'write-sync', organizationId: string) => Promise<EnqueuedJob | null>;
}

/** The PEMS client the configuration describes, or null without PEMS_URL. */
export function createPemsClient(
  config: Config,
  baseUrl: string | undefined = config.PEMS_URL,
): PemsClient | null {
  if (!baseUrl) return null;
  return new PemsClient({
    baseUrl,
    tenant: config.PEMS_TENANT,
    timeoutMs: config.PEMS_TIMEOUT_MS,
    rateLimitPerSecond: config.PEMS_RATE_LIMIT_PER_SECOND,
    ...(config.PEMS_API_KEY ? { apiKey: config.PEMS_API_KEY } : {}),
    ...(config.PEMS_USERNAME ? { username: config.PEMS_USERNAME, password: config.PEMS_PASSWORD ?? '' } : {}),
  });
}

export function requirePems(deps: Pick<JobDeps, 'pems'>): PemsClient {
  if (!deps.pems) throw new PermanentJobError('PEMS not configured (set PEMS_URL)');
  return deps.pems;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** In-run retry delay for try n (1-based): base · 2^(n−1), ± 50%. */
export function retryDelay(settings: Pick<JobSettings, 'retryBaseMs'>, attempt: number): number {
  return Math.round(settings.retryBaseMs * 2 ** Math.max(0, attempt - 1) * (0.5 + Math.random()));
}
