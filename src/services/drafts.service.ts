import type { Transaction } from 'kysely';
import type { Db } from '../db/database.js';
import type { Database } from '../db/tables.js';
import type { DraftView, FieldConflict } from '../domain/draft.js';
import {
  baseValuesOf,
  checkForecastOrder,
  detectConflicts,
  minimiseDelta,
  removedConflict,
} from '../domain/draft-rules.js';
import { DomainError, badInput, notFound } from '../domain/errors.js';
import type { Actor, AuditEntry, DraftsRepository, Theirs } from '../repositories/drafts.repository.js';
import type { RecordFilter } from '../repositories/record-query.js';

export type { Actor } from '../repositories/drafts.repository.js';

export interface EditResult {
  draft: DraftView | null;
  mirrorId: string;
}

export interface CommitResult {
  committed: DraftView[];
  conflicted: DraftView[];
}

export interface BulkEditInput {
  filter: RecordFilter;
  shiftStartDays: number;
  shiftEndDays: number;
  changes: Record<string, unknown>;
  reason: string | null;
  /** Refuse (writing nothing) when more records match. */
  max: number;
}

export interface BulkEditResult {
  organizationId: string;
  affectedCount: number;
  /** The session's drafts the edit created or changed, in id order. */
  draftIds: string[];
}

/** What happens after a transaction that made changes pending (the job system, in production). */
export interface AfterCommit {
  changesCommitted(organizationId: string, reason: string): void;
}

/**
 * The draft use cases of DOMAIN §3, one transaction each: lock the records (mirror rows in
 * (organization_id, id) order — one writer per record), read what the rules need with a fresh
 * snapshot, apply the rules (src/domain/draft-rules.ts), write, audit; effects after commit.
 */
export class DraftsService {
  constructor(
    private readonly db: Db,
    private readonly drafts: DraftsRepository,
    private readonly after: AfterCommit | null = null,
  ) {}

  /**
   * updatePfaRecord: checks the expected version of the session's open modification, keeps only
   * keys that differ from "theirs", and creates, changes or (when emptied) deletes the draft.
   */
  async edit(
    actor: Actor,
    mirrorId: string,
    expectedVersion: number,
    changes: Record<string, unknown>,
    reason: string | null,
  ): Promise<EditResult> {
    return this.db.transaction().execute(async (tx) => {
      const org = actor.organizationId;
      if (!(await this.drafts.lockRecords(tx, org, [mirrorId])).has(mirrorId))
        throw notFound(`record ${mirrorId} not found`);
      const existing = await this.drafts.openDraft(tx, actor, mirrorId);
      const actual = existing?.currentVersion ?? 0;
      if (actual !== expectedVersion) {
        throw new DomainError(
          'VERSION_CONFLICT',
          `draft of record ${mirrorId} is at version ${actual}, not ${expectedVersion}`,
          { currentVersion: actual },
        );
      }
      if (existing?.syncState === 'conflict')
        throw badInput(
          `draft ${existing.id} is in conflict: resolve it (resolveConflict) before editing`,
          'input.id',
        );
      const base = (await this.drafts.theirs(tx, org, [mirrorId])).get(mirrorId) as Theirs;
      const delta = minimiseDelta(existing?.delta ?? {}, changes, base.data);
      checkForecastOrder({ ...base.data, ...delta });
      const keys = Object.keys(delta);

      if (keys.length === 0) {
        if (existing) {
          await this.drafts.deleteDrafts(tx, org, [existing.id]);
          await this.drafts.audit(tx, actor, [
            event(existing, 'emptied', reason, existing.delta, null, 'draft', null),
          ]);
        }
        return { draft: null, mirrorId };
      }

      let draft: DraftView;
      if (existing) {
        // Base values stay those of the first edit; keys new to the draft take today's "theirs".
        const baseValues = { ...baseValuesOf(delta, base.data), ...pick(existing.baseValues, keys) };
        draft = await this.drafts.updateDraft(tx, org, existing.id, delta, baseValues, reason);
      } else {
        draft = await this.drafts.insertDraft(
          tx,
          actor,
          mirrorId,
          delta,
          baseValuesOf(delta, base.data),
          base,
          reason,
        );
      }
      await this.drafts.audit(tx, actor, [
        event(
          draft,
          existing ? 'edited' : 'created',
          reason,
          existing?.delta ?? null,
          delta,
          existing ? 'draft' : null,
          'draft',
        ),
      ]);
      return { draft, mirrorId };
    });
  }

