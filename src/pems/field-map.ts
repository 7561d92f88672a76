/**
 * The one place where PEMS (HxGN EAM) field names meet our record keys, plus the few wire names
 * the client and the simulator must agree on.
 *
 * A PEMS record travels as EAM field/value pairs — `{ "FIELDNAME": "MONTHLY_RATE", "FIELDVALUE": 1250.5 }`
 * in an UPDATE, `[n, value]` cells of a grid row whose column n is named in the grid's FIELDS.
 * Values are passed through untouched in both directions — a number stays a number, a numeric
 * string stays a string, null stays null — because DOMAIN §1/§2 already define how the mirror
 * reads loose PEMS values ("1250.50", "TBA", timestamps); normalising here would make a sync over
 * freshly seeded data see changes that are not there.
 *
 * Fields that are not in the table (site-specific EAM fields such as `COST_CENTER`) are kept in
 * `data`, never dropped (DOMAIN §1: unknown keys are kept):
 *   - a PEMS name in UPPER_SNAKE form whose segments start with a letter (`COST_CENTER`, `UOM`,
 *     `UDFCHAR01`) becomes lower camel case (`costCenter`, `uom`, `udfchar01`);
 *   - any other PEMS name (`udf_01`, `Notes`, `UDF_01`) is kept as-is.
 * The reverse rule (camel → UPPER_SNAKE, anything else as-is) is the exact inverse on every key
 * `fromPemsRow` can produce, so data → PEMS → data is the identity. A name that would land on one
 * of the table's names in the other direction (PEMS sends `IS_ACTUALIZED` or `category`; our data
 * holds a key `originalStartDate`) is ambiguous and rejected rather than silently merged.
 */
import { RECORD_FIELDS } from '../domain/record-fields.js';

/** Grid read by `POST /axis/restservices/griddata` (an EAM user-defined screen's grid). */
export const PEMS_GRID_NAME = 'UUPFAR';
/** User-defined screen updated by `POST /axis/restservices/userdefinedscreenservices`. */
export const PEMS_SCREEN_NAME = 'UUPFAR';

/** EAM's update counter: every row carries it, every UPDATE must send the one it read. */
export const PEMS_RECORDID_FIELD = 'RECORDID';
/** Every EAM row names its organization; the request header already says which one we asked. */
export const PEMS_ORGANIZATION_FIELD = 'ORGANIZATION';
/**
 * Virtual grid column holding the change-sequence watermark for incremental reads
 * (`CHANGE_SEQ > watermark`). A real EAM grid would filter on its last-update timestamp instead;
 * the watermark stays an opaque string to the sync either way.
 */
export const PEMS_CHANGE_SEQ_FIELD = 'CHANGE_SEQ';

/** Header carrying an EAM API key (the alternative is HTTP basic auth). */
export const PEMS_API_KEY_HEADER = 'x-api-key';
/** The text EAM puts in the error of an UPDATE that sent a stale RECORDID. */
export const PEMS_STALE_RECORD_MESSAGE = 'This record has been modified by another user';

/** One EAM field/value pair as it appears on the wire. */
export interface PemsDataField {
  FIELDNAME: string;
  FIELDVALUE: unknown;
}

export interface PemsFieldMapping {
  /** Our JSON key (DOMAIN §1). */
  readonly key: string;
  /** PEMS (EAM) field name. */
  readonly pems: string;
}

/** The table. pfaId plus every key of DOMAIN §1; checked against RECORD_FIELDS at load. */
export const PEMS_FIELD_MAP: readonly PemsFieldMapping[] = [
  { key: 'pfaId', pems: 'PFA_ID' },
  { key: 'category', pems: 'CATEGORY' },
  { key: 'class', pems: 'CLASS' },
  { key: 'source', pems: 'SOURCE' },
  { key: 'dor', pems: 'DOR' },
  { key: 'areaSilo', pems: 'AREA_SILO' },
  { key: 'manufacturer', pems: 'MANUFACTURER' },
  { key: 'model', pems: 'MODEL' },
  { key: 'contract', pems: 'CONTRACT' },
  { key: 'equipment', pems: 'EQUIPMENT' },
  { key: 'monthlyRate', pems: 'MONTHLY_RATE' },
  { key: 'purchasePrice', pems: 'PURCHASE_PRICE' },
  { key: 'originalStart', pems: 'ORIGINAL_START_DATE' },
  { key: 'originalEnd', pems: 'ORIGINAL_END_DATE' },
  { key: 'forecastStart', pems: 'FORECAST_START_DATE' },
  { key: 'forecastEnd', pems: 'FORECAST_END_DATE' },
  { key: 'actualStart', pems: 'ACTUAL_START_DATE' },
  { key: 'actualEnd', pems: 'ACTUAL_END_DATE' },
  { key: 'isActualized', pems: 'ACTUALIZED' },
  { key: 'hasActuals', pems: 'HAS_ACTUALS' },
  { key: 'hasPlan', pems: 'HAS_PLAN' },
  { key: 'isDiscontinued', pems: 'DISCONTINUED' },
  { key: 'isFundsTransferable', pems: 'FUNDS_TRANSFERABLE' },
];

