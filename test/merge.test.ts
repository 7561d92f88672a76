import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { RECORD_FIELDS, type FieldType } from '../src/domain/record-fields.js';
import { readBool, readDate, readMoney, readText } from '../src/domain/values.js';
import { mergedSource, type MergeScope } from '../src/repositories/record-query.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * DOMAIN §3: what a user sees is mirror + every pending delta of the organization (commit order)
 * + the user's own open modification. Never another session's drafts, never another
 * organization's, never a duplicate row.
 */

const ORG = 'MRG';
const OTHER = 'MRGB';
const BIG = 'MRGBIG';

let t: TestDatabase;
let ids: Map<string, string>;
let otherIds: Map<string, string>;

const EXTRA: { pfaId: string; data: Record<string, unknown> }[] = [
  {
    pfaId: 'R-DRAFT-A',
    data: {
      category: 'Cranes',
      source: 'Rental',
      monthlyRate: 1000,
      forecastStart: '2025-01-01',
      forecastEnd: '2025-02-01',
    },
  },
  {
    pfaId: 'R-TWO-DRAFTS',
    data: { category: 'Cranes', source: 'Rental', monthlyRate: 1000, forecastStart: '2025-01-01' },
  },
  { pfaId: 'R-PENDING', data: { category: 'Cranes', source: 'Rental', monthlyRate: 1000, dor: 'BEO' } },
  { pfaId: 'R-STACK', data: { category: 'Cranes', source: 'Rental', monthlyRate: 1000 } },
  { pfaId: 'R-SYNCED', data: { category: 'Cranes', source: 'Rental', monthlyRate: 1000 } },
  { pfaId: 'R-SYNCING', data: { category: 'Cranes', source: 'Rental', monthlyRate: 1000 } },
  // Garbage from PEMS stays garbage after a merge that does not touch it; timestamps are UTC dates.
  {
    pfaId: 'R-GARBAGE',
    data: {
      category: 'Pumps',
      source: 'Rental',
      monthlyRate: 'TBA',
      purchasePrice: '1,250.00',
      originalStart: '31/02/2025',
      originalEnd: '2025-03-01T23:30:00-05:00',
      isActualized: 'TRUE',
      hasPlan: 'yes',
    },
  },
];

/** Rows of the merged relation, by mirror id. */
interface MergedRow {
  id: string;
  data: Record<string, unknown>;
  has_draft: boolean;
  draft_id: string | null;
  version: number;
  [column: string]: unknown;
}

async function merged(scope: MergeScope): Promise<Map<string, MergedRow>> {
  const columns = RECORD_FIELDS.map((f) => sql.ref(`r.${f.column}`));
  const { rows } = await sql<MergedRow>`
    SELECT r.id::text AS id, r.data, r.has_draft, r.draft_id::text AS draft_id, r.version, r.pfa_id, r.search_text,
           ${sql.join(columns)}
    FROM ${mergedSource(scope)}`.execute(t.db);
  const out = new Map<string, MergedRow>();
  for (const r of rows) {
    expect(out.has(r.id)).toBe(false); // never a duplicate row
    out.set(r.id, r);
  }
  return out;
}

async function mirrorCount(org: string): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`SELECT count(*)::text AS n FROM pfa_mirror WHERE organization_id = ${org}`.execute(t.db);
  return Number(rows[0]?.n);
}

const id = (pfaId: string): string => ids.get(pfaId) as string;

const scopes: Record<'A' | 'B' | 'none', MergeScope> = {
  A: { organizationId: ORG, sessionId: 'sess-A' },
  B: { organizationId: ORG, sessionId: 'sess-B' },
  none: { organizationId: ORG, sessionId: null },
};

const modIds = new Map<string, string>();

