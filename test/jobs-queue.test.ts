import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { BullmqJobGateway } from '../src/jobs/bullmq-gateway.js';
import { startWorker, type JobWorker } from '../src/jobs/bullmq-worker.js';
import { createJobGateway } from '../src/jobs/factory.js';
import { InProcessJobGateway } from '../src/jobs/in-process-gateway.js';
import { JOB_POLICIES, backoffDelay, checkHandlers, dedupKey } from '../src/jobs/registry.js';
import { metrics } from '../src/http/metrics.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { createTestDatabase, testRedisUrl, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import {
  TEST_SETTINGS,
  commitChange,
  pemsClient,
  testLog,
  uniquePrefix,
  waitFor,
  ignoreDropRace,
} from './helpers/jobs.js';

/**
 * The job systems: BullMQ (real Redis, a queue prefix of this file's own, obliterated after) and
 * in-process — deduplication, the refresh burst, unrecoverable failures, the boot-time choice.
 */

const ORG = 'HOLNG';
let t: TestDatabase;
let sim: PemsSimulator;
const config = loadConfig({
  NODE_ENV: 'test',
  KPI_REFRESH_INTERVAL_MS: '0',
  PEMS_RATE_LIMIT_PER_SECOND: '1000',
});
const prefix = uniquePrefix('queue');
let gateway: BullmqJobGateway;
let worker: JobWorker | null = null;

