/**
 * What the harness knows independently of the service: the records it plays with, what every
 * simulated session was told (acknowledged draft values, acknowledged commits), who wrote which
 * field of which record (for telling real conflicts from spurious ones), counters and the
 * invariant violations found.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { readBool, readDate, readMoney, readText } from '../../src/domain/values.js';
import { FIELD_BY_KEY } from '../../src/domain/record-fields.js';

export type RecordClass = 'hot' | 'private' | 'race';

export interface SoakRecord {
  org: string;
  /** pfa_mirror.id as a string (the GraphQL id). */
  id: string;
  pfaId: string;
  cls: RecordClass;
  /** For private records: the one session that ever writes it. */
  owner?: string;
}

/** One session's view of one record, as acknowledged to it. */
export interface DraftModel {
  draftId: string | null;
  /** currentVersion of the open draft (0: none); null: unknown, read it before the next edit. */
  version: number | null;
  state: 'none' | 'draft' | 'conflict';
  /** Acknowledged draft values: field → value. */
  expect: Map<string, unknown>;
  /** Fields whose value the harness cannot know (a shift, an answer that never came). */
  uncertain: Set<string>;
  /** The whole draft is unknown (a commit or discard whose answer never came). */
  uncertainAll: boolean;
  /** An operation on it is in flight. */
  busy: boolean;
}

export function newModel(): DraftModel {
  return {
    draftId: null,
    version: 0,
    state: 'none',
    expect: new Map(),
    uncertain: new Set(),
    uncertainAll: false,
    busy: false,
  };
}

export function resetModel(m: DraftModel): void {
  m.draftId = null;
  m.version = 0;
  m.state = 'none';
  m.expect.clear();
  m.uncertain.clear();
  m.uncertainAll = false;
}

/** A commit the service acknowledged (commitDrafts → committed, or resolveConflict KEEP_MINE). */
export interface Obligation {
  org: string;
  id: string;
  record: SoakRecord;
  session: string;
  user: string;
  /** The delta as acknowledged (the last acknowledgment wins: KEEP_MINE after a write-back conflict). */
  delta: Record<string, unknown>;
  ackedAt: number;
  via: 'commit' | 'keep-mine' | 'race';
  /** The owner settled it otherwise (ACCEPT_THEIRS, discard) — acknowledged. */
  discharged: string | null;
  /** A later operation on it had no answer: its row may be gone or changed legitimately. */
  uncertain: boolean;
  /** Write-back conflicts the harness saw on it. */
  writeBackConflicts: number;
}

export interface Violation {
  invariant: string;
  detail: string;
  atSeconds: number;
}

export const TRACKED_FIELDS = ['model', 'manufacturer', 'monthlyRate', 'forecastEnd', 'contract'] as const;
/** Every field the soak writes (bulk edits add areaSilo and shift the forecast dates). */
export const SOAK_FIELDS = [...TRACKED_FIELDS, 'areaSilo', 'forecastStart'] as const;

/** Same value for the field's type (PEMS may write 1250.5 as "1250.50", a date as a timestamp). */
export function sameValue(key: string, a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  const spec = FIELD_BY_KEY.get(key);
  if (!spec) return JSON.stringify(a) === JSON.stringify(b);
  const read = { text: readText, money: readMoney, date: readDate, boolean: readBool }[spec.type];
  const x = read(a);
  return x !== null && x === read(b);
}

/** Same set of keys with the same values. */
export function sameDelta(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => k in b && sameValue(k, a[k], b[k]));
}

export function canonicalDelta(d: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(d)
      .sort()
      .map((k) => {
        const spec = FIELD_BY_KEY.get(k);
        const v = d[k];
        const norm =
          spec?.type === 'money' ? readMoney(v) : spec?.type === 'date' ? readDate(v) : (v ?? null);
        return [k, norm];
      }),
  );
}

/** Stands for "some value" in `World.sent` (a forecast shift). */
export const ANY = Symbol('any value');

export class World {
  readonly started = Date.now();
  readonly violations: Violation[] = [];
  readonly counts: Record<string, number> = {};
  readonly errors: Record<string, number> = {};
  readonly errorSamples: Record<string, string> = {};
  readonly obligations = new Map<string, Obligation>();
  /**
   * "org/draftId" of drafts in a commit whose answer never came (a lost connection): the commit
   * may have taken effect, so a write-back conflict may later hold the draft's row.
   */
  readonly maybeCommitted = new Set<string>();
  /** "org/recordId/field" → writers (session keys, or "pems"). */
  private readonly touches = new Map<string, Set<string>>();
  readonly records = new Map<string, SoakRecord>();
  private counter = 0;
  /** Distinguishes this run's values from the seed's and from other runs'. */
  readonly tag: string;

  constructor(tag: string) {
    this.tag = tag;
  }

  private traceStream: WriteStream | null = null;

  /** Every mutation and what it answered, one JSON line each (soak-trace.jsonl in the log directory). */
  traceTo(file: string): void {
    this.traceStream = createWriteStream(file, { flags: 'a' });
  }

  trace(entry: Record<string, unknown>): void {
    this.traceStream?.write(`${JSON.stringify({ t: Date.now() - this.started, ...entry })}\n`);
  }

  async closeTrace(): Promise<void> {
    const s = this.traceStream;
    this.traceStream = null;
    if (s) await new Promise<void>((resolve) => s.end(resolve));
  }

  count(name: string, n = 1): void {
    this.counts[name] = (this.counts[name] ?? 0) + n;
  }