beforeAll(async () => {
  t = await createTestDatabase();
  ids = await insertRecords(t.db, ORG, 200, EXTRA);
  otherIds = await insertRecords(t.db, OTHER, 20, [
    { pfaId: 'R-DRAFT-A', data: { category: 'Cranes', source: 'Rental', monthlyRate: 1000 } },
  ]);
  const mod = async (key: string, m: Parameters<typeof insertModification>[1]) =>
    modIds.set(key, await insertModification(t.db, m));

  // A's draft.
  await mod('draftA', {
    org: ORG,
    mirrorId: id('R-DRAFT-A'),
    session: 'sess-A',
    user: 'alice',
    delta: { category: 'DraftA', forecastStart: '2025-01-15', monthlyRate: 2500 },
    state: 'draft',
  });
  // Two sessions' drafts on one record.
  await mod('twoA', {
    org: ORG,
    mirrorId: id('R-TWO-DRAFTS'),
    session: 'sess-A',
    user: 'alice',
    delta: { monthlyRate: 1111 },
    state: 'draft',
  });
  await mod('twoB', {
    org: ORG,
    mirrorId: id('R-TWO-DRAFTS'),
    session: 'sess-B',
    user: 'bob',
    delta: { monthlyRate: 2222, forecastStart: '2026-06-30' },
    state: 'conflict',
  });
  // A pending delta of a third session, overlaid for A by A's own draft.
  await mod('pending', {
    org: ORG,
    mirrorId: id('R-PENDING'),
    session: 'sess-C',
    user: 'carol',
    delta: { monthlyRate: 3333, category: 'PendingCat', forecastEnd: '2027-12-31' },
    state: 'committed',
  });
  await mod('pendingDraftA', {
    org: ORG,
    mirrorId: id('R-PENDING'),
    session: 'sess-A',
    user: 'alice',
    delta: { monthlyRate: 4444 },
    state: 'draft',
  });
  // Two pending deltas stacked by committed_at, the opposite of their id order.
  await mod('stackFirstCreated', {
    org: ORG,
    mirrorId: id('R-STACK'),
    session: 'sess-C',
    user: 'carol',
    delta: { monthlyRate: 5555, category: 'StackLater' },
    state: 'committed',
  });
  await mod('stackSecondCreated', {
    org: ORG,
    mirrorId: id('R-STACK'),
    session: 'sess-D',
    user: 'dave',
    delta: { monthlyRate: 6666, dor: 'StackEarlier' },
    state: 'committed',
  });
  await sql`UPDATE pfa_modification SET committed_at = now() + interval '1 hour' WHERE id = ${modIds.get('stackFirstCreated')}::bigint`.execute(
    t.db,
  );
  await sql`UPDATE pfa_modification SET committed_at = now() - interval '1 hour' WHERE id = ${modIds.get('stackSecondCreated')}::bigint`.execute(
    t.db,
  );
  // A synced modification is already in the mirror (or superseded): never applied again.
  await mod('synced', {
    org: ORG,
    mirrorId: id('R-SYNCED'),
    session: 'sess-C',
    user: 'carol',
    delta: { category: 'Synced' },
    state: 'committed',
  });
  await sql`UPDATE pfa_modification SET sync_state = 'synced', synced_at = now() WHERE id = ${modIds.get('synced')}::bigint`.execute(
    t.db,
  );
  // A syncing one is still pending.
  await mod('syncing', {
    org: ORG,
    mirrorId: id('R-SYNCING'),
    session: 'sess-C',
    user: 'carol',
    delta: { category: 'Syncing' },
    state: 'committed',
  });
  await sql`UPDATE pfa_modification SET sync_state = 'syncing' WHERE id = ${modIds.get('syncing')}::bigint`.execute(
    t.db,
  );
  // A draft over garbage mirror values touching other keys.
  await mod('garbage', {
    org: ORG,
    mirrorId: id('R-GARBAGE'),
    session: 'sess-A',
    user: 'alice',
    delta: { forecastStart: '2025-05-01', forecastEnd: '2025-06-01' },
    state: 'draft',
  });
  // Another organization: same session id, same pfaId, a draft and a commit; never visible in ORG.
  await insertModification(t.db, {
    org: OTHER,
    mirrorId: otherIds.get('R-DRAFT-A') as string,
    session: 'sess-A',
    user: 'alice',
    delta: { category: 'OtherOrgDraft' },
    state: 'draft',
  });
  await insertModification(t.db, {
    org: OTHER,
    mirrorId: [...otherIds.values()][0] as string,
    session: 'sess-B',
    user: 'bob',
    delta: { category: 'OtherOrgCommit' },
    state: 'committed',
  });
});

afterAll(async () => {
  await t.drop();
});

