import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { MIRROR_BULK_LOCK, ensureMirrorIndexes, mirrorIndexes } from '../src/db/mirror-indexes.js';
import { importFrom, importLegacy, type LegacyImportReport } from '../src/jobs/legacy-import.js';
import { PostgresSource } from '../src/legacy/postgres-source.js';
import { PREDECESSOR_POSTGRES_DDL } from '../src/legacy/predecessor-schema.js';
import type { LegacySource } from '../src/legacy/source.js';
import { KpiRepository } from '../src/repositories/kpi.repository.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { ignoreDropRace, testLog } from './helpers/jobs.js';

/**
 * The legacy import's bulk path (src/legacy/bulk-load.ts): organizations without records here are
 * COPYed straight into pfa_mirror with its secondary indexes dropped. The same source imported by
 * the normal path into another database must give the same rows, field by field; a second run
 * changes nothing; the indexes and triggers are back; the pending overlay and the KPIs equal a
 * recomputation; a load that fails midway leaves no organization half loaded (each is one
 * transaction), the live KPIs right and the indexes back, and a re-run finishes it.
 *
 * Source: three organizations of 120 records (ORG01, ORG02 clean; ORG03 has a pfaId that repeats
 * after trimming, not next to its twin, which PostgreSQL refuses in one COPY: ORG03 falls back to
 * the normal path), a row without pfaId (rejected), and pending work of every kind.
 */

const PER_ORG = 120;
const ORGS = 3;
const BATCH = 50;

let sourceName: string;
let sourceUrl: string;
let bulkDb: TestDatabase;
let normalDb: TestDatabase;

function adminUrl(): string {
  return process.env.PFA_TEST_ADMIN_URL as string;
}

