import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import initSqlJs, { type SqlValue } from 'sql.js';
import { generateRecord } from '../src/domain/generator.js';
import { importLegacy, type LegacyImportReport } from '../src/jobs/legacy-import.js';
import { PREDECESSOR_SQLITE_DDL, legacyUuid } from '../src/legacy/predecessor-schema.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import { testLog, ignoreDropRace } from './helpers/jobs.js';

/**
 * The legacy import from the previous application's SQLite development database: its tables
 * `organizations`, `users`, `pfa_records` as its ORM writes them (DATETIME as integer ms,
 * booleans 0/1, REAL money), plus the older flat `PfaRecord` table holding codes. Dry run
 * first (nothing written), then the import compared field by field, then a second run.
 */

const PER_ORG = 300;
const ORGS = [
  { id: legacyUuid(1, 1), code: 'HOLNG', name: 'Holston LNG Terminal' },
  { id: legacyUuid(1, 2), code: 'RIVBR', name: 'Riverside Bridge Replacement' },
];
const GHOST_ORG = '76198c87-0000-4000-a000-000000000099';
const EDGE = 7; // the record of HOLNG whose values are written in the other encodings
const DAY = 86_400_000;
const T0 = Date.UTC(2025, 10, 25, 4, 34, 40, 286); // 1764045280286

let t: TestDatabase;
let dir: string;
let file: string;
let flatFile: string;

/** Money as the ORM stores it (REAL): PEMS's numeric text becomes a number, other text nothing. */
const num = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'string' && /^[0-9.]+$/.test(v) ? Number(v) : null;
const ms = (date: unknown): number | null =>
  typeof date === 'string' ? Date.parse(`${date}T00:00:00Z`) : null;

function recordRow(org: (typeof ORGS)[number], i: number): Record<string, SqlValue> {
  const d = generateRecord(org.code, i).data;
  return {
    id: legacyUuid(2, i + (org.code === 'HOLNG' ? 0 : 100_000)),
    pfaId: d.pfaId as string,
    organizationId: org.id,
    areaSilo: (d.areaSilo as string) ?? null,
    category: (d.category as string) ?? null,
    forecastCategory: `FC-${(d.category as string).slice(0, 3)}`,
    class: (d.class as string) ?? null,
    source: (d.source as string) ?? null,
    dor: (d.dor as string) ?? null,
    isActualized: d.isActualized ? 1 : 0,
    isDiscontinued: d.isDiscontinued ? 1 : 0,
    isFundsTransferable: d.isFundsTransferable ? 1 : 0,
    monthlyRate: num(d.monthlyRate),
    purchasePrice: num(d.purchasePrice),
    manufacturer: (d.manufacturer as string) ?? null,
    model: (d.model as string) ?? null,
    originalStart: ms(d.originalStart),
    originalEnd: ms(d.originalEnd),
    hasPlan: d.hasPlan ? 1 : 0,
    forecastStart: ms(d.forecastStart),
    forecastEnd: ms(d.forecastEnd),
    actualStart: ms(d.actualStart),
    actualEnd: ms(d.actualEnd),
    hasActuals: d.hasActuals ? 1 : 0,
    contract: (d.contract as string) ?? null,
    equipment: (d.equipment as string) ?? null,
    lastModified: T0 - (i % 50) * DAY,
    lastModifiedBy: `user-${i % 3}`,
    createdAt: T0 - 400 * DAY,
    updatedAt: T0,
  };
}

/** What the mirror must hold for a generated row (the keys of pfa_records, normalised). */
function expectedData(org: (typeof ORGS)[number], i: number): Record<string, unknown> {
  const d = generateRecord(org.code, i).data;
  const out: Record<string, unknown> = {};
  for (const k of [
    'pfaId',
    'areaSilo',
    'category',
    'class',
    'source',
    'dor',
    'isActualized',
    'isDiscontinued',
    'isFundsTransferable',
    'monthlyRate',
    'purchasePrice',
    'manufacturer',
    'model',
    'originalStart',
    'originalEnd',
    'hasPlan',
    'forecastStart',
    'forecastEnd',
    'actualStart',
    'actualEnd',
    'hasActuals',
    'contract',
    'equipment',
  ])
    if (d[k] !== null && d[k] !== undefined) out[k] = d[k];
  for (const k of ['monthlyRate', 'purchasePrice']) {
    const n = num(d[k]);
    if (n === null) delete out[k];
    else out[k] = n;
  }
  // Booleans are NOT NULL DEFAULT false in the source: a missing flag arrives as 0.
  for (const k of ['isActualized', 'isDiscontinued', 'isFundsTransferable', 'hasPlan', 'hasActuals'])
    out[k] = d[k] === true;
  out.forecastCategory = `FC-${(d.category as string).slice(0, 3)}`;
  out.lastModified = new Date(T0 - (i % 50) * DAY).toISOString();
  out.lastModifiedBy = `user-${i % 3}`;
  return out;
}

