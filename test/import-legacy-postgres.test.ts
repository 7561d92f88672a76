import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { generateRecord } from '../src/domain/generator.js';
import { importLegacy, type LegacyImportReport } from '../src/jobs/legacy-import.js';
import { PREDECESSOR_POSTGRES_DDL, legacyUuid } from '../src/legacy/predecessor-schema.js';
import { legacySessionId } from '../src/legacy/values.js';
import { WriteBackRepository } from '../src/repositories/write-back.repository.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { testLog, ignoreDropRace } from './helpers/jobs.js';

/**
 * The legacy import from the predecessor's PostgreSQL (its later releases): `pfa_mirror` with
 * JSON data and typed copies, `pfa_modification` with committed, syncing, draft and conflicted
 * changes, `pfa_sync_conflict`, quoted camelCase columns and UUID-like ids. The source is a real
 * database on the test server, created here and dropped after.
 */

const PER_ORG = 40;
const ORGS = [
  { id: legacyUuid(1, 11), code: 'HOLNG', name: 'Holston LNG Terminal' },
  { id: legacyUuid(1, 12), code: 'RIVBR', name: 'Riverside Bridge Replacement' },
];
const USERS = [
  { id: legacyUuid(3, 1), username: 'jdoe', email: 'jdoe@example.com' },
  { id: legacyUuid(3, 2), username: 'asmith', email: 'asmith@example.com' },
];
const [U1, U2] = USERS as [(typeof USERS)[number], (typeof USERS)[number]];
const [HOL, RIV] = ORGS as [(typeof ORGS)[number], (typeof ORGS)[number]];
const mirrorId = (org: (typeof ORGS)[number], i: number): string => legacyUuid(org === HOL ? 21 : 22, i);
const modId = (n: number): string => legacyUuid(4, n);
const iso = (d: unknown): string | null => (typeof d === 'string' ? `${d}T00:00:00.000Z` : null);

let t: TestDatabase;
let sourceUrl: string;
let sourceName: string;

/** The predecessor's pfa_mirror.data: the record as its PEMS mapping stored it (ISO timestamps). */
function mirrorData(org: (typeof ORGS)[number], i: number): Record<string, unknown> {
  const d = generateRecord(org.code, i).data;
  const out: Record<string, unknown> = { ...d, forecastCategory: 'FC-1' };
  for (const k of [
    'originalStart',
    'originalEnd',
    'forecastStart',
    'forecastEnd',
    'actualStart',
    'actualEnd',
  ])
    out[k] = iso(d[k]);
  return out;
}

function expectedData(org: (typeof ORGS)[number], i: number): Record<string, unknown> {
  const out: Record<string, unknown> = { forecastCategory: 'FC-1' };
  for (const [k, v] of Object.entries(generateRecord(org.code, i).data)) {
    if (v === null) continue;
    out[k] = (k === 'monthlyRate' || k === 'purchasePrice') && typeof v === 'string' ? Number(v) : v;
  }
  return out;
}

interface Mod {
  n: number;
  org: (typeof ORGS)[number];
  record: number | 'missing';
  user: (typeof USERS)[number];
  session: string | null;
  state: string;
  delta: Record<string, unknown>;
  conflict?: { status: string; pemsData: Record<string, unknown>; fields: string[] };
  /** updatedAt, when not the day after createdAt. */
  updated?: string;
}