export const PEMS_NAME_BY_KEY: ReadonlyMap<string, string> = new Map(
  PEMS_FIELD_MAP.map((m) => [m.key, m.pems]),
);
export const KEY_BY_PEMS_NAME: ReadonlyMap<string, string> = new Map(
  PEMS_FIELD_MAP.map((m) => [m.pems, m.key]),
);

/** Names that carry the envelope of a row, never record data. */
const ENVELOPE_NAMES: ReadonlySet<string> = new Set([
  PEMS_RECORDID_FIELD,
  PEMS_ORGANIZATION_FIELD,
  PEMS_CHANGE_SEQ_FIELD,
]);

// Fail at import, not at the first sync, when someone adds a record key without a PEMS name.
for (const spec of RECORD_FIELDS) {
  if (!PEMS_NAME_BY_KEY.has(spec.key)) throw new Error(`field-map: record key ${spec.key} has no PEMS name`);
}
if (KEY_BY_PEMS_NAME.size !== PEMS_FIELD_MAP.length || PEMS_NAME_BY_KEY.size !== PEMS_FIELD_MAP.length) {
  throw new Error('field-map: duplicate key or PEMS name in PEMS_FIELD_MAP');
}

export class FieldMapError extends Error {
  override readonly name = 'FieldMapError';
}

const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(?:_[A-Z][A-Z0-9]*)*$/;
const LOWER_CAMEL = /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$/;

