import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MirrorBulkLoad, copyLines } from '../src/legacy/bulk-load.js';
import { KpiRepository } from '../src/repositories/kpi.repository.js';
import type { StagedRecord } from '../src/repositories/sync.repository.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

/**
 * The bulk path's KPI log (src/legacy/bulk-load.ts, migration 20261206T0145): an organization no
 * KPI cache holds is COPYed without logging each record's KPI state (live figures of such an
 * organization are computed from its records; the refresh that ends the load would delete the
 * log), one that a cache holds is logged as for any insert. At every step — after each COPY,
 * after the refresh — the live KPIs and timeline bounds must equal a recomputation from the
 * records, and a refresh started while a COPY transaction is open must wait for it (else it would
 * cache the organization without the rows the log left out).
 */

const N = 300;
let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});

afterAll(async () => {
  await t?.drop();
});

/** N records of every KPI kind: purchase and rental, actualized, discontinued, money as text. */
function records(org: string): StagedRecord[] {
  return Array.from({ length: N }, (_, i) => {
    const day = (n: number) => new Date(Date.UTC(2025, 0, 1 + n)).toISOString().slice(0, 10);
    const s = (i * 13 + org.length * 7) % 500;
    const data = {
      pfaId: `${org}-${String(i).padStart(5, '0')}`,
      category: ['Cranes', 'Earthmoving', 'Vehicles'][i % 3],
      source: i % 5 === 0 ? 'Purchase' : 'Rental',
      dor: i % 2 ? 'BEO' : 'PROJECT',
      monthlyRate: i % 4 === 0 ? `${1000 + i}.50` : 800 + i,
      purchasePrice: 20_000 + i,
      originalStart: day(s),
      originalEnd: day(s + 40 + (i % 60)),
      forecastStart: day(s + 5),
      forecastEnd: day(s + 70 + (i % 90)),
      ...(i % 3 === 0 ? { actualStart: day(s + 2), actualEnd: day(s + 30), isActualized: true } : {}),
      isDiscontinued: i % 17 === 0,
    };
    return { pfaId: data.pfaId, json: JSON.stringify(data), pemsVersion: String(i) };
  });
}

async function* chunks(org: string, pause?: Promise<void>): AsyncGenerator<string> {
  const all = records(org);
  yield copyLines(org, 'import-test', all.slice(0, N / 2));
  if (pause) await pause;
  yield copyLines(org, 'import-test', all.slice(N / 2));
}

async function one<T>(text: string, values: unknown[] = []): Promise<T> {
  return (await t.pool.query(text, values)).rows[0] as T;
}

/** Live KPIs and bounds (cache + log) equal the figures computed from every record. */
async function expectKpisExact(orgs: string[]): Promise<void> {
  const kpi = new KpiRepository(t.db);
  for (const organizationId of orgs) {
    const scope = { organizationId, sessionId: null };
    const strip = <T extends { refreshedAt: Date | null }>(xs: T[]) =>
      xs.map(({ refreshedAt: _r, ...rest }) => rest);
    const scratch = strip(await kpi.kpiFromScratch(scope, null));
    expect([organizationId, strip(await kpi.kpiSummary(scope))]).toEqual([organizationId, scratch]);
    const live = await kpi.timelineBounds(scope);
    const bounds = await kpi.boundsFromScratch(scope, null);
    expect([organizationId, live && { ...live, refreshedAt: null }]).toEqual([
      organizationId,
      bounds && { ...bounds, refreshedAt: null },
    ]);
  }
}

const logged = async (org: string): Promise<number> =>
  (await one<{ n: number }>('SELECT count(*)::int AS n FROM pfa_kpi_delta WHERE organization_id = $1', [org]))
    .n;
const seq = async (org: string): Promise<number | null> => {
  const r = await one<{ seq: string | null }>(
    'SELECT (SELECT seq FROM pfa_org_change WHERE organization_id = $1)::text AS seq',
    [org],
  );
  return r.seq === null ? null : Number(r.seq);
};