const T = (day: number): string => `2025-11-${String(day).padStart(2, '0')} 10:00:00.000`;
const MODS: Mod[] = [
  {
    n: 1,
    org: HOL,
    record: 1,
    user: U1,
    session: 'sess-A',
    state: 'committed',
    delta: { forecastStart: '2026-03-01T00:00:00.000Z', forecastEnd: '2026-05-01' },
  },
  {
    n: 2,
    org: HOL,
    record: 2,
    user: U2,
    session: 'sess-B',
    state: 'syncing',
    delta: { monthlyRate: '1500.00' },
  },
  { n: 3, org: HOL, record: 3, user: U1, session: 'sess-A', state: 'draft', delta: { isDiscontinued: true } },
  { n: 4, org: HOL, record: 4, user: U1, session: 'sess-A', state: 'draft', delta: { category: 'Cranes' } },
  { n: 5, org: HOL, record: 3, user: U2, session: 'sess-A', state: 'draft', delta: { equipment: 'EQ-9' } },
  {
    n: 6,
    org: HOL,
    record: 5,
    user: U1,
    session: 'sess-A',
    state: 'committed',
    delta: { forecastEnd: '2026-09-30T00:00:00.000Z' },
    conflict: {
      status: 'pending',
      pemsData: { pfaId: generateRecord('HOLNG', 5).pfaId, forecastEnd: '2026-08-15T00:00:00.000Z' },
      fields: ['forecastEnd'],
    },
  },
  { n: 7, org: HOL, record: 6, user: U1, session: 'sess-A', state: 'synced', delta: { dor: 'PROJECT' } },
  {
    n: 8,
    org: RIV,
    record: 1,
    user: U2,
    session: null,
    state: 'committed',
    delta: { actualStart: '2025-01-01', forecastStart: '2026-01-05T00:00:00.000Z' },
  },
  {
    n: 9,
    org: HOL,
    record: 'missing',
    user: U1,
    session: 'sess-A',
    state: 'committed',
    delta: { dor: 'BEO' },
  },
  {
    n: 10,
    org: RIV,
    record: 2,
    user: U1,
    session: 'sess-C',
    state: 'committed',
    delta: { contract: 'C-77' },
    conflict: { status: 'resolved', pemsData: { contract: 'C-1' }, fields: ['contract'] },
  },
  {
    n: 11,
    org: HOL,
    record: 7,
    user: U2,
    session: 'weird session/ü',
    state: 'draft',
    delta: { model: 'X1' },
  },
  // An older second open change of the record of n 3 in the same (user, session): cannot coexist
  // here; the one changed last wins.
  {
    n: 12,
    org: HOL,
    record: 3,
    user: U1,
    session: 'sess-A',
    state: 'draft',
    delta: { model: 'Y2' },
    updated: '2025-10-01 10:00:00.000',
  },
];

async function createSource(): Promise<void> {
  const adminUrl = process.env.PFA_TEST_ADMIN_URL as string;
  sourceName = `legacy_src_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${sourceName}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${sourceName}`;
  sourceUrl = u.toString();
  const c = new pg.Client({ connectionString: sourceUrl });
  await c.connect();
  try {
    for (const ddl of PREDECESSOR_POSTGRES_DDL) await c.query(ddl);
    for (const o of ORGS)
      await c.query(`INSERT INTO organizations (id, code, name, "updatedAt") VALUES ($1, $2, $3, now())`, [
        o.id,
        o.code,
        o.name,
      ]);
    for (const u of USERS)
      await c.query(
        `INSERT INTO users (id, username, email, "passwordHash", "updatedAt") VALUES ($1, $2, $3, 'x', now())`,
        [u.id, u.username, u.email],
      );
    for (const o of ORGS)
      for (let i = 0; i < PER_ORG; i++) {
        const g = generateRecord(o.code, i).data;
        await c.query(
          `INSERT INTO pfa_mirror (id, "organizationId", data, "pfaId", category, source, "forecastStart", "forecastEnd",
             "isDiscontinued", "pemsVersion", version, "updatedAt")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 3, now())`,
          [
            mirrorId(o, i),
            o.id,
            JSON.stringify(mirrorData(o, i)),
            g.pfaId,
            g.category,
            g.source,
            g.forecastStart,
            g.forecastEnd,
            g.isDiscontinued ?? null,
            `17${i}`,
          ],
        );
      }
    // The flat table of the earlier releases still exists; pfa_mirror has rows, so it is not read.
    await c.query(
      `INSERT INTO pfa_records (id, "pfaId", "organizationId", category, "updatedAt") VALUES ('old-1', 'OLD-1', $1, 'Old', now())`,
      [HOL.id],
    );
    for (const m of MODS) {
      await c.query(
        `INSERT INTO pfa_modification (id, "mirrorId", "organizationId", "userId", delta, "sessionId", "syncState",
           "baseVersion", "currentVersion", "modifiedFields", "changeReason", "committedAt", "pemsVersion", "createdAt", "updatedAt")
         VALUES ($1, $2, $3, $4, $5, $6, $7, 3, 2, $8, $9, $10, $11, $12, $13)`,
        [
          modId(m.n),
          m.record === 'missing' ? 'no-such-mirror-row' : mirrorId(m.org, m.record),
          m.org.id,
          m.user.id,
          JSON.stringify(m.delta),
          m.session,
          m.state,
          JSON.stringify(Object.keys(m.delta)),
          `reason ${m.n}`,
          m.state === 'draft' ? null : T(m.n + 10),
          m.record === 'missing' ? null : `pv-${m.n}`,
          T(m.n),
          m.updated ?? T(m.n + 1),
        ],
      );
      if (m.conflict)
        await c.query(
          `INSERT INTO pfa_sync_conflict (id, "modificationId", "organizationId", "pfaId", "localData", "pemsData",
             "conflictFields", status, "createdAt")
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())`,
          [
            legacyUuid(5, m.n),
            modId(m.n),
            m.org.id,
            generateRecord(m.org.code, m.record as number).pfaId,
            JSON.stringify(m.delta),
            JSON.stringify(m.conflict.pemsData),
            JSON.stringify(m.conflict.fields),
            m.conflict.status,
          ],
        );
    }
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  t = await createTestDatabase();
  t.pool.on('error', ignoreDropRace);
  await createSource();
});

