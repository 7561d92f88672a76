import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isDiscontinued, recordCosts } from '../src/domain/costs.js';
import { readBool, readDate, readMoney, readText } from '../src/domain/values.js';
import { KpiRepository, type Bounds, type KpiGroup } from '../src/repositories/kpi.repository.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

/**
 * The maintained structures of migration 20261205T2000 against a recomputation in TypeScript from
 * the raw JSON, after random sequences of what the service's writers (and an operator) do to the
 * tables: commits, drafts committed later, write-back success (mirror moves, change synced),
 * write-back conflict, KEEP_MINE, ACCEPT_THEIRS, committed ↔ syncing, read sync edits,
 * records removed from PEMS and back, new records, and view refreshes at random moments.
 *
 * Checked after every step: `pfa_pending_record` (data and typed columns) equals mirror + pending
 * deltas in commit order; kpiSummary and timelineBounds — the cache plus the change log above the
 * sequence it holds, plus the session's drafts — equal the recomputation, with and without a session.
 */

const ORG = 'OVL';
const RECORDS = 30;
const STEPS = 160;
const SEEDS = [1, 2, 3];

type Json = Record<string, unknown>;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Mod {
  id: string;
  mirror_id: string;
  session_id: string;
  sync_state: string;
  delta: Json;
  committed_at: Date | null;
}

let t: TestDatabase;
let kpi: KpiRepository;

beforeAll(async () => {
  t = await createTestDatabase();
  kpi = new KpiRepository(t.db);
  await t.pool.query(`INSERT INTO organization (id, name) VALUES ($1, 'Overlay')`, [ORG]);
  await t.pool.query(
    `INSERT INTO pfa_session (organization_id, id, owner_user_id) VALUES ($1, 'pending', 'u1'), ($1, 'drafts', 'u2')`,
    [ORG],
  );
});

afterAll(async () => {
  await t.drop();
});

function randomValues(r: () => number, keys: number): Json {
  const out: Json = {};
  const day = (base: number) => {
    const d = new Date(Date.UTC(2025, 0, 1) + Math.floor(r() * base) * 86_400_000);
    return d.toISOString().slice(0, 10);
  };
  const all: [string, () => unknown][] = [
    ['category', () => ['Cranes', 'Trucks', 'Pumps'][Math.floor(r() * 3)]],
    ['source', () => (r() < 0.75 ? 'Rental' : 'Purchase')],
    ['dor', () => (r() < 0.5 ? 'BEO' : 'PROJECT')],
    ['monthlyRate', () => Math.round(r() * 5000)],
    ['purchasePrice', () => Math.round(r() * 90000)],
    ['originalStart', () => day(300)],
    ['originalEnd', () => day(900)],
    ['forecastStart', () => day(300)],
    ['forecastEnd', () => day(900)],
    ['actualStart', () => day(300)],
    ['actualEnd', () => day(900)],
    ['isActualized', () => r() < 0.4],
    ['isDiscontinued', () => r() < 0.15],
  ];
  const picked = keys >= all.length ? all : all.filter(() => r() < keys / all.length);
  for (const [k, f] of picked.length ? picked : [all[Math.floor(r() * all.length)]!]) out[k] = f();
  return out;
}

async function mods(): Promise<Mod[]> {
  const { rows } = await t.pool.query<Mod>(
    `SELECT id::text, mirror_id::text, session_id, sync_state::text, delta, committed_at
     FROM pfa_modification WHERE organization_id = $1 ORDER BY committed_at NULLS LAST, id`,
    [ORG],
  );
  return rows;
}

async function mirror(): Promise<Map<string, { data: Json; removed: boolean }>> {
  const { rows } = await t.pool.query<{ id: string; data: Json; removed: boolean }>(
    `SELECT id::text, data, removed_from_pems_at IS NOT NULL AS removed FROM pfa_mirror WHERE organization_id = $1`,
    [ORG],
  );
  return new Map(rows.map((r) => [r.id, { data: r.data, removed: r.removed }]));
}

