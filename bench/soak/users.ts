/**
 * Simulated planners: each edits, bulk-edits, commits, resolves and discards at random through
 * the GraphQL API, and checks every answer against what it was told before. Sessions work on a
 * shared hot set (PEMS edits it too), on records only they write (any conflict there is
 * spurious), and in pairs on race records (two sessions commit one field at the same moment:
 * exactly one may win).
 */
import { outcomeUnknown, type GraphqlClient, type Outcome } from './client.js';
import { sleep } from './infra.js';
import { rnd } from './rng.js';
import {
  ANY,
  SOAK_FIELDS,
  TRACKED_FIELDS,
  newModel,
  resetModel,
  sameValue,
  type DraftModel,
  type SoakRecord,
  type World,
} from './world.js';

const EDIT = `mutation SoakEdit($input: UpdatePfaRecordInput!) {
  updatePfaRecord(input: $input) { draft { id currentVersion delta syncState } record { id data } } }`;
const BULK = `mutation SoakBulk($input: BulkUpdatePfaRecordsInput!) {
  bulkUpdatePfaRecords(input: $input) { affectedCount } }`;
const COMMIT = `mutation SoakCommit($org: ID!, $ids: [ID!]) { commitDrafts(organizationId: $org, ids: $ids) {
  committed { id syncState delta baseValues committedAt record { id } }
  conflicted { id syncState delta conflicts { field base theirs mine } record { id } } } }`;
const DISCARD = `mutation SoakDiscard($org: ID!, $ids: [ID!]) {
  discardDrafts(organizationId: $org, ids: $ids) { discardedCount } }`;
const RESOLVE = `mutation SoakResolve($id: ID!, $r: ConflictResolution!) {
  resolveConflict(id: $id, resolution: $r) { draft { id syncState delta currentVersion } record { id } } }`;
const DRAFTS = `query SoakDrafts($org: ID!) { drafts(organizationId: $org, allSessions: true) {
  id syncState delta sessionId lastError conflicts { field base theirs mine } record { id } } }`;
const RECORD = `query SoakRecord($id: ID!) { pfaRecord(id: $id) { id data draft { id currentVersion syncState delta } } }`;
const PAGE = `query SoakPage($org: ID!, $f: PfaRecordFilter) {
  pfaRecords(organizationId: $org, filter: $f, first: 50, orderBy: [FORECAST_START_ASC]) { nodes { id forecastCost } } }`;
const KPI = `query SoakKpi($org: ID!) { kpiSummary(organizationId: $org) { category totalForecastCost recordCount } }`;

interface DraftOut {
  id: string;
  currentVersion: number;
  delta: Record<string, unknown>;
  syncState: string;
}
interface CommitOut {
  commitDrafts: {
    committed: { id: string; syncState: string; delta: Record<string, unknown>; record: { id: string } }[];
    conflicted: {
      id: string;
      delta: Record<string, unknown>;
      conflicts: { field: string; base: unknown; theirs: unknown; mine: unknown }[];
      record: { id: string };
    }[];
  };
}
interface ListedDraft {
  id: string;
  syncState: string;
  delta: Record<string, unknown>;
  sessionId: string;
  lastError: string | null;
  conflicts: { field: string; base: unknown; theirs: unknown; mine: unknown }[];
  record: { id: string };
}

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)] as T;
}
function sample<T>(items: readonly T[], n: number): T[] {
  const copy = [...items];
  const out: T[] = [];
  while (out.length < n && copy.length) out.push(copy.splice(Math.floor(rnd() * copy.length), 1)[0] as T);
  return out;
}
const j = (v: unknown): string => JSON.stringify(v);

/** What the trace keeps of an answer (the soak fields of a record, not the whole document). */
function traced(op: string, data: unknown): unknown {
  if (op === 'read-record') {
    const r = (data as { pfaRecord: { data: Record<string, unknown>; draft: unknown } | null }).pfaRecord;
    if (!r) return null;
    return {
      draft: r.draft,
      data: Object.fromEntries(SOAK_FIELDS.map((f) => [f, r.data[f]])),
    };
  }
  if (op === 'drafts')
    return (data as { drafts: ListedDraft[] }).drafts
      .filter((d) => d.syncState === 'CONFLICT')
      .map((d) => ({ id: d.id, sessionId: d.sessionId, record: d.record.id, delta: d.delta }));
  if (op === 'edit') {
    const u = (data as { updatePfaRecord: { draft: unknown; record: { data: Record<string, unknown> } } })
      .updatePfaRecord;
    return { draft: u.draft, data: Object.fromEntries(SOAK_FIELDS.map((f) => [f, u.record.data[f]])) };
  }
  return data;
}

