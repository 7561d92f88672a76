/**
 * Values of the previous PFA Vanguard application ("PFA2.2") → the record keys of DOMAIN §1.
 *
 * Its ORM wrote SQLite `DATETIME` as integer milliseconds since the epoch, booleans as 0/1 and
 * money as REAL; its PostgreSQL releases hold timestamps, booleans, numeric text and JSON. Every
 * reader here accepts all of these and never throws: a value it cannot read is kept as it was
 * (the generated columns then read it as missing, as they do for a bad value from PEMS).
 */
import { createHash } from 'node:crypto';
import { validateChanges } from '../domain/draft-rules.js';
import { FIELD_BY_KEY } from '../domain/record-fields.js';
import { parseIsoDate } from '../domain/values.js';

/** A value as a source driver hands it over (sql.js, or node-postgres with raw timestamp text). */
export type LegacyValue = unknown;

/** A value this small can only be seconds since the epoch, not milliseconds. */
const SECONDS_LIMIT = 100_000_000_000;

function fromEpoch(n: number): Date | null {
  if (!Number.isFinite(n)) return null;
  const d = new Date(Math.abs(n) < SECONDS_LIMIT ? n * 1000 : n);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Text timestamps as the sources write them: ISO, "YYYY-MM-DD HH:MM:SS[.fff][+hh]" (UTC when no offset). */
function textToIso(s: string): string {
  let t = s.trim().replace(' ', 'T');
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t += 'Z';
  else if (/[+-]\d{2}$/.test(t) && t.includes('T')) t += ':00';
  return t;
}

/** Integer ms / seconds, ISO text, `YYYY-MM-DD`, SQL timestamp text or a Date → `YYYY-MM-DD` (UTC). */
export function legacyDate(v: LegacyValue): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString().slice(0, 10);
  if (typeof v === 'number' || typeof v === 'bigint') {
    const d = fromEpoch(Number(v));
    return d ? d.toISOString().slice(0, 10) : Number(v);
  }
  if (typeof v === 'string') {
    // Fast path: the form the predecessor's JSON holds almost every date in (UTC midnight).
    if (v.length === 24 && v.endsWith('T00:00:00.000Z')) {
      const day = parseIsoDate(v.slice(0, 10));
      if (day) return day;
    }
    const s = v.trim();
    if (/^-?\d{9,}$/.test(s)) return legacyDate(Number(s));
    return parseIsoDate(s) ?? parseIsoDate(textToIso(s)) ?? v;
  }
  return v;
}

/** A timestamp that is not a record date (e.g. `lastModified`): full ISO-8601 in UTC. */
export function legacyTimestamp(v: LegacyValue): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (typeof v === 'number' || typeof v === 'bigint') return fromEpoch(Number(v))?.toISOString() ?? Number(v);
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^-?\d{9,}$/.test(s)) return legacyTimestamp(Number(s));
    const d = new Date(textToIso(s));
    return /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(d.getTime()) ? d.toISOString() : v;
  }
  return v;
}

/** A timestamp as a Date (who/when of a change), or null. */
export function legacyInstant(v: LegacyValue): Date | null {
  const iso = legacyTimestamp(v);
  if (typeof iso !== 'string') return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** 0/1, true/false (any case), "t"/"f" → boolean; anything else kept. */
export function legacyBoolean(v: LegacyValue): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === '1' || s === 't') return true;
    if (s === 'false' || s === '0' || s === 'f') return false;
  }
  return v;
}

const NUMERIC_TEXT = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** REAL or numeric text → a JSON number; other text ("TBA") is kept as text (pfa_money reads it as missing). */
export function legacyMoney(v: LegacyValue): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') {
    const s = v.trim();
    return NUMERIC_TEXT.test(s) ? Number(s) : v;
  }
  return v;
}

export function legacyText(v: LegacyValue): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return v;
}

/** A field the record keys do not know: kept, in a form JSON can hold. */
export function legacyOther(v: LegacyValue, isTimestamp: boolean): unknown {
  if (v === null || v === undefined) return null;
  if (isTimestamp || v instanceof Date) return legacyTimestamp(v);
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return v;
}

/** One value of a key: the key's type decides the reader (DOMAIN §1); unknown keys are kept. */
export function legacyValue(key: string, v: LegacyValue, timestampKeys: ReadonlySet<string>): unknown {
  const spec = FIELD_BY_KEY.get(key);
  if (!spec) return legacyOther(v, timestampKeys.has(key));
  switch (spec.type) {
    case 'date':
      return legacyDate(v);
    case 'money':
      return legacyMoney(v);
    case 'boolean':
      return legacyBoolean(v);
    case 'text':
      return legacyText(v);
  }
}

