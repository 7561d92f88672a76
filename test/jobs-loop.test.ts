import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { createJobGateway, type JobSystem } from '../src/jobs/factory.js';
import { startPemsSimulator, type PemsSimulator } from '../src/pems/simulator.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, testRedisUrl, type TestDatabase } from './helpers/database.js';
import { BullmqJobGateway } from '../src/jobs/bullmq-gateway.js';
import { TEST_SETTINGS, pemsClient, testLog, uniquePrefix, waitFor, ignoreDropRace } from './helpers/jobs.js';

/**
 * The whole loop through the API, on both job systems: PEMS → mirror (syncFromPems) → draft →
 * commit → write-back → PEMS → mirror → refreshed KPIs.
 */

const ORG = 'HOLNG';

for (const mode of ['bullmq', 'in-process'] as const) {
  describe(`the full loop (${mode})`, () => {
    let t: TestDatabase;
    let sim: PemsSimulator;
    let jobs: JobSystem;
    let app: TestApp;
    const prefix = uniquePrefix(`loop-${mode}`);

    beforeAll(async () => {
      [t, sim] = await Promise.all([createTestDatabase(), startPemsSimulator({ orgs: 1, records: 400 })]);
      t.pool.on('error', ignoreDropRace);
      const config = loadConfig({ NODE_ENV: 'test', KPI_REFRESH_INTERVAL_MS: '0' });
      jobs = await createJobGateway(
        { config, log: testLog, pool: t.pool, db: t.db },
        {
          ...(mode === 'bullmq' ? { redisUrl: testRedisUrl(), worker: { schedule: false } } : {}),
          pems: pemsClient(sim.url),
          prefix,
          settings: TEST_SETTINGS,
        },
      );
      expect(jobs.mode).toBe(mode);
      // The API checks that an organization exists before an admin may sync it (read-sync itself
      // creates unknown ones: npm run sync, the worker); here it exists, with an empty mirror.
      await t.db.insertInto('organization').values({ id: ORG, name: 'Holston LNG Terminal' }).execute();
      app = await startTestApp({ database: t, jobs });
    });

    afterAll(async () => {
      await app?.close();
      await jobs?.close();
      if (mode === 'bullmq') {
        const g = await BullmqJobGateway.connect({
          redisUrl: testRedisUrl(),
          log: testLog,
          prefix,
          kpiRefreshIntervalMs: 0,
          schedule: false,
        });
        await g.obliterate();
        await g.close();
      }
      await Promise.all([t?.drop(), sim?.close()]);
    });

    async function refreshCount(): Promise<number> {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pfa_view_refresh`.execute(
        t.db,
      );
      return rows[0]?.n ?? 0;
    }

    it('syncFromPems fills an empty mirror and refreshes the KPIs', async () => {
      const admin = await app.token('admin', [ORG]);
      const res = await app.gql<{ syncFromPems: { jobId: string; state: string } }>(
        `mutation { syncFromPems(organizationId: "${ORG}") { jobId state } }`,
        { token: admin },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.syncFromPems.jobId).toBeTruthy();
      await waitFor('the read run', async () => {
        const runs = await app.gql<{ syncRuns: { direction: string; status: string; inserted: number }[] }>(
          `{ syncRuns(organizationId: "${ORG}") { direction status inserted } }`,
          { token: admin },
        );
        return runs.data?.syncRuns.find((r) => r.direction === 'read' && r.status === 'succeeded');
      });
      await waitFor('the KPI refresh', async () => (await refreshCount()) > 0);
      const kpi = await app.gql<{ kpiSummary: { recordCount: number; refreshedAt: string | null }[] }>(
        `{ kpiSummary(organizationId: "${ORG}") { recordCount refreshedAt } }`,
        { token: admin },
      );
      expect(kpi.data?.kpiSummary.length).toBeGreaterThan(0);
      expect(kpi.data?.kpiSummary[0]?.refreshedAt).toBeTruthy();
    });

    it('a committed edit is written back to PEMS once, lands in the mirror, and the KPIs refresh', async () => {
      const editor = await app.token('editor', [ORG], 'planner-1');
      const page = await app.gql<{
        pfaRecords: { nodes: { id: string; pfaId: string; forecastEnd: string; forecastCost: number }[] };
      }>(
        `{ pfaRecords(organizationId: "${ORG}", first: 1, filter: { source: { eq: "Rental" } }) { nodes { id pfaId forecastEnd forecastCost } } }`,
        { token: editor, session: 'loop' },
      );
      const record = page.data?.pfaRecords.nodes[0];
      if (!record) throw new Error(`no record: ${JSON.stringify(page.errors)}`);
      const end = new Date(`${record.forecastEnd}T00:00:00Z`);
      end.setUTCDate(end.getUTCDate() + 30);
      const newEnd = end.toISOString().slice(0, 10);

      const edit = await app.gql(
        `mutation($id: ID!, $end: LocalDate!) { updatePfaRecord(input: { id: $id, expectedVersion: 0, changes: { forecastEnd: $end } }) { draft { id } } }`,
        { token: editor, session: 'loop', variables: { id: record.id, end: newEnd } },
      );
      expect(edit.errors).toBeUndefined();
      const refreshesBefore = await refreshCount();
      const commit = await app.gql<{ commitDrafts: { committed: { id: string }[] } }>(
        `mutation { commitDrafts(organizationId: "${ORG}") { committed { id } conflicted { id } } }`,
        { token: editor, session: 'loop' },
      );
      expect(commit.data?.commitDrafts.committed).toHaveLength(1);

      await waitFor(
        'the write-back',
        async () => sim.getRecord(ORG, record.pfaId)?.data.forecastEnd === newEnd,
      );
      const synced = await waitFor('the mirror to follow', async () => {
        const r = await app.gql<{
          pfaRecord: { forecastEnd: string; pemsVersion: string; version: number; draft: unknown };
        }>(`{ pfaRecord(id: "${record.id}") { forecastEnd pemsVersion version } }`, { token: editor });
        return r.data?.pfaRecord.pemsVersion === '2' ? r.data.pfaRecord : null;
      });
      expect(synced).toMatchObject({ forecastEnd: newEnd, version: 2 });
      expect(sim.stats().updates[`${ORG}/${record.pfaId}`]).toBe(1);
      const drafts = await app.gql<{ drafts: unknown[] }>(`{ drafts(organizationId: "${ORG}") { id } }`, {
        token: editor,
        session: 'loop',
      });
      expect(drafts.data?.drafts).toEqual([]); // synced: no longer pending
      await waitFor(
        'a refresh after the commit and the write-back',
        async () => (await refreshCount()) > refreshesBefore,
      );
    });
  });
}