describe('legacy import bulk path: the KPI log of a bulk COPY', () => {
  it('skips the log of an organization no cache holds, logs one a cache holds; live KPIs exact at every step', async () => {
    // NEWORG: created just before its load (no refresh since). CACHED: a refresh has cached it
    // (its bounds row says 0 records), so its log must be written.
    await t.pool.query(`INSERT INTO organization (id, name) VALUES ('CACHED', 'Cached')`);
    await t.pool.query(`SELECT refresh_pfa_materialized_views()`);
    await t.pool.query(
      `INSERT INTO organization (id, name) VALUES ('NEWORG', 'New'), ('NEWORG2', 'New too')`,
    );
    const boundsRows = await t.pool.query<{ organization_id: string; n: number }>(
      `SELECT organization_id, total_records::int AS n FROM pfa_timeline_bounds
       WHERE organization_id IN ('CACHED', 'NEWORG', 'NEWORG2')`,
    );
    expect(boundsRows.rows).toEqual([{ organization_id: 'CACHED', n: 0 }]);

    const load = await MirrorBulkLoad.begin(t.pool);
    if (!load) throw new Error('bulk lock busy');
    try {
      const counted = records('x').filter(
        (r) => !(JSON.parse(r.json) as { isDiscontinued: boolean }).isDiscontinued,
      ).length;
      expect(await load.copyOrganization('NEWORG', chunks('NEWORG'))).toEqual({
        copied: N,
        kpiLogged: false,
      });
      expect(await load.copyOrganization('CACHED', chunks('CACHED'))).toEqual({ copied: N, kpiLogged: true });
      expect(await logged('NEWORG')).toBe(0);
      expect(await logged('CACHED')).toBe(counted);
      // The sequence moves as the trigger would have moved it: once per COPY statement.
      expect(await seq('NEWORG')).toBe(1);
      expect(await seq('CACHED')).toBe(1);
      // Between the COPY and the refresh: NEWORG from its records, CACHED from cache + log.
      await expectKpisExact(['NEWORG', 'CACHED']);

      // A refresh by hand while NEWORG2's COPY transaction is open waits for its COMMIT (the
      // function takes the refresh lock first); otherwise it would cache NEWORG2 with 0 records
      // and, the log being left out, the live bounds would stay at 0 records.
      let resume: () => void = () => undefined;
      const paused = new Promise<void>((r) => {
        resume = r;
      });
      const copying = load.copyOrganization('NEWORG2', chunks('NEWORG2', paused));
      await new Promise((r) => setTimeout(r, 300));
      let refreshed = false;
      const refresh = t.pool.query('SELECT refresh_pfa_materialized_views()').then(() => {
        refreshed = true;
      });
      try {
        await new Promise((r) => setTimeout(r, 500));
        expect(refreshed).toBe(false);
      } finally {
        resume(); // the COPY goes on (and ends) whatever the outcome
      }
      expect(await copying).toEqual({ copied: N, kpiLogged: false });
      await refresh;
      expect(await logged('NEWORG2')).toBe(0);
      expect(
        await one('SELECT total_records::int AS n FROM pfa_timeline_bounds WHERE organization_id = $1', [
          'NEWORG2',
        ]),
      ).toEqual({ n: counted });
      await expectKpisExact(['NEWORG', 'CACHED', 'NEWORG2']);

      const f = await load.finish();
      expect(f.indexesMs).toBeGreaterThan(0);
    } catch (e) {
      await load.abort();
      throw e;
    }
    // After the load's own refresh: the log is empty, the caches hold every organization and
    // equal a recomputation.
    expect(await one('SELECT count(*)::int AS n FROM pfa_kpi_delta')).toEqual({ n: 0 });
    const cached = await t.pool.query<{ organization_id: string; n: number }>(
      `SELECT organization_id, sum(record_count)::int AS n FROM pfa_kpi_summary GROUP BY 1 ORDER BY 1`,
    );
    expect(cached.rows.map((r) => r.organization_id)).toEqual(['CACHED', 'NEWORG', 'NEWORG2']);
    await expectKpisExact(['NEWORG', 'CACHED', 'NEWORG2']);
    const trigger = await one<{ tgenabled: string }>(
      `SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'pfa_mirror'::regclass AND tgname = 'pfa_mirror_kpi_ins'`,
    );
    expect(trigger.tgenabled).toBe('O');
  });

  it('an ordinary insert (no pfa.kpi_log setting) still logs its KPI states', async () => {
    await t.pool.query(`INSERT INTO organization (id, name) VALUES ('PLAIN', 'Plain')`);
    await t.pool.query(
      `INSERT INTO pfa_mirror (organization_id, pfa_id, data)
       VALUES ('PLAIN', 'P-1', '{"pfaId": "P-1", "category": "Cranes", "source": "Rental", "monthlyRate": 100,
                "forecastStart": "2025-01-01", "forecastEnd": "2025-02-01"}')`,
    );
    expect(await logged('PLAIN')).toBe(1);
    // The setting is per transaction: a transaction that set it leaves the next one logging.
    const c = await t.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL pfa.kpi_log = 'off'`);
      await c.query(
        `INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES ('PLAIN', 'P-2', '{"pfaId": "P-2"}')`,
      );
      await c.query('ROLLBACK');
      await c.query(
        `INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES ('PLAIN', 'P-3', '{"pfaId": "P-3"}')`,
      );
    } finally {
      c.release();
    }
    expect(await logged('PLAIN')).toBe(2);
    await expectKpisExact(['PLAIN']);
  });
});