export class SoakSession {
  readonly key: string;
  readonly models = new Map<string, DraftModel>();
  /** Fields this session committed last per record (to edit them again while still pending). */
  readonly lastCommitted = new Map<string, string[]>();

  constructor(
    readonly user: SoakUser,
    readonly org: string,
    readonly id: string,
    readonly privateRecords: SoakRecord[],
  ) {
    this.key = `${org}/${id}`;
  }

  model(rec: SoakRecord): DraftModel {
    let m = this.models.get(rec.id);
    if (!m) this.models.set(rec.id, (m = newModel()));
    return m;
  }
}

export class SoakUser {
  readonly sessions: SoakSession[] = [];
  raceSession!: SoakSession;

  constructor(
    readonly name: string,
    readonly org: string,
    readonly client: GraphqlClient,
    readonly world: World,
  ) {}

  private async call<T>(
    op: string,
    query: string,
    vars: Record<string, unknown>,
    session: SoakSession | null,
  ): Promise<Outcome<T>> {
    const sent = Date.now() - this.world.started;
    const out = await this.client.request<T>(query, vars, session?.id);
    this.world.count('requests');
    if (op !== 'page' && op !== 'kpi')
      this.world.trace({
        sent,
        op,
        user: this.name,
        session: session?.key ?? null,
        vars,
        ...(out.ok ? { data: traced(op, out.data) } : { code: out.code, message: out.message.slice(0, 200) }),
      });
    // No answer at all (the API is down): do not spin.
    if (!out.ok && (out.code === 'NETWORK' || out.code === 'TIMEOUT')) await sleep(500);
    if (!out.ok) {
      this.world.error(op, out.code, out.message);
      if (!['VERSION_CONFLICT', 'SERVICE_UNAVAILABLE'].includes(out.code)) this.world.count('errorsOther');
      if (out.code === 'SERVICE_UNAVAILABLE' && out.status !== 503)
        this.world.violate(
          'error-contract',
          `${op}: SERVICE_UNAVAILABLE answered with HTTP ${out.status} (DOMAIN §5: 503)`,
        );
      if (['INTERNAL_SERVER_ERROR', 'NETWORK', 'TIMEOUT'].includes(out.code) || out.code.startsWith('HTTP_'))
        this.world.violate(
          'unexpected-error',
          `${op} answered ${out.code} (HTTP ${out.status}): ${out.message.slice(0, 200)} — a lost connection must be SERVICE_UNAVAILABLE (503, retryable)`,
        );
    }
    return out;
  }

  // -----------------------------------------------------------------------------------------
  // Reading back what the service holds (to learn ids and versions, and to check survival)