/** The organization's view of every record (mirror + pending deltas in commit order), optionally with a session's open modification. */
async function recomputeRecords(
  session: string | null,
): Promise<Map<string, { data: Json; removed: boolean }>> {
  const m = await mirror();
  const all = await mods();
  const out = new Map([...m].map(([id, v]) => [id, { data: { ...v.data }, removed: v.removed }]));
  for (const d of all)
    if (d.sync_state === 'committed' || d.sync_state === 'syncing')
      Object.assign(out.get(d.mirror_id)!.data, d.delta);
  if (session)
    for (const d of all)
      if (d.session_id === session && (d.sync_state === 'draft' || d.sync_state === 'conflict'))
        Object.assign(out.get(d.mirror_id)!.data, d.delta);
  return out;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

interface Group {
  key: string;
  plan: number;
  forecast: number;
  actual: number;
  n: number;
  actualized: number;
}

function expectedKpis(records: Map<string, { data: Json; removed: boolean }>): Group[] {
  const groups = new Map<string, Group>();
  for (const { data, removed } of records.values()) {
    if (removed || isDiscontinued(data)) continue;
    const key = JSON.stringify([readText(data.category), readText(data.source), readText(data.dor)]);
    const g = groups.get(key) ?? { key, plan: 0, forecast: 0, actual: 0, n: 0, actualized: 0 };
    const c = recordCosts(data);
    g.plan += c.planCost;
    g.forecast += c.forecastCost;
    g.actual += c.actualCost;
    g.n += 1;
    g.actualized += readBool(data.isActualized) === true ? 1 : 0;
    groups.set(key, g);
  }
  return [...groups.values()]
    .map((g) => ({ ...g, plan: round(g.plan), forecast: round(g.forecast), actual: round(g.actual) }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

function answeredKpis(groups: KpiGroup[]): Group[] {
  return groups
    .map((g) => ({
      key: JSON.stringify([g.category, g.source, g.dor]),
      plan: round(g.totalPlanCost),
      forecast: round(g.totalForecastCost),
      actual: round(g.totalActualCost),
      n: g.recordCount,
      actualized: g.actualizedCount,
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

function expectedBounds(records: Map<string, { data: Json; removed: boolean }>): Json | null {
  const live = [...records.values()].filter((r) => !r.removed && !isDiscontinued(r.data)).map((r) => r.data);
  if (!live.length) return null;
  const pick = (key: string, kind: 'min' | 'max', onlyActualized = false) => {
    const values = live
      .filter((d) => !onlyActualized || readBool(d.isActualized) === true)
      .map((d) => readDate(d[key]))
      .filter((v): v is string => v !== null)
      .sort();
    return values.length ? (kind === 'min' ? values[0] : values[values.length - 1]) : null;
  };
  return {
    planStart: pick('originalStart', 'min'),
    planEnd: pick('originalEnd', 'max'),
    forecastStart: pick('forecastStart', 'min'),
    forecastEnd: pick('forecastEnd', 'max'),
    actualStart: pick('actualStart', 'min', true),
    actualEnd: pick('actualEnd', 'max', true),
    totalRecords: live.length,
    actualizedRecords: live.filter((d) => readBool(d.isActualized) === true).length,
  };
}

function answeredBounds(b: Bounds | null): Json | null {
  if (!b) return null;
  const { refreshedAt: _ignored, ...rest } = b;
  return rest as unknown as Json;
}

async function checkOverlay(step: string): Promise<void> {
  const expected = await recomputeRecords(null);
  const all = await mods();
  const pendingIds = new Set(
    all.filter((d) => d.sync_state === 'committed' || d.sync_state === 'syncing').map((d) => d.mirror_id),
  );
  const { rows } = await t.pool.query<{
    id: string;
    data: Json;
    category: string | null;
    forecast_start: string | null;
    monthly_rate: string | null;
    is_actualized: boolean | null;
  }>(
    `SELECT id::text, data, category, forecast_start::text, monthly_rate::text, is_actualized
     FROM pfa_pending_record WHERE organization_id = $1`,
    [ORG],
  );
  expect({ step, ids: rows.map((r) => r.id).sort() }).toEqual({ step, ids: [...pendingIds].sort() });
  for (const r of rows) {
    const want = expected.get(r.id)!.data;
    expect({ step, id: r.id, data: r.data }).toEqual({ step, id: r.id, data: want });
    expect({
      step,
      category: r.category,
      forecastStart: r.forecast_start,
      rate: r.monthly_rate === null ? null : Number(r.monthly_rate),
      actualized: r.is_actualized,
    }).toEqual({
      step,
      category: readText(want.category),
      forecastStart: readDate(want.forecastStart),
      rate: readMoney(want.monthlyRate),
      actualized: readBool(want.isActualized),
    });
  }
}

async function checkKpis(step: string): Promise<void> {
  for (const session of [null, 'drafts']) {
    const records = await recomputeRecords(session);
    const scope = { organizationId: ORG, sessionId: session };
    expect({ step, session, kpis: answeredKpis(await kpi.kpiSummary(scope)) }).toEqual({
      step,
      session,
      kpis: expectedKpis(records),
    });
    expect({ step, session, bounds: answeredBounds(await kpi.timelineBounds(scope)) }).toEqual({
      step,
      session,
      bounds: expectedBounds(records),
    });
  }
}

async function runSequence(seed: number): Promise<Record<string, number>> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const counts: Record<string, number> = {};
  let clock = Date.UTC(2026, 0, 1) + seed * 1e9;
  const tick = () => new Date((clock += 1000)).toISOString();
  await t.pool.query(`TRUNCATE pfa_modification, pfa_kpi_delta, pfa_pending_record`);
  await t.pool.query(`DELETE FROM pfa_mirror WHERE organization_id = $1`, [ORG]);
  for (let i = 0; i < RECORDS; i++)
    await t.pool.query(`INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES ($1, $2, $3)`, [
      ORG,
      `S${seed}-${i}`,
      randomValues(r, 99),
    ]);
  await t.pool.query('SELECT refresh_pfa_materialized_views()');
  await checkKpis(`seed ${seed} start`);

  const ops: [string, () => Promise<boolean>][] = [
    [
      'commit',
      async () => {
        const ids = [...(await mirror()).keys()];
        await t.pool.query(
          `INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, base_version,
             sync_state, committed_at, committed_by)
           VALUES ($1, $2, 'pending', 'u1', $3, 1, 'committed', $4, 'u1')`,
          [ORG, pick(ids), randomValues(r, 3), tick()],
        );
        return true;
      },
    ],
    [
      'draft',
      async () => {
        const open = new Set(
          (await mods())
            .filter((d) => d.session_id === 'drafts' && d.committed_at === null)
            .map((d) => d.mirror_id),
        );
        const free = [...(await mirror()).keys()].filter((id) => !open.has(id));
        if (!free.length) return false;
        await t.pool.query(
          `INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, base_version)
           VALUES ($1, $2, 'drafts', 'u2', $3, 1)`,
          [ORG, pick(free), randomValues(r, 3)],
        );
        return true;
      },
    ],
    [
      'commit a draft',
      async () => {
        const drafts = (await mods()).filter((d) => d.sync_state === 'draft');
        if (!drafts.length) return false;
        await t.pool.query(
          `UPDATE pfa_modification SET sync_state = 'committed', committed_at = $3, committed_by = 'u2'
           WHERE organization_id = $1 AND id = $2`,
          [ORG, pick(drafts).id, tick()],
        );
        return true;
      },
    ],
    [
      'write-back synced',
      async () => {
        const pending = (await mods()).filter(
          (d) => d.sync_state === 'committed' || d.sync_state === 'syncing',
        );
        if (!pending.length) return false;
        const d = pick(pending);
        const client = await t.pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(
            `UPDATE pfa_mirror SET data = data || $3, pems_version = coalesce(pems_version, '0') || '+'
             WHERE organization_id = $1 AND id = $2`,
            [ORG, d.mirror_id, d.delta],
          );
          await client.query(
            `UPDATE pfa_modification SET sync_state = 'synced', synced_at = now() WHERE organization_id = $1 AND id = $2`,
            [ORG, d.id],
          );
          await client.query('COMMIT');
        } finally {
          client.release();
        }
        return true;
      },
    ],
    [
      'write-back conflict',
      async () => {
        const all = await mods();
        const openPending = new Set(
          all
            .filter((d) => d.session_id === 'pending' && d.sync_state === 'conflict')
            .map((d) => d.mirror_id),
        );
        const pending = all.filter(
          (d) =>
            (d.sync_state === 'committed' || d.sync_state === 'syncing') &&
            d.session_id === 'pending' &&
            !openPending.has(d.mirror_id),
        );
        if (!pending.length) return false;
        const d = pick(pending);
        const client = await t.pool.connect();
        try {
          await client.query('BEGIN');
          await client.query(
            `UPDATE pfa_mirror SET data = data || $3 WHERE organization_id = $1 AND id = $2`,
            [ORG, d.mirror_id, randomValues(r, 3)],
          );
          await client.query(
            `UPDATE pfa_modification SET sync_state = 'conflict' WHERE organization_id = $1 AND id = $2`,
            [ORG, d.id],
          );
          await client.query('COMMIT');
        } finally {
          client.release();
        }
        return true;
      },
    ],
    [
      'KEEP_MINE',
      async () => {
        const conflicts = (await mods()).filter((d) => d.sync_state === 'conflict');
        if (!conflicts.length) return false;
        await t.pool.query(
          `UPDATE pfa_modification SET sync_state = 'committed', committed_at = $3 WHERE organization_id = $1 AND id = $2`,
          [ORG, pick(conflicts).id, tick()],
        );
        return true;
      },
    ],
    [
      'ACCEPT_THEIRS / discard',
      async () => {
        const open = (await mods()).filter((d) => d.sync_state === 'conflict' || d.sync_state === 'draft');
        if (!open.length) return false;
        await t.pool.query(`DELETE FROM pfa_modification WHERE organization_id = $1 AND id = $2`, [
          ORG,
          pick(open).id,
        ]);
        return true;
      },
    ],
    [
      'draft edited',
      async () => {
        const drafts = (await mods()).filter((d) => d.sync_state === 'draft');
        if (!drafts.length) return false;
        await t.pool.query(
          `UPDATE pfa_modification SET delta = delta || $3, current_version = current_version + 1
           WHERE organization_id = $1 AND id = $2`,
          [ORG, pick(drafts).id, randomValues(r, 2)],
        );
        return true;
      },
    ],
    [
      'claimed / released',
      async () => {
        const pending = (await mods()).filter(
          (d) => d.sync_state === 'committed' || d.sync_state === 'syncing',
        );
        if (!pending.length) return false;
        const d = pick(pending);
        await t.pool.query(
          `UPDATE pfa_modification SET sync_state = $3 WHERE organization_id = $1 AND id = $2`,
          [ORG, d.id, d.sync_state === 'committed' ? 'syncing' : 'committed'],
        );
        return true;
      },
    ],
    [
      'read sync',
      async () => {
        const ids = [...(await mirror()).keys()];
        const chosen = ids.filter(() => r() < 0.2);
        for (const id of chosen)
          await t.pool.query(
            `UPDATE pfa_mirror SET data = data || $3 WHERE organization_id = $1 AND id = $2`,
            [ORG, id, randomValues(r, 2)],
          );
        return chosen.length > 0;
      },
    ],
    [
      'removed / back',
      async () => {
        const ids = [...(await mirror()).keys()];
        await t.pool.query(
          `UPDATE pfa_mirror SET removed_from_pems_at = CASE WHEN removed_from_pems_at IS NULL THEN now() END
           WHERE organization_id = $1 AND id = $2`,
          [ORG, pick(ids)],
        );
        return true;
      },
    ],
    [
      'new record',
      async () => {
        await t.pool.query(`INSERT INTO pfa_mirror (organization_id, pfa_id, data) VALUES ($1, $2, $3)`, [
          ORG,
          `S${seed}-n${tick()}`,
          randomValues(r, 99),
        ]);
        return true;
      },
    ],
    [
      'refresh',
      async () => {
        await t.pool.query('SELECT refresh_pfa_materialized_views()');
        return true;
      },
    ],
  ];
  const weights = [5, 4, 3, 3, 2, 2, 2, 3, 2, 1, 1, 1, 1];
  const total = weights.reduce((a, b) => a + b, 0);
  for (let step = 0; step < STEPS; step++) {
    let x = r() * total;
    let i = 0;
    while (x >= weights[i]!) x -= weights[i++]!;
    const [name, op] = ops[i]!;
    if (!(await op())) continue;
    counts[name] = (counts[name] ?? 0) + 1;
    const label = `seed ${seed} step ${step} (${name})`;
    await checkOverlay(label);
    await checkKpis(label);
  }
  return counts;
}

describe('maintained pending overlay and KPI change log', () => {
  for (const seed of SEEDS)
    it(`equal a recomputation from the raw JSON after a random sequence of writes (seed ${seed})`, async () => {
      const counts = await runSequence(seed);
      // Every kind of write happened (otherwise the sequence proves less than it claims).
      expect(Object.keys(counts).length).toBeGreaterThanOrEqual(11);
      // The log only holds what the caches do not: a refresh empties it up to their sequence.
      await t.pool.query('SELECT refresh_pfa_materialized_views()');
      const { rows } = await t.pool.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM pfa_kpi_delta WHERE organization_id = $1`,
        [ORG],
      );
      expect(rows[0]?.n).toBe('0');
      await checkKpis(`seed ${seed} after the last refresh`);
    }, 180_000);
});