describe('session-scoped merge', () => {
  let views: Record<'A' | 'B' | 'none', Map<string, MergedRow>>;
  let total: number;

  beforeAll(async () => {
    views = { A: await merged(scopes.A), B: await merged(scopes.B), none: await merged(scopes.none) };
    total = await mirrorCount(ORG);
  });

  it('every scope sees each record of its organization exactly once', () => {
    expect(total).toBe(200 + EXTRA.length);
    for (const v of Object.values(views)) {
      expect(v.size).toBe(total);
      expect(new Set([...v.values()].map((r) => r.pfa_id)).size).toBe(total);
    }
  });

  it('a draft of session A is visible to A only; B and no-session see the mirror', () => {
    const a = views.A.get(id('R-DRAFT-A')) as MergedRow;
    expect(a.data).toEqual({
      category: 'DraftA',
      source: 'Rental',
      monthlyRate: 2500,
      forecastStart: '2025-01-15',
      forecastEnd: '2025-02-01',
    });
    expect([a.category, a.forecast_start, a.monthly_rate, a.has_draft, a.draft_id]).toEqual([
      'DraftA',
      '2025-01-15',
      '2500',
      true,
      modIds.get('draftA'),
    ]);
    for (const other of [views.B, views.none]) {
      const r = other.get(id('R-DRAFT-A')) as MergedRow;
      expect([r.category, r.forecast_start, r.monthly_rate, r.has_draft, r.draft_id]).toEqual([
        'Cranes',
        '2025-01-01',
        '1000',
        false,
        null,
      ]);
      expect(r.data).toEqual(EXTRA[0]?.data);
    }
  });

  it('two sessions with drafts on one record: each sees its own, no-session the mirror, no duplicates', () => {
    const rid = id('R-TWO-DRAFTS');
    expect([
      views.A.get(rid)?.monthly_rate,
      views.A.get(rid)?.forecast_start,
      views.A.get(rid)?.draft_id,
    ]).toEqual(['1111', '2025-01-01', modIds.get('twoA')]);
    // B's open modification is in conflict: still B's own, still overlaid for B.
    expect([
      views.B.get(rid)?.monthly_rate,
      views.B.get(rid)?.forecast_start,
      views.B.get(rid)?.draft_id,
    ]).toEqual(['2222', '2026-06-30', modIds.get('twoB')]);
    expect([views.none.get(rid)?.monthly_rate, views.none.get(rid)?.has_draft]).toEqual(['1000', false]);
  });

  it('a committed (pending) delta is visible to every session and to no-session', () => {
    const rid = id('R-PENDING');
    for (const v of [views.B, views.none]) {
      const r = v.get(rid) as MergedRow;
      expect(r.data).toEqual({
        category: 'PendingCat',
        source: 'Rental',
        monthlyRate: 3333,
        dor: 'BEO',
        forecastEnd: '2027-12-31',
      });
      expect([r.category, r.monthly_rate, r.forecast_end, r.has_draft]).toEqual([
        'PendingCat',
        '3333',
        '2027-12-31',
        false,
      ]);
    }
    // syncing counts as pending too; synced never again.
    for (const v of Object.values(views)) {
      expect(v.get(id('R-SYNCING'))?.category).toBe('Syncing');
      expect(v.get(id('R-SYNCED'))?.category).toBe('Cranes');
      expect(v.get(id('R-SYNCED'))?.data).toEqual({
        category: 'Cranes',
        source: 'Rental',
        monthlyRate: 1000,
      });
    }
  });

  it("a session's own draft overlays the pending delta", () => {
    const r = views.A.get(id('R-PENDING')) as MergedRow;
    expect(r.data).toEqual({
      category: 'PendingCat',
      source: 'Rental',
      monthlyRate: 4444,
      dor: 'BEO',
      forecastEnd: '2027-12-31',
    });
    expect([r.category, r.monthly_rate, r.has_draft, r.draft_id]).toEqual([
      'PendingCat',
      '4444',
      true,
      modIds.get('pendingDraftA'),
    ]);
  });

  it('pending deltas of different sessions stack in commit order (committed_at, not id)', () => {
    for (const v of Object.values(views)) {
      const r = v.get(id('R-STACK')) as MergedRow;
      expect(r.data).toEqual({
        category: 'StackLater',
        source: 'Rental',
        monthlyRate: 5555,
        dor: 'StackEarlier',
      });
      expect([r.monthly_rate, r.category, r.dor]).toEqual(['5555', 'StackLater', 'StackEarlier']);
    }
  });

  it("another organization's drafts and commits never appear", async () => {
    for (const v of Object.values(views)) {
      for (const r of v.values()) {
        expect(r.category === 'OtherOrgDraft' || r.category === 'OtherOrgCommit').toBe(false);
        expect(ids.get(r.pfa_id as string)).toBe(r.id);
      }
    }
    // A's draft in ORG never leaks into OTHER either (same session id, same pfaId).
    const other = await merged({ organizationId: OTHER, sessionId: 'sess-A' });
    expect(other.size).toBe(21);
    const r = other.get(otherIds.get('R-DRAFT-A') as string) as MergedRow;
    expect([r.category, r.monthly_rate, r.has_draft]).toEqual(['OtherOrgDraft', '1000', true]);
  });

  it('merged generated-column values equal the parse of the merged JSON, for every row of every scope', () => {
    const readers: Record<FieldType, (v: unknown) => unknown> = {
      text: readText,
      money: readMoney,
      date: readDate,
      boolean: readBool,
    };
    const mismatches: string[] = [];
    for (const [name, v] of Object.entries(views)) {
      for (const r of v.values()) {
        for (const f of RECORD_FIELDS) {
          const raw = r[f.column];
          const actual = f.type === 'money' && raw !== null ? Number(raw) : raw;
          const expected = readers[f.type](r.data[f.key]);
          if (actual !== expected)
            mismatches.push(
              `${name} ${r.pfa_id}.${f.key}: sql ${JSON.stringify(actual)} ts ${JSON.stringify(expected)}`,
            );
        }
      }
    }
    expect(mismatches).toEqual([]);
    // The draft over garbage: the new dates parse, the garbage stays missing.
    const g = views.A.get(id('R-GARBAGE')) as MergedRow;
    expect([
      g.forecast_start,
      g.forecast_end,
      g.monthly_rate,
      g.purchase_price,
      g.original_start,
      g.original_end,
      g.is_actualized,
      g.has_plan,
    ]).toEqual(['2025-05-01', '2025-06-01', null, null, null, '2025-03-02', true, null]);
    expect(g.search_text).toBe(`r-garbage\npumps`);
  });
});

