import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import pg from 'pg';
import { isDiscontinued, recordCosts } from '../src/domain/costs.js';
import { readBool, readDate, readText } from '../src/domain/values.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * DOMAIN §4: pfa_kpi_summary and pfa_timeline_bounds are caches of mirror + pending deltas
 * (never drafts), excluding discontinued records; refresh_pfa_materialized_views() refreshes them
 * CONCURRENTLY once populated. Expected figures are computed here with the domain code.
 */

const A = 'VIEWA';
const B = 'VIEWB';
/** An organization whose only records are discontinued: no KPI group, no timeline row. */
const C = 'VIEWC';

let t: TestDatabase;

const rental = (extra: Record<string, unknown>) => ({
  source: 'Rental',
  monthlyRate: 3044,
  originalStart: '2025-01-01',
  originalEnd: '2025-03-02',
  forecastStart: '2025-01-01',
  forecastEnd: '2025-04-01',
  ...extra,
});

const EXTRA_A: { pfaId: string; data: Record<string, unknown> }[] = [
  // NULL group keys: all three missing, only category missing, category JSON null.
  { pfaId: 'N-ALL', data: { monthlyRate: 100, originalStart: '2025-01-01', originalEnd: '2025-01-31' } },
  { pfaId: 'N-ALL-2', data: { purchasePrice: 5, isDiscontinued: false } },
  { pfaId: 'N-CAT', data: rental({ category: null, dor: 'BEO' }) },
  { pfaId: 'N-CAT-2', data: { source: 'Purchase', purchasePrice: 250.5, dor: 'BEO' } },
  // The string "null" is a category of its own, not the NULL group.
  { pfaId: 'N-STRING', data: rental({ category: 'null', source: 'null', dor: 'null' }) },
  // A group whose only records are discontinued never appears.
  { pfaId: 'D-ONLY-1', data: rental({ category: 'OnlyDiscontinued', dor: 'BEO', isDiscontinued: true }) },
  { pfaId: 'D-ONLY-2', data: rental({ category: 'OnlyDiscontinued', dor: 'BEO', isDiscontinued: 'TRUE' }) },
  // Missing flag and the string "false" count.
  { pfaId: 'FLAG-MISSING', data: rental({ category: 'Flags', dor: 'BEO' }) },
  { pfaId: 'FLAG-FALSE-STR', data: rental({ category: 'Flags', dor: 'BEO', isDiscontinued: 'false' }) },
  { pfaId: 'FLAG-GARBAGE', data: rental({ category: 'Flags', dor: 'BEO', isDiscontinued: 'yes' }) },
  // Bounds: a discontinued record with extreme dates moves no bound; a not-actualized record's
  // actual dates move no actual bound.
  {
    pfaId: 'B-DISC',
    data: rental({
      category: 'Bounds',
      isDiscontinued: true,
      originalStart: '2001-01-01',
      originalEnd: '2099-01-01',
      forecastStart: '2001-01-01',
      forecastEnd: '2099-01-01',
      isActualized: true,
      actualStart: '2001-01-01',
      actualEnd: '2099-01-01',
    }),
  },
  {
    pfaId: 'B-NOT-ACT',
    data: rental({
      category: 'Bounds',
      isActualized: false,
      actualStart: '2002-01-01',
      actualEnd: '2098-01-01',
    }),
  },
  {
    pfaId: 'B-ACT-STR',
    data: rental({
      category: 'Bounds',
      isActualized: 'true',
      actualStart: '2023-06-01T23:30:00-05:00',
      actualEnd: '2025-02-01',
    }),
  },
  // Pending deltas below act on these.
  { pfaId: 'P-MOVE', data: rental({ category: 'Cranes', dor: 'BEO' }) },
  { pfaId: 'P-GONE', data: rental({ category: 'WillBeGone', dor: 'BEO' }) },
  { pfaId: 'P-REVIVED', data: rental({ category: 'Revived', dor: 'BEO', isDiscontinued: true }) },
  { pfaId: 'P-STACK', data: rental({ category: 'Stack', dor: 'BEO' }) },
  { pfaId: 'P-ACT', data: rental({ category: 'Stack', dor: 'BEO' }) },
  // Drafts below act on these.
  { pfaId: 'DR-1', data: rental({ category: 'Drafted', dor: 'BEO' }) },
  { pfaId: 'DR-2', data: rental({ category: 'Drafted', dor: 'BEO' }) },
];

