import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { generateRecord } from '../src/domain/generator.js';
import { importLegacySqlite, legacyDate, type ImportReport } from '../src/jobs/legacy-import.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';
import { testLog, ignoreDropRace } from './helpers/jobs.js';

/**
 * The legacy import on a generated SQLite file shaped like the previous system's Prisma table:
 * counts per organization, values normalised, quarantined rows, and a second run changing nothing.
 */

const PER_ORG = 600;
const [ORG1, ORG2] = ['HOLNG', 'RIVBR'];
let t: TestDatabase;
let dir: string;
let file: string;

const DAY = 86_400_000;
const ms = (date: unknown): number | null =>
  typeof date === 'string' ? Date.parse(`${date}T00:00:00Z`) : null;

function createLegacyFile(target: string): void {
  const db = new Database(target);
  db.exec(`CREATE TABLE "PfaRecord" (
    "id" TEXT NOT NULL PRIMARY KEY, "organizationId" TEXT NOT NULL, "pfaId" TEXT NOT NULL,
    "areaSilo" TEXT, "category" TEXT, "class" TEXT, "source" TEXT, "dor" TEXT,
    "isActualized" BOOLEAN NOT NULL DEFAULT false, "isDiscontinued" BOOLEAN NOT NULL DEFAULT false,
    "isFundsTransferable" BOOLEAN NOT NULL DEFAULT false, "monthlyRate" REAL, "purchasePrice" REAL,
    "manufacturer" TEXT, "model" TEXT, "originalStart" DATETIME, "originalEnd" DATETIME, "forecastStart" DATETIME,
    "forecastEnd" DATETIME, "actualStart" DATETIME, "actualEnd" DATETIME, "hasActuals" BOOLEAN NOT NULL DEFAULT false,
    "hasPlan" BOOLEAN NOT NULL DEFAULT false, "contract" TEXT, "equipment" TEXT, "lastModified" DATETIME NOT NULL)`);
  const insert =
    db.prepare(`INSERT INTO "PfaRecord" VALUES (@id, @organizationId, @pfaId, @areaSilo, @category, @class, @source, @dor,
    @isActualized, @isDiscontinued, @isFundsTransferable, @monthlyRate, @purchasePrice, @manufacturer, @model,
    @originalStart, @originalEnd, @forecastStart, @forecastEnd, @actualStart, @actualEnd, @hasActuals, @hasPlan,
    @contract, @equipment, @lastModified)`);
  const row = (org: string, i: number, dates: 'ms' | 'iso', overrides: Record<string, unknown> = {}) => {
    const d = generateRecord(org, i).data;
    const date = (v: unknown) =>
      dates === 'ms' ? ms(v) : typeof v === 'string' ? `${v}T00:00:00.000Z` : null;
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    return {
      id: `legacy-${org}-${i}`,
      organizationId: org,
      pfaId: d.pfaId,
      areaSilo: d.areaSilo ?? null,
      category: d.category ?? null,
      class: d.class ?? null,
      source: d.source ?? null,
      dor: d.dor ?? null,
      isActualized: d.isActualized ? 1 : 0,
      isDiscontinued: d.isDiscontinued ? 1 : 0,
      isFundsTransferable: d.isFundsTransferable ? 1 : 0,
      monthlyRate: num(d.monthlyRate),
      purchasePrice: num(d.purchasePrice),
      manufacturer: d.manufacturer ?? null,
      model: d.model ?? null,
      originalStart: date(d.originalStart),
      originalEnd: date(d.originalEnd),
      forecastStart: date(d.forecastStart),
      forecastEnd: date(d.forecastEnd),
      actualStart: date(d.actualStart),
      actualEnd: date(d.actualEnd),
      hasActuals: d.hasActuals ? 1 : 0,
      hasPlan: d.hasPlan ? 1 : 0,
      contract: d.contract ?? null,
      equipment: d.equipment ?? null,
      lastModified: Date.now() - (i % 50) * DAY,
      ...overrides,
    };
  };
  db.transaction(() => {
    for (let i = 0; i < PER_ORG; i++) insert.run(row(ORG1, i, 'ms'));
    for (let i = 0; i < PER_ORG; i++) insert.run(row(ORG2, i, 'iso'));
    insert.run(row(ORG1, 5, 'ms', { id: 'legacy-dup', monthlyRate: 1234.5 })); // the same pfaId again: the later row wins
    insert.run(row(ORG2, PER_ORG, 'iso', { id: 'legacy-nopfa', pfaId: '' }));
    insert.run(row(ORG2, PER_ORG + 1, 'iso', { id: 'legacy-badorg', organizationId: 'not an org!' }));
  })();
  db.close();
}

