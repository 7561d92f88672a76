import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { generateRecord } from '../src/domain/generator.js';
import { BullmqJobGateway } from '../src/jobs/bullmq-gateway.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { createTestDatabase, testRedisUrl, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import { ensureSession, statesOf, uniquePrefix, waitFor, ignoreDropRace } from './helpers/jobs.js';

/**
 * A worker killed with SIGKILL in the middle of write-sync: after a new worker starts, every
 * committed change is applied in PEMS exactly once (counted by the simulator), none is lost.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const ORG = 'HOLNG';
const CHANGES = 300;

let t: TestDatabase;
let sim: PemsSimulator;
let gateway: BullmqJobGateway;
const prefix = uniquePrefix('kill');
const children = new Set<ChildProcess>();

function startChild(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'helpers/jobs-worker-child.ts')],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: t.url,
        REDIS_URL: testRedisUrl(),
        PEMS_URL: sim.url,
        PEMS_RATE_LIMIT_PER_SECOND: '1000',
        QUEUE_PREFIX: prefix,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
  });
}

function updates(): Record<string, number> {
  return sim.stats().updates;
}

beforeAll(async () => {
  [t, sim] = await Promise.all([createTestDatabase(), startPemsSimulator({ orgs: 1, records: CHANGES })]);
  t.pool.on('error', ignoreDropRace);
  const ids = await insertRecords(t.db, ORG, CHANGES);
  await ensureSession(t.db, ORG, 'bulk', 'planner');
  // 300 committed changes, as commitDrafts leaves them (base version and recordid of the mirror).
  await t.pool.query(
    `INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields, base_values,
       base_version, base_pems_version, sync_state, committed_at, committed_by, commit_xid)
     SELECT m.organization_id, m.id, 'bulk', 'planner', jsonb_build_object('monthlyRate', 1000 + m.id),
            ARRAY['monthlyRate'], jsonb_build_object('monthlyRate', m.data -> 'monthlyRate'), m.version, m.pems_version,
            'committed', clock_timestamp(), 'planner', pg_current_xact_id()
     FROM pfa_mirror m WHERE m.organization_id = $1 AND m.id = ANY($2::bigint[])`,
    [ORG, [...ids.values()]],
  );
  gateway = await BullmqJobGateway.connect({
    redisUrl: testRedisUrl(),
    log: pino({ level: 'silent' }),
    prefix,
    kpiRefreshIntervalMs: 0,
    schedule: false,
  });
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await gateway?.obliterate().catch(() => undefined);
  await gateway?.close();
  await Promise.all([t?.drop(), sim?.close()]);
});

describe('worker killed mid write-sync', () => {
  it('applies every committed change in PEMS exactly once after a restart', async () => {
    sim.setFaults({ latencyMs: 50 }); // 8 updates always in flight: killed ones reach PEMS unrecorded
    const first = await startChild();
    await gateway.enqueue('write-sync', ORG);
    // Mid-run, and mid-batch (claims come 32 at a time): some changes applied, most not yet,
    // some claimed and in flight right now.
    await waitFor(
      'the first updates',
      async () => Object.keys(updates()).length >= 80 && ((await statesOf(t.db, ORG)).syncing ?? 0) > 0,
      30_000,
      5,
    );
    // Lanes settle together, then send the next round: kill inside that round's 50 ms at PEMS.
    await new Promise((r) => setTimeout(r, 25));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const applied = Object.keys(updates()).length;
    expect(applied).toBeGreaterThanOrEqual(80);
    expect(applied).toBeLessThan(CHANGES);
    const states = await statesOf(t.db, ORG);
    expect((states.committed ?? 0) + (states.syncing ?? 0)).toBeGreaterThan(0);

    // A new worker takes over the stalled job (lock expired), recovers the expired claims.
    await startChild();
    await waitFor(
      'every change synced',
      async () => (await statesOf(t.db, ORG)).synced === CHANGES,
      45_000,
      100,
    );

    const counts = updates();
    expect(Object.keys(counts)).toHaveLength(CHANGES);
    const twice = Object.entries(counts).filter(([, n]) => n !== 1);
    expect(twice).toEqual([]);
    // PEMS holds every value, and the mirror agrees with PEMS.
    const { rows } = await t.pool.query<{ pfa_id: string; rate: number; pems_version: string }>(
      `SELECT pfa_id, (data ->> 'monthlyRate')::numeric::float8 AS rate, pems_version FROM pfa_mirror WHERE organization_id = $1`,
      [ORG],
    );
    for (const row of rows) {
      const pems = sim.getRecord(ORG, row.pfa_id);
      expect(pems?.data.monthlyRate).toBe(row.rate);
      expect(pems?.recordid).toBe(row.pems_version);
    }
    expect(rows.find((r) => r.pfa_id === generateRecord(ORG, 0).pfaId)?.pems_version).toBe('2');
    // The takeover did happen: claims of the dead worker were recovered (and changes it had
    // already sent were found applied by the re-read instead of being sent twice).
    const { rows: recovered } = await t.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pfa_modification_event WHERE organization_id = $1 AND action = 'sync-claim-expired'`,
      [ORG],
    );
    expect(recovered[0]?.n).toBeGreaterThan(0);
    // Updates PEMS applied after the kill were sent again with their old recordid: refused as
    // stale, found applied by the re-read, settled without a second update.
    expect(sim.stats().requests.staleRejected).toBeGreaterThan(0);
    if (process.env.TEST_VERBOSE)
      console.log({ applied, recovered: recovered[0]?.n, stale: sim.stats().requests.staleRejected });
  }, 60_000);
});
