import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { recordCosts } from '../src/domain/costs.js';
import { RECORD_FIELDS, type FieldType } from '../src/domain/record-fields.js';
import { readBool, readDate, readMoney, readText } from '../src/domain/values.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * The SQL parse functions (pfa_text, pfa_money, pfa_bool, pfa_date, pfa_cost) and their
 * TypeScript twins (src/domain/values.ts, src/domain/costs.ts) must agree exactly on every input:
 * the generated columns filter and sort, the domain code computes what a client is shown.
 */

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
});

afterAll(async () => {
  await t.drop();
});

/** What one reader yields for one input; `undefined` in a case means "not pinned, only compared". */
interface Parsed {
  text: string | null;
  money: number | null;
  bool: boolean | null;
  date: string | null;
}

interface Case extends Partial<Parsed> {
  /** The JSON value, as PEMS would send it (exact text: 1250.50 stays 1250.50 in jsonb). */
  json: string;
}

const N = null;

const CASES: readonly Case[] = [
  // --- numbers and money
  { json: '1250.5', text: N, money: 1250.5, bool: N, date: N },
  // A JSON number written with a trailing zero: jsonb keeps "1250.50", JSON.parse cannot.
  { json: '1250.50', money: 1250.5, bool: N, date: N },
  { json: '"1250.50"', text: '1250.50', money: 1250.5, bool: N, date: N },
  { json: '".5"', text: '.5', money: 0.5 },
  { json: '"5."', text: '5.', money: 5 },
  { json: '"0005"', money: 5 },
  { json: '"TBA"', text: 'TBA', money: N, bool: N, date: N },
  { json: '"1,250.00"', text: '1,250.00', money: N },
  { json: '"-5"', text: '-5', money: N },
  { json: '-5', text: N, money: N },
  { json: '-0.01', money: N },
  { json: '0', text: N, money: 0, bool: N },
  { json: '-0', money: 0 },
  { json: '1e3', text: N, money: 1000, date: N },
  { json: '1.5e2', text: N, money: 150 },
  { json: '"1e3"', money: N },
  { json: '"+5"', money: N },
  { json: '" 5"', money: N },
  { json: '"5 "', money: N },
  { json: '"5.5.5"', money: N },
  { json: '"."', money: N },
  { json: '""', text: '', money: N, bool: N, date: N },
  { json: '"NaN"', money: N },
  { json: '"Infinity"', money: N },
  { json: '123456789012345678901234567890', money: 1.2345678901234568e29 },
  { json: '0.1', money: 0.1 },
  // --- null, booleans, containers
  { json: 'null', text: N, money: N, bool: N, date: N },
  { json: 'true', text: N, money: N, bool: true, date: N },
  { json: 'false', text: N, money: N, bool: false },
  { json: '{}', text: N, money: N, bool: N, date: N },
  { json: '{"value": 5}', text: N, money: N, bool: N, date: N },
  { json: '[]', text: N, money: N, bool: N, date: N },
  { json: '[5]', text: N, money: N, bool: N, date: N },
  { json: '["2025-03-01"]', date: N },
  { json: '"TRUE"', text: 'TRUE', bool: true },
  { json: '"True"', bool: true },
  { json: '"false"', bool: false },
  { json: '"FALSE"', bool: false },
  { json: '"yes"', bool: N },
  { json: '"t"', bool: N },
  { json: '1', text: N, money: 1, bool: N },
  // --- dates
  { json: '"2025-02-28"', text: '2025-02-28', money: N, bool: N, date: '2025-02-28' },
  { json: '"2025-02-29"', date: N },
  { json: '"2024-02-29"', date: '2024-02-29' },
  { json: '"2000-02-29"', date: '2000-02-29' },
  { json: '"1900-02-29"', date: N },
  { json: '"31/02/2025"', date: N },
  { json: '"2025-02-31"', date: N },
  { json: '"2025-04-31"', date: N },
  { json: '"2025-03-01T23:30:00-05:00"', date: '2025-03-02' },
  { json: '"2025-03-01T02:00:00+05:00"', date: '2025-02-28' },
  { json: '"2025-03-01T10:00:00Z"', date: '2025-03-01' },
  { json: '"2025-03-01T10:00:00.123Z"', date: '2025-03-01' },
  { json: '"2025-03-01T10:00"', date: '2025-03-01' },
  { json: '"2025-03-01T10:00:00+0530"', date: '2025-03-01' },
  { json: '"2024-12-31T23:59:59-00:01"', date: '2025-01-01' },
  { json: '"2024-02-28T22:00:00-03:00"', date: '2024-02-29' },
  { json: '"0000-01-01"', date: N },
  { json: '"0001-01-01"', date: '0001-01-01' },
  { json: '"2025-13-01"', date: N },
  { json: '"2025-00-10"', date: N },
  { json: '"2025-03-00"', date: N },
  { json: '"2025-3-1"', date: N },
  { json: '" 2025-03-01"', date: N },
  { json: '"2025-03-01 "', date: N },
  { json: '"2025-03-01 10:00:00"', date: N },
  { json: '"2025-03-01T10:60:00Z"', date: N },
  { json: '"2025-03-01T10:00:60Z"', date: N },
  { json: '"2025-03-01T10:00:00+24:00"', date: N },
  { json: '"2025-03-01T"', date: N },
  { json: '"garbage"', date: N },
  { json: '"2025-03-01T24:00:00Z"', date: N },
  { json: '20250301', date: N },
  { json: '1740787200000', date: N },
  // Years below 100 whose UTC instant falls into the neighbouring year.
  { json: '"0050-01-01T02:00:00+05:00"', date: '0049-12-31' },
  { json: '"0099-12-31T23:00:00-05:00"', date: '0100-01-01' },
];