  /** Reads the session's draft of the record, checks it against the model, learns id/version. */
  async refresh(s: SoakSession, rec: SoakRecord, why: string): Promise<boolean> {
    const m = s.model(rec);
    const out = await this.call<{
      pfaRecord: {
        data: Record<string, unknown>;
        draft: {
          id: string;
          currentVersion: number;
          syncState: string;
          delta: Record<string, unknown>;
        } | null;
      } | null;
    }>('read-record', RECORD, { id: rec.id }, s);
    if (!out.ok || !out.data.pfaRecord) return false;
    const { draft, data } = out.data.pfaRecord;
    const obligation = draft
      ? this.world.obligations.get(this.world.obligationKey(rec.org, draft.id))
      : undefined;
    if (obligation) {
      // A write-back conflict of an earlier commit occupies the session's open slot.
      m.version = null;
      return false;
    }
    if (!m.uncertainAll) {
      for (const [f, v] of m.expect) {
        if (m.uncertain.has(f)) continue;
        if (!draft) {
          this.world.violate(
            'draft-survives',
            `${why}: session ${s.key} record ${rec.pfaId} (${rec.id}): acknowledged draft value ${f}=${j(v)} gone — no open draft any more (state ${m.state}, draft ${m.draftId})`,
          );
          break;
        }
        if (!(f in draft.delta) || !sameValue(f, draft.delta[f], v))
          this.world.violate(
            'draft-survives',
            `${why}: session ${s.key} record ${rec.pfaId} (${rec.id}) draft ${draft.id}: acknowledged ${f}=${j(v)}, now ${j(draft.delta[f])} (delta ${j(draft.delta)})`,
          );
        if (!sameValue(f, data[f], v))
          this.world.violate(
            'read-your-writes',
            `${why}: session ${s.key} record ${rec.pfaId}: sees ${f}=${j(data[f])}, its acknowledged draft says ${j(v)}`,
          );
      }
    }
    if (draft) {
      m.draftId = draft.id;
      m.version = draft.currentVersion;
      m.state = draft.syncState === 'CONFLICT' ? 'conflict' : 'draft';
      if (m.uncertainAll) {
        m.expect.clear();
        m.uncertain = new Set(Object.keys(draft.delta));
        m.uncertainAll = false;
      }
    } else {
      resetModel(m);
    }
    return true;
  }

  // -----------------------------------------------------------------------------------------
  // Edits

  async edit(s: SoakSession, rec: SoakRecord, fields: string[]): Promise<void> {
    const m = s.model(rec);
    if (m.busy) return;
    m.busy = true;
    try {
      if (m.state === 'conflict') return;
      if (m.version === null || (m.version > 0 && m.draftId === null) || m.uncertainAll) {
        if (!(await this.refresh(s, rec, 'before edit'))) return;
        if ((m.state as DraftModel['state']) === 'conflict') return;
      }
      await this.editKnown(s, rec, fields, m, true);
    } finally {
      m.busy = false;
    }
  }

  /** One updatePfaRecord with the model's version; checks the acknowledgment. */
  private async editKnown(
    s: SoakSession,
    rec: SoakRecord,
    fields: string[],
    m: DraftModel,
    alone: boolean,
  ): Promise<void> {
    const changes: Record<string, unknown> = {};
    for (const f of fields) {
      changes[f] = this.world.freshValue(f);
      this.world.sent(s.key, rec, f, changes[f]);
    }
    const out = await this.call<{
      updatePfaRecord: { draft: DraftOut | null; record: { data: Record<string, unknown> } };
    }>('edit', EDIT, { input: { id: rec.id, expectedVersion: m.version ?? 0, changes, reason: 'soak' } }, s);
    if (!out.ok) {
      if (out.code === 'VERSION_CONFLICT') this.world.count('versionConflicts');
      if (outcomeUnknown(out.code)) for (const f of fields) m.uncertain.add(f);
      m.version = null;
      return;
    }
    this.world.count('edits');
    const { draft, record } = out.data.updatePfaRecord;
    const delta = draft?.delta ?? {};
    for (const [f, v] of Object.entries(changes)) {
      const kept = f in delta;
      if (kept ? !sameValue(f, delta[f], v) : !sameValue(f, record.data[f], v))
        this.world.violate(
          'edit-acknowledged',
          `session ${s.key} set ${rec.pfaId}.${f}=${j(v)}: answer has delta ${j(delta)} and record ${f}=${j(record.data[f])}`,
        );
      if (kept) m.expect.set(f, v);
      else m.expect.delete(f);
      m.uncertain.delete(f);
    }
    if (alone && !m.uncertainAll) {
      for (const [f, v] of m.expect) {
        if (f in changes || m.uncertain.has(f)) continue;
        if (!(f in delta) || !sameValue(f, delta[f], v))
          this.world.violate(
            'draft-survives',
            `session ${s.key} record ${rec.pfaId}: after editing ${Object.keys(changes).join(',')}, the draft lost acknowledged ${f}=${j(v)} (delta ${j(delta)})`,
          );
      }
    }
    m.draftId = draft?.id ?? null;
    m.version = alone ? (draft?.currentVersion ?? 0) : null;
    m.state = draft ? (draft.syncState === 'CONFLICT' ? 'conflict' : 'draft') : 'none';
    if (!draft && m.uncertain.size === 0) resetModel(m);
  }

