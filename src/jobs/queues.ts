import { Redis } from 'ioredis';
import type { JobName } from './gateway.js';

/** Redis key prefix of every queue (tests use a unique one per file). */
export const DEFAULT_QUEUE_PREFIX = 'pfa';

/** One queue per job name, so each job gets its own concurrency and can be watched alone. */
export const QUEUE_NAMES: Readonly<Record<JobName, string>> = Object.freeze({
  'read-sync': 'read-sync',
  'write-sync': 'write-sync',
  'refresh-views': 'refresh-views',
  maintenance: 'maintenance',
  'sync-sweep': 'sync-sweep',
});

/** Scheduler ids (upsertJobScheduler is idempotent: API and worker may both call it). */
export const SCHEDULER_IDS = Object.freeze({
  refresh: 'refresh-views:periodic',
  maintenance: 'maintenance:nightly',
  writeSweep: 'sync-sweep:write',
  readSync: 'sync-sweep:read',
});

/** Nightly maintenance, server-local time. */
export const MAINTENANCE_CRON = '30 2 * * *';

/**
 * An ioredis connection for BullMQ. Workers need maxRetriesPerRequest: null (their blocking
 * commands wait forever); the API side fails a command quickly instead of queuing it while Redis
 * is down, so a mutation answers rather than hangs. BullMQ never closes what it is handed:
 * whoever creates one quits it.
 */
export function createRedis(url: string, role: 'worker' | 'client'): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 2,
    connectTimeout: 5_000,
    connectionName: `pfa-vanguard-${role}`,
  });
}

/** Does a Redis answer at this URL within the timeout? Never throws, never leaves a socket open. */
export async function redisAnswers(url: string, timeoutMs = 1_000): Promise<{ ok: boolean; error?: string }> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    // Otherwise a refused socket holds the process (a test, a shutdown) for 2 s after disconnect().
    disconnectTimeout: 50,
  });
  redis.on('error', () => undefined); // reported through the promise below
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await redis.connect();
        await redis.ping();
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** Rejects when the promise takes longer than `ms` (Redis commands must not hang a request). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
