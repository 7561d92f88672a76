import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { metrics } from '../src/http/metrics.js';
import type { EnqueuedJob } from '../src/jobs/gateway.js';
import { createJobHandlers } from '../src/jobs/handlers.js';
import { InProcessJobGateway } from '../src/jobs/in-process-gateway.js';
import { registerJobMetrics } from '../src/jobs/job-metrics.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import {
  TEST_SETTINGS,
  ensureSession,
  ignoreDropRace,
  pemsClient,
  testLog,
  waitFor,
} from './helpers/jobs.js';

/**
 * Scheduled syncs without Redis (timers in this process): the write-back sweep and its grace
 * period, no second run while one is active, 0 and "no PEMS" turn them off, the scheduled read
 * sync; the age of the oldest unsynced change per organization on /metrics; jobs that gave up.
 */

const ORG = 'HOLNG';
const RECORDS = 40;
let t: TestDatabase;
let sim: PemsSimulator;
let ids: Map<string, string>;
const gateways: InProcessJobGateway[] = [];

function gateway(
  options: { write?: number; read?: number; pems?: boolean; graceMs?: number } = {},
): InProcessJobGateway {
  const g = new InProcessJobGateway(
    {
      db: t.db,
      pool: t.pool,
      log: testLog,
      pems: options.pems === false ? null : pemsClient(sim.url),
      settings: { ...TEST_SETTINGS, writeSweepGraceMs: options.graceMs ?? 0 },
    },
    {
      log: testLog,
      kpiRefreshIntervalMs: 0,
      maintenanceAt: null,
      writeSweepIntervalMs: options.write ?? 0,
      readSyncIntervalMs: options.read ?? 0,
    },
  );
  gateways.push(g);
  return g;
}