  /** bulkUpdatePfaRecords on a few records: a fresh areaSilo, sometimes a forecast shift. */
  async bulk(s: SoakSession, recs: SoakRecord[]): Promise<void> {
    const models = recs.map((r) => s.model(r));
    if (models.some((m) => m.busy || m.state === 'conflict')) return;
    for (const m of models) m.busy = true;
    try {
      const value = this.world.freshValue('areaSilo');
      const shift = rnd() < 0.5 ? (rnd() < 0.5 ? -1 : 1) * (1 + Math.floor(rnd() * 20)) : 0;
      const input: Record<string, unknown> = {
        organizationId: s.org,
        filter: { pfaId: { in: recs.map((r) => r.pfaId) } },
        changes: { areaSilo: value },
        reason: 'soak bulk',
      };
      if (shift) input.shiftForecastDays = shift;
      for (const r of recs) {
        this.world.sent(s.key, r, 'areaSilo', value);
        if (shift) for (const f of ['forecastStart', 'forecastEnd']) this.world.sent(s.key, r, f, ANY);
      }
      const out = await this.call<{ bulkUpdatePfaRecords: { affectedCount: number } }>(
        'bulk',
        BULK,
        { input },
        s,
      );
      const fields = shift ? ['areaSilo', 'forecastStart', 'forecastEnd'] : ['areaSilo'];
      if (!out.ok) {
        if (outcomeUnknown(out.code)) for (const m of models) for (const f of fields) m.uncertain.add(f);
        for (const m of models) m.version = null;
        return;
      }
      this.world.count('bulkEdits');
      this.world.count('bulkRecords', recs.length);
      const complete = out.data.bulkUpdatePfaRecords.affectedCount === recs.length;
      if (!complete) this.world.count('bulkCountMismatch');
      for (const m of models) {
        if (complete) {
          m.expect.set('areaSilo', value);
          m.uncertain.delete('areaSilo');
          if (shift) {
            m.expect.delete('forecastStart');
            m.expect.delete('forecastEnd');
            m.uncertain.add('forecastStart');
            m.uncertain.add('forecastEnd');
          }
          if (m.state === 'none') m.state = 'draft';
        } else for (const f of fields) m.uncertain.add(f);
        m.version = null;
      }
    } finally {
      for (const m of models) m.busy = false;
    }
  }

  /** One session sends an edit and a bulk edit of the same record at the same moment. */
  async pair(s: SoakSession, rec: SoakRecord): Promise<void> {
    const m = s.model(rec);
    if (m.busy || m.state === 'conflict') return;
    m.busy = true;
    try {
      if (m.version === null || m.uncertainAll || (m.version > 0 && m.draftId === null)) {
        if (!(await this.refresh(s, rec, 'before pair'))) return;
        if ((m.state as DraftModel['state']) === 'conflict') return;
      }
      const value = this.world.freshValue('manufacturer');
      this.world.sent(s.key, rec, 'manufacturer', value);
      const [, bulk] = await Promise.all([
        this.editKnown(s, rec, ['model'], m, false),
        this.call<{ bulkUpdatePfaRecords: { affectedCount: number } }>(
          'bulk',
          BULK,
          {
            input: {
              organizationId: s.org,
              filter: { pfaId: { in: [rec.pfaId] } },
              changes: { manufacturer: value },
              reason: 'soak pair',
            },
          },
          s,
        ),
      ]);
      this.world.count('pairs');
      if (bulk.ok && bulk.data.bulkUpdatePfaRecords.affectedCount === 1) {
        m.expect.set('manufacturer', value);
        m.uncertain.delete('manufacturer');
        if (m.state === 'none') m.state = 'draft';
      } else if (!bulk.ok && !outcomeUnknown(bulk.code)) {
        // refused: nothing changed
      } else m.uncertain.add('manufacturer');
      m.version = null;
      // Both answers are in: the draft must hold both acknowledged values now.
      await this.refresh(s, rec, 'after an edit and a bulk edit sent together');
    } finally {
      m.busy = false;
    }
  }

  // -----------------------------------------------------------------------------------------
  // Commit, discard, resolve