interface Mod {
  pfaId: string;
  session: string;
  user: string;
  delta: Record<string, unknown>;
  state: 'draft' | 'committed' | 'conflict';
}

/** In creation (= commit) order. */
const MODS: Mod[] = [
  {
    pfaId: 'P-MOVE',
    session: 's1',
    user: 'u1',
    delta: { category: 'PendingCat', forecastEnd: '2031-06-30' },
    state: 'committed',
  },
  { pfaId: 'P-GONE', session: 's1', user: 'u1', delta: { isDiscontinued: true }, state: 'committed' },
  { pfaId: 'P-REVIVED', session: 's2', user: 'u2', delta: { isDiscontinued: false }, state: 'committed' },
  {
    pfaId: 'P-STACK',
    session: 's1',
    user: 'u1',
    delta: { monthlyRate: 1000, forecastStart: '2025-02-01' },
    state: 'committed',
  },
  { pfaId: 'P-STACK', session: 's2', user: 'u2', delta: { monthlyRate: 2000 }, state: 'committed' },
  {
    pfaId: 'P-ACT',
    session: 's2',
    user: 'u2',
    delta: { isActualized: true, actualStart: '2020-01-01', actualEnd: '2032-01-01' },
    state: 'committed',
  },
  // Drafts and conflicts: never in a cache.
  {
    pfaId: 'DR-1',
    session: 's1',
    user: 'u1',
    delta: { category: 'DraftCat', monthlyRate: 999999999 },
    state: 'draft',
  },
  { pfaId: 'DR-2', session: 's2', user: 'u2', delta: { isDiscontinued: true }, state: 'draft' },
  {
    pfaId: 'P-MOVE',
    session: 's2',
    user: 'u2',
    delta: { forecastEnd: '2040-01-01', forecastStart: '1990-01-01' },
    state: 'draft',
  },
  { pfaId: 'P-STACK', session: 's3', user: 'u3', delta: { monthlyRate: 5 }, state: 'conflict' },
];

interface KpiRow {
  organization_id: string;
  category: string | null;
  source: string | null;
  dor: string | null;
  group_key: string;
  total_plan_cost: string;
  total_forecast_cost: string;
  total_actual_cost: string;
  total_variance: string;
  record_count: string;
  actualized_count: string;
}

interface Kpi {
  plan: number;
  forecast: number;
  actual: number;
  variance: number;
  count: number;
  actualized: number;
}

interface Bounds {
  plan_start: string | null;
  plan_end: string | null;
  forecast_start: string | null;
  forecast_end: string | null;
  actual_start: string | null;
  actual_end: string | null;
  total_records: string;
  actualized_records: string;
}

const idsByOrg = new Map<string, Map<string, string>>();

beforeAll(async () => {
  t = await createTestDatabase();
  idsByOrg.set(A, await insertRecords(t.db, A, 1500, EXTRA_A));
  idsByOrg.set(B, await insertRecords(t.db, B, 400));
  idsByOrg.set(
    C,
    await insertRecords(t.db, C, 0, [
      { pfaId: 'C-1', data: rental({ category: 'Cranes', isDiscontinued: true }) },
      { pfaId: 'C-2', data: rental({ category: 'Pumps', isDiscontinued: 'True' }) },
    ]),
  );
  const idsA = idsByOrg.get(A) as Map<string, string>;
  for (const m of MODS) {
    await insertModification(t.db, {
      org: A,
      mirrorId: idsA.get(m.pfaId) as string,
      session: m.session,
      user: m.user,
      delta: m.delta,
      state: m.state,
    });
  }
  // An organization B draft on a record that also exists by pfaId in A (ids differ): B's draft is B's.
  const idsB = idsByOrg.get(B) as Map<string, string>;
  const firstB = [...idsB.values()][0] as string;
  await insertModification(t.db, {
    org: B,
    mirrorId: firstB,
    session: 's1',
    user: 'u1',
    delta: { category: 'DraftInB' },
    state: 'draft',
  });
});