async function createSource(): Promise<void> {
  sourceName = `legacy_src_bulk_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${sourceName}"`);
  await admin.end();
  const u = new URL(adminUrl());
  u.pathname = `/${sourceName}`;
  sourceUrl = u.toString();
  const c = new pg.Client({ connectionString: sourceUrl });
  await c.connect();
  try {
    for (const ddl of PREDECESSOR_POSTGRES_DDL) await c.query(ddl);
    await c.query(
      `INSERT INTO organizations (id, code, name, "updatedAt")
       SELECT md5('org' || n)::uuid::text, 'ORG' || lpad(n::text, 2, '0'), 'Organization ' || n, now()
       FROM generate_series(1, $1::int) n`,
      [ORGS],
    );
    await c.query(
      `INSERT INTO users (id, username, email, "passwordHash", "updatedAt")
       SELECT md5('user' || n)::uuid::text, 'user' || n, 'user' || n || '@example.com', 'x', now()
       FROM generate_series(1, 5) n`,
    );
    // Records numbered per organization; values of every kind the converter reads (ISO and
    // numeric-text money, unknown keys, NULLs, typed copies filling keys the JSON lacks).
    await c.query(
      `WITH g AS (
         SELECT o, i, (o - 1) * $1::int + i AS n, date '2025-01-01' + ((o * 37 + i) % 400) AS s, 30 + i % 90 AS len
         FROM generate_series(1, $2::int) o, generate_series(1, $1::int) i)
       INSERT INTO pfa_mirror (id, "organizationId", data, "pfaId", category, source, "forecastStart", "forecastEnd",
         "isDiscontinued", "pemsVersion", version, "updatedAt")
       SELECT md5('rec' || n)::uuid::text, md5('org' || o)::uuid::text,
         json_build_object('pfaId', 'PFA-' || lpad(i::text, 6, '0'),
           'category', (ARRAY['Cranes','Earthmoving','Power Generation','Scaffolding'])[1 + n % 4],
           'class', 'Class ' || n % 7, 'source', CASE WHEN n % 5 = 0 THEN 'Purchase' ELSE 'Rental' END,
           'dor', CASE WHEN n % 3 = 0 THEN 'PROJECT' ELSE 'BEO' END, 'areaSilo', 'Area \\ "' || n % 4 || E'\\t',
           'monthlyRate', CASE WHEN n % 4 = 0 THEN to_json(to_char((n % 900) + 0.5, 'FM99990.00')) ELSE to_json((n % 900) + 0.25) END,
           'purchasePrice', CASE WHEN n % 9 = 0 THEN to_json('TBA'::text) ELSE to_json(n * 10) END,
           'originalStart', to_char(s, 'YYYY-MM-DD') || 'T00:00:00.000Z', 'originalEnd', to_char(s + len, 'YYYY-MM-DD'),
           'actualStart', CASE WHEN n % 4 = 0 THEN to_char(s, 'YYYY-MM-DD') || 'T00:00:00.000Z' END,
           'actualEnd', CASE WHEN n % 8 = 0 THEN to_char(s + 20, 'YYYY-MM-DD') END,
           'isActualized', n % 4 = 0, 'hasPlan', 'true', 'isDiscontinued', CASE WHEN n % 17 = 0 THEN 1 ELSE 0 END,
           'forecastCategory', 'FC-' || n % 3, 'notes', E'line one\\nline two ü'),
         'PFA-' || lpad(i::text, 6, '0'), NULL, NULL, s + 7, s + len + 14, NULL, (n % 100)::text, 1 + n % 3, now()
       FROM g`,
      [PER_ORG, ORGS],
    );
    // ORG03: " PFA-000005" trims to "PFA-000005" but sorts before "PFA-000001" (not next to its
    // twin, whose copy it is): PostgreSQL refuses the COPY (unique key), the normal path takes ORG03.
    await c.query(
      `INSERT INTO pfa_mirror (id, "organizationId", data, "pfaId", "pemsVersion", "forecastStart", "forecastEnd", "updatedAt")
       SELECT 'dup-trim', "organizationId", data, ' ' || "pfaId", "pemsVersion", "forecastStart", "forecastEnd", now() FROM pfa_mirror
       WHERE "organizationId" = md5('org3')::uuid::text AND "pfaId" = 'PFA-000005'`,
    );
    await c.query(
      `INSERT INTO pfa_mirror (id, "organizationId", data, "pfaId", "updatedAt")
       VALUES ('no-pfa-id', md5('org1')::uuid::text, '{"category": "Vehicles"}', '   ', now())`,
    );
    // Pending work: committed (some on the same record, in commit order), drafts in sessions of
    // two users, open conflicts, synced ones, and committed work in the fallback organization.
    await c.query(
      `INSERT INTO pfa_modification (id, "mirrorId", "organizationId", "userId", delta, "sessionId", "syncState",
         "baseVersion", "currentVersion", "committedAt", "pemsVersion", "createdAt", "updatedAt")
       SELECT md5('mod' || k)::uuid::text, m.id, m."organizationId", md5('user' || (1 + k % 5))::uuid::text,
         json_build_object('forecastEnd', to_char(date '2027-01-01' + k, 'YYYY-MM-DD') || 'T00:00:00.000Z',
                           'monthlyRate', CASE WHEN k % 3 = 0 THEN to_json((1000 + k)::text) END),
         's-' || k % 4, CASE WHEN k <= 30 THEN 'committed' WHEN k <= 34 THEN 'synced' WHEN k <= 38 THEN 'syncing' ELSE 'draft' END,
         1, 1, CASE WHEN k <= 38 THEN timestamp '2026-11-01 10:00' + make_interval(mins => k) END, m."pemsVersion",
         timestamp '2026-10-01 10:00' + make_interval(mins => k), timestamp '2026-10-02 10:00' + make_interval(mins => k)
       FROM generate_series(1, 60) k
       JOIN pfa_mirror m ON m.id = md5('rec' || CASE WHEN k IN (3, 9) THEN 8 ELSE (k * 7) % ($1::int * $2::int) + 1 END)::uuid::text`,
      [PER_ORG, ORGS],
    );
    await c.query(
      `INSERT INTO pfa_sync_conflict (id, "modificationId", "organizationId", "pfaId", "localData", "pemsData", "conflictFields")
       SELECT md5('conf' || k)::uuid::text, md5('mod' || k)::uuid::text, mo."organizationId", 'x', mo.delta,
         json_build_object('forecastEnd', '2028-01-01T00:00:00.000Z'), '["forecastEnd"]'
       FROM generate_series(20, 23) k JOIN pfa_modification mo ON mo.id = md5('mod' || k)::uuid::text`,
    );
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  [bulkDb, normalDb] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  bulkDb.pool.on('error', ignoreDropRace);
  normalDb.pool.on('error', ignoreDropRace);
  await createSource();
});

