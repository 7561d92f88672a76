import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { baseValuesOf, minimiseDelta } from '../src/domain/draft-rules.js';
import { readDate } from '../src/domain/values.js';
import { DraftsRepository, type Actor } from '../src/repositories/drafts.repository.js';
import type { RecordFilter } from '../src/repositories/record-query.js';
import { DraftsService } from '../src/services/drafts.service.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * The drafts one set-based bulk edit writes equal the rules of DOMAIN §3 applied record by record
 * in TypeScript (minimiseDelta, baseValuesOf): records without a draft, with a draft of the
 * session (on the shifted keys or others), with a draft in conflict, with pending changes of
 * another session, and with odd forecast dates from PEMS (missing, JSON null, garbage, a full
 * ISO timestamp).
 */

let database: TestDatabase;
let repo: DraftsRepository;
let service: DraftsService;
let ids: string[];
const ORG = 'HOLNG';
const actor: Actor = { organizationId: ORG, sessionId: 's-bulk-eq', userId: 'planner-eq' };

interface DraftRow {
  id: string;
  mirror_id: string;
  delta: Record<string, unknown>;
  modified_fields: string[];
  base_values: Record<string, unknown>;
  base_version: number;
  current_version: number;
  sync_state: string;
}

async function sessionDrafts(): Promise<Map<string, DraftRow>> {
  const { rows } = await sql<DraftRow>`
    SELECT id::text, mirror_id::text, delta, modified_fields, base_values, base_version, current_version, sync_state
    FROM pfa_modification WHERE organization_id = ${ORG} AND session_id = ${actor.sessionId}
      AND sync_state IN ('draft', 'conflict')`.execute(database.db);
  return new Map(rows.map((r) => [r.mirror_id, r]));
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

interface Spec {
  shiftStartDays: number;
  shiftEndDays: number;
  changes: Record<string, unknown>;
}

/** What the bulk edit must leave, from "theirs" and the session's drafts read before it. */
async function expected(matched: string[], spec: Spec) {
  const before = await sessionDrafts();
  const theirs = await database.db.transaction().execute((tx) => repo.theirs(tx, ORG, matched));
  const out = new Map<string, Omit<DraftRow, 'id' | 'mirror_id'> | null>(
    [...before].map(([k, d]) => [k, { ...d }]),
  );
  let affected = 0;
  let endsBeforeStart = 0;
  for (const id of matched) {
    const own = before.get(id);
    if (own?.sync_state === 'conflict') continue;
    const t = theirs.get(id);
    if (!t) throw new Error(`no theirs for ${id}`);
    const merged = { ...t.data, ...(own?.delta ?? {}) };
    const shifts: Record<string, unknown> = {};
    const start = readDate(merged.forecastStart);
    const end = readDate(merged.forecastEnd);
    if (spec.shiftStartDays !== 0 && start) shifts.forecastStart = addDays(start, spec.shiftStartDays);
    if (spec.shiftEndDays !== 0 && end) shifts.forecastEnd = addDays(end, spec.shiftEndDays);
    const delta = minimiseDelta(own?.delta ?? {}, { ...shifts, ...spec.changes }, t.data);
    const after = { ...t.data, ...delta };
    const [s, e] = [readDate(after.forecastStart), readDate(after.forecastEnd)];
    if (s && e && e < s) endsBeforeStart++;
    const keys = Object.keys(delta);
    if (keys.length === 0) {
      if (own) {
        out.set(id, null);
        affected++;
      }
      continue;
    }
    if (
      own &&
      JSON.stringify(Object.entries(delta).sort()) === JSON.stringify(Object.entries(own.delta).sort())
    )
      continue;
    affected++;
    const ownBase = Object.fromEntries(
      keys.filter((k) => own && k in own.base_values).map((k) => [k, own?.base_values[k]]),
    );
    out.set(id, {
      delta,
      modified_fields: keys,
      base_values: { ...baseValuesOf(delta, t.data), ...ownBase },
      base_version: own ? own.base_version : t.version,
      current_version: own ? own.current_version + 1 : 1,
      sync_state: 'draft',
    });
  }
  return { drafts: out, affected, endsBeforeStart };
}

function comparable(d: Omit<DraftRow, 'id' | 'mirror_id'> | null | undefined) {
  if (!d) return null;
  return {
    delta: d.delta,
    modified_fields: [...d.modified_fields].sort(),
    base_values: d.base_values,
    base_version: d.base_version,
    current_version: d.current_version,
    sync_state: d.sync_state,
  };
}

beforeAll(async () => {
  database = await createTestDatabase();
  const odd = (pfaId: string, dates: Record<string, unknown>) => ({
    pfaId,
    data: {
      pfaId,
      category: 'Oddities',
      source: 'Rental',
      dor: 'PROJECT',
      monthlyRate: 1000,
      originalStart: '2026-01-01',
      originalEnd: '2026-06-01',
      ...dates,
    },
  });
  const map = await insertRecords(database.db, ORG, 60, [
    odd('ODD-NO-START', { forecastEnd: '2026-05-01' }),
    odd('ODD-NULL-END', { forecastStart: '2026-02-01', forecastEnd: null }),
    odd('ODD-GARBAGE', { forecastStart: 'TBA', forecastEnd: '2026-05-01' }),
    odd('ODD-TIMESTAMP', { forecastStart: '2026-02-01T00:00:00Z', forecastEnd: '2026-05-01T00:00:00.000Z' }),
    odd('ODD-NO-DATES', {}),
  ]);
  ids = [...map.values()];
  repo = new DraftsRepository(database.db);
  service = new DraftsService(database.db, repo);
  await database.db
    .insertInto('pfa_session')
    .values({ organization_id: ORG, id: actor.sessionId, owner_user_id: actor.userId })
    .execute();
});
afterAll(async () => database?.drop());

describe('bulk edit drafts', () => {
  it('equal the TypeScript rules for a mix of records, edit after edit', async () => {
    const filter = {} as RecordFilter;
    const matched = await database.db
      .transaction()
      .execute((tx) =>
        repo.matchingIds(tx, { organizationId: ORG, sessionId: actor.sessionId }, filter, 1000),
      );
    expect(matched.length).toBeGreaterThan(40);
    for (const odd of ids.slice(60)) expect(matched).toContain(odd);
    const at = (i: number) => matched[i] as string;
    const data = async (id: string) =>
      (
        await database.db
          .selectFrom('pfa_mirror')
          .select('data')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).data as Record<string, unknown>;
    // Drafts of the session: on another key, on a shifted key, and one that a -7 shift empties.
    await service.edit(actor, at(1), 0, { monthlyRate: 4321 }, 'own');
    await service.edit(actor, at(2), 0, { forecastEnd: '2031-01-01', contract: 'C-OWN' }, 'own');
    const start3 = readDate((await data(at(3))).forecastStart);
    if (start3) await service.edit(actor, at(3), 0, { forecastStart: addDays(start3, 7) }, 'own');
    // A draft in conflict (left alone), pending changes of another session (part of "theirs").
    await insertModification(database.db, {
      org: ORG,
      mirrorId: at(4),
      session: actor.sessionId,
      user: actor.userId,
      state: 'conflict',
      delta: { monthlyRate: 1 },
    });
    const start5 = readDate((await data(at(5))).forecastStart);
    await insertModification(database.db, {
      org: ORG,
      mirrorId: at(5),
      session: 's-other',
      user: 'planner-other',
      state: 'committed',
      delta: { forecastStart: addDays(start5 ?? '2026-01-01', -3), category: 'Moved' },
    });
    await insertModification(database.db, {
      org: ORG,
      mirrorId: at(6),
      session: 's-other',
      user: 'planner-other',
      state: 'committed',
      delta: { contract: 'C-PENDING' },
    });

    const specs: Spec[] = [
      { shiftStartDays: 7, shiftEndDays: 7, changes: {} },
      { shiftStartDays: 0, shiftEndDays: 14, changes: {} },
      { shiftStartDays: -7, shiftEndDays: -7, changes: {} },
      { shiftStartDays: 0, shiftEndDays: 3, changes: { contract: 'C-OWN', isFundsTransferable: true } },
      { shiftStartDays: 5, shiftEndDays: 5, changes: { forecastStart: '2020-03-01', monthlyRate: 4321 } },
      { shiftStartDays: 0, shiftEndDays: 0, changes: { contract: 'C-PENDING' } },
      { shiftStartDays: 0, shiftEndDays: -20_000, changes: {} },
    ];
    let rejected = 0;
    for (const spec of specs) {
      const want = await expected(matched, spec);
      const before = await sessionDrafts();
      const run = service.bulkEdit(actor, { filter, reason: 'eq', max: 1000, ...spec });
      if (want.endsBeforeStart) {
        rejected++;
        await expect(run).rejects.toThrow(/end their forecast before it starts/);
        expect(await sessionDrafts()).toEqual(before);
        continue;
      }
      expect((await run).affectedCount).toBe(want.affected);
      const got = await sessionDrafts();
      for (const id of new Set([...want.drafts.keys(), ...got.keys()]))
        expect([id, comparable(got.get(id))]).toEqual([id, comparable(want.drafts.get(id))]);
    }
    expect(rejected).toBe(1);
  });
});
