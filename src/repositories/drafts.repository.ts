import { sql, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database, PfaModificationTable, SyncState } from '../db/tables.js';
import type { DraftView, FieldConflict } from '../domain/draft.js';
import {
  compileFilter,
  mergedSource,
  pendingOverlay,
  type MergeScope,
  type RecordFilter,
} from './record-query.js';

export type Tx = Transaction<Database>;

type ModificationRow = Pick<
  Selectable<PfaModificationTable>,
  | 'id'
  | 'organization_id'
  | 'mirror_id'
  | 'session_id'
  | 'user_id'
  | 'modified_fields'
  | 'base_version'
  | 'base_pems_version'
  | 'current_version'
  | 'sync_state'
  | 'change_reason'
  | 'created_at'
  | 'updated_at'
  | 'committed_at'
  | 'last_error'
> & {
  delta: Record<string, unknown>;
  base_values: Record<string, unknown>;
  conflicts: FieldConflict[] | null;
};

export function toDraftView(r: ModificationRow): DraftView {
  return {
    id: String(r.id),
    organizationId: r.organization_id,
    mirrorId: String(r.mirror_id),
    sessionId: r.session_id,
    userId: r.user_id,
    delta: r.delta,
    modifiedFields: r.modified_fields,
    baseValues: r.base_values,
    baseVersion: r.base_version,
    basePemsVersion: r.base_pems_version,
    currentVersion: r.current_version,
    syncState: r.sync_state,
    conflicts: r.conflicts ?? [],
    changeReason: r.change_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    committedAt: r.committed_at,
    lastError: r.last_error,
  };
}

const MOD_COLUMNS = sql`id, organization_id, mirror_id, session_id, user_id, delta, modified_fields, base_values,
  base_version, base_pems_version, current_version, sync_state, conflicts, change_reason, created_at, updated_at,
  committed_at, last_error`;

export interface Actor {
  organizationId: string;
  sessionId: string;
  userId: string;
}

/** What the organization sees of a record without any draft ("theirs" of DOMAIN §3). */
export interface Theirs {
  mirrorId: string;
  data: Record<string, unknown>;
  version: number;
  pemsVersion: string | null;
  removedFromPemsAt: Date | null;
}

/** An open modification together with "theirs" of its record, read under the record's lock. */
export interface DraftWithTheirs {
  draft: DraftView;
  theirs: Theirs;
}

export interface AuditEntry {
  modificationId: string;
  mirrorId: string;
  action: string;
  reason: string | null;
  oldDelta: Record<string, unknown> | null;
  newDelta: Record<string, unknown> | null;
  from: SyncState | null;
  to: SyncState | null;
}

export interface BulkEditSpec {
  filter: RecordFilter;
  /** Days added to forecastStart / forecastEnd (0: the date is not shifted). */
  shiftStartDays: number;
  shiftEndDays: number;
  changes: Record<string, unknown>;
  reason: string | null;
}

export interface BulkEditOutcome {
  affected: number;
  /** Drafts created or changed (not those emptied), in id order. */
  draftIds: string[];
  /** Records whose forecast would end before it starts. */
  endsBeforeStart: number;
  /** Records whose shifted forecast date would leave 0001-01-01 … 9999-12-31. */
  outOfRange: number;
}

/**
 * Statements on drafts (pfa_modification) and their audit trail. The use cases that combine them
 * under one transaction and the record locks are in `src/services/drafts.service.ts`.
 */
export class DraftsRepository {
  constructor(private readonly db: Db) {}

  // ----------------------------------------------------------------------------- reads

  async byIds(organizationId: string, ids: readonly string[], tx?: Tx): Promise<DraftView[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<ModificationRow>`
      SELECT ${MOD_COLUMNS} FROM pfa_modification
      WHERE organization_id = ${organizationId} AND id = ANY(${ids}::bigint[])`.execute(tx ?? this.db);
    return rows.map(toDraftView);
  }