function upperSnakeToCamel(name: string): string {
  return name.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

function camelToUpperSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

// Rows repeat the same few names a million times: remember conversions, but bounded, because the
// names come from outside.
const CACHE_LIMIT = 1024;

function remember<V>(cache: Map<string, V>, from: string, to: V): V {
  if (cache.size < CACHE_LIMIT) cache.set(from, to);
  return to;
}

/** Our key for a PEMS field name (table first, then the unknown-field rule). */
export function keyForPemsName(name: string): string {
  const known = KEY_BY_PEMS_NAME.get(name);
  if (known !== undefined) return known;
  return UPPER_SNAKE.test(name) ? upperSnakeToCamel(name) : name;
}

/** The PEMS field name for one of our keys (table first, then the unknown-key rule). */
export function pemsNameForKey(key: string): string {
  const known = PEMS_NAME_BY_KEY.get(key);
  if (known !== undefined) return known;
  return LOWER_CAMEL.test(key) ? camelToUpperSnake(key) : key;
}

const sendableNames = new Map<string, string>();

/** pemsNameForKey, refusing a key that would not be read back as itself. */
function sendableName(key: string): string {
  const cached = sendableNames.get(key);
  if (cached !== undefined) return cached;
  const name = pemsNameForKey(key);
  if (!PEMS_NAME_BY_KEY.has(key)) {
    if (KEY_BY_PEMS_NAME.has(name) || ENVELOPE_NAMES.has(name) || keyForPemsName(name) !== key) {
      throw new FieldMapError(
        `key ${JSON.stringify(key)} cannot be sent to PEMS: it would be read back as another field`,
      );
    }
  }
  return remember(sendableNames, key, name);
}

/**
 * Record data (or a set of changes) as EAM field/value pairs, in the key order of `data`.
 * Keys whose value is `undefined` are skipped (JSON cannot carry them). Throws FieldMapError for
 * a key that would not come back as itself (see the module comment).
 */
export function toPemsFields(data: Readonly<Record<string, unknown>>): PemsDataField[] {
  const out: PemsDataField[] = [];
  for (const key of Object.keys(data)) {
    const value = data[key];
    if (value !== undefined) out.push({ FIELDNAME: sendableName(key), FIELDVALUE: value });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Grid rows
//
// EAM's grid result defines its columns once (FIELDS, each with an aliasnum) and tags every value
// of a row with that number (`<d n="3">…</d>`); an empty field is simply absent. In JSON we keep
// that design and make it compact: `FIELDS` is the list of PEMS names (aliasnum = position) and a
// row is a flat array `[n, value, n, value, …]`. A field/value object per value would be 3.5×
// larger, and JSON text size is what bounds a million-row sync.

/** What one PEMS field name means for us: resolved once per name, not once per value. */
export interface PemsColumn {
  readonly name: string;
  readonly role: 'data' | 'recordid' | 'organization' | 'ignore' | 'invalid';
  /** Our key (role 'data'). */
  readonly key: string;
  /** Small number standing for `key` in the duplicate check; -1: none (use the slow check). */
  readonly keyId: number;
  /** Why the name cannot be mapped (role 'invalid'). */
  readonly problem?: string;
}

const columnCache = new Map<string, PemsColumn>();
const keyIds = new Map<string, number>();

function keyIdFor(key: string): number {
  const id = keyIds.get(key);
  if (id !== undefined) return id;
  if (keyIds.size >= 4 * CACHE_LIMIT) return -1;
  keyIds.set(key, keyIds.size);
  return keyIds.size - 1;
}

// Duplicate check without a property lookup per value: seen[keyId] holds the stamp of the last
// row that set that key. Rows are mapped synchronously, one at a time, so one array serves all.
let seen = new Int32Array(64);
let lastStamp = 0;

function nextStamp(): number {
  if (lastStamp === 0x7fffffff) {
    seen.fill(0);
    lastStamp = 0;
  }
  return ++lastStamp;
}

export function pemsColumn(name: string): PemsColumn {
  const cached = columnCache.get(name);
  if (cached !== undefined) return cached;
  let column: PemsColumn;
  if (name === PEMS_RECORDID_FIELD) column = { name, role: 'recordid', key: '', keyId: -1 };
  else if (name === PEMS_ORGANIZATION_FIELD) column = { name, role: 'organization', key: '', keyId: -1 };
  else if (name === PEMS_CHANGE_SEQ_FIELD) column = { name, role: 'ignore', key: '', keyId: -1 };
  else {
    const key = keyForPemsName(name);
    column =
      !KEY_BY_PEMS_NAME.has(name) && PEMS_NAME_BY_KEY.has(key)
        ? {
            name,
            role: 'invalid',
            key,
            keyId: -1,
            problem: `field ${name} would shadow ${key} (${PEMS_NAME_BY_KEY.get(key) ?? '?'})`,
          }
        : { name, role: 'data', key, keyId: keyIdFor(key) };
  }
  return remember(columnCache, name, column);
}

/** The columns of a grid response from its FIELDS list, or null when FIELDS is unusable. */
export function gridColumns(fields: unknown): PemsColumn[] | null {
  if (!Array.isArray(fields)) return null;
  const out: PemsColumn[] = [];
  for (const f of fields as unknown[]) {
    if (typeof f !== 'string' || f === '') return null;
    out.push(pemsColumn(f));
  }
  return out;
}

/** Builds one grid response: FIELDS grows as new keys appear; rows reference it by position. */
export class PemsGridWriter {
  readonly fields: string[] = [PEMS_ORGANIZATION_FIELD, PEMS_RECORDID_FIELD];
  private readonly position = new Map<string, number>();

  /** A grid row for `data`. Throws FieldMapError for a key PEMS could not carry. */
  row(organization: string, recordid: string, data: Readonly<Record<string, unknown>>): unknown[] {
    const out: unknown[] = [0, organization, 1, recordid];
    for (const key in data) {
      const value = data[key];
      if (value === undefined) continue;
      let n = this.position.get(key);
      if (n === undefined) {
        n = this.fields.push(sendableName(key)) - 1;
        this.position.set(key, n);
      }
      out.push(n, value);
    }
    return out;
  }
}

export type PemsRowMapping =
  | { ok: true; pfaId: string; recordid: string; organization: string | null; data: Record<string, unknown> }
  /** pfaId / recordid are '' when the row does not carry a readable one. */
  | { ok: false; pfaId: string; recordid: string; error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects one row's fields; the same rules for grid rows and field/value lists. */
class RowBuilder {
  readonly data: Record<string, unknown> = {};
  pfaId = '';
  recordid: string | null = null;
  organization: string | null = null;
  problems: string[] | null = null;
  private readonly stamp = nextStamp();

  problem(p: string): void {
    (this.problems ??= []).push(p);
  }

  add(column: PemsColumn, raw: unknown): void {
    const value = raw === undefined ? null : raw;
    if (column.role === 'data') {
      this.addData(column, value);
      return;
    }
    switch (column.role) {
      case 'recordid':
        // EAM sends the counter as a string; an integer is accepted, it is only compared as text.
        if (typeof value === 'string' && value !== '') this.recordid = value;
        else if (typeof value === 'number' && Number.isSafeInteger(value)) this.recordid = String(value);
        else this.problem(`RECORDID is not a string: ${JSON.stringify(value)}`);
        return;
      case 'organization':
        this.organization = typeof value === 'string' ? value : null;
        return;
      case 'ignore':
        return;
      case 'invalid':
        this.problem(column.problem ?? `field ${column.name} cannot be mapped`);
        return;
    }
  }

  private addData(column: PemsColumn, value: unknown): void {
    const key = column.key;
    const id = column.keyId;
    let duplicate: boolean;
    if (id >= 0) {
      if (id >= seen.length) {
        const grown = new Int32Array(Math.max(id + 1, seen.length * 2));
        grown.set(seen);
        seen = grown;
      }
      duplicate = seen[id] === this.stamp;
      seen[id] = this.stamp;
    } else {
      duplicate = Object.prototype.hasOwnProperty.call(this.data, key);
    }
    if (duplicate) {
      this.problem(`field ${column.name} appears twice (as ${key})`);
      return;
    }
    if (key === 'pfaId') {
      if (typeof value === 'string' && value !== '') this.pfaId = value;
      else this.problem(`PFA_ID is not a non-empty string: ${JSON.stringify(value)}`);
    }
    if (key === '__proto__') {
      // A PEMS field named __proto__ must become data, not a prototype.
      Object.defineProperty(this.data, key, { value, enumerable: true, writable: true, configurable: true });
    } else {
      this.data[key] = value;
    }
  }

  finish(): PemsRowMapping {
    if (this.pfaId === '' && !this.problems?.some((p) => p.startsWith('PFA_ID')))
      this.problem('row has no PFA_ID');
    if (this.recordid === null && !this.problems?.some((p) => p.startsWith('RECORDID'))) {
      this.problem('row has no RECORDID');
    }
    if (this.problems !== null || this.recordid === null) {
      const error = this.problems?.join('; ') ?? 'row has no RECORDID';
      return { ok: false, pfaId: this.pfaId, recordid: this.recordid ?? '', error };
    }
    return {
      ok: true,
      pfaId: this.pfaId,
      recordid: this.recordid,
      organization: this.organization,
      data: this.data,
    };
  }
}

/**
 * Maps one PEMS record to our data. Never throws: a row that cannot be mapped comes back with
 * `ok: false` and the reason, and with its pfaId whenever one is readable, so a sync can
 * quarantine that record — and must not take its absence as a deletion.
 *
 * Without `columns`, `row` is a record of field/value pairs, `{ "DATAFIELD": [{ "FIELDNAME",
 * "FIELDVALUE" }, …] }` (an UPDATE body; the inverse of toPemsFields). With `columns` (from
 * gridColumns(FIELDS)), `row` is a compact grid row `[n, value, …]`.
 *
 * `data` includes `pfaId` (DOMAIN §1 lists it as a key, and the generator puts it there); the
 * envelope fields (RECORDID, ORGANIZATION, CHANGE_SEQ) are returned beside it, not inside it.
 * A missing FIELDVALUE is read as null (EAM omits empty values).
 */
export function fromPemsRow(row: unknown, columns?: readonly PemsColumn[]): PemsRowMapping {
  const b = new RowBuilder();
  if (columns !== undefined) {
    if (!Array.isArray(row) || row.length % 2 !== 0) {
      return { ok: false, pfaId: '', recordid: '', error: 'grid row is not a list of [column, value] pairs' };
    }
    const cells: unknown[] = row;
    for (let j = 0; j < cells.length; j += 2) {
      const n = cells[j];
      const column = typeof n === 'number' ? columns[n] : undefined;
      if (column === undefined) b.problem(`cell ${j / 2} names no column of FIELDS (${JSON.stringify(n)})`);
      else b.add(column, cells[j + 1]);
    }
    return b.finish();
  }
  if (!isObject(row) || !Array.isArray(row.DATAFIELD)) {
    return { ok: false, pfaId: '', recordid: '', error: 'row has no DATAFIELD list' };
  }
  const fields: unknown[] = row.DATAFIELD;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (!isObject(field) || typeof field.FIELDNAME !== 'string' || field.FIELDNAME === '') {
      b.problem(`DATAFIELD[${i}] has no FIELDNAME`);
    } else {
      b.add(pemsColumn(field.FIELDNAME), field.FIELDVALUE);
    }
  }
  return b.finish();
}

/** A grid row's fields by PEMS name — readable form of a malformed row for a quarantine log. */
export function namedGridRow(row: unknown, fields: readonly string[]): unknown {
  if (!Array.isArray(row)) return row;
  const out: Record<string, unknown> = {};
  const cells: unknown[] = row;
  for (let j = 0; j + 1 < cells.length; j += 2) {
    const n = cells[j];
    const name = typeof n === 'number' ? fields[n] : undefined;
    Object.defineProperty(out, name ?? `#${String(n)}`, {
      value: cells[j + 1],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