afterAll(async () => {
  await t.drop();
});

/** Mirror data + pending (committed) deltas in commit order, for every record of the organizations. */
async function committedRecords(): Promise<{ org: string; pfaId: string; data: Record<string, unknown> }[]> {
  const { rows } = await sql<{ organization_id: string; pfa_id: string; data: Record<string, unknown> }>`
    SELECT organization_id, pfa_id, data FROM pfa_mirror ORDER BY organization_id, id`.execute(t.db);
  return rows.map((r) => {
    let data = r.data;
    if (r.organization_id === A) {
      for (const m of MODS)
        if (m.pfaId === r.pfa_id && m.state === 'committed') data = { ...data, ...m.delta };
    }
    return { org: r.organization_id, pfaId: r.pfa_id, data };
  });
}

function groupKey(org: string, category: string | null, source: string | null, dor: string | null): string {
  return JSON.stringify([org, category, source, dor]);
}

async function expectedKpis(): Promise<Map<string, Kpi>> {
  const out = new Map<string, Kpi>();
  for (const r of await committedRecords()) {
    if (isDiscontinued(r.data)) continue;
    const key = groupKey(r.org, readText(r.data.category), readText(r.data.source), readText(r.data.dor));
    const k = out.get(key) ?? { plan: 0, forecast: 0, actual: 0, variance: 0, count: 0, actualized: 0 };
    const c = recordCosts(r.data);
    k.plan += c.planCost;
    k.forecast += c.forecastCost;
    k.actual += c.actualCost;
    k.variance += c.variance;
    k.count += 1;
    if (readBool(r.data.isActualized) === true) k.actualized += 1;
    out.set(key, k);
  }
  return out;
}

async function viewKpis(): Promise<Map<string, Kpi>> {
  const { rows } = await sql<KpiRow>`
    SELECT organization_id, category, source, dor, group_key, total_plan_cost::text, total_forecast_cost::text,
           total_actual_cost::text, total_variance::text, record_count::text, actualized_count::text
    FROM pfa_kpi_summary`.execute(t.db);
  const out = new Map<string, Kpi>();
  for (const r of rows) {
    const key = groupKey(r.organization_id, r.category, r.source, r.dor);
    expect(out.has(key)).toBe(false);
    out.set(key, {
      plan: Number(r.total_plan_cost),
      forecast: Number(r.total_forecast_cost),
      actual: Number(r.total_actual_cost),
      variance: Number(r.total_variance),
      count: Number(r.record_count),
      actualized: Number(r.actualized_count),
    });
  }
  return out;
}

const close = (a: number, b: number): boolean =>
  Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b)) || Math.abs(a - b) < 1e-9;

function minMax(values: (string | null)[], pick: 'min' | 'max'): string | null {
  const present = values.filter((v): v is string => v !== null).sort();
  return (pick === 'min' ? present[0] : present[present.length - 1]) ?? null;
}

async function expectedBounds(): Promise<Map<string, Bounds>> {
  const byOrg = new Map<string, Record<string, unknown>[]>();
  for (const r of await committedRecords()) {
    if (isDiscontinued(r.data)) continue;
    byOrg.set(r.org, [...(byOrg.get(r.org) ?? []), r.data]);
  }
  const out = new Map<string, Bounds>();
  for (const [org, list] of byOrg) {
    const actualized = list.filter((d) => readBool(d.isActualized) === true);
    out.set(org, {
      plan_start: minMax(
        list.map((d) => readDate(d.originalStart)),
        'min',
      ),
      plan_end: minMax(
        list.map((d) => readDate(d.originalEnd)),
        'max',
      ),
      forecast_start: minMax(
        list.map((d) => readDate(d.forecastStart)),
        'min',
      ),
      forecast_end: minMax(
        list.map((d) => readDate(d.forecastEnd)),
        'max',
      ),
      actual_start: minMax(
        actualized.map((d) => readDate(d.actualStart)),
        'min',
      ),
      actual_end: minMax(
        actualized.map((d) => readDate(d.actualEnd)),
        'max',
      ),
      total_records: String(list.length),
      actualized_records: String(actualized.length),
    });
  }
  return out;
}