  async commit(
    s: SoakSession,
    recs: SoakRecord[],
    via: 'commit' | 'race' = 'commit',
  ): Promise<CommitOut | null> {
    const chosen: { rec: SoakRecord; m: DraftModel }[] = [];
    for (const rec of recs) {
      const m = s.model(rec);
      if (m.busy || m.state !== 'draft') continue;
      chosen.push({ rec, m });
    }
    if (!chosen.length) return null;
    for (const c of chosen) c.m.busy = true;
    try {
      for (const c of chosen) {
        if (c.m.draftId === null || c.m.uncertainAll) await this.refresh(s, c.rec, 'before commit');
      }
      const ready = chosen.filter((c) => c.m.draftId !== null && c.m.state === 'draft');
      if (!ready.length) return null;
      for (const { rec, m } of ready) {
        const fields = m.uncertainAll ? SOAK_FIELDS : [...m.expect.keys(), ...m.uncertain];
        this.world.touch(rec, fields, s.key);
      }
      const byDraft = new Map(ready.map((c) => [c.m.draftId as string, c]));
      const out = await this.call<CommitOut>('commit', COMMIT, { org: s.org, ids: [...byDraft.keys()] }, s);
      if (!out.ok) {
        if (outcomeUnknown(out.code))
          for (const [id, { m }] of byDraft) {
            m.uncertainAll = true;
            m.version = null;
            this.world.maybeCommitted.add(this.world.obligationKey(s.org, id));
          }
        return null;
      }
      this.world.count('commitCalls');
      const { committed, conflicted } = out.data.commitDrafts;
      for (const d of committed) {
        const c = byDraft.get(d.id);
        if (!c) {
          this.world.violate('commit-answer', `session ${s.key} committed draft ${d.id} it did not ask for`);
          continue;
        }
        byDraft.delete(d.id);
        const { rec, m } = c;
        this.checkDelta(`commit of ${rec.pfaId} by ${s.key}`, s, rec, m, d.delta);
        this.world.addObligation({
          org: s.org,
          id: d.id,
          record: rec,
          session: s.key,
          user: this.name,
          delta: d.delta,
          ackedAt: Date.now(),
          via,
        });
        this.world.count('commits');
        s.lastCommitted.set(rec.id, Object.keys(d.delta));
        resetModel(m);
      }
      for (const d of conflicted) {
        const c = byDraft.get(d.id);
        if (!c) continue;
        byDraft.delete(d.id);
        const { rec, m } = c;
        this.world.count('commitConflicts');
        this.checkDelta(`conflicted commit of ${rec.pfaId} by ${s.key}`, s, rec, m, d.delta);
        for (const cf of d.conflicts) {
          if (this.world.rivals(rec, cf.field, s.key).length === 0)
            this.world.violate(
              'no-spurious-conflict',
              `commit by session ${s.key} of ${rec.cls} record ${rec.pfaId} (${rec.id}): conflict on ${cf.field} (base ${j(cf.base)}, theirs ${j(cf.theirs)}, mine ${j(cf.mine)}) although no other session and no PEMS user ever wrote that field`,
            );
        }
        m.state = 'conflict';
        m.draftId = d.id;
        m.version = null;
      }
      for (const { rec } of byDraft.values())
        this.world.violate(
          'commit-answer',
          `session ${s.key} asked to commit ${rec.pfaId}; the answer lists it nowhere`,
        );
      return out.data;
    } finally {
      for (const c of chosen) c.m.busy = false;
    }
  }

  /** The delta a commit/resolution acknowledged against what the session was told before. */
  private checkDelta(
    what: string,
    s: SoakSession,
    rec: SoakRecord,
    m: DraftModel,
    delta: Record<string, unknown>,
  ): void {
    if (m.uncertainAll) return;
    for (const [f, v] of m.expect) {
      if (m.uncertain.has(f)) continue;
      if (!(f in delta) || !sameValue(f, delta[f], v))
        this.world.violate(
          'draft-survives',
          `${what}: acknowledged draft value ${f}=${j(v)} is ${f in delta ? j(delta[f]) : 'missing'} in the committed delta ${j(delta)}`,
        );
    }
    for (const f of Object.keys(delta))
      // (a write-back conflict may merge the session's own earlier commit into its open draft)
      if (!m.expect.has(f) && !m.uncertain.has(f) && !this.world.committedBy(s.key, rec, f, delta[f]))
        this.world.violate(
          'draft-survives',
          `${what}: delta carries ${f}=${j(delta[f])} the session never set`,
        );
  }