function tsParse(json: string): Parsed {
  const v: unknown = JSON.parse(json);
  return { text: readText(v), money: readMoney(v), bool: readBool(v), date: readDate(v) };
}

const sqlResults = new Map<string, Parsed>();

/** Numeric equality that treats -0 as 0 and null as null. */
function sameMoney(a: number | null, b: number | null): boolean {
  return a === null || b === null ? a === b : a === b || Math.abs(a - b) === 0;
}

describe('parse functions: SQL and TypeScript agree', () => {
  beforeAll(async () => {
    const inputs = CASES.map((c) => c.json);
    const { rows } = await sql<{
      ord: string;
      text: string | null;
      money: string | null;
      bool: boolean | null;
      date: string | null;
    }>`
      SELECT u.ord, pfa_text(u.v) AS text, pfa_money(u.v)::text AS money, pfa_bool(u.v) AS bool, pfa_date(u.v)::text AS date
      FROM unnest(${inputs}::jsonb[]) WITH ORDINALITY AS u(v, ord)
      ORDER BY u.ord`.execute(t.db);
    expect(rows).toHaveLength(CASES.length);
    for (const r of rows) {
      const c = CASES[Number(r.ord) - 1] as Case;
      sqlResults.set(c.json, {
        text: r.text,
        money: r.money === null ? null : Number(r.money),
        bool: r.bool,
        date: r.date,
      });
    }
  });

  it('every case is distinct (the table has no duplicate inputs)', () => {
    expect(new Set(CASES.map((c) => c.json)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.json, c] as const))('%s', (_json, c) => {
    const fromSql = sqlResults.get(c.json) as Parsed;
    const fromTs = tsParse(c.json);
    expect(fromSql).toBeDefined();
    // Agreement on every reader.
    expect({ text: fromSql.text, bool: fromSql.bool, date: fromSql.date }).toEqual({
      text: fromTs.text,
      bool: fromTs.bool,
      date: fromTs.date,
    });
    expect(sameMoney(fromSql.money, fromTs.money)).toBe(true);
    // Pinned expectations.
    for (const key of ['text', 'bool', 'date'] as const) {
      if (c[key] !== undefined) {
        expect({ [key]: fromSql[key] }).toEqual({ [key]: c[key] });
        expect({ [key]: fromTs[key] }).toEqual({ [key]: c[key] });
      }
    }
    if (c.money !== undefined) {
      expect(sameMoney(fromSql.money, c.money ?? null)).toBe(true);
      expect(sameMoney(fromTs.money, c.money ?? null)).toBe(true);
    }
  });

  it('pfa_parse_date is strict: NULL in, NULL out', async () => {
    const { rows } = await sql<{ d: string | null }>`SELECT pfa_parse_date(NULL)::text AS d`.execute(t.db);
    expect(rows).toEqual([{ d: null }]);
  });
});

// ---------------------------------------------------------------------------------- inserts

const ORG = 'PARSE';

describe('pfa_mirror generated columns on INSERT', () => {
  beforeAll(async () => {
    await sql`INSERT INTO organization (id, name) VALUES (${ORG}, 'parse tests'), ('PARSE2', 'other')`.execute(
      t.db,
    );
  });

  it('a bad monthlyRate and an impossible forecastStart insert fine and read as NULL', async () => {
    const data = {
      pfaId: 'BAD-1',
      category: 'Cranes',
      source: 'Rental',
      monthlyRate: 'abc',
      forecastStart: '31/02/2025',
      forecastEnd: '2025-06-30',
    };
    const { rows } = await sql<{
      monthly_rate: string | null;
      forecast_start: string | null;
      forecast_end: string | null;
      category: string | null;
    }>`
      INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES (${ORG}, 'BAD-1', ${JSON.stringify(data)}::jsonb)
      RETURNING monthly_rate, forecast_start::text, forecast_end::text, category`.execute(t.db);
    expect(rows).toEqual([
      { monthly_rate: null, forecast_start: null, forecast_end: '2025-06-30', category: 'Cranes' },
    ]);
  });

  it('INSERT (organization_id, pfa_id, data) alone creates a complete record', async () => {
    const data = {
      pfaId: 'MIN-1',
      category: 'Pumps',
      class: 'Dewatering Pump',
      source: 'Rental',
      dor: 'BEO',
      areaSilo: 'North',
      manufacturer: 'Godwin',
      model: 'CD150M',
      contract: 'RA-2025-00001',
      equipment: 'PMP-0001',
      monthlyRate: '1250.50',
      purchasePrice: 0,
      originalStart: '2025-01-01',
      originalEnd: '2025-03-02',
      forecastStart: '2025-01-15T23:30:00-05:00',
      forecastEnd: '2025-04-01',
      actualStart: null,
      actualEnd: null,
      isActualized: false,
      hasActuals: 'FALSE',
      hasPlan: true,
      isFundsTransferable: 'true',
    };
    const before = await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(t.db);
    await sql`INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES (${ORG}, 'MIN-1', ${JSON.stringify(data)}::jsonb)`.execute(
      t.db,
    );
    const { rows } = await sql<Record<string, unknown>>`
      SELECT id::text, version, pems_version, last_synced_at, sync_batch_id, category, class, source, dor, area_silo,
             manufacturer, model, contract, equipment, monthly_rate::text, purchase_price::text,
             original_start::text, original_end::text, forecast_start::text, forecast_end::text,
             actual_start::text, actual_end::text, is_actualized, has_actuals, has_plan, is_discontinued,
             is_funds_transferable, search_text
      FROM pfa_mirror WHERE organization_id = ${ORG} AND pfa_id = 'MIN-1'`.execute(t.db);
    expect(rows).toHaveLength(1);
    const row = rows[0] as Record<string, unknown>;
    expect(row.id).toMatch(/^[0-9]+$/);
    expect(row.last_synced_at).toBeInstanceOf(Date);
    expect((row.last_synced_at as Date).getTime()).toBeGreaterThanOrEqual(
      (before.rows[0] as { now: Date }).now.getTime() - 1000,
    );
    const { id: _id, last_synced_at: _ls, ...rest } = row;
    expect(rest).toEqual({
      version: 1,
      pems_version: null,
      sync_batch_id: null,
      category: 'Pumps',
      class: 'Dewatering Pump',
      source: 'Rental',
      dor: 'BEO',
      area_silo: 'North',
      manufacturer: 'Godwin',
      model: 'CD150M',
      contract: 'RA-2025-00001',
      equipment: 'PMP-0001',
      monthly_rate: '1250.50',
      purchase_price: '0',
      original_start: '2025-01-01',
      original_end: '2025-03-02',
      forecast_start: '2025-01-16',
      forecast_end: '2025-04-01',
      actual_start: null,
      actual_end: null,
      is_actualized: false,
      has_actuals: false,
      has_plan: true,
      is_discontinued: null,
      is_funds_transferable: true,
      search_text: 'min-1\npumps\ndewatering pump\ngodwin\ncd150m\npmp-0001\nra-2025-00001',
    });
  });

  it('an INSERT that names version gets version 1 anyway', async () => {
    const { rows } = await sql<{ version: number }>`
      INSERT INTO pfa_mirror (organization_id, pfa_id, data, version) VALUES (${ORG}, 'VER-7', '{}'::jsonb, 7) RETURNING version`.execute(
      t.db,
    );
    expect(rows).toEqual([{ version: 1 }]);
  });

  it('rejects data.pfaId different from pfa_id, accepts it equal or absent', async () => {
    await expect(
      sql`INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES (${ORG}, 'ID-A', '{"pfaId": "ID-B"}'::jsonb)`.execute(
        t.db,
      ),
    ).rejects.toMatchObject({ code: '23514', constraint: 'pfa_mirror_pfa_id_matches_data' });
    await sql`INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES (${ORG}, 'ID-C', '{"pfaId": "ID-C"}'::jsonb)`.execute(
      t.db,
    );
    await sql`INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES (${ORG}, 'ID-D', '{"category": "x"}'::jsonb)`.execute(
      t.db,
    );
    // An UPDATE cannot make them differ either.
    await expect(
      sql`UPDATE pfa_mirror SET data = data || '{"pfaId": "ID-Z"}' WHERE organization_id = ${ORG} AND pfa_id = 'ID-C'`.execute(
        t.db,
      ),
    ).rejects.toMatchObject({ code: '23514' });
    const { rows } = await sql<{ pfa_id: string }>`
      SELECT pfa_id FROM pfa_mirror WHERE organization_id = ${ORG} AND pfa_id LIKE 'ID-%' ORDER BY pfa_id`.execute(
      t.db,
    );
    expect(rows.map((r) => r.pfa_id)).toEqual(['ID-C', 'ID-D']);
  });

  it('a 1,000-row INSERT with one garbage value per row succeeds and parses like the TS readers', async () => {
    const garbage: readonly unknown[] = [
      'TBA',
      '1,250.00',
      '-5',
      -5,
      '31/02/2025',
      '2025-02-29',
      '2025-03-01T24:00:00Z',
      '0000-01-01',
      { nested: true },
      [1, 2],
      20250301,
      'yes',
      1,
      '',
      '2025-13-01',
      'garbage',
      null,
      true,
    ];
    const base = {
      category: 'Cranes',
      class: 'Crawler Crane',
      source: 'Rental',
      dor: 'BEO',
      monthlyRate: 1000,
    };
    const records = Array.from({ length: 1000 }, (_, i) => {
      const field = RECORD_FIELDS[i % RECORD_FIELDS.length] as (typeof RECORD_FIELDS)[number];
      const data: Record<string, unknown> = {
        ...base,
        originalStart: '2025-01-01',
        originalEnd: '2025-02-01',
        forecastStart: '2025-01-01',
        forecastEnd: '2025-03-01',
        isActualized: false,
        isDiscontinued: false,
        [field.key]: garbage[i % garbage.length],
      };
      return { pfaId: `G-${String(i).padStart(4, '0')}`, data };
    });
    const payload = JSON.stringify(records.map((r) => ({ pfa_id: r.pfaId, data: r.data })));
    const inserted = await sql<{ n: string }>`
      WITH ins AS (
        INSERT INTO pfa_mirror (organization_id, pfa_id, data)
        SELECT ${'PARSE2'}, x.pfa_id, x.data FROM jsonb_to_recordset(${payload}::jsonb) AS x(pfa_id text, data jsonb)
        RETURNING 1)
      SELECT count(*)::text AS n FROM ins`.execute(t.db);
    expect(inserted.rows).toEqual([{ n: '1000' }]);

    const columns = RECORD_FIELDS.map((f) => sql.ref(f.column));
    const { rows } = await sql<Record<string, unknown>>`
      SELECT pfa_id, ${sql.join(columns)} FROM pfa_mirror WHERE organization_id = 'PARSE2' ORDER BY pfa_id`.execute(
      t.db,
    );
    expect(rows).toHaveLength(1000);
    const readers: Record<FieldType, (v: unknown) => unknown> = {
      text: readText,
      money: readMoney,
      date: readDate,
      boolean: readBool,
    };
    const mismatches: string[] = [];
    rows.forEach((row, i) => {
      const rec = records[i] as (typeof records)[number];
      expect(row.pfa_id).toBe(rec.pfaId);
      for (const f of RECORD_FIELDS) {
        const expected = readers[f.type](rec.data[f.key]);
        const raw = row[f.column];
        const actual = f.type === 'money' && raw !== null ? Number(raw) : raw;
        if (actual !== expected) {
          mismatches.push(
            `${rec.pfaId}.${f.key}=${JSON.stringify(rec.data[f.key])}: sql ${JSON.stringify(actual)} ts ${JSON.stringify(expected)}`,
          );
        }
      }
    });
    expect(mismatches).toEqual([]);
    // The garbage really was garbage for the typed columns: e.g. row 9 (monthlyRate = [1, 2]) has no rate.
    expect(rows[9]?.monthly_rate).toBeNull();
  });
});

// ---------------------------------------------------------------------------------- pfa_cost

describe('pfa_cost agrees with recordCosts', () => {
  const COST_ORG = 'COSTS';
  const extra: { pfaId: string; data: Record<string, unknown> }[] = [
    // Rate as a numeric string, as a bad string, negative, missing.
    {
      pfaId: 'X-RATE-STR',
      data: {
        source: 'Rental',
        monthlyRate: '3044.00',
        forecastStart: '2025-01-01',
        forecastEnd: '2025-01-31',
        originalStart: '2025-01-01',
        originalEnd: '2025-03-02',
      },
    },
    {
      pfaId: 'X-RATE-TBA',
      data: { source: 'Rental', monthlyRate: 'TBA', forecastStart: '2025-01-01', forecastEnd: '2025-01-31' },
    },
    {
      pfaId: 'X-RATE-NEG',
      data: { source: 'Rental', monthlyRate: -100, forecastStart: '2025-01-01', forecastEnd: '2025-01-31' },
    },
    {
      pfaId: 'X-RATE-NONE',
      data: { source: 'Rental', forecastStart: '2025-01-01', forecastEnd: '2025-01-31' },
    },
    // End before start: 0 days.
    {
      pfaId: 'X-BACKWARDS',
      data: { source: 'Rental', monthlyRate: 1000, forecastStart: '2025-03-01', forecastEnd: '2025-01-01' },
    },
    // Purchase: price regardless of dates; missing price is 0; string price.
    { pfaId: 'X-PURCHASE', data: { source: 'Purchase', purchasePrice: 12345.67, monthlyRate: 999 } },
    {
      pfaId: 'X-PURCHASE-STR',
      data: {
        source: 'Purchase',
        purchasePrice: '500.25',
        originalStart: '2025-01-01',
        originalEnd: '2026-01-01',
      },
    },
    {
      pfaId: 'X-PURCHASE-NONE',
      data: { source: 'Purchase', monthlyRate: 999, forecastStart: '2025-01-01', forecastEnd: '2025-12-31' },
    },
    // Source other than Rental/Purchase counts as rental; lower-case "purchase" is not Purchase.
    {
      pfaId: 'X-LOWER-PURCHASE',
      data: {
        source: 'purchase',
        purchasePrice: 100,
        monthlyRate: 30.44,
        forecastStart: '2025-01-01',
        forecastEnd: '2025-01-11',
      },
    },
    {
      pfaId: 'X-NO-SOURCE',
      data: { monthlyRate: 30.44, forecastStart: '2025-01-01', forecastEnd: '2025-01-11' },
    },
    // Actuals only when actualized; actualized as a string.
    {
      pfaId: 'X-ACT-STR',
      data: {
        source: 'Rental',
        monthlyRate: 30.44,
        isActualized: 'TRUE',
        actualStart: '2025-01-01T23:30:00-05:00',
        actualEnd: '2025-01-11',
      },
    },
    {
      pfaId: 'X-ACT-FALSE',
      data: {
        source: 'Rental',
        monthlyRate: 30.44,
        isActualized: false,
        actualStart: '2025-01-01',
        actualEnd: '2025-01-11',
      },
    },
    {
      pfaId: 'X-ACT-MISSING-DATE',
      data: { source: 'Rental', monthlyRate: 30.44, isActualized: true, actualStart: '2025-01-01' },
    },
  ];

  interface CostRow {
    pfa_id: string;
    data: Record<string, unknown>;
    plan: string;
    forecast: string;
    actual: string;
  }
  let rows: CostRow[] = [];

  beforeAll(async () => {
    await insertRecords(t.db, COST_ORG, 2000, extra);
    rows = (
      await sql<CostRow>`
        SELECT pfa_id, data,
               pfa_cost(source, original_start, original_end, monthly_rate, purchase_price)::text AS plan,
               pfa_cost(source, forecast_start, forecast_end, monthly_rate, purchase_price)::text AS forecast,
               (CASE WHEN is_actualized THEN pfa_cost(source, actual_start, actual_end, monthly_rate, purchase_price) ELSE 0 END)::text AS actual
        FROM pfa_mirror WHERE organization_id = ${COST_ORG} ORDER BY pfa_id`.execute(t.db)
    ).rows;
  });

  const close = (a: number, b: number): boolean =>
    Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)) || Math.abs(a - b) < 1e-9;

  it('covers the generated and the tricky records', () => {
    expect(rows).toHaveLength(2000 + extra.length);
    // The generator's shares the comparison relies on: string rates, purchases, actualized records.
    expect(rows.filter((r) => typeof r.data.monthlyRate === 'string').length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.data.source === 'Purchase').length).toBeGreaterThan(100);
    expect(rows.filter((r) => r.data.isActualized === true).length).toBeGreaterThan(100);
  });

  it('plan, forecast and actual match to 1e-6 relative for every record', () => {
    const mismatches: string[] = [];
    for (const r of rows) {
      const c = recordCosts(r.data);
      const pairs: [string, number, number][] = [
        ['plan', Number(r.plan), c.planCost],
        ['forecast', Number(r.forecast), c.forecastCost],
        ['actual', Number(r.actual), c.actualCost],
      ];
      for (const [name, s, ts] of pairs)
        if (!close(s, ts)) mismatches.push(`${r.pfa_id} ${name}: sql ${s} ts ${ts}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('gives the exact values of the rule for the tricky records', () => {
    const byId = new Map(rows.map((r) => [r.pfa_id, r]));
    const get = (id: string) => {
      const r = byId.get(id) as CostRow;
      return { plan: Number(r.plan), forecast: Number(r.forecast), actual: Number(r.actual) };
    };
    expect(get('X-RATE-STR').forecast).toBeCloseTo((30 / 30.44) * 3044, 9);
    expect(get('X-RATE-STR').plan).toBeCloseTo((60 / 30.44) * 3044, 9);
    expect(get('X-RATE-TBA')).toEqual({ plan: 0, forecast: 0, actual: 0 });
    expect(get('X-RATE-NEG')).toEqual({ plan: 0, forecast: 0, actual: 0 });
    expect(get('X-RATE-NONE')).toEqual({ plan: 0, forecast: 0, actual: 0 });
    expect(get('X-BACKWARDS')).toEqual({ plan: 0, forecast: 0, actual: 0 });
    expect(get('X-PURCHASE')).toEqual({ plan: 12345.67, forecast: 12345.67, actual: 0 });
    expect(get('X-PURCHASE-STR')).toEqual({ plan: 500.25, forecast: 500.25, actual: 0 });
    expect(get('X-PURCHASE-NONE')).toEqual({ plan: 0, forecast: 0, actual: 0 });
    expect(get('X-LOWER-PURCHASE').forecast).toBeCloseTo(10, 9);
    expect(get('X-NO-SOURCE').forecast).toBeCloseTo(10, 9);
    // 2025-01-01T23:30-05:00 is 2025-01-02 UTC: 9 days.
    expect(get('X-ACT-STR').actual).toBeCloseTo(9, 9);
    expect(get('X-ACT-FALSE').actual).toBe(0);
    expect(get('X-ACT-MISSING-DATE').actual).toBe(0);
  });
});
