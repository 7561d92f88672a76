import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { FIELD_BY_KEY } from '../src/domain/record-fields.js';
import { readDate, readMoney } from '../src/domain/values.js';
import { KpiRepository } from '../src/repositories/kpi.repository.js';
import { mergedSource, TYPED_DELTA_COLUMNS } from '../src/repositories/record-query.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * The delta values stored parsed beside a modification (pfa_modification.delta_<column>,
 * migration 20261206T0400) are what the mirror's parse functions make of the delta's keys, for
 * every value a delta can hold — not only the canonical ones the API writes — and the merged
 * record a session sees through them is the record parsed from its merged JSON.
 */

const ORG = 'TYPD';
const SESSION = 'typed-s1';

/** Hard values for each typed key: canonical, lenient, wrong type, impossible, JSON null. */
const VALUES: Record<string, unknown[]> = {
  monthlyRate: [2500, 1250.5, '1250.50', '.5', '1,250.00', 'TBA', -5, '-5', 0, true, null, 1e300],
  purchasePrice: [90000, '12', 'x', -1, null, false, 0.01],
  forecastStart: [
    '2025-03-07',
    '2024-02-29',
    '2025-02-29',
    '2025-02-30',
    '2025-13-01',
    '0000-01-01',
    '0001-01-01',
    '9999-12-31',
    '2025-03-01T23:30:00-05:00',
    '2025-03-01T00:30:00+02:00',
    '2025-3-7',
    ' 2025-03-07',
    20250307,
    null,
    true,
  ],
  forecastEnd: ['2026-01-31', '2026-04-31', '2026-06-30T12:00:00Z', 'soon', 1, null],
};

let t: TestDatabase;
let ids: string[];

beforeAll(async () => {
  t = await createTestDatabase();
  const count = Math.max(...Object.values(VALUES).map((v) => v.length));
  const idMap = await insertRecords(t.db, ORG, count);
  ids = [...idMap.values()];
  for (let i = 0; i < count; i++) {
    const delta: Record<string, unknown> = {};
    for (const [key, values] of Object.entries(VALUES)) if (i < values.length) delta[key] = values[i];
    await insertModification(t.db, {
      org: ORG,
      mirrorId: ids[i] as string,
      session: SESSION,
      user: 'tess',
      delta,
      state: 'draft',
    });
  }
});

afterAll(async () => {
  await t.drop();
});

describe('typed draft deltas', () => {
  it('every stored value equals the parse function of its key and the TypeScript reader', async () => {
    const typedKeys = [...FIELD_BY_KEY.values()].filter((f) => TYPED_DELTA_COLUMNS.has(f.column));
    expect(typedKeys.map((f) => f.key).sort()).toEqual(Object.keys(VALUES).sort());
    const { rows } = await sql<Record<string, unknown> & { delta: Record<string, unknown> }>`
      SELECT d.delta, ${sql.join(
        typedKeys.flatMap((f) => [
          sql`${sql.ref(`d.delta_${f.column}`)}::text AS ${sql.ref(`stored_${f.column}`)}`,
          sql`${sql.raw(f.type === 'date' ? 'pfa_date' : 'pfa_money')}(d.delta -> ${sql.lit(f.key)})::text AS ${sql.ref(`parsed_${f.column}`)}`,
        ]),
      )}
      FROM pfa_modification d WHERE d.organization_id = ${ORG}`.execute(t.db);
    expect(rows).toHaveLength(ids.length);
    const mismatches: string[] = [];
    let nonNull = 0;
    for (const r of rows) {
      for (const f of typedKeys) {
        const stored = r[`stored_${f.column}`] as string | null;
        if (stored !== null) nonNull++;
        if (stored !== r[`parsed_${f.column}`])
          mismatches.push(
            `${f.key}=${JSON.stringify(r.delta[f.key])}: stored ${stored}, parsed ${String(r[`parsed_${f.column}`])}`,
          );
        const ts = f.type === 'date' ? readDate(r.delta[f.key]) : readMoney(r.delta[f.key]);
        const sqlValue = stored === null ? null : f.type === 'date' ? stored : Number(stored);
        if (sqlValue !== ts)
          mismatches.push(
            `${f.key}=${JSON.stringify(r.delta[f.key])}: stored ${stored}, TypeScript ${String(ts)}`,
          );
      }
    }
    expect(mismatches).toEqual([]);
    expect(nonNull).toBeGreaterThan(10); // the hard values are not all missing
  });

  it('an update of the delta updates the stored values', async () => {
    const id = ids[0] as string;
    await sql`UPDATE pfa_modification SET delta = '{"forecastStart": "2030-01-02", "monthlyRate": "7"}'
              WHERE organization_id = ${ORG} AND mirror_id = ${id}::bigint`.execute(t.db);
    const { rows } = await sql<{ fs: string | null; fe: string | null; mr: string | null }>`
      SELECT delta_forecast_start::text AS fs, delta_forecast_end::text AS fe, delta_monthly_rate::text AS mr
      FROM pfa_modification WHERE organization_id = ${ORG} AND mirror_id = ${id}::bigint`.execute(t.db);
    expect(rows).toEqual([{ fs: '2030-01-02', fe: null, mr: '7' }]);
  });

  it("the session's merged records and live KPIs equal the ones computed from the merged JSON", async () => {
    const scope = { organizationId: ORG, sessionId: SESSION };
    const { rows } = await sql<{
      data: Record<string, unknown>;
      monthly_rate: string | null;
      purchase_price: string | null;
      forecast_start: string | null;
      forecast_end: string | null;
    }>`SELECT r.data, r.monthly_rate::text AS monthly_rate, r.purchase_price::text AS purchase_price,
              r.forecast_start::text AS forecast_start, r.forecast_end::text AS forecast_end
       FROM ${mergedSource(scope)} WHERE r.has_draft`.execute(t.db);
    expect(rows).toHaveLength(ids.length);
    for (const r of rows) {
      expect([
        r.monthly_rate === null ? null : Number(r.monthly_rate),
        r.purchase_price === null ? null : Number(r.purchase_price),
        r.forecast_start,
        r.forecast_end,
      ]).toEqual([
        readMoney(r.data.monthlyRate),
        readMoney(r.data.purchasePrice),
        readDate(r.data.forecastStart),
        readDate(r.data.forecastEnd),
      ]);
    }
    const kpi = new KpiRepository(t.db);
    await kpi.refresh();
    const live = await kpi.kpiSummary(scope);
    const scratch = await kpi.kpiFromScratch(scope, live[0]?.refreshedAt ?? null);
    expect(live.length).toBeGreaterThan(0);
    expect(live).toEqual(scratch);
  });
});