// ---------------------------------------------------------------------------------- plan

interface PlanNode {
  'Node Type'?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

describe('merge plan on 20,000 records', () => {
  const N = 20_000;
  let bigIds: Map<string, string>;

  beforeAll(async () => {
    bigIds = await insertRecords(t.db, BIG, N);
    const some = [...bigIds.values()];
    // A few drafts and pending deltas, as in production (they take the other branch).
    for (let i = 0; i < 20; i++) {
      await insertModification(t.db, {
        org: BIG,
        mirrorId: some[i * 37] as string,
        session: i % 2 === 0 ? 'big-A' : 'big-B',
        user: 'u',
        delta: { category: 'Cranes', source: 'Rental', forecastStart: '2025-06-01' },
        state: i % 3 === 0 ? 'committed' : 'draft',
      });
    }
    await sql`ANALYZE pfa_mirror`.execute(t.db);
    await sql`ANALYZE pfa_modification`.execute(t.db);
  });

  const query = (scope: MergeScope) => sql`
    SELECT r.id::text AS id, r.forecast_start FROM ${mergedSource(scope)}
    WHERE r.category = 'Cranes' AND r.source = 'Rental' AND r.forecast_start >= '2025-01-01' AND r.is_discontinued IS NOT TRUE
    ORDER BY r.forecast_start, r.id LIMIT 100`;

  it.each([
    ['session', { organizationId: BIG, sessionId: 'big-A' }],
    ['no session', { organizationId: BIG, sessionId: null }],
  ] as const)(
    'the grid query (%s) reads pfa_mirror through an index, never a Seq Scan',
    async (_name, scope) => {
      const { rows } = await sql<{
        'QUERY PLAN': { Plan: PlanNode }[];
      }>`EXPLAIN (FORMAT JSON) ${query(scope)}`.execute(t.db);
      const plan = (rows[0]?.['QUERY PLAN'][0] as { Plan: PlanNode }).Plan;
      const nodes = planNodes(plan);
      const onMirror = nodes.filter((n) => n['Relation Name'] === 'pfa_mirror');
      expect(onMirror.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      // An ordered index scan (what makes ORDER BY … LIMIT cheap), e.g. idx_pfa_mirror_grid.
      expect(
        onMirror.some((n) => n['Node Type'] === 'Index Scan' || n['Node Type'] === 'Index Only Scan'),
      ).toBe(true);
    },
  );

  it('with 2,000 pending records, the grid query finds the overlay rows of its filter by the grid index', async () => {
    // Pending (committed) changes on every tenth record: the maintained overlay has 2,000 rows.
    await sql`INSERT INTO pfa_session (organization_id, id, owner_user_id) VALUES (${BIG}, 'big-C', 'u')
      ON CONFLICT DO NOTHING`.execute(t.db);
    await sql`
      INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields,
        base_values, base_version, sync_state, committed_at, commit_xid)
      SELECT m.organization_id, m.id, 'big-C', 'u', jsonb_build_object('model', 'M-' || m.id), ARRAY['model'],
             jsonb_build_object('model', coalesce(m.data -> 'model', 'null')), m.version, 'committed', now(),
             pg_current_xact_id()
      FROM pfa_mirror m WHERE m.organization_id = ${BIG} AND m.id % 10 = 0`.execute(t.db);
    await sql`ANALYZE pfa_pending_record`.execute(t.db);
    const { rows: count } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM pfa_pending_record WHERE organization_id = ${BIG}`.execute(t.db);
    expect(Number(count[0]?.n)).toBeGreaterThanOrEqual(N / 10);
    for (const sessionId of ['big-A', null]) {
      const { rows } = await sql<{
        'QUERY PLAN': { Plan: PlanNode }[];
      }>`EXPLAIN (FORMAT JSON) ${query({ organizationId: BIG, sessionId })}`.execute(t.db);
      const nodes = planNodes((rows[0]?.['QUERY PLAN'][0] as { Plan: PlanNode }).Plan);
      const onOverlay = nodes.filter((n) => n['Relation Name'] === 'pfa_pending_record');
      // The overlay rows the filter keeps, by range (joins by id may take either the key or a scan).
      expect(onOverlay.map((n) => n['Index Name'])).toContain('idx_pfa_pending_record_grid');
    }
    await sql`DELETE FROM pfa_modification WHERE organization_id = ${BIG} AND session_id = 'big-C'`.execute(
      t.db,
    );
  });

  it('and returns the right first page (checked against the merge computed here)', async () => {
    const scope: MergeScope = { organizationId: BIG, sessionId: 'big-A' };
    const { rows } = await query(scope).execute(t.db);
    const all = await sql<{ id: string; data: Record<string, unknown> }>`
      SELECT m.id::text AS id, m.data || coalesce((
        SELECT jsonb_concat_agg(d.delta ORDER BY d.sync_state = 'draft', d.committed_at, d.id) FROM pfa_modification d
        WHERE d.organization_id = m.organization_id AND d.mirror_id = m.id
          AND (d.sync_state IN ('committed', 'syncing') OR (d.session_id = 'big-A' AND d.sync_state IN ('draft', 'conflict')))), '{}') AS data
      FROM pfa_mirror m WHERE m.organization_id = ${BIG}`.execute(t.db);
    const expected = all.rows
      .map((r) => ({ id: r.id, start: readDate(r.data.forecastStart), d: r.data }))
      .filter(
        (r) =>
          readText(r.d.category) === 'Cranes' &&
          readText(r.d.source) === 'Rental' &&
          r.start !== null &&
          r.start >= '2025-01-01' &&
          readBool(r.d.isDiscontinued) !== true,
      )
      .sort(
        (x, y) => (x.start as string).localeCompare(y.start as string) || Number(BigInt(x.id) - BigInt(y.id)),
      )
      .slice(0, 100)
      .map((r) => ({ id: r.id, forecast_start: r.start }));
    expect(expected).toHaveLength(100);
    expect(rows).toEqual(expected);
  });
});