async function refreshes(): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pfa_view_refresh`.execute(t.db);
  return rows[0]?.n ?? 0;
}

async function queueIdle(): Promise<boolean> {
  const counts = await gateway.counts();
  return Object.values(counts).every((c) => c.waiting + c.active + c.delayed === 0);
}

beforeAll(async () => {
  [t, sim] = await Promise.all([createTestDatabase(), startPemsSimulator({ orgs: 1, records: 200 })]);
  t.pool.on('error', ignoreDropRace);
  await insertRecords(t.db, ORG, 200);
  gateway = await BullmqJobGateway.connect({
    redisUrl: testRedisUrl(),
    log: testLog,
    prefix,
    kpiRefreshIntervalMs: 0,
    schedule: false,
  });
});

afterAll(async () => {
  await worker?.close();
  await gateway?.obliterate().catch(() => undefined);
  await gateway?.close();
  await Promise.all([t?.drop(), sim?.close()]);
});

describe('job registry', () => {
  it('refuses a missing or unknown handler at start-up', () => {
    const fn = async () => ({});
    expect(() => checkHandlers({ 'read-sync': fn, 'write-sync': fn, 'refresh-views': fn })).toThrow(
      /no handler for maintenance/,
    );
    expect(() =>
      checkHandlers({
        'read-sync': fn,
        'write-sync': fn,
        'refresh-views': fn,
        maintenance: fn,
        'read-synk': fn,
      }),
    ).toThrow(/unknown jobs read-synk/);
  });

  it('dedups per (job, organization) and backs off exponentially with jitter', () => {
    expect(dedupKey('write-sync', { organizationId: 'A' })).toBe('write-sync:A');
    expect(dedupKey('refresh-views', { reason: 'x' })).toBe('refresh-views');
    const policy = JOB_POLICIES['write-sync'];
    expect(backoffDelay(policy, 1, () => 0.5)).toBe(policy.backoffMs);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(policy.backoffMs * 4);
    expect(backoffDelay(policy, 3, () => 0)).toBe(policy.backoffMs * 4 * (1 - policy.jitter / 2));
  });
});

describe('BullMQ', () => {
  it('deduplicates a (job, organization) while it waits: one job for many requests', async () => {
    const q = new Queue('write-sync', {
      connection: new Redis(testRedisUrl(), { maxRetriesPerRequest: null }),
      prefix,
    });
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 5; i++) ids.add((await gateway.enqueue('write-sync', 'NOPE1')).jobId);
      const other = await gateway.enqueue('write-sync', 'NOPE2');
      expect(ids.size).toBe(1);
      expect(ids.has(other.jobId)).toBe(false);
      expect((await q.getJobCounts('waiting')).waiting).toBe(2);
      await q.obliterate({ force: true });
    } finally {
      await q.close();
      await (q.opts.connection as Redis).quit();
    }
  });

  it('runs a read-sync on the worker, then exactly one refresh for a burst of requests', async () => {
    worker = await startWorker({ config, log: testLog, pool: t.pool, db: t.db }, testRedisUrl(), {
      pems: pemsClient(sim.url),
      prefix,
      settings: TEST_SETTINGS,
      schedule: false,
    });
    const job = await gateway.enqueue('read-sync', ORG);
    expect(job.state).toMatch(/waiting|active/);
    await waitFor('the read sync', async () => {
      const row = await t.db
        .selectFrom('pfa_sync_log')
        .select('status')
        .where('job_id', '=', job.jobId)
        .executeTakeFirst();
      return row?.status === 'succeeded';
    });
    // The mirror already matched PEMS: the read sync changed nothing and asked for no refresh.
    const run = await t.db
      .selectFrom('pfa_sync_log')
      .selectAll()
      .where('job_id', '=', job.jobId)
      .executeTakeFirstOrThrow();
    expect(run.inserted + run.updated + run.removed).toBe(0);
    await waitFor('the queue to drain', queueIdle);

    const before = await refreshes();
    for (let i = 0; i < 25; i++) gateway.requestRefresh(`burst ${i}`);
    await new Promise((r) => setTimeout(r, JOB_POLICIES['refresh-views'].debounceMs + 300));
    await waitFor('the refresh', async () => (await refreshes()) > before && (await queueIdle()));
    await new Promise((r) => setTimeout(r, 500));
    expect(await refreshes()).toBe(before + 1);
  });

  it('write-sync from commitDrafts-style enqueue: synced through the queue', async () => {
    const { rows } = await sql<{
      id: string;
    }>`SELECT id FROM pfa_mirror WHERE organization_id = ${ORG} ORDER BY id LIMIT 1`.execute(t.db);
    const mod = await commitChange(t.db, ORG, String(rows[0]?.id), { monthlyRate: 321 });
    await gateway.enqueue('write-sync', ORG);
    await waitFor('the change synced', async () => {
      const m = await t.db
        .selectFrom('pfa_modification')
        .select('sync_state')
        .where('id', '=', mod)
        .executeTakeFirst();
      return m?.sync_state === 'synced';
    });
  });

  it('a job that cannot succeed (PEMS not configured) fails once, unrecoverably', async () => {
    const noPemsPrefix = uniquePrefix('nopems');
    const g = await BullmqJobGateway.connect({
      redisUrl: testRedisUrl(),
      log: testLog,
      prefix: noPemsPrefix,
      kpiRefreshIntervalMs: 0,
      schedule: false,
    });
    const w = await startWorker({ config, log: testLog, pool: t.pool, db: t.db }, testRedisUrl(), {
      pems: null,
      prefix: noPemsPrefix,
      schedule: false,
    });
    const q = new Queue('read-sync', {
      connection: new Redis(testRedisUrl(), { maxRetriesPerRequest: null }),
      prefix: noPemsPrefix,
    });
    try {
      const { jobId } = await g.enqueue('read-sync', ORG);
      const job = await waitFor('the failure', async () => {
        const j = await q.getJob(jobId);
        return j && (await j.getState()) === 'failed' ? j : null;
      }).then(async (j) => (await q.getJob(String(j.id))) ?? j); // read again: fetched before it failed
      expect(job.failedReason).toMatch(/PEMS not configured/);
      expect(job.attemptsMade).toBe(1);
    } finally {
      await w.close();
      await g.obliterate();
      await g.close();
      await q.close();
      await (q.opts.connection as Redis).quit();
    }
  });

  it('exposes queue depth, failures and job gauges on /metrics', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/pfa_queue_jobs\{queue="read-sync",state="waiting"\} \d+/);
    expect(text).toMatch(/pfa_kpi_refresh_age_seconds \d/);
    expect(text).toMatch(/pfa_open_conflicts \d+/);
    expect(text).toMatch(/pfa_job_duration_seconds_count\{job="read-sync",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/pfa_job_failures_total\{job="read-sync"\} [1-9]/);
    // Done with this worker: its follow-up refreshes must not overlap the in-process tests.
    await waitFor('the queue to drain', queueIdle);
    await worker?.close();
    worker = null;
  });
});

describe('in-process', () => {
  it('runs the same processors; a burst of refresh requests causes one refresh', async () => {
    const g = new InProcessJobGateway(
      { db: t.db, pool: t.pool, log: testLog, pems: pemsClient(sim.url), settings: TEST_SETTINGS },
      { log: testLog, kpiRefreshIntervalMs: 0, maintenanceAt: null },
    );
    try {
      const before = await refreshes();
      for (let i = 0; i < 25; i++) g.requestRefresh(`burst ${i}`);
      await g.idle();
      expect(await refreshes()).toBe(before + 1);

      // While one runs, more requests collapse into one more run after it, never two at once.
      const first = g.submit('refresh-views', { reason: 'a' });
      await waitFor(
        'the refresh to start',
        async () => (await g.counts())['refresh-views'].active === 1,
        5_000,
        5,
      );
      const second = g.submit('refresh-views', { reason: 'b' });
      const third = g.submit('refresh-views', { reason: 'c' });
      expect(second.jobId).toBe(third.jobId);
      expect(second.jobId).not.toBe(first.jobId);
      await g.idle();
      expect(await refreshes()).toBe(before + 3);

      const read = await g.enqueue('read-sync', ORG);
      expect(read.jobId).toMatch(/^in-process:read-sync:/);
      await g.idle();
    } finally {
      await g.close();
    }
  });

  it('refuses PEMS jobs clearly without PEMS', async () => {
    const g = new InProcessJobGateway(
      { db: t.db, pool: t.pool, log: testLog, pems: null, settings: TEST_SETTINGS },
      { log: testLog, kpiRefreshIntervalMs: 0, maintenanceAt: null },
    );
    try {
      await expect(g.enqueue('write-sync', ORG)).rejects.toThrow('PEMS not configured');
      await expect(g.enqueue('refresh-views', ORG)).resolves.toMatchObject({ state: expect.any(String) });
      await g.idle();
    } finally {
      await g.close();
    }
  });
});

describe('createJobGateway', () => {
  it('goes in-process when Redis does not answer, and says so', async () => {
    const jobs = await createJobGateway(
      { config, log: testLog, pool: t.pool, db: t.db },
      {
        redisUrl: 'redis://127.0.0.1:1',
        pems: null,
        pingTimeoutMs: 300,
      },
    );
    try {
      expect(jobs.mode).toBe('in-process');
      expect(await jobs.readiness()).toMatchObject({
        jobs: 'in-process',
        redis: expect.stringMatching(/unreachable.*in-process/),
      });
    } finally {
      await jobs.close();
    }
  });

  it('uses BullMQ when Redis answers', async () => {
    const p = uniquePrefix('factory');
    const jobs = await createJobGateway(
      { config, log: testLog, pool: t.pool, db: t.db },
      { redisUrl: testRedisUrl(), pems: null, prefix: p },
    );
    try {
      expect(jobs.mode).toBe('bullmq');
      expect(await jobs.readiness()).toMatchObject({ jobs: 'bullmq', redis: 'ok' });
    } finally {
      await jobs.close();
      const g = await BullmqJobGateway.connect({
        redisUrl: testRedisUrl(),
        log: testLog,
        prefix: p,
        kpiRefreshIntervalMs: 0,
        schedule: false,
      });
      await g.obliterate();
      await g.close();
    }
  });
});