  /** A draft by id in any organization (resolveConflict names only the id). */
  async findAnywhere(id: string): Promise<DraftView | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    const { rows } = await sql<ModificationRow>`
      SELECT ${MOD_COLUMNS} FROM pfa_modification WHERE id = ${id}::bigint`.execute(this.db);
    return rows[0] ? toDraftView(rows[0]) : null;
  }

  /** The session's open draft for each record (for the DataLoader behind PfaRecord.draft). */
  async openByRecords(
    organizationId: string,
    sessionId: string,
    mirrorIds: readonly string[],
  ): Promise<DraftView[]> {
    if (mirrorIds.length === 0) return [];
    const { rows } = await sql<ModificationRow>`
      SELECT ${MOD_COLUMNS} FROM pfa_modification
      WHERE organization_id = ${organizationId} AND session_id = ${sessionId}
        AND sync_state IN ('draft', 'conflict') AND mirror_id = ANY(${mirrorIds}::bigint[])`.execute(this.db);
    return rows.map(toDraftView);
  }

  /** Open and pending modifications of some sessions, oldest first. */
  async listForSessions(
    organizationId: string,
    sessionIds: readonly string[],
    userId: string,
  ): Promise<DraftView[]> {
    if (sessionIds.length === 0) return [];
    const { rows } = await sql<ModificationRow>`
      SELECT ${MOD_COLUMNS} FROM pfa_modification
      WHERE organization_id = ${organizationId} AND session_id = ANY(${sessionIds}::text[]) AND user_id = ${userId}
        AND sync_state <> 'synced'
      ORDER BY created_at, id`.execute(this.db);
    return rows.map(toDraftView);
  }

  // ----------------------------------------------------------------------------- locks

  /**
   * One writer per record (DOMAIN §3): locks the mirror rows in (organization_id, id) order, so
   * overlapping set-based writers cannot deadlock. Returns the ids that exist. Every later
   * statement of the transaction reads with a fresh snapshot (READ COMMITTED) and so sees what a
   * writer that held a lock before us committed.
   */
  async lockRecords(tx: Tx, organizationId: string, mirrorIds: readonly string[]): Promise<Set<string>> {
    if (mirrorIds.length === 0) return new Set();
    const { rows } = await sql<{ id: string }>`
      SELECT id FROM pfa_mirror
      WHERE organization_id = ${organizationId} AND id = ANY(${[...new Set(mirrorIds)]}::bigint[])
      ORDER BY id
      FOR UPDATE`.execute(tx);
    return new Set(rows.map((r) => String(r.id)));
  }

  /** "Theirs" of each record (mirror + every pending delta in commit order). */
  async theirs(tx: Tx, organizationId: string, mirrorIds: readonly string[]): Promise<Map<string, Theirs>> {
    if (mirrorIds.length === 0) return new Map();
    const { rows } = await sql<{
      id: string;
      data: Record<string, unknown>;
      version: number;
      pems_version: string | null;
      removed_from_pems_at: Date | null;
    }>`
      SELECT m.id, ${pendingOverlay(organizationId)} AS data, m.version, m.pems_version, m.removed_from_pems_at
      FROM pfa_mirror m
      WHERE m.organization_id = ${organizationId} AND m.id = ANY(${mirrorIds}::bigint[])`.execute(tx);
    return new Map(
      rows.map((r) => [
        String(r.id),
        {
          mirrorId: String(r.id),
          data: r.data,
          version: r.version,
          pemsVersion: r.pems_version,
          removedFromPemsAt: r.removed_from_pems_at,
        },
      ]),
    );
  }

  // ----------------------------------------------------------------------------- single drafts

  /** The session's open modification of a record, locked. */
  async openDraft(tx: Tx, actor: Actor, mirrorId: string): Promise<DraftView | null> {
    const { rows } = await sql<ModificationRow>`
      SELECT ${MOD_COLUMNS} FROM pfa_modification
      WHERE organization_id = ${actor.organizationId} AND session_id = ${actor.sessionId}
        AND mirror_id = ${mirrorId}::bigint AND sync_state IN ('draft', 'conflict')
      FOR UPDATE`.execute(tx);
    return rows[0] ? toDraftView(rows[0]) : null;
  }

  /** A modification by id, locked. */
  async lockById(tx: Tx, organizationId: string, id: string): Promise<DraftView | null> {
    const { rows } = await sql<ModificationRow>`
      SELECT ${MOD_COLUMNS} FROM pfa_modification
      WHERE organization_id = ${organizationId} AND id = ${id}::bigint
      FOR UPDATE`.execute(tx);
    return rows[0] ? toDraftView(rows[0]) : null;
  }

  async insertDraft(
    tx: Tx,
    actor: Actor,
    mirrorId: string,
    delta: Record<string, unknown>,
    baseValues: Record<string, unknown>,
    base: Theirs,
    reason: string | null,
  ): Promise<DraftView> {
    const { rows } = await sql<ModificationRow>`
      INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields,
        base_values, base_version, base_pems_version, change_reason)
      VALUES (${actor.organizationId}, ${mirrorId}::bigint, ${actor.sessionId}, ${actor.userId},
        ${JSON.stringify(delta)}::jsonb, ${Object.keys(delta)}::text[], ${JSON.stringify(baseValues)}::jsonb,
        ${base.version}, ${base.pemsVersion}, ${reason})
      RETURNING ${MOD_COLUMNS}`.execute(tx);
    return toDraftView(rows[0] as ModificationRow);
  }

  async updateDraft(
    tx: Tx,
    organizationId: string,
    id: string,
    delta: Record<string, unknown>,
    baseValues: Record<string, unknown>,
    reason: string | null,
  ): Promise<DraftView> {
    const { rows } = await sql<ModificationRow>`
      UPDATE pfa_modification SET delta = ${JSON.stringify(delta)}::jsonb, modified_fields = ${Object.keys(delta)}::text[],
        base_values = ${JSON.stringify(baseValues)}::jsonb, current_version = current_version + 1,
        change_reason = coalesce(${reason}, change_reason), updated_at = now()
      WHERE organization_id = ${organizationId} AND id = ${id}::bigint
      RETURNING ${MOD_COLUMNS}`.execute(tx);
    return toDraftView(rows[0] as ModificationRow);
  }

  async deleteDrafts(tx: Tx, organizationId: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await sql`DELETE FROM pfa_modification WHERE organization_id = ${organizationId} AND id = ANY(${ids}::bigint[])`.execute(
      tx,
    );
  }

  // ----------------------------------------------------------------------------- bulk edit

  /** Ids of the records a filter matches in the caller's view, at most `limit`, in id order. */
  async matchingIds(tx: Tx, scope: MergeScope, filter: RecordFilter, limit: number): Promise<string[]> {
    const { rows } = await sql<{ id: string }>`
      SELECT r.id FROM ${mergedSource(scope)} WHERE ${compileFilter(filter)} ORDER BY r.id LIMIT ${limit}`.execute(
      tx,
    );
    return rows.map((r) => String(r.id));
  }

  async countMatching(tx: Tx, scope: MergeScope, filter: RecordFilter): Promise<number> {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${mergedSource(scope)} WHERE ${compileFilter(filter)}`.execute(tx);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * bulkUpdatePfaRecords in ONE statement over records already locked (`ids`) that still match
   * the filter: each gets its delta (session's previous delta + shifts + changes, minus keys
   * equal to "theirs") upserted, or its draft deleted when that leaves nothing. Writes nothing when
   * any result would end before it starts or leave the date range; the counts say why.
   */
  async bulkEdit(tx: Tx, actor: Actor, ids: readonly string[], spec: BulkEditSpec): Promise<BulkEditOutcome> {
    const org = actor.organizationId;
    const scope: MergeScope = { organizationId: org, sessionId: actor.sessionId };
    const { shiftStartDays: startDays, shiftEndDays: endDays, changes } = spec;
    const changesJson = JSON.stringify(changes);
    // Its materialized rows are narrow (about 250 bytes), yet 20,000 of them still exceed the default
    // work_mem (4 MB) across the CTEs and the triggers' transition tables. For this transaction only
    // (SET LOCAL ends with it, so a transaction-mode pooler is fine with it).
    if (ids.length > 2_000) await sql`SET LOCAL work_mem = '64MB'`.execute(tx);
    // The keys an edit can put in the delta of a record without a draft of this session: its
    // baseline needs only these (not the whole merged document, about 1 KB each).
    const touched = [
      ...(startDays !== 0 ? ['forecastStart'] : []),
      ...(endDays !== 0 ? ['forecastEnd'] : []),
      ...Object.keys(changes).filter(
        (k) => !(k === 'forecastStart' && startDays !== 0) && !(k === 'forecastEnd' && endDays !== 0),
      ),
    ];
    const subset =
      touched.length === 0
        ? sql`'{}'::jsonb`
        : sql`jsonb_build_object(${sql.join(touched.map((k) => sql`${k}::text, r.data -> ${k}::text`))})`;
    // The date a forecast key has in the delta, without parsing the JSON of 20,000 rows: a key from
    // `changes` is that constant, a shifted one is the shifted date (its text is to_char of it).
    const deltaDate = (
      key: 'forecastStart' | 'forecastEnd',
      shifted: RawBuilder<unknown>,
      days: number,
    ) => sql`
      CASE WHEN ${changesJson}::jsonb ? ${key}::text THEN pfa_date(${changesJson}::jsonb -> ${key}::text)
           WHEN ${days}::int <> 0 THEN ${shifted}
           ELSE pfa_date(s.delta -> ${key}::text) END`;
    const { rows } = await sql<{
      invalid: string;
      out_of_range: string;
      affected: string;
      draft_ids: string[];
    }>`
      WITH target AS (
        SELECT r.id AS mirror_id, r.version, r.pems_version, r.has_draft,
               r.forecast_start AS old_start, r.forecast_end AS old_end,
               r.forecast_start + ${startDays}::int AS new_start, r.forecast_end + ${endDays}::int AS new_end,
               CASE WHEN NOT r.has_draft THEN ${subset} END AS subset
        FROM ${mergedSource(scope)} WHERE r.id = ANY(${ids}::bigint[]) AND ${compileFilter(spec.filter)}
      ),
      -- The baseline ("theirs": mirror + pending, without this session's draft) of a record without
      -- a draft is its merged record: only the keys the edit can change are taken from it (a missing
      -- key reads as JSON null, which no delta value equals and base_values stores as null anyway),
      -- and its forecast dates are the typed columns. Only the few records with a draft are rebuilt
      -- from the mirror, whole. MATERIALIZED: each row is computed once, not at every reference.
      computed AS MATERIALIZED (
        SELECT t.mirror_id, t.version, t.pems_version, t.has_draft, t.old_start, t.old_end, t.new_start, t.new_end,
               CASE WHEN t.has_draft THEN (
                 SELECT ${pendingOverlay(org)} FROM pfa_mirror m WHERE m.organization_id = ${org} AND m.id = t.mirror_id)
               ELSE t.subset END AS baseline,
               own.id AS own_id, own.delta AS own_delta, own.base_values AS own_base, own.sync_state AS own_state,
               coalesce(own.delta, '{}')
                 || jsonb_strip_nulls(jsonb_build_object(
                      'forecastStart', CASE WHEN ${startDays}::int <> 0 THEN to_jsonb(to_char(t.new_start, 'YYYY-MM-DD')) END,
                      'forecastEnd', CASE WHEN ${endDays}::int <> 0 THEN to_jsonb(to_char(t.new_end, 'YYYY-MM-DD')) END))
                 || ${changesJson}::jsonb AS wanted
        FROM target t
        LEFT JOIN pfa_modification own ON t.has_draft AND own.organization_id = ${org} AND own.mirror_id = t.mirror_id
          AND own.session_id = ${actor.sessionId} AND own.sync_state IN ('draft', 'conflict')
      ),
      -- A pure shift of a record without a draft needs no comparison: a date moved by N ≠ 0 days
      -- never equals its baseline, so the delta is what is wanted.
      stripped AS MATERIALIZED (
        SELECT c.*, CASE WHEN c.own_delta IS NULL AND ${Object.keys(changes).length === 0}::boolean THEN c.wanted
                    ELSE coalesce((SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(c.wanted) e
                                   WHERE e.value IS DISTINCT FROM c.baseline -> e.key), '{}') END AS delta
        FROM computed c WHERE c.own_state IS DISTINCT FROM 'conflict'
      ),
      -- Narrow rows (no baseline document): this is read once per statement below.
      checked AS MATERIALIZED (
        SELECT s.mirror_id, s.version, s.pems_version, s.own_id, s.own_delta, s.delta,
               -- (baseline || delta) -> k as a date: a delta never holds JSON null.
               CASE WHEN s.delta ? 'forecastEnd' THEN ${deltaDate('forecastEnd', sql`s.new_end`, endDays)}
                    WHEN s.has_draft THEN pfa_date(s.baseline -> 'forecastEnd') ELSE s.old_end END
                 < CASE WHEN s.delta ? 'forecastStart' THEN ${deltaDate('forecastStart', sql`s.new_start`, startDays)}
                        WHEN s.has_draft THEN pfa_date(s.baseline -> 'forecastStart') ELSE s.old_start END
                 AS bad,
               (${startDays}::int <> 0 AND s.new_start NOT BETWEEN DATE '0001-01-01' AND DATE '9999-12-31')
                 OR (${endDays}::int <> 0 AND s.new_end NOT BETWEEN DATE '0001-01-01' AND DATE '9999-12-31') AS out_of_range,
               -- Base values: "theirs" of each key of the delta (null when missing), except those the
               -- draft already had. Without a draft, a delta holding every key of the subset takes it whole.
               CASE WHEN NOT s.has_draft AND s.delta ?& ${touched}::text[] THEN s.baseline
                    ELSE (SELECT jsonb_object_agg(k, coalesce(s.baseline -> k, 'null'::jsonb)) FROM jsonb_object_keys(s.delta) k)
                           || coalesce((SELECT jsonb_object_agg(k, s.own_base -> k) FROM jsonb_object_keys(s.delta) k
                                        WHERE s.own_base ? k), '{}') END AS base_values
        FROM stripped s
      ),
      verdict AS (
        SELECT NOT EXISTS (SELECT 1 FROM checked WHERE bad OR out_of_range) AS ok
      ),
      upserted AS (
        INSERT INTO pfa_modification AS pm (organization_id, mirror_id, session_id, user_id, delta, modified_fields,
          base_values, base_version, base_pems_version, change_reason)
        SELECT ${org}, c.mirror_id, ${actor.sessionId}, ${actor.userId}, c.delta,
               ARRAY(SELECT jsonb_object_keys(c.delta)), c.base_values, c.version, c.pems_version, ${spec.reason}
        FROM checked c, verdict v
        WHERE v.ok AND c.delta <> '{}' AND c.delta IS DISTINCT FROM c.own_delta
        ON CONFLICT (organization_id, mirror_id, session_id) WHERE sync_state IN ('draft', 'conflict')
        DO UPDATE SET delta = EXCLUDED.delta, modified_fields = EXCLUDED.modified_fields,
          base_values = EXCLUDED.base_values, current_version = pm.current_version + 1,
          change_reason = coalesce(EXCLUDED.change_reason, pm.change_reason), updated_at = now()
        WHERE pm.sync_state = 'draft'
        RETURNING pm.id, pm.mirror_id, pm.delta, pm.current_version
      ),
      removed AS (
        DELETE FROM pfa_modification pm USING checked c, verdict v
        WHERE v.ok AND c.delta = '{}' AND c.own_id IS NOT NULL
          AND pm.organization_id = ${org} AND pm.id = c.own_id AND pm.sync_state = 'draft'
        RETURNING pm.id, pm.mirror_id, pm.delta
      ),
      events AS (
        INSERT INTO pfa_modification_event (organization_id, modification_id, mirror_id, session_id, user_id, action,
          reason, old_delta, new_delta, from_state, to_state)
        SELECT ${org}, u.id, u.mirror_id, ${actor.sessionId}, ${actor.userId},
               CASE WHEN u.current_version = 1 THEN 'created' ELSE 'edited' END, ${spec.reason},
               c.own_delta, u.delta, CASE WHEN c.own_id IS NULL THEN NULL ELSE 'draft'::pfa_sync_state END,
               'draft'::pfa_sync_state
        FROM upserted u JOIN checked c ON c.mirror_id = u.mirror_id
        UNION ALL
        SELECT ${org}, x.id, x.mirror_id, ${actor.sessionId}, ${actor.userId}, 'emptied', ${spec.reason}, x.delta, NULL,
               'draft'::pfa_sync_state, NULL
        FROM removed x
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM checked WHERE bad) AS invalid,
             (SELECT count(*) FROM checked WHERE out_of_range) AS out_of_range,
             (SELECT count(*) FROM upserted) + (SELECT count(*) FROM removed) + 0 * (SELECT count(*) FROM events) AS affected,
             ARRAY(SELECT id::text FROM upserted ORDER BY id) AS draft_ids`.execute(tx);
    const r = rows[0];
    return {
      affected: Number(r?.affected ?? 0),
      draftIds: (r?.draft_ids ?? []).map(String),
      endsBeforeStart: Number(r?.invalid ?? 0),
      outOfRange: Number(r?.out_of_range ?? 0),
    };
  }

  // ----------------------------------------------------------------------------- commit

  /** Ids and records of the session's open modifications (all, or those named), unlocked. */
  async openOfSession(
    tx: Tx,
    actor: Actor,
    ids: readonly string[] | null,
  ): Promise<{ id: string; mirrorId: string }[]> {
    const { rows } = await sql<{ id: string; mirror_id: string }>`
      SELECT id, mirror_id FROM pfa_modification
      WHERE organization_id = ${actor.organizationId} AND session_id = ${actor.sessionId}
        AND sync_state IN ('draft', 'conflict')
        ${ids ? sql`AND id = ANY(${ids}::bigint[])` : sql``}`.execute(tx);
    return rows.map((r) => ({ id: String(r.id), mirrorId: String(r.mirror_id) }));
  }

  /** The named open modifications of the session, locked, each with "theirs" of its record. */
  async openWithTheirs(tx: Tx, actor: Actor, ids: readonly string[]): Promise<DraftWithTheirs[]> {
    if (ids.length === 0) return [];
    const org = actor.organizationId;
    const { rows } = await sql<
      ModificationRow & {
        theirs: Record<string, unknown>;
        mirror_version: number;
        mirror_pems_version: string | null;
        removed_from_pems_at: Date | null;
      }
    >`
      SELECT d.*, ${pendingOverlay(org)} AS theirs, m.version AS mirror_version,
             m.pems_version AS mirror_pems_version, m.removed_from_pems_at
      FROM (
        SELECT ${MOD_COLUMNS} FROM pfa_modification
        WHERE organization_id = ${org} AND session_id = ${actor.sessionId} AND sync_state IN ('draft', 'conflict')
          AND id = ANY(${ids}::bigint[])
        ORDER BY id
        FOR UPDATE
      ) d
      JOIN pfa_mirror m ON m.organization_id = ${org} AND m.id = d.mirror_id
      ORDER BY d.id`.execute(tx);
    return rows.map((r) => ({
      draft: toDraftView(r),
      theirs: {
        mirrorId: String(r.mirror_id),
        data: r.theirs,
        version: r.mirror_version,
        pemsVersion: r.mirror_pems_version,
        removedFromPemsAt: r.removed_from_pems_at,
      },
    }));
  }

  /** draft|conflict → committed; a rebased one takes "theirs" as its new base. */
  async markCommitted(
    tx: Tx,
    actor: Actor,
    items: readonly { id: string; rebase: Theirs | null; baseValues: Record<string, unknown> | null }[],
  ): Promise<void> {
    if (items.length === 0) return;
    const input = items.map((c) => ({
      id: c.id,
      rebase: c.rebase !== null,
      base_values: c.baseValues,
      version: c.rebase?.version ?? null,
      pems: c.rebase?.pemsVersion ?? null,
    }));
    await sql`
      UPDATE pfa_modification pm SET sync_state = 'committed', committed_at = now(), committed_by = ${actor.userId},
        updated_at = now(), conflicts = NULL, last_error = NULL,
        base_version = CASE WHEN c.rebase THEN c.version ELSE pm.base_version END,
        base_pems_version = CASE WHEN c.rebase THEN c.pems ELSE pm.base_pems_version END,
        base_values = CASE WHEN c.rebase THEN c.base_values ELSE pm.base_values END
      FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
        AS c(id bigint, rebase boolean, base_values jsonb, version int, pems text)
      WHERE pm.organization_id = ${actor.organizationId} AND pm.id = c.id`.execute(tx);
  }

  /** draft → conflict with base/theirs/mine per field. */
  async markConflicted(
    tx: Tx,
    organizationId: string,
    items: readonly { id: string; conflicts: FieldConflict[] }[],
  ): Promise<void> {
    if (items.length === 0) return;
    await sql`
      UPDATE pfa_modification pm SET sync_state = 'conflict', conflicts = c.conflicts, updated_at = now()
      FROM jsonb_to_recordset(${JSON.stringify(items)}::jsonb) AS c(id bigint, conflicts jsonb)
      WHERE pm.organization_id = ${organizationId} AND pm.id = c.id`.execute(tx);
  }

  // ----------------------------------------------------------------------------- audit

  async audit(tx: Tx, actor: Actor, entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await tx
      .insertInto('pfa_modification_event')
      .values(
        entries.map((e) => ({
          organization_id: actor.organizationId,
          modification_id: e.modificationId,
          mirror_id: e.mirrorId,
          session_id: actor.sessionId,
          user_id: actor.userId,
          action: e.action,
          reason: e.reason,
          old_delta: e.oldDelta === null ? null : JSON.stringify(e.oldDelta),
          new_delta: e.newDelta === null ? null : JSON.stringify(e.newDelta),
          from_state: e.from,
          to_state: e.to,
        })),
      )
      .execute();
  }
}