afterAll(async () => {
  await bulkDb?.drop();
  await normalDb?.drop();
  if (sourceName) {
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${sourceName}" WITH (FORCE)`);
    await admin.end();
  }
});

const deps = (t: TestDatabase) => ({ db: t.db, pool: t.pool, log: testLog });
const byOrg = (r: LegacyImportReport, org: string) => r.organizations.find((o) => o.organizationId === org);

async function rows<T = Record<string, unknown>>(t: TestDatabase, text: string): Promise<T[]> {
  return (await t.pool.query(text)).rows as T[];
}

/** Everything the import writes, in a form two databases can be compared by (no ids, no clocks). */
async function snapshot(t: TestDatabase): Promise<Record<string, unknown>> {
  return {
    mirror: await rows(
      t,
      `SELECT to_jsonb(m) - 'id' - 'last_synced_at' - 'first_seen_at' - 'sync_batch_id' AS row
       FROM pfa_mirror m ORDER BY organization_id, pfa_id`,
    ),
    history: await rows(t, `SELECT count(*)::int AS n FROM pfa_mirror_history`),
    modifications: await rows(
      t,
      `SELECT li.legacy_id, li.sync_state AS imported_as, m.pfa_id,
              to_jsonb(pm) - 'id' - 'mirror_id' AS row
       FROM pfa_legacy_import li
       JOIN pfa_modification pm ON pm.organization_id = li.organization_id AND pm.id = li.modification_id
       JOIN pfa_mirror m ON m.organization_id = pm.organization_id AND m.id = pm.mirror_id
       ORDER BY li.legacy_id`,
    ),
    events: await rows(
      t,
      `SELECT e.organization_id, m.pfa_id, e.session_id, e.user_id, e.action, e.reason, e.new_delta, e.to_state
       FROM pfa_modification_event e JOIN pfa_mirror m ON m.organization_id = e.organization_id AND m.id = e.mirror_id
       ORDER BY e.reason`,
    ),
    sessions: await rows(t, `SELECT * FROM pfa_session ORDER BY organization_id, id`),
    organizations: await rows(t, `SELECT id, name FROM organization ORDER BY id`),
    overlay: await rows(
      t,
      `SELECT to_jsonb(p) - 'id' AS row FROM pfa_pending_record p ORDER BY organization_id, pfa_id`,
    ),
    kpi: await rows(
      t,
      `SELECT to_jsonb(k) - 'refreshed_at' - 'refresh_seq' AS row FROM pfa_kpi_summary k ORDER BY organization_id, group_key`,
    ),
    bounds: await rows(
      t,
      `SELECT to_jsonb(b) - 'refreshed_at' - 'refresh_seq' AS row FROM pfa_timeline_bounds b ORDER BY organization_id`,
    ),
    // Logged KPI changes not yet in the views (none after a refresh, on either path).
    kpiLog: await rows(t, `SELECT count(*)::int AS n FROM pfa_kpi_delta`),
    syncLog: await rows(
      t,
      // A bulk attempt PostgreSQL refused is logged as failed before the normal path's run.
      `SELECT organization_id, status, inserted, updated, unchanged, rejected FROM pfa_sync_log
       WHERE status <> 'failed' ORDER BY organization_id, id`,
    ),
  };
}

/** Counts a second run must not move. */
async function tableCounts(t: TestDatabase): Promise<Record<string, number>> {
  return (
    await rows<Record<string, number>>(
      t,
      `SELECT (SELECT count(*)::int FROM pfa_mirror) AS records, (SELECT coalesce(sum(version), 0)::int FROM pfa_mirror) AS versions,
              (SELECT count(*)::int FROM pfa_mirror_history) AS history, (SELECT count(*)::int FROM pfa_modification) AS modifications,
              (SELECT count(*)::int FROM pfa_modification_event) AS events, (SELECT count(*)::int FROM pfa_session) AS sessions,
              (SELECT count(*)::int FROM pfa_pending_record) AS overlay, (SELECT count(*)::int FROM pfa_legacy_import) AS imported`,
    )
  )[0] as Record<string, number>;
}