  async discard(s: SoakSession, recs: SoakRecord[]): Promise<void> {
    const chosen = recs
      .map((rec) => ({ rec, m: s.model(rec) }))
      .filter((c) => !c.m.busy && c.m.state !== 'none' && c.m.draftId !== null && !c.m.uncertainAll);
    if (!chosen.length) return;
    for (const c of chosen) c.m.busy = true;
    try {
      const out = await this.call<{ discardDrafts: { discardedCount: number } }>(
        'discard',
        DISCARD,
        { org: s.org, ids: chosen.map((c) => c.m.draftId) },
        s,
      );
      if (!out.ok) {
        if (outcomeUnknown(out.code)) for (const { m } of chosen) m.uncertainAll = true;
        return;
      }
      this.world.count('discards', chosen.length);
      for (const { rec } of chosen) this.world.dropped.set(`${s.key}/${rec.id}`, Date.now());
      if (out.data.discardDrafts.discardedCount !== chosen.length) this.world.count('discardCountMismatch');
      for (const { m } of chosen) resetModel(m);
    } finally {
      for (const c of chosen) c.m.busy = false;
    }
  }

  /** Settles a commit-time conflict of the session's draft. */
  async resolveOpen(s: SoakSession, rec: SoakRecord, keepMine: boolean): Promise<void> {
    const m = s.model(rec);
    if (m.busy || m.state !== 'conflict' || m.draftId === null) return;
    m.busy = true;
    try {
      if (keepMine) this.world.touch(rec, [...m.expect.keys(), ...m.uncertain], s.key);
      const out = await this.call<{ resolveConflict: { draft: DraftOut | null } }>(
        'resolve',
        RESOLVE,
        { id: m.draftId, r: keepMine ? 'KEEP_MINE' : 'ACCEPT_THEIRS' },
        s,
      );
      if (!out.ok) {
        if (outcomeUnknown(out.code)) m.uncertainAll = true;
        return;
      }
      const draft = out.data.resolveConflict.draft;
      if (keepMine) {
        this.world.count('keepMine');
        if (!draft) {
          this.world.violate('resolve-answer', `KEEP_MINE of ${m.draftId} (${rec.pfaId}) answered no draft`);
        } else {
          this.checkDelta(`KEEP_MINE of ${rec.pfaId} by ${s.key}`, s, rec, m, draft.delta);
          this.world.addObligation({
            org: s.org,
            id: draft.id,
            record: rec,
            session: s.key,
            user: this.name,
            delta: draft.delta,
            ackedAt: Date.now(),
            via: 'keep-mine',
          });
          s.lastCommitted.set(rec.id, Object.keys(draft.delta));
        }
      } else {
        this.world.count('acceptTheirs');
        this.world.dropped.set(`${s.key}/${rec.id}`, Date.now());
      }
      resetModel(m);
    } finally {
      m.busy = false;
    }
  }