async function viewBounds(): Promise<Map<string, Bounds>> {
  const { rows } = await sql<Bounds & { organization_id: string }>`
    SELECT organization_id, plan_start::text, plan_end::text, forecast_start::text, forecast_end::text,
           actual_start::text, actual_end::text, total_records::text, actualized_records::text
    FROM pfa_timeline_bounds`.execute(t.db);
  return new Map(rows.map(({ organization_id, ...b }) => [organization_id, b]));
}

describe('refresh', () => {
  it('refresh_pfa_materialized_views() populates unpopulated views, then refreshes CONCURRENTLY', async () => {
    await sql`REFRESH MATERIALIZED VIEW pfa_kpi_summary WITH NO DATA`.execute(t.db);
    await sql`REFRESH MATERIALIZED VIEW pfa_timeline_bounds WITH NO DATA`.execute(t.db);
    const before = await sql<{ n: string }>`SELECT count(*)::text AS n FROM pfa_view_refresh`.execute(t.db);

    const first = await sql<{ at: Date }>`SELECT refresh_pfa_materialized_views() AS at`.execute(t.db);
    const populated = await sql<{ matviewname: string; ispopulated: boolean }>`
      SELECT matviewname, ispopulated FROM pg_matviews WHERE matviewname IN ('pfa_kpi_summary', 'pfa_timeline_bounds')
      ORDER BY matviewname`.execute(t.db);
    expect(populated.rows).toEqual([
      { matviewname: 'pfa_kpi_summary', ispopulated: true },
      { matviewname: 'pfa_timeline_bounds', ispopulated: true },
    ]);

    // The second call must be CONCURRENTLY: it may not wait for a reader that holds the views
    // open (a plain REFRESH needs ACCESS EXCLUSIVE and would hit the lock timeout).
    const reader = new pg.Client({ connectionString: t.url });
    await reader.connect();
    let second: { at: Date } | undefined;
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT count(*) FROM pfa_kpi_summary');
      await reader.query('SELECT count(*) FROM pfa_timeline_bounds');
      await t.db.connection().execute(async (conn) => {
        await sql`SET lock_timeout = '3s'`.execute(conn);
        second = (await sql<{ at: Date }>`SELECT refresh_pfa_materialized_views() AS at`.execute(conn))
          .rows[0];
        await sql`RESET lock_timeout`.execute(conn);
      });
    } finally {
      await reader.query('ROLLBACK');
      await reader.end();
    }
    expect(second?.at).toBeInstanceOf(Date);
    expect((second?.at as Date).getTime()).toBeGreaterThan((first.rows[0]?.at as Date).getTime());

    const log = await sql<{ n: string; last: Date }>`
      SELECT count(*)::text AS n, max(refreshed_at) AS last FROM pfa_view_refresh`.execute(t.db);
    expect(Number(log.rows[0]?.n)).toBe(Number(before.rows[0]?.n) + 2);
    expect(log.rows[0]?.last).toEqual(second?.at);
    // The views carry the time of their own refresh.
    const at = await sql<{ at: Date }>`SELECT max(refreshed_at) AS at FROM pfa_kpi_summary`.execute(t.db);
    expect(at.rows[0]?.at).toEqual(second?.at);
  });

  it('a REFRESH … CONCURRENTLY run by hand works (NULL group keys included) and moves refreshed_at', async () => {
    const before = await sql<{ kpi: Date; tl: Date }>`
      SELECT (SELECT max(refreshed_at) FROM pfa_kpi_summary) AS kpi, (SELECT max(refreshed_at) FROM pfa_timeline_bounds) AS tl`.execute(
      t.db,
    );
    await new Promise((r) => setTimeout(r, 20));
    await sql`REFRESH MATERIALIZED VIEW CONCURRENTLY pfa_kpi_summary`.execute(t.db);
    await sql`REFRESH MATERIALIZED VIEW CONCURRENTLY pfa_timeline_bounds`.execute(t.db);
    const after = await sql<{ kpi: Date; tl: Date; distinct_times: string }>`
      SELECT (SELECT max(refreshed_at) FROM pfa_kpi_summary) AS kpi, (SELECT max(refreshed_at) FROM pfa_timeline_bounds) AS tl,
             (SELECT count(DISTINCT refreshed_at)::text FROM pfa_kpi_summary) AS distinct_times`.execute(
      t.db,
    );
    const b = before.rows[0] as { kpi: Date; tl: Date };
    const a = after.rows[0] as { kpi: Date; tl: Date; distinct_times: string };
    expect(a.kpi.getTime()).toBeGreaterThan(b.kpi.getTime());
    expect(a.tl.getTime()).toBeGreaterThan(b.tl.getTime());
    // Every group, changed or not, says when the cache was refreshed.
    expect(a.distinct_times).toBe('1');
  });

  it('NULL category/source/dor form their own groups with a non-NULL, unique group_key', async () => {
    const { rows } = await sql<{
      category: string | null;
      source: string | null;
      dor: string | null;
      group_key: string;
      record_count: string;
    }>`
      SELECT category, source, dor, group_key, record_count::text FROM pfa_kpi_summary
      WHERE organization_id = ${A} AND (category IS NULL OR category = 'null') ORDER BY group_key COLLATE "C"`.execute(
      t.db,
    );
    expect(rows).toEqual([
      {
        category: 'null',
        source: 'null',
        dor: 'null',
        group_key: '["null", "null", "null"]',
        record_count: '1',
      },
      {
        category: null,
        source: 'Purchase',
        dor: 'BEO',
        group_key: '[null, "Purchase", "BEO"]',
        record_count: '1',
      },
      {
        category: null,
        source: 'Rental',
        dor: 'BEO',
        group_key: '[null, "Rental", "BEO"]',
        record_count: '1',
      },
      { category: null, source: null, dor: null, group_key: '[null, null, null]', record_count: '2' },
    ]);
    const dup = await sql<{ n: string }>`
      SELECT count(*)::text AS n FROM (SELECT organization_id, group_key FROM pfa_kpi_summary GROUP BY 1, 2 HAVING count(*) > 1) d`.execute(
      t.db,
    );
    expect(dup.rows).toEqual([{ n: '0' }]);
  });
});

