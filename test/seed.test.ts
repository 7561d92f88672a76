import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import {
  SEED_PHASES,
  SeedRefusedError,
  seedDatabase,
  type SeedProgress,
  type SeedResult,
} from '../src/db/seed.js';
import { ensureMirrorIndexes, type EnsureResult } from '../src/db/mirror-indexes.js';
import { generateRecord, planOrganizations } from '../src/domain/generator.js';
import { RECORD_FIELDS } from '../src/domain/record-fields.js';
import { readBool, readDate, readMoney, readText } from '../src/domain/values.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

const OPTIONS = { records: 3_000, orgs: 3, drafts: 100, committed: 20 };

describe('seedDatabase', () => {
  let t: TestDatabase;
  let result: SeedResult;
  const progress: SeedProgress[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    result = await seedDatabase(t.pool, { ...OPTIONS, onProgress: (p) => progress.push(p) });
  });

  afterAll(async () => {
    await t.drop();
  });

  // Through Kysely on purpose: db.destroy() in t.drop() only ends the pool once Kysely has used it.
  async function count(query: string): Promise<number> {
    const r = await sql.raw<{ n: string }>(query).execute(t.db);
    return Number(r.rows[0]?.n);
  }

  it('loads organizations, records, sessions, drafts and commits in the asked numbers', async () => {
    const plan = planOrganizations(OPTIONS.records, OPTIONS.orgs);
    expect(result.organizations).toEqual(plan);
    expect(result).toMatchObject({ records: 3_000, drafts: 100, committed: 20 });
    expect(result.sessions).toHaveLength(2);

    const orgs = await t.pool.query<{ id: string; n: string }>(
      'SELECT o.id, count(m.id) AS n FROM organization o LEFT JOIN pfa_mirror m ON m.organization_id = o.id GROUP BY o.id',
    );
    expect(Object.fromEntries(orgs.rows.map((r) => [r.id, Number(r.n)]))).toEqual(
      Object.fromEntries(plan.map((o) => [o.id, o.records])),
    );
    expect(await count('SELECT count(*) AS n FROM pfa_session')).toBe(2);
    expect(await count(`SELECT count(*) AS n FROM pfa_modification WHERE sync_state = 'draft'`)).toBe(100);
    expect(await count(`SELECT count(*) AS n FROM pfa_modification WHERE sync_state = 'committed'`)).toBe(20);
    expect(await count('SELECT count(*) AS n FROM pfa_modification')).toBe(120);
    // Untouched PEMS records: version 1, PEMS recordid "1", ids 1..N in generation order.
    expect(
      await count(`SELECT count(*) AS n FROM pfa_mirror WHERE version <> 1 OR pems_version <> '1'`),
    ).toBe(0);
    expect(await count('SELECT count(*) AS n FROM pfa_mirror_history')).toBe(0);
    const ids = await t.pool.query<{ min: string; max: string }>(
      'SELECT min(id) AS min, max(id) AS max FROM pfa_mirror',
    );
    expect(ids.rows[0]).toEqual({ min: '1', max: '3000' });
  });

  it('stores exactly the generator output', async () => {
    const rows = await t.pool.query<{
      organization_id: string;
      pfa_id: string;
      data: Record<string, unknown>;
    }>(`SELECT organization_id, pfa_id, data FROM pfa_mirror WHERE pfa_id LIKE '%-PFA-0000007'`);
    expect(rows.rows).toHaveLength(3);
    for (const row of rows.rows) expect(row.data).toEqual(generateRecord(row.organization_id, 6).data);
  });

  it('gives every draft base values equal to the mirror values of its modified fields', async () => {
    const rows = await t.pool.query<{
      mirror_data: Record<string, unknown>;
      mirror_version: number;
      mirror_pems_version: string;
      delta: Record<string, unknown>;
      modified_fields: string[];
      base_values: Record<string, unknown>;
      base_version: number;
      base_pems_version: string;
      current_version: number;
      sync_state: string;
      user_id: string;
      owner_user_id: string;
      committed_at: Date | null;
      committed_by: string | null;
      commit_xid: string | null;
    }>(
      `SELECT m.data AS mirror_data, m.version AS mirror_version, m.pems_version AS mirror_pems_version,
              d.delta, d.modified_fields, d.base_values, d.base_version, d.base_pems_version, d.current_version,
              d.sync_state, d.user_id, s.owner_user_id, d.committed_at, d.committed_by, d.commit_xid::text
       FROM pfa_modification d
       JOIN pfa_mirror m ON m.organization_id = d.organization_id AND m.id = d.mirror_id
       JOIN pfa_session s ON s.organization_id = d.organization_id AND s.id = d.session_id`,
    );
    expect(rows.rows).toHaveLength(120);
    for (const r of rows.rows) {
      const keys = Object.keys(r.delta).sort();
      expect(keys.length).toBeGreaterThan(0);
      expect([...r.modified_fields].sort()).toEqual(keys);
      expect(r.base_values).toEqual(Object.fromEntries(keys.map((k) => [k, r.mirror_data[k]])));
      expect(r.base_version).toBe(r.mirror_version);
      expect(r.base_pems_version).toBe(r.mirror_pems_version);
      expect(r.current_version).toBe(1);
      expect(r.user_id).toBe(r.owner_user_id);
      // DOMAIN §3: a delta holds only changed keys, well typed.
      for (const k of keys) {
        expect(r.delta[k]).not.toEqual(r.mirror_data[k]);
        if (k === 'monthlyRate') expect(typeof r.delta[k]).toBe('number');
        else expect(readDate(r.delta[k])).toBe(r.delta[k]);
      }
      expect(
        readDate(r.delta.forecastEnd ?? r.mirror_data.forecastEnd)! >=
          readDate(r.delta.forecastStart ?? r.mirror_data.forecastStart)!,
      ).toBe(true);
      if (r.sync_state === 'committed') {
        expect(r.committed_at).toBeInstanceOf(Date);
        expect(r.committed_by).toBe(r.user_id);
        // No transaction ids any more (DOMAIN §8): the KPI caches track a change sequence.
        expect(r.commit_xid).toBeNull();
      } else {
        expect(r.committed_at).toBeNull();
      }
    }
  });

  it('keeps at most one open modification per (organization, record, session), commits apart from drafts', async () => {
    expect(
      await count(`SELECT count(*) AS n FROM (
        SELECT 1 FROM pfa_modification WHERE sync_state IN ('draft', 'conflict')
        GROUP BY organization_id, mirror_id, session_id HAVING count(*) > 1) x`),
    ).toBe(0);
    // A committed record has no other modification at all (no draft over it, no second commit).
    expect(
      await count(`SELECT count(*) AS n FROM pfa_modification c
        JOIN pfa_modification o ON o.organization_id = c.organization_id AND o.mirror_id = c.mirror_id AND o.id <> c.id
        WHERE c.sync_state = 'committed'`),
    ).toBe(0);
    // Sessions hold 50 drafts each.
    const perSession = await t.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pfa_modification WHERE sync_state = 'draft' GROUP BY session_id`,
    );
    expect(perSession.rows.map((r) => Number(r.n))).toEqual([50, 50]);
  });

  it('populates the KPI and timeline views and records the refresh', async () => {
    expect(await count('SELECT count(DISTINCT organization_id) AS n FROM pfa_kpi_summary')).toBe(3);
    expect(await count('SELECT count(*) AS n FROM pfa_timeline_bounds')).toBe(3);
    expect(await count('SELECT count(*) AS n FROM pfa_view_refresh')).toBe(1);
    expect(await count('SELECT sum(record_count) AS n FROM pfa_kpi_summary')).toBe(
      await count('SELECT count(*) AS n FROM pfa_mirror WHERE is_discontinued IS NOT TRUE'),
    );
    expect(await count('SELECT sum(total_records) AS n FROM pfa_timeline_bounds')).toBe(
      await count('SELECT count(*) AS n FROM pfa_mirror WHERE is_discontinued IS NOT TRUE'),
    );
  });

  it('rebuilds every secondary index of the mirror and leaves the versioning trigger enabled', async () => {
    const indexes = await t.pool.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'pfa_mirror' AND indexname LIKE 'idx_%' ORDER BY 1`,
    );
    expect(indexes.rows.map((r) => r.indexname)).toEqual([
      'idx_pfa_mirror_data_gin',
      'idx_pfa_mirror_forecast_end',
      'idx_pfa_mirror_forecast_start',
      'idx_pfa_mirror_grid',
      'idx_pfa_mirror_id',
      'idx_pfa_mirror_live_id',
      'idx_pfa_mirror_search_trgm',
    ]);
    const trigger = await t.pool.query<{ tgenabled: string }>(
      `SELECT tgenabled FROM pg_trigger WHERE tgname = 'pfa_mirror_versioning'`,
    );
    expect(trigger.rows).toEqual([{ tgenabled: 'O' }]);
  });

  it('reports progress for every phase, ending each at its total', () => {
    for (const phase of SEED_PHASES) {
      const last = progress.filter((p) => p.phase === phase).at(-1);
      expect(last).toBeDefined();
      expect(last!.done).toBe(last!.total);
    }
    expect(Object.keys(result.durationsMs).sort()).toEqual([...SEED_PHASES].sort());
  });

  it('computes generated columns exactly as the TypeScript readers do', async () => {
    const columns = RECORD_FIELDS.map((f) => f.column).join(', ');
    const rows = await t.pool.query<
      Record<string, unknown> & { pfa_id: string; data: Record<string, unknown> }
    >(`SELECT pfa_id, data, ${columns} FROM pfa_mirror`);
    expect(rows.rows).toHaveLength(3_000);
    const problems: string[] = [];
    for (const row of rows.rows) {
      for (const field of RECORD_FIELDS) {
        const value = row.data[field.key];
        const column = row[field.column];
        let same: boolean;
        switch (field.type) {
          case 'text':
            same = column === readText(value);
            break;
          case 'money': {
            const expected = readMoney(value);
            same = expected === null ? column === null : column !== null && Number(column) === expected;
            break;
          }
          case 'date':
            same = column === readDate(value);
            break;
          case 'boolean':
            same = column === readBool(value);
            break;
        }
        if (!same)
          problems.push(`${row.pfa_id}.${field.key}: sql ${String(column)} vs ts ${JSON.stringify(value)}`);
      }
    }
    expect(problems).toEqual([]);
    // The sample really exercises the odd cases.
    expect(rows.rows.some((r) => typeof r.data.monthlyRate === 'string')).toBe(true);
    expect(rows.rows.some((r) => !('isDiscontinued' in r.data))).toBe(true);
  });

  it('refuses to seed over records, and with reset starts over identically', async () => {
    await expect(seedDatabase(t.pool, OPTIONS)).rejects.toThrow(SeedRefusedError);
    await expect(seedDatabase(t.pool, OPTIONS)).rejects.toThrow(/already holds records/);
    expect(await count('SELECT count(*) AS n FROM pfa_mirror')).toBe(3_000);

    const before = await t.pool.query<{ id: string; pfa_id: string }>(
      'SELECT id, pfa_id FROM pfa_mirror ORDER BY id',
    );
    const again = await seedDatabase(t.pool, { ...OPTIONS, reset: true });
    expect(again).toMatchObject({ records: 3_000, drafts: 100, committed: 20 });
    const after = await t.pool.query<{ id: string; pfa_id: string }>(
      'SELECT id, pfa_id FROM pfa_mirror ORDER BY id',
    );
    expect(after.rows).toEqual(before.rows);
    expect(await count('SELECT count(*) AS n FROM pfa_modification')).toBe(120);
  });

  it('holds the bulk-load lock while the indexes are down, so npm run migrate leaves them to it', async () => {
    // ensureMirrorIndexes (npm run migrate, import:legacy) asked while the seed rebuilds its
    // indexes: it must see the load running and build nothing of its own.
    let probe: Promise<EnsureResult> | undefined;
    await seedDatabase(t.pool, {
      ...OPTIONS,
      reset: true,
      onProgress: (p) => {
        if (p.phase === 'indexes' && p.done === 0 && !probe) probe = ensureMirrorIndexes(t.pool);
      },
    });
    expect(probe).toBeDefined();
    expect(await probe).toEqual({ built: [], bulkLoadRunning: true });
    // After the seed, nothing is left for it to do either.
    expect(await ensureMirrorIndexes(t.pool)).toEqual({ built: [], bulkLoadRunning: false });
  });

  it('rejects bad options before touching the database', async () => {
    await expect(seedDatabase(t.pool, { ...OPTIONS, orgs: 0 })).rejects.toThrow(/orgs/);
    await expect(seedDatabase(t.pool, { ...OPTIONS, records: -5 })).rejects.toThrow(/records/);
  });
});