  /** Finds write-back conflicts of this user's acknowledged commits and settles them. */
  async settleWriteBackConflicts(anySession: SoakSession): Promise<void> {
    // Only commits acknowledged before the list was asked for: a commit-time conflict listed
    // here may be KEEP_MINE'd by another task of this user while the list is on its way.
    const askedAt = Date.now();
    const out = await this.call<{ drafts: ListedDraft[] }>('drafts', DRAFTS, { org: this.org }, anySession);
    if (!out.ok) return;
    for (const d of out.data.drafts) {
      if (d.syncState !== 'CONFLICT') continue;
      const o = this.world.obligations.get(this.world.obligationKey(this.org, d.id));
      if (!o || o.discharged || o.ackedAt >= askedAt) continue;
      o.writeBackConflicts += 1;
      this.world.count('writeBackConflictsSeen');
      if (o.record.cls !== 'hot' && o.writeBackConflicts === 1)
        this.world.violate(
          'no-spurious-conflict',
          `write-back turned commit ${o.id} of ${o.record.cls} record ${o.record.pfaId} (${o.record.id}, session ${o.session}) into a conflict although no PEMS user ever wrote it: ${d.lastError ?? 'no error'}; conflicts ${j(d.conflicts)}`,
        );
      const keepMine = rnd() < 0.6;
      if (keepMine) this.world.touch(o.record, Object.keys(o.delta), o.session);
      const session = this.sessions.find((x) => x.key === o.session) ?? anySession;
      // The conflict may hold the session's draft of the record (folded in by the write-back):
      // after KEEP_MINE its values are committed, after ACCEPT_THEIRS they are dropped — either
      // way the session's draft of the record is no longer what the model says.
      const drafted = session.key === o.session ? session.models.get(o.record.id) : undefined;
      if (drafted) {
        drafted.uncertainAll = true;
        drafted.version = null;
      }
      const r = await this.call<{ resolveConflict: { draft: DraftOut | null } }>(
        'resolve',
        RESOLVE,
        { id: d.id, r: keepMine ? 'KEEP_MINE' : 'ACCEPT_THEIRS' },
        session,
      );
      if (!r.ok) {
        if (outcomeUnknown(r.code)) o.uncertain = true;
        continue;
      }
      if (keepMine) {
        this.world.count('keepMine');
        const draft = r.data.resolveConflict.draft;
        if (!draft)
          this.world.violate('resolve-answer', `KEEP_MINE of write-back conflict ${d.id} answered no draft`);
        else {
          // Later values of the session may have been folded in (see checks.ts, commit-settled).
          const lost = this.world.lostValues(o, draft.delta);
          const foreign = Object.keys(draft.delta).filter(
            (k) => !(k in o.delta) && !this.world.committedBy(o.session, o.record, k, draft.delta[k]),
          );
          if (lost.length || foreign.length)
            this.world.violate(
              'draft-survives',
              `KEEP_MINE of write-back conflict ${d.id} (${o.record.pfaId}): delta ${j(draft.delta)}, acknowledged ${j(o.delta)}`,
            );
          this.world.addObligation({ ...o, delta: draft.delta, ackedAt: Date.now(), via: 'keep-mine' });
        }
      } else {
        this.world.count('acceptTheirs');
        o.discharged = 'ACCEPT_THEIRS';
      }
    }
  }

  // -----------------------------------------------------------------------------------------
  // Reads (load, and read-your-writes)

  async read(s: SoakSession): Promise<void> {
    const r = rnd();
    if (r < 0.5) {
      const candidates = [...s.models.entries()].filter(([, m]) => !m.busy && m.state !== 'none');
      if (candidates.length) {
        const [id, m] = pick(candidates);
        const rec = this.world.record(s.org, id);
        if (rec) {
          m.busy = true;
          try {
            await this.refresh(s, rec, 'read-your-writes');
          } finally {
            m.busy = false;
          }
          return;
        }
      }
    }
    if (r < 0.8) {
      await this.call('page', PAGE, { org: s.org, f: { hasDraft: rnd() < 0.5 } }, s);
    } else {
      await this.call('kpi', KPI, { org: s.org }, s);
    }
    this.world.count('reads');
  }

  // -----------------------------------------------------------------------------------------
  // The random walk

