import { sql, type Selectable, type Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database, JsonObject, PfaMirrorTable, PfaModificationTable } from '../db/tables.js';
import type { FieldConflict } from '../domain/draft.js';

/**
 * SQL of write-back (commits → PEMS), DOMAIN §3: claiming pending changes, and every state
 * change a write-back may make — committed → syncing → synced | conflict, syncing → committed —
 * each in one statement or transaction, each recorded in pfa_modification_event.
 */

/** Who the audit trail names for write-back's state changes. */
export const WRITE_BACK_ACTOR = 'system:write-sync';

export interface PendingChange {
  id: string;
  organizationId: string;
  mirrorId: string;
  pfaId: string;
  sessionId: string;
  userId: string;
  delta: JsonObject;
  baseValues: JsonObject;
  /** The PEMS recordid the change is based on; null when the mirror never had one. */
  basePemsVersion: string | null;
  syncAttempts: number;
  committedAt: Date;
  /** Set when a full read sync found the record gone from PEMS: nothing is written back for it. */
  removedFromPemsAt: Date | null;
}

/** What claim's UPDATE … RETURNING gives: the change, its record's pfa_id and removal (committed_at is set: committed). */
type ClaimRow = Pick<
  Selectable<PfaModificationTable>,
  | 'id'
  | 'mirror_id'
  | 'session_id'
  | 'user_id'
  | 'delta'
  | 'base_values'
  | 'base_pems_version'
  | 'sync_attempts'
> &
  Pick<Selectable<PfaMirrorTable>, 'pfa_id' | 'removed_from_pems_at'> & { committed_at: Date };

export class WriteBackRepository {
  constructor(private readonly db: Db) {}

  /**
   * Changes left `syncing` for longer than the lease belonged to a worker that stopped (crash,
   * kill -9): they go back to `committed` so this run sends them again. Sending twice is safe:
   * the second send carries the same base recordid, PEMS refuses it as stale, and the re-read
   * finds the values already there.
   */
  async recoverExpiredClaims(organizationId: string, leaseMs: number): Promise<number> {
    const { rows } = await sql<{ id: string }>`
      WITH expired AS (
        UPDATE pfa_modification SET sync_state = 'committed', updated_at = now(),
          last_error = 'write-back claim expired (the worker stopped); sent again'
        WHERE organization_id = ${organizationId} AND sync_state = 'syncing'
          AND updated_at < now() - make_interval(secs => ${leaseMs / 1000})
        RETURNING id, mirror_id, session_id, delta
      ), events AS (
        INSERT INTO pfa_modification_event (organization_id, modification_id, mirror_id, session_id, user_id, action,
          reason, old_delta, new_delta, from_state, to_state)
        SELECT ${organizationId}, e.id, e.mirror_id, e.session_id, ${WRITE_BACK_ACTOR}, 'sync-claim-expired',
               NULL, e.delta, e.delta, 'syncing', 'committed'
        FROM expired e
        RETURNING 1
      )
      SELECT id FROM expired`.execute(this.db);
    return rows.length;
  }

  /**
   * Claims up to `limit` committed changes in commit order (committed → syncing). FOR UPDATE SKIP
   * LOCKED: two workers never claim the same change. A change waits while an earlier pending
   * change of the same record exists, so one record's changes reach PEMS in commit order.
   */
  async claim(organizationId: string, limit: number, exclude: readonly string[]): Promise<PendingChange[]> {
    const { rows } = await sql<ClaimRow>`
      WITH picked AS (
        SELECT pm.id FROM pfa_modification pm
        WHERE pm.organization_id = ${organizationId} AND pm.sync_state = 'committed'
          AND NOT (pm.id = ANY(${exclude as string[]}::bigint[]))
          AND NOT EXISTS (
            SELECT 1 FROM pfa_modification e
            WHERE e.organization_id = pm.organization_id AND e.mirror_id = pm.mirror_id
              AND e.sync_state IN ('committed', 'syncing') AND (e.committed_at, e.id) < (pm.committed_at, pm.id))
        ORDER BY pm.committed_at, pm.id
        LIMIT ${limit}
        FOR UPDATE OF pm SKIP LOCKED
      )
      UPDATE pfa_modification pm SET sync_state = 'syncing', updated_at = now()
      FROM picked p, pfa_mirror m
      WHERE pm.organization_id = ${organizationId} AND pm.id = p.id
        AND m.organization_id = pm.organization_id AND m.id = pm.mirror_id
      RETURNING pm.id, pm.mirror_id, m.pfa_id, pm.session_id, pm.user_id, pm.delta, pm.base_values,
                pm.base_pems_version, pm.sync_attempts, pm.committed_at, m.removed_from_pems_at`.execute(
      this.db,
    );
    return rows
      .map((r) => ({
        id: String(r.id),
        organizationId,
        mirrorId: String(r.mirror_id),
        pfaId: r.pfa_id,
        sessionId: r.session_id,
        userId: r.user_id,
        delta: r.delta,
        baseValues: r.base_values,
        basePemsVersion: r.base_pems_version,
        syncAttempts: r.sync_attempts,
        committedAt: r.committed_at,
        removedFromPemsAt: r.removed_from_pems_at,
      }))
      .sort((a, b) => a.committedAt.getTime() - b.committedAt.getTime() || Number(a.id) - Number(b.id));
  }