beforeAll(async () => {
  t = await createTestDatabase();
  t.pool.on('error', ignoreDropRace);
  dir = mkdtempSync(path.join(os.tmpdir(), 'pfa-import-'));
  file = path.join(dir, 'dev.db');
  createLegacyFile(file);
  // Ten of ORG1's records are already mirrored from PEMS, with PEMS-only keys (wbs, notes…).
  await insertRecords(t.db, ORG1, 10);
});

afterAll(async () => {
  await t?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const byOrg = (r: ImportReport, org: string) => r.organizations.find((o) => o.organizationId === org);

describe('legacy SQLite import', () => {
  let first: ImportReport;

  it('imports every organization through the staging path, reporting source and target counts', async () => {
    first = await importLegacySqlite({ db: t.db, pool: t.pool, log: testLog }, { file, batchSize: 250 });
    expect(byOrg(first, ORG1)).toMatchObject({
      source: PER_ORG + 1,
      target: PER_ORG,
      inserted: PER_ORG - 10,
      rejected: 0,
      duplicates: 1,
    });
    expect(byOrg(first, ORG2)).toMatchObject({
      source: PER_ORG + 1,
      target: PER_ORG,
      inserted: PER_ORG,
      rejected: 1,
    });
    expect(first.unassigned).toBe(1);
    expect(first.errors.map((e) => e.reason).sort()).toEqual([
      expect.stringMatching(/not an organization code/),
      expect.stringMatching(/no PFA_ID/),
    ]);
    expect(first.changed).toBe(true);
    const runs = await t.db
      .selectFrom('pfa_sync_log')
      .selectAll()
      .where('mode', '=', 'import')
      .orderBy('id')
      .execute();
    expect(runs.map((r) => [r.organization_id, r.status, r.inserted])).toEqual([
      [ORG1, 'succeeded', PER_ORG - 10],
      [ORG2, 'partial', PER_ORG],
    ]);
  });

  it('normalises legacy values to record keys (dates, booleans, numbers)', async () => {
    for (const [org, i] of [
      [ORG1, 42],
      [ORG2, 42],
    ] as const) {
      const g = generateRecord(org, i).data;
      const row = await t.db
        .selectFrom('pfa_mirror')
        .select(['data', 'forecast_start', 'forecast_end', 'is_actualized', 'version', 'pems_version'])
        .where('organization_id', '=', org)
        .where('pfa_id', '=', g.pfaId as string)
        .executeTakeFirstOrThrow();
      expect(row.data.forecastStart).toBe(g.forecastStart ?? null);
      expect(row.forecast_start).toBe(g.forecastStart ?? null);
      expect(row.forecast_end).toBe(g.forecastEnd ?? null);
      expect(row.data.isActualized).toBe(g.isActualized === true);
      expect(row.data.category).toBe(g.category);
      expect(row.data).not.toHaveProperty('lastModified');
      expect(row.version).toBe(1);
      expect(row.pems_version).toBeNull();
    }
    // The later duplicate row won.
    const dup = await t.db
      .selectFrom('pfa_mirror')
      .select('data')
      .where('organization_id', '=', ORG1)
      .where('pfa_id', '=', generateRecord(ORG1, 5).pfaId)
      .executeTakeFirstOrThrow();
    expect(dup.data.monthlyRate).toBe(1234.5);
    expect(dup.data.wbs).toBe(generateRecord(ORG1, 5).data.wbs); // PEMS-only keys survive the overlay
  });

  it('is safe to run twice: the same counts, nothing written', async () => {
    const { rows: before } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pfa_mirror_history`.execute(t.db);
    const second = await importLegacySqlite(
      { db: t.db, pool: t.pool, log: testLog },
      { file, batchSize: 250 },
    );
    for (const org of [ORG1, ORG2]) {
      expect(byOrg(second, org)).toMatchObject({
        source: byOrg(first, org)?.source,
        target: byOrg(first, org)?.target,
        inserted: 0,
        updated: 0,
        unchanged: PER_ORG,
      });
    }
    expect(second.changed).toBe(false);
    const { rows: after } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pfa_mirror_history`.execute(t.db);
    expect(after[0]?.n).toBe(before[0]?.n);
  });

  it('reads Prisma DateTime as epoch ms, ISO text or SQLite text', () => {
    expect(legacyDate(Date.UTC(2024, 1, 29))).toBe('2024-02-29');
    expect(legacyDate(Date.UTC(2024, 1, 29) / 1000)).toBe('2024-02-29');
    expect(legacyDate('2024-02-29T23:30:00.000Z')).toBe('2024-02-29');
    expect(legacyDate('2024-02-29 23:30:00')).toBe('2024-02-29');
    expect(legacyDate('2024-03-01T01:00:00+02:00')).toBe('2024-02-29');
    expect(legacyDate('soon')).toBe('soon');
    expect(legacyDate(null)).toBeNull();
  });
});