afterAll(async () => {
  await t?.drop();
  if (sourceName) {
    const admin = new pg.Client({ connectionString: process.env.PFA_TEST_ADMIN_URL as string });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${sourceName}" WITH (FORCE)`);
    await admin.end();
  }
});

const deps = () => ({ db: t.db, pool: t.pool, log: testLog });
const byOrg = (r: LegacyImportReport, org: string) => r.organizations.find((o) => o.organizationId === org);

async function tableCounts(): Promise<Record<string, number>> {
  const { rows } = await sql<Record<string, number>>`
    SELECT (SELECT count(*)::int FROM pfa_mirror) AS records, (SELECT coalesce(sum(version), 0)::int FROM pfa_mirror) AS versions,
           (SELECT count(*)::int FROM pfa_mirror_history) AS history, (SELECT count(*)::int FROM organization) AS organizations,
           (SELECT count(*)::int FROM pfa_modification) AS modifications,
           (SELECT count(*)::int FROM pfa_modification WHERE sync_state IN ('committed', 'syncing')) AS pending,
           (SELECT count(*)::int FROM pfa_modification_event) AS events,
           (SELECT count(*)::int FROM pfa_session) AS sessions`.execute(t.db);
  return rows[0] as Record<string, number>;
}

const modOf = async (legacyId: string) =>
  sql<Record<string, unknown>>`
    SELECT pm.*, m.pfa_id FROM pfa_legacy_import li
    JOIN pfa_modification pm ON pm.organization_id = li.organization_id AND pm.id = li.modification_id
    JOIN pfa_mirror m ON m.organization_id = pm.organization_id AND m.id = pm.mirror_id
    WHERE li.legacy_id = ${legacyId}`
    .execute(t.db)
    .then((r) => r.rows[0]);