  /**
   * bulkUpdatePfaRecords: the matching records are locked (id order) before one set-based
   * statement writes every delta, so a concurrent single edit of the same session and record is
   * either seen (both kept) or sees this (its expectedVersion no longer matches). All or nothing.
   */
  async bulkEdit(actor: Actor, input: BulkEditInput): Promise<BulkEditResult> {
    const none = { organizationId: actor.organizationId, affectedCount: 0, draftIds: [] };
    return this.db.transaction().execute(async (tx) => {
      const scope = { organizationId: actor.organizationId, sessionId: actor.sessionId };
      const ids = await this.drafts.matchingIds(tx, scope, input.filter, input.max + 1);
      if (ids.length > input.max) {
        const matched = await this.drafts.countMatching(tx, scope, input.filter);
        throw badInput(
          `the filter matches ${matched} records; bulk updates are limited to ${input.max}`,
          'input.filter',
        );
      }
      if (ids.length === 0) return none;
      await this.drafts.lockRecords(tx, actor.organizationId, ids);
      const outcome = await this.drafts.bulkEdit(tx, actor, ids, {
        filter: input.filter,
        shiftStartDays: input.shiftStartDays,
        shiftEndDays: input.shiftEndDays,
        changes: input.changes,
        reason: input.reason,
      });
      if (outcome.outOfRange > 0)
        throw badInput(
          `${outcome.outOfRange} matching records would get a forecast date outside 0001-01-01 … 9999-12-31; nothing changed`,
          'input',
        );
      if (outcome.endsBeforeStart > 0)
        throw badInput(
          `${outcome.endsBeforeStart} matching records would end their forecast before it starts; nothing changed`,
          'input',
        );
      return {
        organizationId: actor.organizationId,
        affectedCount: outcome.affected,
        draftIds: outcome.draftIds,
      };
    });
  }

  /**
   * commitDrafts: per draft, field-level conflict check against "theirs" (mirror + every pending
   * delta, this session's earlier ones included) read under the record's lock. No real conflict →
   * committed (rebased when the mirror moved); otherwise → conflict with base/theirs/mine.
   */
  async commit(actor: Actor, ids: readonly string[] | null): Promise<CommitResult> {
    const result = await this.db.transaction().execute(async (tx) => {
      const org = actor.organizationId;
      const open = await this.lockOpenDrafts(tx, actor, ids);
      const rows = await this.drafts.openWithTheirs(
        tx,
        actor,
        open.map((o) => o.id),
      );
      if (ids)
        assertAllFound(
          ids,
          rows.map((r) => r.draft.id),
        );

      const committed: { id: string; rebase: Theirs | null; baseValues: Record<string, unknown> | null }[] =
        [];
      const conflicted: string[] = [];
      const newConflicts: { id: string; conflicts: FieldConflict[] }[] = [];
      for (const { draft, theirs } of rows) {
        if (draft.syncState === 'conflict') {
          conflicted.push(draft.id);
          continue;
        }
        const conflicts = theirs.removedFromPemsAt
          ? [removedConflict(theirs.removedFromPemsAt)]
          : detectConflicts(draft.delta, draft.baseValues, theirs.data);
        if (conflicts.length) {
          conflicted.push(draft.id);
          newConflicts.push({ id: draft.id, conflicts });
        } else if (theirs.version !== draft.baseVersion) {
          committed.push({
            id: draft.id,
            rebase: theirs,
            baseValues: baseValuesOf(draft.delta, theirs.data),
          });
        } else {
          committed.push({ id: draft.id, rebase: null, baseValues: null });
        }
      }
      await this.drafts.markCommitted(tx, actor, committed);
      await this.drafts.markConflicted(tx, org, newConflicts);
      const byId = new Map(rows.map((r) => [r.draft.id, r.draft]));
      await this.drafts.audit(tx, actor, [
        ...committed.map((c) => {
          const d = byId.get(c.id) as DraftView;
          return event(d, 'committed', null, d.delta, d.delta, 'draft', 'committed');
        }),
        ...newConflicts.map((c) => {
          const d = byId.get(c.id) as DraftView;
          return event(d, 'conflicted', null, d.delta, d.delta, 'draft', 'conflict');
        }),
      ]);
      const after = new Map(
        (await this.drafts.byIds(org, [...committed.map((c) => c.id), ...conflicted], tx)).map((d) => [
          d.id,
          d,
        ]),
      );
      return {
        committed: committed.map((c) => after.get(c.id)).filter((d): d is DraftView => !!d),
        conflicted: conflicted.map((id) => after.get(id)).filter((d): d is DraftView => !!d),
      };
    });
    if (result.committed.length) this.after?.changesCommitted(actor.organizationId, 'commit');
    return result;
  }

