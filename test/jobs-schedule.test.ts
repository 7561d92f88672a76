import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { BullmqJobGateway } from '../src/jobs/bullmq-gateway.js';
import { startWorker, type JobWorker } from '../src/jobs/bullmq-worker.js';
import { createJobGateway } from '../src/jobs/factory.js';
import { SCHEDULER_IDS } from '../src/jobs/queues.js';
import type { SweepResult } from '../src/jobs/registry.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { startTestApp } from './helpers/app.js';
import { createTestDatabase, testRedisUrl, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import {
  TEST_SETTINGS,
  ensureSession,
  ignoreDropRace,
  pemsClient,
  testLog,
  uniquePrefix,
  waitFor,
} from './helpers/jobs.js';

/**
 * Scheduled syncs on BullMQ job schedulers (real Redis, queue prefixes of this file's own): the
 * write-back sweep sends committed changes nobody queued, never adds a second job for an
 * organization whose write-sync is queued or running, and is off at 0 or without PEMS; the read
 * sync runs incrementally on its own; a job that gave up is visible to admins with its error.
 */

const ORG = 'HOLNG';
const RECORDS = 40;
let t: TestDatabase;
let sim: PemsSimulator;
let ids: Map<string, string>;
const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
const prefixes: string[] = [];
const workers: JobWorker[] = [];
const queues: Queue[] = [];

function config(env: Record<string, string>) {
  return loadConfig({
    NODE_ENV: 'test',
    KPI_REFRESH_INTERVAL_MS: '0',
    PEMS_RATE_LIMIT_PER_SECOND: '1000',
    ...env,
  });
}

function prefix(name: string): string {
  const p = uniquePrefix(name);
  prefixes.push(p);
  return p;
}

function queue(name: string, p: string): Queue {
  const q = new Queue(name, { connection: redis, prefix: p });
  queues.push(q);
  return q;
}

async function worker(p: string, env: Record<string, string>, pems = true): Promise<JobWorker> {
  const w = await startWorker({ config: config(env), log: testLog, pool: t.pool, db: t.db }, testRedisUrl(), {
    pems: pems ? pemsClient(sim.url) : null,
    prefix: p,
    settings: { ...TEST_SETTINGS, writeSweepGraceMs: 0 },
  });
  workers.push(w);
  return w;
}

/** A committed change as commitDrafts leaves it, but with no write-sync queued (the enqueue was lost). */
async function commitWithoutEnqueue(pfaId: string, rate: number): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields, base_values,
      base_version, base_pems_version, sync_state, committed_at, committed_by, commit_xid)
    SELECT m.organization_id, m.id, 's1', 'planner', jsonb_build_object('monthlyRate', ${rate}::numeric),
           ARRAY['monthlyRate'], jsonb_build_object('monthlyRate', m.data -> 'monthlyRate'), m.version, m.pems_version,
           'committed', now(), 'planner', pg_current_xact_id()
    FROM pfa_mirror m WHERE m.organization_id = ${ORG} AND m.id = ${ids.get(pfaId)}::bigint
    RETURNING id`.execute(t.db);
  return String(rows[0]?.id);
}

async function stateOf(id: string): Promise<string | undefined> {
  const row = await t.db
    .selectFrom('pfa_modification')
    .select('sync_state')
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.sync_state;
}

/** Results of the sweeps that finished at or after `since` (the scheduler keeps the last 100). */
async function sweepResults(sweeps: Queue, since = 0): Promise<SweepResult[]> {
  const done = (await sweeps.getCompleted(0, 99)) as Job[];
  return done.filter((j) => (j.finishedOn ?? 0) >= since).map((j) => j.returnvalue as SweepResult);
}

const pfaId = (i: number): string => [...ids.keys()][i] as string;

beforeAll(async () => {
  [t, sim] = await Promise.all([createTestDatabase(), startPemsSimulator({ orgs: 1, records: RECORDS })]);
  t.pool.on('error', ignoreDropRace);
  ids = await insertRecords(t.db, ORG, RECORDS);
  await ensureSession(t.db, ORG, 's1', 'planner');
});

afterAll(async () => {
  for (const w of workers) await w.close().catch(() => undefined);
  for (const q of queues) await q.close().catch(() => undefined);
  for (const p of prefixes) {
    const g = await BullmqJobGateway.connect({
      redisUrl: testRedisUrl(),
      log: testLog,
      prefix: p,
      kpiRefreshIntervalMs: 0,
      schedule: false,
    });
    await g.obliterate().catch(() => undefined);
    await g.close();
  }
  await redis.quit();
  await Promise.all([t?.drop(), sim?.close()]);
});

describe('write-back sweep on a BullMQ job scheduler', () => {
  const p = prefix('sweep');
  let gateway: BullmqJobGateway;

  beforeAll(async () => {
    gateway = await BullmqJobGateway.connect({
      redisUrl: testRedisUrl(),
      log: testLog,
      prefix: p,
      kpiRefreshIntervalMs: 0,
      schedule: false,
    });
  });
  afterAll(async () => {
    sim.resetFaults();
    await gateway?.close();
  });

  it('writes back a committed change whose enqueue never happened', async () => {
    const change = await commitWithoutEnqueue(pfaId(0), 4321);
    await worker(p, { WRITE_SYNC_SWEEP_INTERVAL_MS: '250', READ_SYNC_INTERVAL_MS: '0' });
    const sweeps = queue('sync-sweep', p);
    expect(await sweeps.getJobScheduler(SCHEDULER_IDS.writeSweep)).toMatchObject({ every: 250 });
    expect(await sweeps.getJobScheduler(SCHEDULER_IDS.readSync)).toBeUndefined();

    await waitFor('the swept change to be synced', async () => (await stateOf(change)) === 'synced');
    expect(sim.getRecord(ORG, pfaId(0))?.data.monthlyRate).toBe(4321);
    expect(sim.stats().updates[`${ORG}/${pfaId(0)}`]).toBe(1);
    expect((await sweepResults(sweeps)).some((r) => r.direction === 'write' && r.queued.includes(ORG))).toBe(
      true,
    );
  });

  it('adds no second job while a write-sync is queued', async () => {
    const writes = queue('write-sync', p);
    const sweeps = queue('sync-sweep', p);
    await writes.pause();
    try {
      const change = await commitWithoutEnqueue(pfaId(1), 5555);
      const queued = await gateway.enqueue('write-sync', ORG); // what commitDrafts does
      const since = Date.now();
      await waitFor(
        'three sweeps that saw the queued job',
        async () => (await sweepResults(sweeps, since)).filter((r) => r.skipped.includes(ORG)).length >= 3,
      );
      expect((await sweepResults(sweeps, since)).every((r) => !r.queued.includes(ORG))).toBe(true);
      const counts = await writes.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
      expect(await writes.getDeduplicationJobId(`write-sync:${ORG}`)).toBe(queued.jobId);
      await writes.resume();
      await waitFor('the change to be synced', async () => (await stateOf(change)) === 'synced');
    } finally {
      await writes.resume();
    }
  });

  it('adds no job behind a write-sync that is running', async () => {
    const writes = queue('write-sync', p);
    const sweeps = queue('sync-sweep', p);
    sim.setFaults({ latencyMs: 1_500 }); // the write-sync stays active meanwhile
    const change = await commitWithoutEnqueue(pfaId(2), 6666);
    await gateway.enqueue('write-sync', ORG);
    await waitFor('the write-sync to run', async () => (await stateOf(change)) === 'syncing', 10_000, 10);
    const since = Date.now();
    await waitFor(
      'two sweeps that saw the running job',
      async () => (await sweepResults(sweeps, since)).filter((r) => r.skipped.includes(ORG)).length >= 2,
      10_000,
      20,
    );
    // Still running: nothing waits behind it (no job, no stored "next" payload).
    expect(await stateOf(change)).toBe('syncing');
    const counts = await writes.getJobCounts('waiting', 'delayed', 'prioritized');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await redis.exists(`${p}:write-sync:dn:write-sync:${ORG}`)).toBe(0);
    expect((await sweepResults(sweeps, since)).every((r) => !r.queued.includes(ORG))).toBe(true);
    sim.resetFaults();
    await waitFor('the change to be synced', async () => (await stateOf(change)) === 'synced');
    expect(sim.stats().updates[`${ORG}/${pfaId(2)}`]).toBe(1);
  });

  it('an API process without a worker leaves the schedules to the worker', async () => {
    const sweeps = queue('sync-sweep', p);
    // Its own settings say 0 and it has no PEMS: neither may undo what the worker installed.
    const api = await createJobGateway(
      {
        config: config({ WRITE_SYNC_SWEEP_INTERVAL_MS: '0', READ_SYNC_INTERVAL_MS: '0' }),
        log: testLog,
        pool: t.pool,
        db: t.db,
      },
      { redisUrl: testRedisUrl(), pems: null, prefix: p },
    );
    await api.close();
    expect(api.mode).toBe('bullmq');
    expect(await sweeps.getJobScheduler(SCHEDULER_IDS.writeSweep)).toMatchObject({ every: 250 });
  });

  it('0 removes the schedulers; without PEMS they are not installed', async () => {
    const sweeps = queue('sync-sweep', p);
    expect(await sweeps.getJobScheduler(SCHEDULER_IDS.writeSweep)).toBeDefined();
    for (const w of workers.splice(0)) await w.close();
    const off = await BullmqJobGateway.connect({
      redisUrl: testRedisUrl(),
      log: testLog,
      prefix: p,
      kpiRefreshIntervalMs: 0,
      writeSweepIntervalMs: 0,
      readSyncIntervalMs: 0,
    });
    await off.close();
    expect(await sweeps.getJobScheduler(SCHEDULER_IDS.writeSweep)).toBeUndefined();
    expect(await sweeps.getJobScheduler(SCHEDULER_IDS.readSync)).toBeUndefined();

    const noPems = prefix('nopems');
    const w = await worker(
      noPems,
      { WRITE_SYNC_SWEEP_INTERVAL_MS: '250', READ_SYNC_INTERVAL_MS: '250' },
      false,
    );
    const q = queue('sync-sweep', noPems);
    expect(await q.getJobSchedulersCount()).toBe(0);
    await w.close();
  });
});

describe('scheduled read sync on a BullMQ job scheduler', () => {
  it('reads every organization on its own, incrementally once a watermark exists', async () => {
    const p = prefix('read');
    const started = new Date();
    await worker(p, { WRITE_SYNC_SWEEP_INTERVAL_MS: '0', READ_SYNC_INTERVAL_MS: '300' });
    expect(await queue('sync-sweep', p).getJobScheduler(SCHEDULER_IDS.readSync)).toMatchObject({
      every: 300,
    });
    await waitFor('a first scheduled read', async () =>
      t.db
        .selectFrom('pfa_sync_log')
        .select('id')
        .where('direction', '=', 'read')
        .where('status', '=', 'succeeded')
        .where('started_at', '>=', started)
        .executeTakeFirst(),
    );
    sim.changeRecord(ORG, pfaId(5), { manufacturer: 'SCHEDULED-READ' });
    // The run's counts are written when it ends (after the merge): wait for the finished run.
    await waitFor('an incremental read that took the PEMS-side change', async () =>
      t.db
        .selectFrom('pfa_sync_log')
        .select('id')
        .where('direction', '=', 'read')
        .where('mode', '=', 'incremental')
        .where('status', '=', 'succeeded')
        .where('updated', '=', 1)
        .where('started_at', '>=', started)
        .executeTakeFirst(),
    );
    const row = await t.db
      .selectFrom('pfa_mirror')
      .select('data')
      .where('organization_id', '=', ORG)
      .where('pfa_id', '=', pfaId(5))
      .executeTakeFirstOrThrow();
    expect((row.data as Record<string, unknown>).manufacturer).toBe('SCHEDULED-READ');
    for (const w of workers.splice(0)) await w.close();
  });
});

describe('jobs that gave up', () => {
  it('are listed for admins with their last error (jobQueues.failedJobs)', async () => {
    const p = prefix('failed');
    await worker(p, { WRITE_SYNC_SWEEP_INTERVAL_MS: '0', READ_SYNC_INTERVAL_MS: '0' });
    const gateway = await BullmqJobGateway.connect({
      redisUrl: testRedisUrl(),
      log: testLog,
      prefix: p,
      kpiRefreshIntervalMs: 0,
      schedule: false,
    });
    const app = await startTestApp({ database: t, jobs: gateway });
    try {
      // PEMS does not know this organization: a refusal retrying cannot fix (the job gives up at once).
      const { jobId } = await gateway.enqueue('read-sync', 'NOSUCHORG');
      await waitFor('the job to give up', async () => (await gateway.failedJobs()).length > 0);
      const admin = await app.token('admin', [ORG]);
      const res = await app.gql<{
        jobQueues: {
          failedJobs: {
            queue: string;
            jobId: string;
            organizationId: string | null;
            attempts: number;
            failedAt: string;
            error: string;
          }[];
        };
      }>(`{ jobQueues { failedJobs { queue jobId organizationId attempts failedAt error } } }`, {
        token: admin,
      });
      expect(res.errors).toBeUndefined();
      expect(res.data?.jobQueues.failedJobs).toEqual([
        {
          queue: 'read-sync',
          jobId,
          organizationId: 'NOSUCHORG',
          attempts: 1,
          failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          error: expect.stringMatching(/NOSUCHORG/),
        },
      ]);
      const editor = await app.token('editor', [ORG]);
      const refused = await app.gql(`{ jobQueues { failedJobs { jobId } } }`, { token: editor });
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await app.close();
      await gateway.close();
      for (const w of workers.splice(0)) await w.close();
    }
  });
});