describe('KPI totals', () => {
  let expected: Map<string, Kpi>;
  let actual: Map<string, Kpi>;

  beforeAll(async () => {
    await sql`SELECT refresh_pfa_materialized_views()`.execute(t.db);
    expected = await expectedKpis();
    actual = await viewKpis();
  });

  it('has exactly the groups in which at least one record counts', () => {
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    expect(actual.size).toBeGreaterThan(50);
  });

  it('equals the sums of recordCosts over non-discontinued merged records, to 1e-6 relative', () => {
    const mismatches: string[] = [];
    for (const [key, e] of expected) {
      const a = actual.get(key);
      if (!a) continue;
      for (const f of ['plan', 'forecast', 'actual', 'variance'] as const) {
        if (!close(a[f], e[f])) mismatches.push(`${key} ${f}: view ${a[f]} expected ${e[f]}`);
      }
      if (a.count !== e.count || a.actualized !== e.actualized)
        mismatches.push(`${key} counts: view ${a.count}/${a.actualized} expected ${e.count}/${e.actualized}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('excludes discontinued records; a missing or non-true flag counts', () => {
    expect(actual.has(groupKey(A, 'OnlyDiscontinued', 'Rental', 'BEO'))).toBe(false);
    // 3 records in 'Flags': flag missing, "false", "yes" (not a boolean: not discontinued).
    expect(actual.get(groupKey(A, 'Flags', 'Rental', 'BEO'))?.count).toBe(3);
    // 60 days of 3044 per month: 6000 exactly for each Flags record's plan.
    expect(actual.get(groupKey(A, 'Flags', 'Rental', 'BEO'))?.plan).toBeCloseTo(3 * (60 / 30.44) * 3044, 6);
    expect([...actual.keys()].some((k) => k.startsWith(JSON.stringify([C]).slice(0, -1)))).toBe(false);
  });

  it('includes pending deltas (stacked in commit order) and never drafts or conflicts', () => {
    // P-MOVE moved to PendingCat by a commit; the draft that moves its dates is invisible.
    const moved = actual.get(groupKey(A, 'PendingCat', 'Rental', 'BEO')) as Kpi;
    expect(moved.count).toBe(1);
    expect(moved.plan).toBeCloseTo((60 / 30.44) * 3044, 6);
    // forecast 2025-01-01 … 2031-06-30 (the committed end, not the draft's 2040).
    expect(moved.forecast).toBeCloseTo((2371 / 30.44) * 3044, 6);
    // Committed discontinuation removes the only record of its group; committed revival adds one.
    expect(actual.has(groupKey(A, 'WillBeGone', 'Rental', 'BEO'))).toBe(false);
    expect(actual.get(groupKey(A, 'Revived', 'Rental', 'BEO'))?.count).toBe(1);
    // Stack: P-STACK has rate 1000 then 2000 (the later commit wins) and forecastStart 2025-02-01
    // from the first; the conflict's rate 5 is ignored. P-ACT is actualized by a commit.
    const stack = actual.get(groupKey(A, 'Stack', 'Rental', 'BEO')) as Kpi;
    expect(stack.count).toBe(2);
    expect(stack.actualized).toBe(1);
    expect(stack.forecast).toBeCloseTo((59 / 30.44) * 2000 + (90 / 30.44) * 3044, 6);
    expect(stack.actual).toBeCloseTo((4383 / 30.44) * 3044, 6);
    // Drafts: no DraftCat group, DR-1 still in Drafted at its mirror rate, DR-2 not discontinued.
    expect([...actual.keys()].filter((k) => k.includes('Draft'))).toEqual([
      groupKey(A, 'Drafted', 'Rental', 'BEO'),
    ]);
    const drafted = actual.get(groupKey(A, 'Drafted', 'Rental', 'BEO')) as Kpi;
    expect(drafted.count).toBe(2);
    expect(drafted.forecast).toBeCloseTo(2 * (90 / 30.44) * 3044, 6);
  });
});

describe('timeline bounds', () => {
  let expected: Map<string, Bounds>;
  let actual: Map<string, Bounds>;

  beforeAll(async () => {
    await sql`SELECT refresh_pfa_materialized_views()`.execute(t.db);
    expected = await expectedBounds();
    actual = await viewBounds();
  });

  it('equal min/max over non-discontinued merged records, actual bounds from actualized records only', () => {
    // Every organization has a row (it carries the change sequence the cache holds); one with
    // no record counted has zero records and no bounds.
    for (const [org, b] of [...actual]) {
      if (org === A || org === B) continue;
      expect(b).toEqual({
        plan_start: null,
        plan_end: null,
        forecast_start: null,
        forecast_end: null,
        actual_start: null,
        actual_end: null,
        total_records: '0',
        actualized_records: '0',
      });
      actual.delete(org);
    }
    expect([...actual.keys()].sort()).toEqual([A, B]);
    expect(actual).toEqual(expected);
  });

  it('take pending deltas and ignore drafts, discontinued and not-actualized records', () => {
    const a = actual.get(A) as Bounds;
    // P-ACT's committed actuals are the widest actualized dates.
    expect(a.actual_start).toBe('2020-01-01');
    expect(a.actual_end).toBe('2032-01-01');
    // P-MOVE's committed forecastEnd; the draft's 2040 / 1990 never count.
    expect(a.forecast_end).toBe('2031-06-30');
    expect(a.forecast_start).not.toBe('1990-01-01');
    // B-DISC's 2001 / 2099 dates never count.
    expect(a.plan_start).not.toBe('2001-01-01');
    expect(a.plan_end).not.toBe('2099-01-01');
  });
});