  /** discardDrafts: removes open drafts and conflicts of the session; returns them as they were. */
  async discard(actor: Actor, ids: readonly string[] | null): Promise<DraftView[]> {
    return this.db.transaction().execute(async (tx) => {
      const org = actor.organizationId;
      const open = await this.lockOpenDrafts(tx, actor, ids);
      const rows = (
        await this.drafts.byIds(
          org,
          open.map((o) => o.id),
          tx,
        )
      ).filter(
        (d) => d.sessionId === actor.sessionId && (d.syncState === 'draft' || d.syncState === 'conflict'),
      );
      if (ids)
        assertAllFound(
          ids,
          rows.map((d) => d.id),
        );
      await this.drafts.deleteDrafts(
        tx,
        org,
        rows.map((d) => d.id),
      );
      await this.drafts.audit(
        tx,
        actor,
        rows.map((d) => event(d, 'discarded', null, d.delta, null, d.syncState, null)),
      );
      return rows;
    });
  }

  /**
   * resolveConflict. KEEP_MINE: rebased onto "theirs" and committed (refused while the record is
   * removed from PEMS). ACCEPT_THEIRS: deleted. The caller checks that `userId` owns the draft.
   */
  async resolve(
    draft: DraftView,
    userId: string,
    resolution: 'KEEP_MINE' | 'ACCEPT_THEIRS',
  ): Promise<DraftView | null> {
    const org = draft.organizationId;
    const resolved = await this.db.transaction().execute(async (tx) => {
      await this.drafts.lockRecords(tx, org, [draft.mirrorId]);
      const row = await this.drafts.lockById(tx, org, draft.id);
      if (!row || row.syncState !== 'conflict') throw badInput(`draft ${draft.id} is not in conflict`, 'id');
      const actor: Actor = { organizationId: org, sessionId: row.sessionId, userId };
      if (resolution === 'ACCEPT_THEIRS') {
        await this.drafts.deleteDrafts(tx, org, [row.id]);
        await this.drafts.audit(tx, actor, [
          event(row, 'accepted-theirs', null, row.delta, null, 'conflict', null),
        ]);
        return null;
      }
      const theirs = (await this.drafts.theirs(tx, org, [row.mirrorId])).get(row.mirrorId);
      if (!theirs) throw notFound(`record ${row.mirrorId} not found`);
      if (theirs.removedFromPemsAt)
        throw badInput(
          `record ${row.mirrorId} was removed from PEMS: KEEP_MINE cannot write it back; use ACCEPT_THEIRS`,
          'resolution',
        );
      await this.drafts.markCommitted(tx, actor, [
        { id: row.id, rebase: theirs, baseValues: baseValuesOf(row.delta, theirs.data) },
      ]);
      await this.drafts.audit(tx, actor, [
        event(row, 'kept-mine', null, row.delta, row.delta, 'conflict', 'committed'),
      ]);
      return (await this.drafts.byIds(org, [row.id], tx))[0] ?? null;
    });
    if (resolved) this.after?.changesCommitted(org, 'resolve');
    return resolved;
  }

  /**
   * The session's open modifications (all, or the named ones: NOT_FOUND for any missing), with
   * their records locked in id order. Callers re-read the modifications afterwards: one may have
   * changed before the lock was granted.
   */
  private async lockOpenDrafts(
    tx: Transaction<Database>,
    actor: Actor,
    ids: readonly string[] | null,
  ): Promise<{ id: string; mirrorId: string }[]> {
    const open = await this.drafts.openOfSession(tx, actor, ids);
    if (ids)
      assertAllFound(
        ids,
        open.map((o) => o.id),
      );
    await this.drafts.lockRecords(
      tx,
      actor.organizationId,
      open.map((o) => o.mirrorId),
    );
    return open;
  }
}

function event(
  d: Pick<DraftView, 'id' | 'mirrorId'>,
  action: string,
  reason: string | null,
  oldDelta: Record<string, unknown> | null,
  newDelta: Record<string, unknown> | null,
  from: AuditEntry['from'],
  to: AuditEntry['to'],
): AuditEntry {
  return { modificationId: d.id, mirrorId: d.mirrorId, action, reason, oldDelta, newDelta, from, to };
}

function assertAllFound(wanted: readonly string[], found: readonly string[]): void {
  const have = new Set(found);
  const missing = wanted.filter((id) => !have.has(id));
  if (missing.length) throw notFound(`no open draft of this session with id ${missing.join(', ')}`);
}

function pick(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in obj).map((k) => [k, obj[k]]));
}