async function createPredecessorFile(target: string): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  for (const ddl of PREDECESSOR_SQLITE_DDL) db.run(ddl);
  for (const o of ORGS)
    db.run('INSERT INTO organizations (id, code, name, updatedAt) VALUES (?, ?, ?, ?)', [
      o.id,
      o.code,
      o.name,
      T0,
    ]);
  db.run('INSERT INTO users (id, username, email, passwordHash, updatedAt) VALUES (?, ?, ?, ?, ?)', [
    legacyUuid(3, 1),
    'jdoe',
    'jdoe@example.com',
    'x',
    T0,
  ]);
  const cols = Object.keys(recordRow(ORGS[0]!, 0));
  const insert = db.prepare(
    `INSERT INTO pfa_records (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
  );
  db.run('BEGIN');
  for (const o of ORGS)
    for (let i = 0; i < PER_ORG; i++) {
      const row = recordRow(o, i);
      if (o.code === 'HOLNG' && i === EDGE) {
        // The other encodings the sources hold: ISO text, YYYY-MM-DD, numeric text, 'true'.
        row.forecastStart = `${generateRecord('HOLNG', EDGE).data.forecastStart as string}T00:00:00.000Z`;
        row.forecastEnd = generateRecord('HOLNG', EDGE).data.forecastEnd as string;
        row.monthlyRate = '1250.50';
        row.isFundsTransferable = 'true';
      }
      insert.run(cols.map((c) => row[c] ?? null));
    }
  // Rows of an organization the source does not have (foreign keys are off by default in SQLite).
  for (let i = 0; i < 3; i++)
    insert.run(cols.map((c) => ({ ...recordRow(ORGS[0]!, 1000 + i), organizationId: GHOST_ORG })[c] ?? null));
  db.run('COMMIT');
  insert.free();
  writeFileSync(target, db.export());
  db.close();
}

/** The older shape: a flat PfaRecord table whose organizationId holds codes. */
async function createFlatFile(target: string): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run(`CREATE TABLE "PfaRecord" ("id" TEXT NOT NULL PRIMARY KEY, "organizationId" TEXT NOT NULL, "pfaId" TEXT NOT NULL,
    "category" TEXT, "source" TEXT, "monthlyRate" REAL, "forecastStart" DATETIME, "forecastEnd" DATETIME,
    "isDiscontinued" BOOLEAN NOT NULL DEFAULT false, "lastModified" DATETIME NOT NULL)`);
  const add = (id: string, org: string, pfaId: string, rate: number | null): void => {
    db.run('INSERT INTO "PfaRecord" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      id,
      org,
      pfaId,
      'Cranes',
      'Rental',
      rate,
      Date.UTC(2026, 0, 5),
      Date.UTC(2026, 2, 1),
      0,
      T0,
    ]);
  };
  add('a1', 'FLAT1', 'F-1', 100);
  add('a2', 'FLAT1', 'F-2', 200);
  add('a3', 'FLAT1', 'F-2', 250); // the same pfaId again: the later row wins
  add('a4', 'not an org!', 'F-3', 1);
  writeFileSync(target, db.export());
  db.close();
}

beforeAll(async () => {
  t = await createTestDatabase();
  t.pool.on('error', ignoreDropRace);
  dir = mkdtempSync(path.join(os.tmpdir(), 'pfa-import-'));
  file = path.join(dir, 'dev.db');
  flatFile = path.join(dir, 'flat.db');
  await createPredecessorFile(file);
  await createFlatFile(flatFile);
});

afterAll(async () => {
  await t?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const byOrg = (r: LegacyImportReport, org: string) => r.organizations.find((o) => o.organizationId === org);
const deps = () => ({ db: t.db, pool: t.pool, log: testLog });

async function tableCounts(): Promise<Record<string, number>> {
  const { rows } = await sql<Record<string, number>>`
    SELECT (SELECT count(*)::int FROM pfa_mirror) AS records, (SELECT coalesce(sum(version), 0)::int FROM pfa_mirror) AS versions,
           (SELECT count(*)::int FROM pfa_mirror_history) AS history, (SELECT count(*)::int FROM organization) AS organizations,
           (SELECT count(*)::int FROM pfa_modification) AS modifications`.execute(t.db);
  return rows[0] as Record<string, number>;
}

describe('legacy import from the predecessor SQLite database', () => {
  let dry: LegacyImportReport;
  let first: LegacyImportReport;
  let before: Record<string, number>;

  it('detects the shape and, dry, counts per organization without writing anything', async () => {
    // Ten of HOLNG's records are already mirrored from PEMS, with PEMS-only keys (wbs, notes…).
    await insertRecords(t.db, 'HOLNG', 10);
    before = await tableCounts();
    dry = await importLegacy(deps(), { source: { sqlite: file }, dryRun: true, batchSize: 64 });
    expect(dry.description).toMatch(
      /SQLite: records in pfa_records \(603 rows\); organizations from `organizations`/,
    );
    expect(byOrg(dry, 'HOLNG')).toMatchObject({
      source: PER_ORG,
      inserted: PER_ORG - 10,
      updated: 10,
      rejected: 0,
    });
    expect(byOrg(dry, 'RIVBR')).toMatchObject({
      source: PER_ORG,
      inserted: PER_ORG,
      updated: 0,
      unchanged: 0,
    });
    expect(dry.unresolved).toEqual([
      {
        value: GHOST_ORG,
        rows: 3,
        firstIds: [0, 1, 2].map((i) => legacyUuid(2, 1000 + i)),
        reason: expect.stringMatching(/is not in organizations/),
      },
    ]);
    expect(await tableCounts()).toEqual(before);
  });

  it('imports organizations (code and name) and every record, values normalised, compared field by field', async () => {
    first = await importLegacy(deps(), { source: { sqlite: file }, batchSize: 64 });
    for (const org of ['HOLNG', 'RIVBR'])
      expect(byOrg(first, org)).toMatchObject({
        inserted: byOrg(dry, org)?.inserted,
        updated: byOrg(dry, org)?.updated,
        unchanged: byOrg(dry, org)?.unchanged,
        target: PER_ORG,
      });
    const orgs = await t.db.selectFrom('organization').select(['id', 'name']).orderBy('id').execute();
    expect(orgs).toEqual(ORGS.map((o) => ({ id: o.code, name: o.name })));

    for (const o of ORGS) {
      const rows = await t.db
        .selectFrom('pfa_mirror')
        .select(['pfa_id', 'data', 'version', 'pems_version'])
        .where('organization_id', '=', o.code)
        .orderBy('pfa_id')
        .execute();
      expect(rows).toHaveLength(PER_ORG);
      for (let i = 0; i < PER_ORG; i++) {
        const row = rows.find((r) => r.pfa_id === generateRecord(o.code, i).pfaId);
        const expected = expectedData(o, i);
        if (o.code === 'HOLNG' && i === EDGE) expected.monthlyRate = 1250.5;
        if (o.code === 'HOLNG' && i === EDGE) expected.isFundsTransferable = true;
        if (o.code === 'HOLNG' && i < 10) {
          // Overlaid on PEMS's record: its own keys survive, the legacy fields win.
          expect(row?.data).toEqual({ ...generateRecord(o.code, i).data, ...expected });
          expect(row?.version).toBe(2);
        } else {
          expect(row?.data).toEqual(expected);
          expect(row?.version).toBe(1);
        }
      }
    }
    const edge = await t.db
      .selectFrom('pfa_mirror')
      .select(['forecast_start', 'forecast_end', 'monthly_rate', 'is_funds_transferable'])
      .where('organization_id', '=', 'HOLNG')
      .where('pfa_id', '=', generateRecord('HOLNG', EDGE).pfaId)
      .executeTakeFirstOrThrow();
    expect(edge).toEqual({
      forecast_start: generateRecord('HOLNG', EDGE).data.forecastStart,
      forecast_end: generateRecord('HOLNG', EDGE).data.forecastEnd,
      monthly_rate: '1250.5',
      is_funds_transferable: true,
    });
  });

  it('is safe to run twice: the same counts of records, versions and history', async () => {
    const after = await tableCounts();
    const second = await importLegacy(deps(), { source: { sqlite: file }, batchSize: 64 });
    for (const org of ['HOLNG', 'RIVBR'])
      expect(byOrg(second, org)).toMatchObject({
        inserted: 0,
        updated: 0,
        unchanged: PER_ORG,
        target: PER_ORG,
      });
    expect(await tableCounts()).toEqual(after);
    expect(second.changed).toBe(false);
  });

  it('reads the older flat PfaRecord table whose organizationId holds codes', async () => {
    const report = await importLegacy(deps(), { source: { sqlite: flatFile } });
    expect(report.description).toMatch(/records in PfaRecord .*no `organizations` table/);
    expect(byOrg(report, 'FLAT1')).toMatchObject({ source: 3, inserted: 2, duplicates: 1, target: 2 });
    expect(report.unresolved).toEqual([
      {
        value: 'not an org!',
        rows: 1,
        firstIds: ['a4'],
        reason: expect.stringMatching(/not an organization code/),
      },
    ]);
    const f2 = await t.db
      .selectFrom('pfa_mirror')
      .select('data')
      .where('organization_id', '=', 'FLAT1')
      .where('pfa_id', '=', 'F-2')
      .executeTakeFirstOrThrow();
    expect(f2.data).toEqual({
      pfaId: 'F-2',
      category: 'Cranes',
      source: 'Rental',
      monthlyRate: 250,
      forecastStart: '2026-01-05',
      forecastEnd: '2026-03-01',
      isDiscontinued: false,
      lastModified: new Date(T0).toISOString(),
    });
  });

  it('names a file that is not a SQLite database', async () => {
    const bad = path.join(dir, 'not.db');
    writeFileSync(bad, 'hello, this is text');
    await expect(importLegacy(deps(), { source: { sqlite: bad } })).rejects.toThrow(/not a SQLite database/);
  });
});
