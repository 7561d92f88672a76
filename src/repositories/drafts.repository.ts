import { sql, type Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database, SyncState } from '../db/tables.js';
import type { DraftView, FieldConflict } from '../domain/draft.js';
import { baseValuesOf, checkForecastOrder, detectConflicts, minimiseDelta } from '../domain/draft-rules.js';
import { DomainError, badInput, notFound } from '../domain/errors.js';
import { compileFilter, mergedSource, type MergeScope, type RecordFilter } from './record-query.js';

type Tx = Transaction<Database>;

interface ModificationRow {
  id: string;
  organization_id: string;
  mirror_id: string;
  session_id: string;
  user_id: string;
  delta: Record<string, unknown>;
  modified_fields: string[];
  base_values: Record<string, unknown>;
  base_version: number;
  base_pems_version: string | null;
  current_version: number;
  sync_state: SyncState;
  conflicts: FieldConflict[] | null;
  change_reason: string | null;
  created_at: Date;
  updated_at: Date;
  committed_at: Date | null;
  last_error: string | null;
}

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
  userId: string;
  sessionId: string;
}

export interface EditResult {
  draft: DraftView | null;
  mirrorId: string;
}

export interface CommitResult {
  committed: DraftView[];
  conflicted: DraftView[];
}

/** What the organization sees of a record without any draft: mirror + pending deltas. */
interface Baseline {
  data: Record<string, unknown>;
  version: number;
  pemsVersion: string | null;
}

/** Drafts (pfa_modification) and every state change of DOMAIN §3, each in one transaction. */
export class DraftsRepository {
  constructor(private readonly db: Db) {}

  // ----------------------------------------------------------------------------- reads