/** The indexes and triggers a bulk load touches are all there and enabled; nobody holds the bulk lock. */
async function expectSchemaIntact(t: TestDatabase): Promise<void> {
  const present = new Set(
    (
      await rows<{ indexname: string }>(
        t,
        `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'pfa_mirror'`,
      )
    ).map((r) => r.indexname),
  );
  for (const index of mirrorIndexes()) expect(present).toContain(index.name);
  const valid = await rows<{ n: number }>(
    t,
    `SELECT count(*)::int AS n FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
     WHERE c.relname = 'pfa_mirror' AND NOT (x.indisvalid AND x.indisready)`,
  );
  expect(valid[0]?.n).toBe(0);
  const triggers = await rows<{ tgname: string; tgenabled: string }>(
    t,
    `SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 'pfa_mirror'::regclass AND NOT tgisinternal ORDER BY 1`,
  );
  expect(triggers.map((r) => [r.tgname, r.tgenabled])).toEqual([
    ['pfa_mirror_cascade_modifications', 'O'],
    ['pfa_mirror_kpi_del', 'O'],
    ['pfa_mirror_kpi_ins', 'O'],
    ['pfa_mirror_kpi_upd', 'O'],
    ['pfa_mirror_referenced_key_change', 'O'],
    ['pfa_mirror_versioning', 'O'],
    ['pfa_z_mark_delete', 'O'],
    ['pfa_z_mark_insert', 'O'],
    ['pfa_z_mark_truncate', 'O'],
    ['pfa_z_mark_update', 'O'],
  ]);
  const locks = await rows<{ n: number }>(
    t,
    `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  expect(locks[0]?.n).toBe(0);
}

/** The overlay recomputed from scratch (mirror + pending deltas in commit order) equals the maintained one. */
async function expectOverlayExact(t: TestDatabase): Promise<void> {
  const diff = await rows(
    t,
    `WITH want AS (
       SELECT m.organization_id, m.id, m.data || jsonb_concat_agg(d.delta ORDER BY d.committed_at, d.id) AS data
       FROM pfa_modification d JOIN pfa_mirror m ON m.organization_id = d.organization_id AND m.id = d.mirror_id
       WHERE d.sync_state IN ('committed', 'syncing') GROUP BY m.organization_id, m.id, m.data)
     SELECT coalesce(w.id, p.id) AS id FROM want w
     FULL JOIN pfa_pending_record p ON p.organization_id = w.organization_id AND p.id = w.id
     WHERE w.data IS DISTINCT FROM p.data`,
  );
  expect(diff).toEqual([]);
}

/** Live KPIs and timeline bounds (cache + logged changes) equal the figures computed from every record. */
async function expectKpisExact(t: TestDatabase): Promise<void> {
  const kpi = new KpiRepository(t.db);
  const orgs = await rows<{ id: string }>(t, `SELECT id FROM organization ORDER BY id`);
  for (const { id } of orgs) {
    const scope = { organizationId: id, sessionId: null };
    const strip = <T extends { refreshedAt: Date | null }>(xs: T[]) =>
      xs.map(({ refreshedAt: _r, ...rest }) => rest);
    expect(strip(await kpi.kpiSummary(scope))).toEqual(strip(await kpi.kpiFromScratch(scope, null)));
    const live = await kpi.timelineBounds(scope);
    const scratch = await kpi.boundsFromScratch(scope, null);
    expect(live && { ...live, refreshedAt: null }).toEqual(scratch && { ...scratch, refreshedAt: null });
  }
}

const refresh = async (t: TestDatabase) => t.pool.query('SELECT refresh_pfa_materialized_views()');

describe('legacy import: bulk path', () => {
  let bulk: LegacyImportReport;
  let normal: LegacyImportReport;

  it('dry run says which organizations would be bulk loaded', async () => {
    const dry = await importLegacy(deps(bulkDb), {
      source: { postgres: sourceUrl },
      dryRun: true,
      batchSize: BATCH,
      bulk: 'always',
    });
    expect(dry.bulk.organizations.sort()).toEqual(['ORG01', 'ORG02', 'ORG03']);
    expect(dry.bulk.reason).toMatch(/bulk path for 3 organizations without records here/);
    expect(dry.organizations.every((o) => o.bulk)).toBe(true);
    // Auto: a few hundred records stay on the normal path.
    const auto = await importLegacy(deps(bulkDb), { source: { postgres: sourceUrl }, dryRun: true });
    expect(auto.bulk.organizations).toEqual([]);
    expect(auto.bulk.reason).toMatch(/normal path: .* fewer than 10,000/);
  });

  it('loads organizations without records by COPY, ORG03 (a row PostgreSQL refuses) by the normal path', async () => {
    bulk = await importLegacy(deps(bulkDb), {
      source: { postgres: sourceUrl },
      batchSize: BATCH,
      bulk: 'always',
    });
    normal = await importLegacy(deps(normalDb), {
      source: { postgres: sourceUrl },
      batchSize: BATCH,
      bulk: 'never',
    });
    expect(bulk.bulk.organizations.sort()).toEqual(['ORG01', 'ORG02']);
    expect(bulk.bulk.fallback).toEqual([
      { organizationId: 'ORG03', reason: expect.stringMatching(/PostgreSQL refused a row .*: normal path/) },
    ]);
    expect(normal.bulk.organizations).toEqual([]);
    expect(byOrg(bulk, 'ORG01')).toMatchObject({
      bulk: true,
      inserted: PER_ORG,
      rejected: 1,
      target: PER_ORG,
    });
    expect(byOrg(bulk, 'ORG03')).toMatchObject({ bulk: false, inserted: PER_ORG });
    for (const o of ['ORG01', 'ORG02', 'ORG03']) {
      const { bulk: _b, ...b } = byOrg(bulk, o) as NonNullable<ReturnType<typeof byOrg>>;
      const { bulk: _n, ...n } = byOrg(normal, o) as NonNullable<ReturnType<typeof byOrg>>;
      expect(b).toEqual(n);
    }
    expect(bulk.errors).toEqual(normal.errors);
    expect(bulk.pendingProblems).toEqual(normal.pendingProblems);
    expect(bulk.organizations.reduce((a, o) => a + o.pending.committed, 0)).toBeGreaterThan(20);
    expect(bulk.organizations.reduce((a, o) => a + o.pending.conflict, 0)).toBe(4);
    await expectSchemaIntact(bulkDb);
  });

  it('writes what the normal path writes, field by field; overlay and KPIs equal a recomputation', async () => {
    // Before any further refresh: the bulk path refreshed the views itself, the pending work
    // logged its KPI changes above it.
    await expectKpisExact(bulkDb);
    await expectOverlayExact(bulkDb);
    // The command refreshes the views at the end of a run that changed something; so do we.
    await Promise.all([refresh(bulkDb), refresh(normalDb)]);
    const [b, n] = await Promise.all([snapshot(bulkDb), snapshot(normalDb)]);
    expect((b.mirror as unknown[]).length).toBe(ORGS * PER_ORG);
    for (const key of Object.keys(n)) expect([key, b[key]]).toEqual([key, n[key]]);
    await expectKpisExact(bulkDb);
    await expectOverlayExact(normalDb);
  });

  it('a second run changes nothing (the organizations have records: normal path)', async () => {
    const before = await tableCounts(bulkDb);
    const second = await importLegacy(deps(bulkDb), {
      source: { postgres: sourceUrl },
      batchSize: BATCH,
      bulk: 'always',
    });
    expect(second.bulk.organizations).toEqual([]);
    expect(second.bulk.reason).toMatch(/every organization already has records here/);
    expect(second.changed).toBe(false);
    for (const o of second.organizations) expect(o).toMatchObject({ inserted: 0, updated: 0, bulk: false });
    expect(await tableCounts(bulkDb)).toEqual(before);
    await expectSchemaIntact(bulkDb);
    await expectKpisExact(bulkDb);
  });

  it('a load that fails midway leaves whole organizations or none, KPIs right, indexes back; a re-run finishes it', async () => {
    const t = await createTestDatabase();
    t.pool.on('error', ignoreDropRace);
    try {
      // The source dies after two batches of ORG02 (after ORG01 or ORG03 was copied).
      const real = await PostgresSource.open(sourceUrl);
      const md5 = createHash('md5').update('org2').digest('hex');
      const org2 = `${md5.slice(0, 8)}-${md5.slice(8, 12)}-${md5.slice(12, 16)}-${md5.slice(16, 20)}-${md5.slice(20)}`;
      const failing: LegacySource = {
        shape: real.shape,
        organizations: () => real.organizations(),
        users: () => real.users(),
        recordCounts: () => real.recordCounts(),
        modifications: () => real.modifications(),
        close: () => real.close(),
        async *records(organizationId, batchSize) {
          let batches = 0;
          for await (const b of real.records(organizationId, batchSize)) {
            if (organizationId === org2 && ++batches > 2) throw new Error('source connection lost (test)');
            yield b;
          }
        },
      };
      try {
        await expect(
          importFrom(deps(t), failing, { source: { postgres: sourceUrl }, batchSize: BATCH, bulk: 'always' }),
        ).rejects.toThrow(/source connection lost/);
      } finally {
        await real.close();
      }
      // ORG02 rolled back; an organization COPYed meanwhile is complete; no pending work yet.
      const loaded = await rows<{ organization_id: string; n: number }>(
        t,
        `SELECT organization_id, count(*)::int AS n FROM pfa_mirror GROUP BY 1 ORDER BY 1`,
      );
      for (const l of loaded)
        expect(l).toMatchObject({ organization_id: expect.not.stringMatching(/ORG02/), n: PER_ORG });
      expect(await tableCounts(t)).toMatchObject({ modifications: 0 });
      expect(await rows(t, `SELECT status FROM pfa_sync_log WHERE organization_id = 'ORG02'`)).toEqual([
        { status: 'failed' },
      ]);
      await expectSchemaIntact(t);
      // No refresh ran: the live figures are right without one (the KPI log for organizations the
      // cache already holds; a new organization, with no cache row, is computed from its records).
      await expectKpisExact(t);

      const again = await importLegacy(deps(t), {
        source: { postgres: sourceUrl },
        batchSize: BATCH,
        bulk: 'always',
      });
      expect(again.bulk.organizations.sort()).toEqual(
        ['ORG01', 'ORG02'].filter((o) => !loaded.some((l) => l.organization_id === o)),
      );
      await refresh(t);
      await refresh(normalDb);
      const [b, n] = await Promise.all([snapshot(t), snapshot(normalDb)]);
      for (const key of Object.keys(n)) if (key !== 'syncLog') expect([key, b[key]]).toEqual([key, n[key]]);
      await expectSchemaIntact(t);
    } finally {
      await t.drop();
    }
  });

  it('indexes a killed bulk load left missing are built by the next import (not while a bulk load runs)', async () => {
    const t = await createTestDatabase();
    t.pool.on('error', ignoreDropRace);
    try {
      await t.pool.query('DROP INDEX idx_pfa_mirror_search_trgm, idx_pfa_mirror_grid');
      // A bulk load in progress (another session holds the lock): its indexes are its business.
      const other = await t.pool.connect();
      await other.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [MIRROR_BULK_LOCK]);
      expect(await ensureMirrorIndexes(t.pool)).toEqual({ built: [], bulkLoadRunning: true });
      await other.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [MIRROR_BULK_LOCK]);
      other.release();
      // Nobody holds it: the import builds them first, whatever path it then takes.
      const r = await importLegacy(deps(t), {
        source: { postgres: sourceUrl },
        batchSize: BATCH,
        bulk: 'never',
      });
      expect(r.bulk.indexesBuiltAtStart.sort()).toEqual([
        'idx_pfa_mirror_grid',
        'idx_pfa_mirror_search_trgm',
      ]);
      await expectSchemaIntact(t);
    } finally {
      await t.drop();
    }
  });
});