  error(op: string, code: string, message: string): void {
    const key = `${op}:${code}`;
    this.errors[key] = (this.errors[key] ?? 0) + 1;
    this.errorSamples[key] ??= message.slice(0, 300);
  }

  violate(invariant: string, detail: string): void {
    this.trace({ op: 'violation', invariant, detail });
    this.violations.push({
      invariant,
      detail,
      atSeconds: Math.round((Date.now() - this.started) / 100) / 10,
    });
  }

  recordKey(org: string, id: string): string {
    return `${org}/${id}`;
  }

  record(org: string, id: string): SoakRecord | undefined {
    return this.records.get(this.recordKey(org, id));
  }

  touch(rec: SoakRecord, fields: Iterable<string>, writer: string): void {
    for (const f of fields) {
      const key = `${rec.org}/${rec.id}/${f}`;
      let set = this.touches.get(key);
      if (!set) this.touches.set(key, (set = new Set()));
      set.add(writer);
    }
  }

  /** Writers of the field other than `self`. */
  rivals(rec: SoakRecord, field: string, self: string): string[] {
    return [...(this.touches.get(`${rec.org}/${rec.id}/${field}`) ?? [])].filter((w) => w !== self);
  }

  /** A fresh value nobody has written before (so every delta is unique and conflicts are real). */
  freshValue(field: string): unknown {
    const n = ++this.counter;
    switch (field) {
      case 'monthlyRate':
        return 1000 + n;
      case 'forecastEnd': {
        const d = new Date(Date.UTC(2031, 0, 1) + n * 86_400_000);
        return d.toISOString().slice(0, 10);
      }
      default:
        return `${this.tag}-${field.slice(0, 3)}-${n}`;
    }
  }

  obligationKey(org: string, id: string): string {
    return `${org}/${id}`;
  }

  addObligation(o: Omit<Obligation, 'discharged' | 'uncertain' | 'writeBackConflicts'>): void {
    const key = this.obligationKey(o.org, o.id);
    const prev = this.obligations.get(key);
    this.obligations.set(key, {
      ...o,
      discharged: null,
      uncertain: false,
      writeBackConflicts: prev?.writeBackConflicts ?? 0,
    });
  }

  /** "session/recordId" → when its owner last discarded or ACCEPT_THEIRS'd an open draft of it. */
  readonly dropped = new Map<string, number>();

  /**
   * Every value a session sent for a field of a record (edits and bulk edits, answered or not;
   * `ANY` for a forecast shift, whose result the harness does not compute). Values are fresh, so
   * a value found here in a stored delta can only have come from that session: an edit lands in
   * the session's open modification, which may be a write-back conflict of its earlier commit.
   */
  private readonly sentValues = new Map<string, { value: unknown; at: number }[]>();

  sent(session: string, rec: SoakRecord, field: string, value: unknown): void {
    const key = `${session}/${rec.org}/${rec.id}/${field}`;
    const list = this.sentValues.get(key);
    const entry = { value, at: Date.now() };
    if (list) list.push(entry);
    else this.sentValues.set(key, [entry]);
  }

  /** Did this session send an edit of this field of the record after `since` (epoch ms)? */
  sentAfter(session: string, rec: SoakRecord, field: string, since: number): boolean {
    return (this.sentValues.get(`${session}/${rec.org}/${rec.id}/${field}`) ?? []).some((e) => e.at >= since);
  }

  /**
   * Did this session say this value of the field of the record after `since` (epoch ms): sent it
   * in an edit or bulk edit, or had it acknowledged in a commit or KEEP_MINE?
   */
  saidLater(session: string, rec: SoakRecord, field: string, value: unknown, since: number): boolean {
    for (const e of this.sentValues.get(`${session}/${rec.org}/${rec.id}/${field}`) ?? [])
      if (e.at >= since && (e.value === ANY || sameValue(field, e.value, value))) return true;
    for (const o of this.obligations.values())
      if (
        o.session === session &&
        o.record === rec &&
        o.ackedAt > since &&
        field in o.delta &&
        sameValue(field, o.delta[field], value)
      )
        return true;
    return false;
  }

  /**
   * Keys of an acknowledged commit that `delta` (the modification now carrying it) lost: a value
   * replaced by anything but what the session itself said later, or a key gone although the
   * session never edited it again (an edit back to "theirs" drops it). A write-back conflict
   * that takes an earlier open conflict of the session in must keep the later commit's values.
   */
  lostValues(o: Obligation, delta: Record<string, unknown>): string[] {
    return Object.keys(o.delta).filter((k) =>
      !(k in delta)
        ? !this.sentAfter(o.session, o.record, k, o.ackedAt)
        : !sameValue(k, delta[k], o.delta[k]) && !this.saidLater(o.session, o.record, k, delta[k], o.ackedAt),
    );
  }

  /** Did this session commit (acknowledged), or send in an edit, this value of this field of the record? */
  committedBy(session: string, rec: SoakRecord, field: string, value: unknown): boolean {
    for (const { value: v } of this.sentValues.get(`${session}/${rec.org}/${rec.id}/${field}`) ?? [])
      if (v === ANY || sameValue(field, v, value)) return true;
    for (const o of this.obligations.values())
      if (
        o.session === session &&
        o.record === rec &&
        field in o.delta &&
        sameValue(field, o.delta[field], value)
      )
        return true;
    return false;
  }

  seconds(): number {
    return (Date.now() - this.started) / 1000;
  }
}