describe('legacy import from the predecessor PostgreSQL', () => {
  let dry: LegacyImportReport;
  let first: LegacyImportReport;

  it('dry run: detects pfa_mirror, counts records and pending work per organization, writes nothing', async () => {
    const before = await tableCounts();
    dry = await importLegacy(deps(), { source: { postgres: sourceUrl }, dryRun: true, batchSize: 16 });
    expect(dry.description).toMatch(
      /PostgreSQL: records in pfa_mirror \(80 rows\); organizations from `organizations`; users from `users`; 12 modifications/,
    );
    expect(byOrg(dry, 'HOLNG')).toMatchObject({
      source: PER_ORG,
      inserted: PER_ORG,
      pending: { committed: 2, draft: 4, conflict: 1 },
      pendingSynced: 1,
    });
    expect(byOrg(dry, 'RIVBR')).toMatchObject({
      inserted: PER_ORG,
      pending: { committed: 2, draft: 0, conflict: 0 },
    });
    expect(dry.pendingProblems).toEqual([
      {
        legacyId: modId(9),
        organizationId: 'HOLNG',
        reason: expect.stringMatching(/missing from the source/),
      },
      {
        legacyId: modId(12),
        organizationId: 'HOLNG',
        reason: expect.stringMatching(/already has an open change/),
      },
    ]);
    expect(await tableCounts()).toEqual(before);
  });

  it('imports records field by field and the pending work with who and when', async () => {
    first = await importLegacy(deps(), { source: { postgres: sourceUrl }, batchSize: 16 });
    for (const org of ['HOLNG', 'RIVBR']) {
      const f = byOrg(first, org);
      const d = byOrg(dry, org);
      expect(f).toMatchObject({ inserted: d?.inserted, updated: 0, pending: d?.pending, target: PER_ORG });
    }
    expect(first.pendingProblems).toEqual(dry.pendingProblems);
    expect(first.droppedDeltaKeys).toEqual({ actualStart: 1 });

    for (const o of ORGS)
      for (let i = 0; i < PER_ORG; i++) {
        const row = await t.db
          .selectFrom('pfa_mirror')
          .select(['data', 'pems_version', 'version'])
          .where('organization_id', '=', o.code)
          .where('pfa_id', '=', generateRecord(o.code, i).pfaId)
          .executeTakeFirstOrThrow();
        expect(row).toEqual({ data: expectedData(o, i), pems_version: `17${i}`, version: 1 });
      }

    const m1 = await modOf(modId(1));
    expect(m1).toMatchObject({
      pfa_id: generateRecord('HOLNG', 1).pfaId,
      user_id: 'jdoe',
      session_id: legacySessionId('jdoe', 'sess-A'),
      sync_state: 'committed',
      delta: { forecastStart: '2026-03-01', forecastEnd: '2026-05-01' },
      modified_fields: ['forecastStart', 'forecastEnd'],
      base_values: {
        forecastStart: generateRecord('HOLNG', 1).data.forecastStart,
        forecastEnd: generateRecord('HOLNG', 1).data.forecastEnd,
      },
      base_version: 1,
      base_pems_version: 'pv-1',
      current_version: 2,
      change_reason: 'reason 1',
      committed_by: 'jdoe',
      created_at: new Date('2025-11-01T10:00:00Z'),
      updated_at: new Date('2025-11-02T10:00:00Z'),
      committed_at: new Date('2025-11-11T10:00:00Z'),
      conflicts: null,
    });
    expect(await modOf(modId(2))).toMatchObject({
      user_id: 'asmith',
      sync_state: 'committed',
      delta: { monthlyRate: 1500 },
      base_pems_version: 'pv-2',
    });
    // Drafts: one session per (user, source session id); the other user's same id is another session.
    const m3 = await modOf(modId(3));
    const m4 = await modOf(modId(4));
    const m5 = await modOf(modId(5));
    expect(m3).toMatchObject({ sync_state: 'draft', committed_at: null, delta: { isDiscontinued: true } });
    expect(m4?.session_id).toBe(m3?.session_id);
    expect(m5).toMatchObject({ user_id: 'asmith', session_id: legacySessionId('asmith', 'sess-A') });
    expect(m5?.session_id).not.toBe(m3?.session_id);
    const m11 = await modOf(modId(11));
    expect(m11?.session_id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    const sessions = await t.db.selectFrom('pfa_session').select(['id', 'owner_user_id']).execute();
    expect(sessions).toContainEqual({ id: m3?.session_id, owner_user_id: 'jdoe' });
    expect(sessions).toContainEqual({ id: m5?.session_id, owner_user_id: 'asmith' });
    // The open conflict: theirs from PEMS's data.
    expect(await modOf(modId(6))).toMatchObject({
      sync_state: 'conflict',
      committed_at: new Date('2025-11-16T10:00:00Z'),
      conflicts: [
        {
          field: 'forecastEnd',
          base: generateRecord('HOLNG', 5).data.forecastEnd,
          theirs: '2026-08-15',
          mine: '2026-09-30',
        },
      ],
    });
    // A resolved conflict leaves the change as it was; a key PEMS owns is dropped from a delta.
    expect(await modOf(modId(10))).toMatchObject({ sync_state: 'committed', delta: { contract: 'C-77' } });
    expect(await modOf(modId(8))).toMatchObject({ delta: { forecastStart: '2026-01-05' } });
    expect(await modOf(modId(7))).toBeUndefined(); // synced: nothing to carry
    const events = await t.db
      .selectFrom('pfa_modification_event')
      .select(['action', 'user_id', 'to_state'])
      .where('action', '=', 'legacy-import')
      .execute();
    expect(events).toHaveLength(9);
  });

  it('is safe to run twice: the same records, versions, history and pending changes', async () => {
    const after = await tableCounts();
    const second = await importLegacy(deps(), { source: { postgres: sourceUrl }, batchSize: 16 });
    expect(await tableCounts()).toEqual(after);
    expect(byOrg(second, 'HOLNG')).toMatchObject({
      inserted: 0,
      updated: 0,
      unchanged: PER_ORG,
      pending: { committed: 0, draft: 0, conflict: 0 },
      pendingAlreadyImported: 7,
    });
    expect(second.changed).toBe(false);
  });

  it('hands the committed changes to write-back with their PEMS recordid, in commit order', async () => {
    const claimed = await new WriteBackRepository(t.db).claim('HOLNG', 10, []);
    expect(claimed.map((c) => [c.pfaId, c.basePemsVersion, c.userId, c.delta])).toEqual([
      [
        generateRecord('HOLNG', 1).pfaId,
        'pv-1',
        'jdoe',
        { forecastStart: '2026-03-01', forecastEnd: '2026-05-01' },
      ],
      [generateRecord('HOLNG', 2).pfaId, 'pv-2', 'asmith', { monthlyRate: 1500 }],
    ]);
  });

  it('maps users by e-mail when asked', async () => {
    const other = await createTestDatabase();
    other.pool.on('error', ignoreDropRace);
    try {
      await importLegacy(
        { db: other.db, pool: other.pool, log: testLog },
        { source: { postgres: sourceUrl }, userKey: 'email' },
      );
      const users = await other.db
        .selectFrom('pfa_modification')
        .select('user_id')
        .distinct()
        .orderBy('user_id')
        .execute();
      expect(users.map((u) => u.user_id)).toEqual(['asmith@example.com', 'jdoe@example.com']);
    } finally {
      await other.drop();
    }
  });
});