  async step(hot: readonly SoakRecord[]): Promise<void> {
    const s = pick(this.sessions);
    const r = rnd();
    const fields = (): string[] => sample(TRACKED_FIELDS, 1 + Math.floor(rnd() * 2));
    if (r < 0.28) {
      await this.edit(s, pick(hot), fields());
    } else if (r < 0.46) {
      const rec = pick(s.privateRecords);
      const again = s.lastCommitted.get(rec.id);
      if (again && rnd() < 0.6) {
        // Edit a field whose commit may still be pending, and commit at once (DOMAIN §3: no conflict).
        await this.edit(
          s,
          rec,
          again.filter((f) => (TRACKED_FIELDS as readonly string[]).includes(f)).slice(0, 1),
        );
        await this.commit(s, [rec]);
      } else await this.edit(s, rec, fields());
    } else if (r < 0.53) {
      const pool = [...s.privateRecords, ...sample(hot, 3)];
      await this.bulk(s, sample(pool, 2 + Math.floor(rnd() * 3)));
    } else if (r < 0.57) {
      await this.pair(s, pick(s.privateRecords));
    } else if (r < 0.72) {
      const open = [...s.models.entries()].filter(([, m]) => m.state === 'draft').map(([id]) => id);
      const recs = open.map((id) => this.world.record(s.org, id)).filter((x): x is SoakRecord => !!x);
      await this.commit(s, rnd() < 0.5 ? recs : sample(recs, 1 + Math.floor(rnd() * 3)));
    } else if (r < 0.76) {
      const open = [...s.models.entries()].filter(([, m]) => m.state !== 'none').map(([id]) => id);
      const recs = open.map((id) => this.world.record(s.org, id)).filter((x): x is SoakRecord => !!x);
      await this.discard(s, sample(recs, 1 + Math.floor(rnd() * 2)));
    } else if (r < 0.82) {
      const conflicts = [...s.models.entries()].filter(([, m]) => m.state === 'conflict').map(([id]) => id);
      const rec = conflicts.length ? this.world.record(s.org, pick(conflicts)) : undefined;
      if (rec) await this.resolveOpen(s, rec, rnd() < 0.5);
      else await this.read(s);
    } else if (r < 0.86) {
      await this.settleWriteBackConflicts(s);
    } else {
      await this.read(s);
    }
  }
}

/**
 * Two users' race sessions edit the same field of one race record, then commit at the same
 * moment: exactly one commits, the other gets the conflict with the winner's value as theirs.
 */
export async function race(world: World, a: SoakUser, b: SoakUser, rec: SoakRecord): Promise<void> {
  const sa = a.raceSession;
  const sb = b.raceSession;
  const ma = sa.model(rec);
  const mb = sb.model(rec);
  if (
    ma.state !== 'none' ||
    mb.state !== 'none' ||
    ma.busy ||
    mb.busy ||
    ma.uncertainAll ||
    mb.uncertainAll
  ) {
    // Leftovers of an earlier race whose answer never came: clean up first.
    for (const [u, s, m] of [
      [a, sa, ma],
      [b, sb, mb],
    ] as const) {
      if (m.busy) continue;
      if (m.uncertainAll || m.version === null) await u.refresh(s, rec, 'race cleanup');
      if (m.state === 'conflict') await u.resolveOpen(s, rec, false);
      else if (m.state === 'draft') await u.discard(s, [rec]);
    }
    return;
  }
  const field = pick(TRACKED_FIELDS);
  await Promise.all([a.edit(sa, rec, [field]), b.edit(sb, rec, [field])]);
  const va = ma.expect.get(field);
  const vb = mb.expect.get(field);
  if (va === undefined || vb === undefined || ma.uncertain.size || mb.uncertain.size) return;
  const [ra, rb] = await Promise.all([a.commit(sa, [rec], 'race'), b.commit(sb, [rec], 'race')]);
  if (!ra || !rb) return; // one answer never came: nothing to judge
  world.count('races');
  const wonA = ra.commitDrafts.committed.length === 1;
  const wonB = rb.commitDrafts.committed.length === 1;
  if (wonA && wonB) {
    world.violate(
      'one-writer-per-record',
      `race on ${rec.pfaId} (${rec.id}).${field}: sessions ${sa.key} (${j(va)}) and ${sb.key} (${j(vb)}) edited from the same base and committed at the same moment — both commits succeeded`,
    );
  } else if (!wonA && !wonB) {
    world.violate(
      'one-writer-per-record',
      `race on ${rec.pfaId} (${rec.id}).${field}: both ${sa.key} and ${sb.key} got a conflict; nobody else writes race records`,
    );
  } else {
    const [loserOut, winnerValue] = wonA ? [rb, va] : [ra, vb];
    const c = loserOut.commitDrafts.conflicted[0]?.conflicts.find((x) => x.field === field);
    if (!c || !sameValue(field, c.theirs, winnerValue))
      world.violate(
        'one-writer-per-record',
        `race on ${rec.pfaId}.${field}: the loser's conflict says theirs=${j(c?.theirs)}, the winner committed ${j(winnerValue)}`,
      );
  }
  // Losers settle at once, so the next race starts clean.
  for (const [u, s, m] of [
    [a, sa, ma],
    [b, sb, mb],
  ] as const)
    if (m.state === 'conflict') await u.resolveOpen(s, rec, rnd() < 0.5);
}