/**
 * Columns of the predecessor's record tables that are its own bookkeeping, not record data: its
 * row id and organization reference, ORM timestamps, its mirror's version and JSON copy, and its
 * older releases' local sync tracking. `pemsVersion` becomes pfa_mirror.pems_version.
 */
export const BOOKKEEPING_COLUMNS: ReadonlySet<string> = new Set([
  'id',
  'organizationId',
  'createdAt',
  'updatedAt',
  'data',
  'version',
  'pemsVersion',
  'lastSyncedAt',
  'syncState',
  'localVersion',
  'modifiedFields',
  'modifiedBy',
  'modifiedAt',
  'syncErrorMessage',
  'syncRetryCount',
]);

export interface LegacyRecord {
  pfaId: string;
  data: Record<string, unknown>;
  pemsVersion: string | null;
}

function parseJsonObject(v: unknown): Record<string, unknown> | null {
  let o = v;
  if (typeof v === 'string') {
    try {
      o = JSON.parse(v);
    } catch {
      return null;
    }
  }
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>) : null;
}

/**
 * One source row as record data. A `pfa_mirror` row's `data` JSON is the base and its typed
 * columns fill keys the JSON lacks; a `pfa_records` row's columns are the record. NULLs are left
 * out (an import never blanks a value PEMS sent).
 */
export function legacyRecord(row: Record<string, unknown>, timestampKeys: ReadonlySet<string>): LegacyRecord {
  const data: Record<string, unknown> = {};
  const json = row.data === undefined ? null : parseJsonObject(row.data);
  if (json) {
    for (const [k, v] of Object.entries(json)) {
      if (k === 'organizationId' || k === 'id') continue;
      const value = legacyValue(k, v, timestampKeys);
      if (value !== null && value !== undefined) data[k] = value;
    }
  }
  for (const k in row) {
    if (BOOKKEEPING_COLUMNS.has(k) || k in data) continue;
    const value = legacyValue(k, row[k], timestampKeys);
    if (value !== null && value !== undefined) data[k] = value;
  }
  const rawId = legacyText(row.pfaId ?? json?.pfaId ?? null);
  const pfaId = typeof rawId === 'string' ? rawId.trim() : '';
  if (pfaId !== '') data.pfaId = pfaId;
  const pv = row.pemsVersion ?? null;
  return {
    pfaId,
    data,
    pemsVersion: pv === null || pv === undefined || pv === '' ? null : String(legacyText(pv)),
  };
}

/**
 * A source modification's delta as a delta we may store (DOMAIN §1, §3: editable keys, typed
 * values, no nulls). Keys that are not editable or whose value cannot be read are dropped and
 * named in `dropped`.
 */
export function legacyDelta(raw: unknown): { delta: Record<string, unknown>; dropped: string[] } {
  const obj = parseJsonObject(raw) ?? {};
  const delta: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const value = legacyValue(k, v, new Set());
    try {
      Object.assign(delta, validateChanges({ [k]: value }, 'delta'));
    } catch {
      dropped.push(k);
    }
  }
  return { delta, dropped };
}

/** The source's JSON list of field names (text or array), or null. */
export function legacyFieldList(raw: unknown): string[] | null {
  let v: unknown = raw;
  if (typeof raw === 'string') {
    try {
      v = JSON.parse(raw);
    } catch {
      v = raw.replace(/^\{|\}$/g, '').split(',');
    }
  }
  return Array.isArray(v)
    ? v.filter((x): x is string => typeof x === 'string' && x !== '').map((x) => x.trim())
    : null;
}

export const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Our session id for a source (user, session id) pair: `legacy-` + the readable part of the
 * source id (letters, digits, `-`, `_`, at most 32) + a hash of the pair, so that the same pair
 * always gives the same session, two users' equal ids give two sessions, and the id is valid.
 */
export function legacySessionId(userId: string, sourceSessionId: string | null): string {
  const readable = (sourceSessionId ?? 'none').replace(/[^A-Za-z0-9_-]+/g, '').slice(0, 32) || 'x';
  const hash = createHash('sha256')
    .update(`${userId}\u0000${sourceSessionId ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  return `legacy-${readable}-${hash}`;
}