  async byIds(organizationId: string, ids: readonly string[]): Promise<DraftView[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<ModificationRow>`
      SELECT ${MOD_COLUMNS} FROM pfa_modification
      WHERE organization_id = ${organizationId} AND id = ANY(${ids}::bigint[])`.execute(this.db);
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

  // ----------------------------------------------------------------------------- edit

  private async baseline(tx: Tx, organizationId: string, mirrorId: string): Promise<Baseline | null> {
    const { rows } = await sql<{
      data: Record<string, unknown>;
      version: number;
      pems_version: string | null;
    }>`
      SELECT r.data, r.version, r.pems_version FROM ${mergedSource({ organizationId, sessionId: null })}
      WHERE r.id = ${mirrorId}::bigint`.execute(tx);
    const row = rows[0];
    return row ? { data: row.data, version: row.version, pemsVersion: row.pems_version } : null;
  }

  private async lockOpenDraft(
    tx: Tx,
    scope: MergeScope & Actor,
    mirrorId: string,
  ): Promise<ModificationRow | null> {
    // Serialises edits of one (record, session), including two concurrent first edits, which
    // have no row to lock yet.
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`${scope.organizationId}/${scope.sessionId}/${mirrorId}`}, 0))`.execute(
      tx,
    );
    const { rows } = await sql<ModificationRow>`
      SELECT ${MOD_COLUMNS} FROM pfa_modification
      WHERE organization_id = ${scope.organizationId} AND session_id = ${scope.sessionId}
        AND mirror_id = ${mirrorId}::bigint AND sync_state IN ('draft', 'conflict')
      FOR UPDATE`.execute(tx);
    return rows[0] ?? null;
  }

  /**
   * updatePfaRecord: checks the expected version under a lock, keeps only keys that differ from
   * the baseline, and creates, changes or (when emptied) deletes the session's draft.
   */
  async edit(
    scope: MergeScope & Actor,
    mirrorId: string,
    expectedVersion: number,
    changes: Record<string, unknown>,
    reason: string | null,
  ): Promise<EditResult> {
    return this.db.transaction().execute(async (tx) => {
      const existing = await this.lockOpenDraft(tx, scope, mirrorId);
      const actual = existing?.current_version ?? 0;
      if (actual !== expectedVersion) {
        throw new DomainError(
          'VERSION_CONFLICT',
          `draft of record ${mirrorId} is at version ${actual}, not ${expectedVersion}`,
          { currentVersion: actual },
        );
      }
      if (existing?.sync_state === 'conflict')
        throw badInput(
          `draft ${existing.id} is in conflict: resolve it (resolveConflict) before editing`,
          'input.id',
        );
      const base = await this.baseline(tx, scope.organizationId, mirrorId);
      if (!base) throw notFound(`record ${mirrorId} not found`);
      const delta = minimiseDelta(existing?.delta ?? {}, changes, base.data);
      checkForecastOrder({ ...base.data, ...delta });
      const keys = Object.keys(delta);

      if (keys.length === 0) {
        if (existing) {
          await tx
            .deleteFrom('pfa_modification')
            .where('organization_id', '=', scope.organizationId)
            .where('id', '=', existing.id)
            .execute();
          await this.audit(
            tx,
            scope,
            existing.id,
            mirrorId,
            'emptied',
            reason,
            existing.delta,
            null,
            'draft',
            null,
          );
        }
        return { draft: null, mirrorId };
      }

      let row: ModificationRow;
      if (existing) {
        // Base values stay those of the first edit; keys new to the draft take today's baseline.
        const baseValues = { ...baseValuesOf(delta, base.data), ...pick(existing.base_values, keys) };
        const { rows } = await sql<ModificationRow>`
          UPDATE pfa_modification SET delta = ${JSON.stringify(delta)}::jsonb, modified_fields = ${keys}::text[],
            base_values = ${JSON.stringify(baseValues)}::jsonb, current_version = current_version + 1,
            change_reason = coalesce(${reason}, change_reason), updated_at = now()
          WHERE organization_id = ${scope.organizationId} AND id = ${existing.id}
          RETURNING ${MOD_COLUMNS}`.execute(tx);
        row = rows[0] as ModificationRow;
      } else {
        const { rows } = await sql<ModificationRow>`
          INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields,
            base_values, base_version, base_pems_version, change_reason)
          VALUES (${scope.organizationId}, ${mirrorId}::bigint, ${scope.sessionId}, ${scope.userId},
            ${JSON.stringify(delta)}::jsonb, ${keys}::text[], ${JSON.stringify(baseValuesOf(delta, base.data))}::jsonb,
            ${base.version}, ${base.pemsVersion}, ${reason})
          RETURNING ${MOD_COLUMNS}`.execute(tx);
        row = rows[0] as ModificationRow;
      }
      await this.audit(
        tx,
        scope,
        row.id,
        mirrorId,
        existing ? 'edited' : 'created',
        reason,
        existing?.delta ?? null,
        delta,
        existing ? 'draft' : null,
        'draft',
      );
      return { draft: toDraftView(row), mirrorId };
    });
  }

  /**
   * bulkUpdatePfaRecords in ONE statement: the filter picks records on merged values; each gets
   * its delta (session's previous delta + shift + changes, minus keys equal to the baseline)
   * upserted, or its draft deleted when that leaves nothing. Refuses (writing nothing) when more
   * than `max` records match or when a result would end before it starts.
   */
  async bulkEdit(
    scope: MergeScope & Actor,
    filter: RecordFilter,
    shiftDays: number,
    changes: Record<string, unknown>,
    reason: string | null,
    max: number,
  ): Promise<number> {
    const org = scope.organizationId;
    const { rows } = await sql<{ matched: string; invalid: string; affected: string }>`
      WITH target AS (
        SELECT r.id AS mirror_id, r.data AS merged, r.version, r.pems_version, r.has_draft,
               r.forecast_start, r.forecast_end
        FROM ${mergedSource(scope)} WHERE ${compileFilter(filter)}
      ),
      total AS (SELECT count(*) AS n FROM target),
      -- MATERIALIZED: inlined, baseline (the whole merged document) and wanted were recomputed at
      -- every reference below, once per row each. The baseline (mirror + pending, without this
      -- session's draft) is the merged record itself for records without a draft; only the few
      -- with one are rebuilt from the mirror.
      computed AS MATERIALIZED (
        SELECT t.mirror_id, t.version, t.pems_version,
               CASE WHEN t.has_draft THEN (
                 SELECT m.data || coalesce((SELECT jsonb_concat_agg(d.delta ORDER BY d.committed_at, d.id) FROM pfa_modification d
                                             WHERE d.organization_id = ${org} AND d.mirror_id = m.id
                                               AND d.sync_state IN ('committed', 'syncing')), '{}')
                 FROM pfa_mirror m WHERE m.organization_id = ${org} AND m.id = t.mirror_id)
               ELSE t.merged END AS baseline,
               own.id AS own_id, own.delta AS own_delta, own.base_values AS own_base, own.sync_state AS own_state,
               coalesce(own.delta, '{}')
                 || CASE WHEN ${shiftDays}::int <> 0 THEN jsonb_strip_nulls(jsonb_build_object(
                      'forecastStart', to_jsonb(to_char(t.forecast_start + ${shiftDays}::int, 'YYYY-MM-DD')),
                      'forecastEnd', to_jsonb(to_char(t.forecast_end + ${shiftDays}::int, 'YYYY-MM-DD'))))
                    ELSE '{}'::jsonb END
                 || ${JSON.stringify(changes)}::jsonb AS wanted
        FROM target t
        LEFT JOIN pfa_modification own ON t.has_draft AND own.organization_id = ${org} AND own.mirror_id = t.mirror_id
          AND own.session_id = ${scope.sessionId} AND own.sync_state IN ('draft', 'conflict')
      ),
      -- A pure shift of a record without a draft needs no comparison: a date moved by N ≠ 0 days
      -- never equals its baseline, so the delta is what is wanted.
      stripped AS MATERIALIZED (
        SELECT c.*, CASE WHEN c.own_delta IS NULL AND ${Object.keys(changes).length === 0}::boolean THEN c.wanted
                    ELSE coalesce((SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(c.wanted) e
                                   WHERE e.value IS DISTINCT FROM c.baseline -> e.key), '{}') END AS delta
        FROM computed c WHERE c.own_state IS DISTINCT FROM 'conflict'
      ),
      checked AS (
        -- (baseline || delta) -> k without building the merged document: a delta never holds JSON null.
        SELECT s.*, pfa_date(coalesce(s.delta -> 'forecastEnd', s.baseline -> 'forecastEnd'))
                      < pfa_date(coalesce(s.delta -> 'forecastStart', s.baseline -> 'forecastStart')) AS bad
        FROM stripped s
      ),
      verdict AS (
        SELECT (SELECT n FROM total) <= ${max} AND NOT EXISTS (SELECT 1 FROM checked WHERE bad) AS ok
      ),
      upserted AS (
        INSERT INTO pfa_modification AS pm (organization_id, mirror_id, session_id, user_id, delta, modified_fields,
          base_values, base_version, base_pems_version, change_reason)
        SELECT ${org}, c.mirror_id, ${scope.sessionId}, ${scope.userId}, c.delta,
               ARRAY(SELECT jsonb_object_keys(c.delta)),
               (SELECT jsonb_object_agg(k, coalesce(c.baseline -> k, 'null'::jsonb)) FROM jsonb_object_keys(c.delta) k)
                 || coalesce((SELECT jsonb_object_agg(k, c.own_base -> k) FROM jsonb_object_keys(c.delta) k WHERE c.own_base ? k), '{}'),
               c.version, c.pems_version, ${reason}
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
        SELECT ${org}, u.id, u.mirror_id, ${scope.sessionId}, ${scope.userId},
               CASE WHEN u.current_version = 1 THEN 'created' ELSE 'edited' END, ${reason},
               c.own_delta, u.delta, CASE WHEN c.own_id IS NULL THEN NULL ELSE 'draft'::pfa_sync_state END,
               'draft'::pfa_sync_state
        FROM upserted u JOIN checked c ON c.mirror_id = u.mirror_id
        UNION ALL
        SELECT ${org}, x.id, x.mirror_id, ${scope.sessionId}, ${scope.userId}, 'emptied', ${reason}, x.delta, NULL,
               'draft'::pfa_sync_state, NULL
        FROM removed x
        RETURNING 1
      )
      SELECT (SELECT n FROM total) AS matched,
             (SELECT count(*) FROM checked WHERE bad) AS invalid,
             (SELECT count(*) FROM upserted) + (SELECT count(*) FROM removed) + 0 * (SELECT count(*) FROM events) AS affected`.execute(
      this.db,
    );
    const r = rows[0];
    const matched = Number(r?.matched ?? 0);
    if (matched > max)
      throw badInput(
        `the filter matches ${matched} records; bulk updates are limited to ${max}`,
        'input.filter',
      );
    const invalid = Number(r?.invalid ?? 0);
    if (invalid > 0)
      throw badInput(
        `${invalid} matching records would end their forecast before it starts; nothing changed`,
        'input',
      );
    return Number(r?.affected ?? 0);
  }

  // ----------------------------------------------------------------------------- commit

  /**
   * commitDrafts: field-level conflict check against what others have now (mirror + other
   * sessions' pending deltas). No real conflict → committed (rebased when the mirror moved);
   * otherwise → conflict with base/theirs/mine per field. One transaction.
   */
  async commit(scope: MergeScope & Actor, ids: readonly string[] | null): Promise<CommitResult> {
    return this.db.transaction().execute(async (tx) => {
      const org = scope.organizationId;
      const { rows } = await sql<
        ModificationRow & {
          theirs: Record<string, unknown>;
          mirror_version: number;
          mirror_pems_version: string | null;
        }
      >`
        SELECT d.*, theirs.data AS theirs, m.version AS mirror_version,
               m.pems_version AS mirror_pems_version
        FROM (
          SELECT ${MOD_COLUMNS} FROM pfa_modification
          WHERE organization_id = ${org} AND session_id = ${scope.sessionId} AND sync_state IN ('draft', 'conflict')
            ${ids ? sql`AND id = ANY(${ids}::bigint[])` : sql``}
          ORDER BY id
          FOR UPDATE
        ) d
        JOIN pfa_mirror m ON m.organization_id = ${org} AND m.id = d.mirror_id
        CROSS JOIN LATERAL (
          SELECT m.data || coalesce((SELECT jsonb_concat_agg(o.delta ORDER BY o.committed_at, o.id) FROM pfa_modification o
                                      WHERE o.organization_id = ${org} AND o.mirror_id = d.mirror_id
                                        AND o.sync_state IN ('committed', 'syncing') AND o.session_id <> ${scope.sessionId}), '{}') AS data
        ) theirs`.execute(tx);
      if (ids) {
        const found = new Set(rows.map((r) => String(r.id)));
        const missing = ids.filter((id) => !found.has(id));
        if (missing.length) throw notFound(`no open draft of this session with id ${missing.join(', ')}`);
      }
      const committed: {
        id: string;
        rebase: boolean;
        baseValues: Record<string, unknown>;
        version: number;
        pems: string | null;
      }[] = [];
      const conflicted: { id: string; conflicts: FieldConflict[] }[] = [];
      for (const r of rows) {
        if (r.sync_state === 'conflict') {
          conflicted.push({ id: String(r.id), conflicts: r.conflicts ?? [] });
          continue;
        }
        const conflicts = detectConflicts(r.delta, r.base_values, r.theirs);
        if (conflicts.length) conflicted.push({ id: String(r.id), conflicts });
        else
          committed.push({
            id: String(r.id),
            rebase: r.mirror_version !== r.base_version,
            baseValues: baseValuesOf(r.delta, r.theirs),
            version: r.mirror_version,
            pems: r.mirror_pems_version,
          });
      }
      if (committed.length) {
        await sql`
          UPDATE pfa_modification pm SET sync_state = 'committed', committed_at = now(), committed_by = ${scope.userId},
            commit_xid = pg_current_xact_id(), updated_at = now(), conflicts = NULL,
            base_version = CASE WHEN c.rebase THEN c.version ELSE pm.base_version END,
            base_pems_version = CASE WHEN c.rebase THEN c.pems ELSE pm.base_pems_version END,
            base_values = CASE WHEN c.rebase THEN c.base_values ELSE pm.base_values END
          FROM jsonb_to_recordset(${JSON.stringify(committed.map((c) => ({ id: c.id, rebase: c.rebase, base_values: c.baseValues, version: c.version, pems: c.pems })))}::jsonb)
            AS c(id bigint, rebase boolean, base_values jsonb, version int, pems text)
          WHERE pm.organization_id = ${org} AND pm.id = c.id`.execute(tx);
      }
      const newConflicts = conflicted.filter(
        (c) => rows.find((r) => String(r.id) === c.id)?.sync_state === 'draft',
      );
      if (newConflicts.length) {
        await sql`
          UPDATE pfa_modification pm SET sync_state = 'conflict', conflicts = c.conflicts, updated_at = now()
          FROM jsonb_to_recordset(${JSON.stringify(newConflicts)}::jsonb) AS c(id bigint, conflicts jsonb)
          WHERE pm.organization_id = ${org} AND pm.id = c.id`.execute(tx);
      }
      await this.auditMany(tx, scope, [
        ...committed.map((c) => ({ id: c.id, action: 'committed', to: 'committed' as SyncState })),
        ...newConflicts.map((c) => ({ id: c.id, action: 'conflicted', to: 'conflict' as SyncState })),
      ]);
      const after = await this.byIdsTx(tx, org, [
        ...committed.map((c) => c.id),
        ...conflicted.map((c) => c.id),
      ]);
      const byId = new Map(after.map((d) => [d.id, d]));
      return {
        committed: committed.map((c) => byId.get(c.id)).filter((d): d is DraftView => !!d),
        conflicted: conflicted.map((c) => byId.get(c.id)).filter((d): d is DraftView => !!d),
      };
    });
  }

  /** discardDrafts: removes open drafts and conflicts of the session; returns how many. */
  async discard(scope: MergeScope & Actor, ids: readonly string[] | null): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const org = scope.organizationId;
      const { rows } = await sql<{
        id: string;
        mirror_id: string;
        delta: Record<string, unknown>;
        sync_state: SyncState;
      }>`
        DELETE FROM pfa_modification
        WHERE organization_id = ${org} AND session_id = ${scope.sessionId} AND sync_state IN ('draft', 'conflict')
          ${ids ? sql`AND id = ANY(${ids}::bigint[])` : sql``}
        RETURNING id, mirror_id, delta, sync_state`.execute(tx);
      if (ids) {
        const found = new Set(rows.map((r) => String(r.id)));
        const missing = ids.filter((id) => !found.has(id));
        if (missing.length) throw notFound(`no open draft of this session with id ${missing.join(', ')}`); // rolls back
      }
      for (const r of rows)
        await this.audit(tx, scope, r.id, r.mirror_id, 'discarded', null, r.delta, null, r.sync_state, null);
      return rows.length;
    });
  }

  /**
   * resolveConflict. KEEP_MINE: rebased onto what others have now and committed. ACCEPT_THEIRS:
   * deleted. Only the draft's owner may do it, from any of their sessions.
   */
  async resolve(
    draft: DraftView,
    userId: string,
    resolution: 'KEEP_MINE' | 'ACCEPT_THEIRS',
  ): Promise<DraftView | null> {
    return this.db.transaction().execute(async (tx) => {
      const org = draft.organizationId;
      const { rows } = await sql<ModificationRow>`
        SELECT ${MOD_COLUMNS} FROM pfa_modification WHERE organization_id = ${org} AND id = ${draft.id}::bigint FOR UPDATE`.execute(
        tx,
      );
      const row = rows[0];
      if (!row || row.sync_state !== 'conflict') throw badInput(`draft ${draft.id} is not in conflict`, 'id');
      const actor = { organizationId: org, sessionId: row.session_id, userId };
      if (resolution === 'ACCEPT_THEIRS') {
        await tx
          .deleteFrom('pfa_modification')
          .where('organization_id', '=', org)
          .where('id', '=', row.id)
          .execute();
        await this.audit(
          tx,
          actor,
          row.id,
          row.mirror_id,
          'accepted-theirs',
          null,
          row.delta,
          null,
          'conflict',
          null,
        );
        return null;
      }
      const { rows: theirsRows } = await sql<{
        data: Record<string, unknown>;
        version: number;
        pems_version: string | null;
      }>`
        SELECT m.data || coalesce((SELECT jsonb_concat_agg(o.delta ORDER BY o.committed_at, o.id) FROM pfa_modification o
                                    WHERE o.organization_id = ${org} AND o.mirror_id = m.id AND o.id <> ${row.id}
                                      AND o.sync_state IN ('committed', 'syncing') AND o.session_id <> ${row.session_id}), '{}') AS data,
               m.version, m.pems_version
        FROM pfa_mirror m WHERE m.organization_id = ${org} AND m.id = ${row.mirror_id}::bigint`.execute(tx);
      const theirs = theirsRows[0];
      if (!theirs) throw notFound(`record ${row.mirror_id} not found`);
      const { rows: updated } = await sql<ModificationRow>`
        UPDATE pfa_modification SET sync_state = 'committed', conflicts = NULL, committed_at = now(),
          committed_by = ${userId}, commit_xid = pg_current_xact_id(), updated_at = now(), last_error = NULL,
          base_version = ${theirs.version}, base_pems_version = ${theirs.pems_version},
          base_values = ${JSON.stringify(baseValuesOf(row.delta, theirs.data))}::jsonb
        WHERE organization_id = ${org} AND id = ${row.id}
        RETURNING ${MOD_COLUMNS}`.execute(tx);
      await this.audit(
        tx,
        actor,
        row.id,
        row.mirror_id,
        'kept-mine',
        null,
        row.delta,
        row.delta,
        'conflict',
        'committed',
      );
      return updated[0] ? toDraftView(updated[0]) : null;
    });
  }

  // ----------------------------------------------------------------------------- helpers

  private async byIdsTx(tx: Tx, organizationId: string, ids: readonly string[]): Promise<DraftView[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<ModificationRow>`
      SELECT ${MOD_COLUMNS} FROM pfa_modification
      WHERE organization_id = ${organizationId} AND id = ANY(${ids}::bigint[])`.execute(tx);
    return rows.map(toDraftView);
  }

  private async audit(
    tx: Tx,
    scope: { organizationId: string; sessionId: string; userId: string },
    modificationId: string,
    mirrorId: string,
    action: string,
    reason: string | null,
    oldDelta: Record<string, unknown> | null,
    newDelta: Record<string, unknown> | null,
    from: SyncState | null,
    to: SyncState | null,
  ): Promise<void> {
    await tx
      .insertInto('pfa_modification_event')
      .values({
        organization_id: scope.organizationId,
        modification_id: modificationId,
        mirror_id: mirrorId,
        session_id: scope.sessionId,
        user_id: scope.userId,
        action,
        reason,
        old_delta: oldDelta === null ? null : JSON.stringify(oldDelta),
        new_delta: newDelta === null ? null : JSON.stringify(newDelta),
        from_state: from,
        to_state: to,
      })
      .execute();
  }

  private async auditMany(
    tx: Tx,
    scope: MergeScope & Actor,
    events: { id: string; action: string; to: SyncState }[],
  ): Promise<void> {
    if (events.length === 0) return;
    await sql`
      INSERT INTO pfa_modification_event (organization_id, modification_id, mirror_id, session_id, user_id, action,
        old_delta, new_delta, from_state, to_state)
      SELECT pm.organization_id, pm.id, pm.mirror_id, pm.session_id, ${scope.userId}, e.action, pm.delta, pm.delta,
             'draft', e.to_state::pfa_sync_state
      FROM jsonb_to_recordset(${JSON.stringify(events.map((e) => ({ id: e.id, action: e.action, to_state: e.to })))}::jsonb)
        AS e(id bigint, action text, to_state text)
      JOIN pfa_modification pm ON pm.organization_id = ${scope.organizationId} AND pm.id = e.id`.execute(tx);
  }
}

function pick(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}