/** A committed change as commitDrafts leaves it, with no write-sync queued, committed `agoMs` ago. */
async function commitWithoutEnqueue(org: string, mirrorId: string, rate: number, agoMs = 0): Promise<string> {
  await ensureSession(t.db, org, 's1', 'planner');
  const { rows } = await sql<{ id: string }>`
    INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields, base_values,
      base_version, base_pems_version, sync_state, committed_at, committed_by, commit_xid)
    SELECT m.organization_id, m.id, 's1', 'planner', jsonb_build_object('monthlyRate', ${rate}::numeric),
           ARRAY['monthlyRate'], jsonb_build_object('monthlyRate', m.data -> 'monthlyRate'), m.version, m.pems_version,
           'committed', now() - make_interval(secs => ${agoMs / 1000}), 'planner', pg_current_xact_id()
    FROM pfa_mirror m WHERE m.organization_id = ${org} AND m.id = ${mirrorId}::bigint
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

/** Completed sync-sweep runs so far in this process (pfa_job_duration_seconds). */
async function sweepRuns(): Promise<number> {
  const { values } = await metrics.jobDuration.get();
  return values
    .filter(
      (v) =>
        v.metricName === 'pfa_job_duration_seconds_count' &&
        v.labels.job === 'sync-sweep' &&
        v.labels.outcome === 'ok',
    )
    .reduce((a, v) => a + v.value, 0);
}

const mirrorId = (i: number): string => [...ids.values()][i] as string;
const pfaId = (i: number): string => [...ids.keys()][i] as string;

beforeAll(async () => {
  [t, sim] = await Promise.all([createTestDatabase(), startPemsSimulator({ orgs: 1, records: RECORDS })]);
  t.pool.on('error', ignoreDropRace);
  ids = await insertRecords(t.db, ORG, RECORDS);
});

afterAll(async () => {
  for (const g of gateways) await g.close();
  await Promise.all([t?.drop(), sim?.close()]);
});

describe('write-back sweep in-process', () => {
  it('writes back a committed change whose enqueue never happened', async () => {
    const change = await commitWithoutEnqueue(ORG, mirrorId(0), 4321);
    const g = gateway({ write: 100 });
    try {
      expect(g.sweeps).toEqual({ write: 100, read: 0 });
      await waitFor('the swept change to be synced', async () => (await stateOf(change)) === 'synced');
      expect(sim.getRecord(ORG, pfaId(0))?.data.monthlyRate).toBe(4321);
      expect(sim.stats().updates[`${ORG}/${pfaId(0)}`]).toBe(1);
    } finally {
      await g.close();
    }
  });

  it('queues only changes committed longer than the grace period ago', async () => {
    const change = await commitWithoutEnqueue(ORG, mirrorId(1), 1111, 10_000);
    const queued: string[] = [];
    const handlers = (graceMs: number) =>
      createJobHandlers({
        db: t.db,
        pool: t.pool,
        log: testLog,
        pems: null,
        requestRefresh: () => undefined,
        settings: { ...TEST_SETTINGS, writeSweepGraceMs: graceMs },
        enqueueIfIdle: async (name, org): Promise<EnqueuedJob> => {
          queued.push(`${name}:${org}`);
          return { jobId: 'x', state: 'waiting' };
        },
      })['sync-sweep'];
    const run = { jobId: 'test', attempt: 1, log: testLog };
    expect(await handlers(60_000)({ direction: 'write', reason: 'test' }, run)).toMatchObject({
      queued: [],
      skipped: [],
    });
    expect(queued).toEqual([]);
    expect(await handlers(5_000)({ direction: 'write', reason: 'test' }, run)).toMatchObject({
      queued: [ORG],
    });
    expect(queued).toEqual([`write-sync:${ORG}`]);
    await handlers(5_000)({ direction: 'read', reason: 'test' }, run);
    expect(queued).toEqual([`write-sync:${ORG}`, `read-sync:${ORG}`]);
    // Leave nothing pending for the next tests.
    await t.db.deleteFrom('pfa_modification').where('id', '=', change).execute();
  });

  it('adds no second run while a write-sync is running', async () => {
    sim.setFaults({ latencyMs: 1_500 });
    const g = gateway({ write: 100 });
    try {
      const change = await commitWithoutEnqueue(ORG, mirrorId(2), 2222);
      g.enqueueIfIdle('write-sync', ORG);
      await waitFor('the write-sync to run', async () => (await stateOf(change)) === 'syncing', 10_000, 10);
      const before = await sweepRuns();
      await waitFor('three sweeps during the run', async () => (await sweepRuns()) >= before + 3, 10_000, 20);
      expect(await stateOf(change)).toBe('syncing');
      expect((await g.counts())['write-sync']).toEqual({ waiting: 0, active: 1, delayed: 0, failed: 0 });
      sim.resetFaults();
      await waitFor('the change to be synced', async () => (await stateOf(change)) === 'synced');
      expect(sim.stats().updates[`${ORG}/${pfaId(2)}`]).toBe(1);
    } finally {
      sim.resetFaults();
      await g.close();
    }
  });

  it('0, or no PEMS, turns the sweeps off', async () => {
    expect(gateway({ write: 0, read: 0 }).sweeps).toEqual({ write: 0, read: 0 });
    expect(gateway({ write: 100, read: 100, pems: false }).sweeps).toEqual({ write: 0, read: 0 });
    const change = await commitWithoutEnqueue(ORG, mirrorId(3), 3333);
    const before = await sweepRuns();
    await new Promise((r) => setTimeout(r, 1_000)); // ten sweep intervals of the other tests
    expect(await sweepRuns()).toBe(before);
    expect(await stateOf(change)).toBe('committed');
    await t.db.deleteFrom('pfa_modification').where('id', '=', change).execute();
  });
});

describe('scheduled read sync in-process', () => {
  it('reads every organization on its own, incrementally once a watermark exists', async () => {
    const started = new Date();
    const g = gateway({ read: 200 });
    try {
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
    } finally {
      await g.close();
    }
  });
});

describe('/metrics and jobs that gave up', () => {
  it('shows the age of the oldest committed-but-unsynced change per organization', async () => {
    const ORG2 = 'ORG2';
    const ids2 = await insertRecords(t.db, ORG2, 3);
    await t.db
      .insertInto('organization')
      .values({ id: 'ORG3', name: 'nothing pending' })
      .onConflict((c) => c.doNothing())
      .execute();
    const [a, b] = [...ids2.values()] as [string, string];
    await commitWithoutEnqueue(ORG2, a, 1, 90_000);
    await commitWithoutEnqueue(ORG2, b, 2, 30_000); // younger: the oldest counts
    const g = gateway();
    const unregister = registerJobMetrics(t.db, g);
    try {
      const age = async () => {
        const { rows } = await sql<{ s: number }>`
          SELECT extract(epoch FROM now() - min(committed_at))::float8 AS s FROM pfa_modification
          WHERE organization_id = ${ORG2} AND sync_state IN ('committed', 'syncing')`.execute(t.db);
        return rows[0]?.s ?? NaN;
      };
      const low = await age();
      const text = await metrics.registry.metrics();
      const high = await age();
      const value = (org: string) => {
        const m = new RegExp(
          `^pfa_write_back_oldest_pending_seconds\\{organization="${org}"\\} (\\S+)$`,
          'm',
        ).exec(text);
        return m ? Number(m[1]) : undefined;
      };
      expect(low).toBeGreaterThanOrEqual(90);
      expect(value(ORG2)).toBeGreaterThanOrEqual(low);
      expect(value(ORG2)).toBeLessThanOrEqual(high);
      expect(value('ORG3')).toBe(0);
      expect(value(ORG)).toBe(0); // everything of HOLNG was written back above
    } finally {
      unregister();
    }
  });

  it('lists a job that gave up with its last error', async () => {
    const g = gateway();
    const { jobId } = await g.enqueue('read-sync', 'NOSUCHORG');
    await g.idle();
    expect(await g.failedJobs()).toEqual([
      {
        queue: 'read-sync',
        jobId,
        organizationId: 'NOSUCHORG',
        attempts: 1,
        failedAt: expect.any(Date),
        error: expect.stringMatching(/NOSUCHORG/),
      },
    ]);
  });
});