  /**
   * PEMS holds these changes: in ONE statement each change becomes synced and its record's mirror
   * row takes the new data — `mirror data || delta` after our own UPDATE, or PEMS's record as
   * re-read — and PEMS's new recordid. Returns the ids settled; a change missing from the answer
   * was no longer ours to finish (its claim expired and it went back to committed): the next
   * run's re-read will find it applied. At most one change per record may be passed (claim
   * guarantees it: a record's next change waits while this one is syncing).
   */
  async markSynced(
    items: readonly {
      change: PendingChange;
      pemsVersion: string;
      data: JsonObject | null;
      /** The recordid the accepted update was sent with (null: PEMS already held the values). */
      sentWith?: string | null;
    }[],
  ): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const org = items[0]?.change.organizationId as string;
    const input = JSON.stringify(
      items.map((i) => ({
        id: i.change.id,
        pems_version: i.pemsVersion,
        data: i.data,
        sent_with: i.sentWith ?? null,
      })),
    );
    return this.db.transaction().execute(async (tx) => {
      // One writer per record: the mirror rows first, in id order (as commits take them).
      await sql`
        SELECT id FROM pfa_mirror
        WHERE organization_id = ${org} AND id = ANY(${items.map((i) => i.change.mirrorId)}::bigint[])
        ORDER BY id FOR UPDATE`.execute(tx);
      const { rows } = await sql<{ id: string }>`
        WITH input AS (
          SELECT * FROM jsonb_to_recordset(${input}::jsonb) AS i(id bigint, pems_version text, data jsonb, sent_with text)
        ), done AS (
          UPDATE pfa_modification pm SET sync_state = 'synced', synced_at = now(), updated_at = now(), last_error = NULL,
            sync_attempts = pm.sync_attempts + 1
          FROM input i
          WHERE pm.organization_id = ${org} AND pm.id = i.id AND pm.sync_state = 'syncing'
          RETURNING pm.id, pm.mirror_id, pm.session_id, pm.delta, pm.committed_at, pm.base_pems_version,
                    i.pems_version, i.data, i.sent_with
        ), mirror AS (
          UPDATE pfa_mirror m
          SET data = coalesce(d.data, m.data || d.delta), pems_version = d.pems_version, last_synced_at = now()
          FROM done d
          WHERE m.organization_id = ${org} AND m.id = d.mirror_id
          RETURNING m.id
        ), forwarded AS (
          -- The next pending changes of the record were based on the same PEMS state plus this
          -- change (theirs includes every pending delta): when PEMS took this one with that very
          -- recordid, they are based on the recordid it returned, and are sent with it (DOMAIN §3).
          UPDATE pfa_modification n SET base_pems_version = d.pems_version, updated_at = now()
          FROM done d
          WHERE n.organization_id = ${org} AND n.mirror_id = d.mirror_id AND n.sync_state = 'committed'
            AND d.sent_with IS NOT NULL AND d.sent_with = d.base_pems_version
            AND n.base_pems_version IS NOT DISTINCT FROM d.base_pems_version
            AND (n.committed_at, n.id) > (d.committed_at, d.id)
          RETURNING n.id
        ), events AS (
          INSERT INTO pfa_modification_event (organization_id, modification_id, mirror_id, session_id, user_id, action,
            reason, old_delta, new_delta, from_state, to_state)
          SELECT ${org}, d.id, d.mirror_id, d.session_id, ${WRITE_BACK_ACTOR}, 'synced',
                 'PEMS recordid ' || d.pems_version, d.delta, d.delta, 'syncing', 'synced'
          FROM done d
          RETURNING 1
        )
        SELECT d.id FROM done d`.execute(tx); // data-modifying CTEs (mirror, forwarded, events) always run to completion
      return new Set(rows.map((r) => String(r.id)));
    });
  }

  /** A transient failure: back to committed with the error, to be sent again later (syncing → committed). */
  async release(change: PendingChange, error: string): Promise<void> {
    await sql`
      WITH released AS (
        UPDATE pfa_modification SET sync_state = 'committed', updated_at = now(), last_error = ${error.slice(0, 2000)},
          sync_attempts = sync_attempts + 1
        WHERE organization_id = ${change.organizationId} AND id = ${change.id}::bigint AND sync_state = 'syncing'
        RETURNING id, mirror_id, session_id, delta
      )
      INSERT INTO pfa_modification_event (organization_id, modification_id, mirror_id, session_id, user_id, action,
        reason, old_delta, new_delta, from_state, to_state)
      SELECT ${change.organizationId}, r.id, r.mirror_id, r.session_id, ${WRITE_BACK_ACTOR}, 'sync-failed',
             ${error.slice(0, 500)}, r.delta, r.delta, 'syncing', 'committed'
      FROM released r`.execute(this.db);
  }

  /**
   * PEMS holds other values for the change's fields (syncing → conflict), with base/theirs/mine
   * per field. The change keeps its id (what the commit answered), so the conflict is traceable
   * to it. When the author's session already has an open modification of the same record (at
   * most one per record and session), that one is folded into the conflict: its delta over the
   * change's, its conflicts kept, and a version above both, so an edit sent against the draft's
   * old version gets VERSION_CONFLICT instead of landing silently — nothing the user wrote is lost.
   *
   * Per field the conflict holds the session's LATEST word. An open draft is later than every
   * pending change of the session (it could only be opened after they left the draft slot), and
   * while a conflict holds the slot no later change can be committed. But this change may have
   * later pending changes of the same session and record (follow-ups committed while it waited):
   * where one of them sets a field of this change again, the conflict takes the latest such
   * value, not this change's older one (which KEEP_MINE would otherwise write over the user's
   * follow-up). So the open modification it takes in is always the latest word, and wins.
   * Returns the id of the modification now in conflict, or null when the change was no longer ours.
   */
  async markConflict(
    change: PendingChange,
    conflicts: readonly FieldConflict[],
    error: string,
    pems: { data: JsonObject; recordid: string } | null = null,
  ): Promise<string | null> {
    return this.db.transaction().execute(async (tx) => {
      const org = change.organizationId;
      await sql`SELECT id FROM pfa_mirror WHERE organization_id = ${org} AND id = ${change.mirrorId}::bigint FOR UPDATE`.execute(
        tx,
      );
      const { rows: own } = await sql<{ id: string; delta: JsonObject }>`
        SELECT id, delta FROM pfa_modification
        WHERE organization_id = ${org} AND id = ${change.id}::bigint AND sync_state = 'syncing'
        FOR UPDATE`.execute(tx);
      const pending = own[0];
      if (!pending) return null;
      if (pems) {
        // The mirror takes what PEMS holds (as a read sync would): "theirs" is what the user then
        // sees, and KEEP_MINE rebases onto PEMS's current recordid instead of conflicting again.
        await sql`
          UPDATE pfa_mirror SET data = ${JSON.stringify(pems.data)}::jsonb, pems_version = ${pems.recordid},
            last_synced_at = now(), removed_from_pems_at = NULL
          WHERE organization_id = ${org} AND id = ${change.mirrorId}::bigint
            AND (data IS DISTINCT FROM ${JSON.stringify(pems.data)}::jsonb OR pems_version IS DISTINCT FROM ${pems.recordid})`.execute(
          tx,
        );
      }
      // The session's later pending changes of the record, in commit order: their values of this
      // change's fields are the session's later word (see above).
      const { rows: later } = await sql<{ delta: JsonObject }>`
        SELECT p.delta FROM pfa_modification p, pfa_modification c
        WHERE c.organization_id = ${org} AND c.id = ${change.id}::bigint
          AND p.organization_id = ${org} AND p.mirror_id = c.mirror_id AND p.session_id = c.session_id
          AND p.sync_state IN ('committed', 'syncing') AND (p.committed_at, p.id) > (c.committed_at, c.id)
        ORDER BY p.committed_at, p.id`.execute(tx);
      const latest: JsonObject = Object.assign({}, ...later.map((r) => r.delta));
      const ownLatest: JsonObject = Object.fromEntries(
        Object.entries(pending.delta).map(([k, v]) => [k, k in latest ? latest[k] : v]),
      );
      const { rows: open } = await sql<{
        id: string;
        delta: JsonObject;
        base_values: JsonObject;
        conflicts: FieldConflict[] | null;
        sync_state: 'draft' | 'conflict';
        current_version: number;
      }>`
        SELECT id, delta, base_values, conflicts, sync_state, current_version FROM pfa_modification
        WHERE organization_id = ${org} AND mirror_id = ${change.mirrorId}::bigint AND session_id = ${change.sessionId}
          AND sync_state IN ('draft', 'conflict')
        FOR UPDATE`.execute(tx);
      const draft = open[0];
      const message = error.slice(0, 2000);
      if (!draft) {
        const mine = conflicts.map((c) => ({ ...c, mine: ownLatest[c.field] ?? c.mine }));
        await sql`
          UPDATE pfa_modification SET sync_state = 'conflict', conflicts = ${JSON.stringify(mine)}::jsonb,
            delta = ${JSON.stringify(ownLatest)}::jsonb, last_error = ${message}, updated_at = now(),
            sync_attempts = sync_attempts + 1
          WHERE organization_id = ${org} AND id = ${change.id}::bigint`.execute(tx);
        await this.event(
          tx,
          change,
          change.id,
          'sync-conflict',
          message,
          pending.delta,
          ownLatest,
          'syncing',
          'conflict',
        );
        return change.id;
      }
      const delta = { ...ownLatest, ...draft.delta };
      const baseValues = { ...draft.base_values, ...change.baseValues };
      // One entry per field (the draft's own conflicts are the more recent); "mine" is what the merged delta holds.
      const byField = new Map<string, FieldConflict>();
      for (const c of [...conflicts, ...(draft.conflicts ?? [])])
        byField.set(c.field, { ...c, mine: delta[c.field] ?? c.mine });
      // The open slot of (record, session) is freed first: the unique index admits one open row.
      await sql`DELETE FROM pfa_modification WHERE organization_id = ${org} AND id = ${draft.id}`.execute(tx);
      await sql`
        UPDATE pfa_modification SET sync_state = 'conflict', delta = ${JSON.stringify(delta)}::jsonb,
          modified_fields = ${Object.keys(delta)}::text[], base_values = ${JSON.stringify(baseValues)}::jsonb,
          conflicts = ${JSON.stringify([...byField.values()])}::jsonb, last_error = ${message},
          current_version = greatest(current_version, ${draft.current_version}::int) + 1,
          updated_at = now(), sync_attempts = sync_attempts + 1
        WHERE organization_id = ${org} AND id = ${change.id}::bigint`.execute(tx);
      await this.event(
        tx,
        change,
        String(draft.id),
        'draft-merged-into-conflict',
        `folded into write-back conflict ${change.id}: ${message}`,
        draft.delta,
        null,
        draft.sync_state,
        null,
      );
      await this.event(
        tx,
        change,
        change.id,
        'sync-conflict',
        `took open ${draft.sync_state} ${draft.id}: ${message}`,
        pending.delta,
        delta,
        'syncing',
        'conflict',
      );
      return change.id;
    });
  }

  /**
   * Organizations holding changes committed longer than `graceMs` ago that are not written back
   * yet (committed, or syncing under a claim that may have expired): what the write sweep queues.
   * Served by the partial index of pending changes.
   */
  async organizationsToSweep(graceMs: number): Promise<string[]> {
    const { rows } = await sql<{ organization_id: string }>`
      SELECT o.id AS organization_id FROM organization o
      WHERE EXISTS (
        SELECT 1 FROM pfa_modification pm
        WHERE pm.organization_id = o.id AND pm.sync_state IN ('committed', 'syncing')
          AND pm.committed_at < now() - make_interval(secs => ${graceMs / 1000}))
      ORDER BY o.id`.execute(this.db);
    return rows.map((r) => r.organization_id);
  }

  /**
   * Per organization (every row of `organization`), the age in seconds of its oldest change
   * committed but not yet written back; 0 when it has none.
   */
  async oldestPendingAgeByOrganization(): Promise<{ organizationId: string; seconds: number }[]> {
    const { rows } = await sql<{ organization_id: string; seconds: number }>`
      SELECT o.id AS organization_id,
             coalesce(extract(epoch FROM now() - (
               SELECT min(pm.committed_at) FROM pfa_modification pm
               WHERE pm.organization_id = o.id AND pm.sync_state IN ('committed', 'syncing'))), 0)::float8 AS seconds
      FROM organization o ORDER BY o.id`.execute(this.db);
    return rows.map((r) => ({ organizationId: r.organization_id, seconds: Math.max(0, r.seconds) }));
  }

  private async event(
    tx: Transaction<Database>,
    change: PendingChange,
    modificationId: string,
    action: string,
    reason: string,
    oldDelta: JsonObject | null,
    newDelta: JsonObject | null,
    from: 'syncing' | 'draft' | 'conflict',
    to: 'conflict' | null,
  ): Promise<void> {
    await tx
      .insertInto('pfa_modification_event')
      .values({
        organization_id: change.organizationId,
        modification_id: modificationId,
        mirror_id: change.mirrorId,
        session_id: change.sessionId,
        user_id: WRITE_BACK_ACTOR,
        action,
        reason: reason.slice(0, 500),
        old_delta: oldDelta === null ? null : JSON.stringify(oldDelta),
        new_delta: newDelta === null ? null : JSON.stringify(newDelta),
        from_state: from,
        to_state: to,
      })
      .execute();
  }
}
