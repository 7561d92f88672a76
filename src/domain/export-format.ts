import { recordCosts } from './costs.js';
import { recordSlips } from './slips.js';
import { RECORD_FIELDS } from './record-fields.js';
import { readBool, readDate, readMoney, readText } from './values.js';

/** One exported record: the merged row as the export query returns it. */
export interface ExportRecord {
  id: string;
  organizationId: string;
  pfaId: string;
  version: number;
  pemsVersion: string | null;
  lastSyncedAt: Date;
  removedFromPemsAt: Date | null;
  sessionId: string | null;
  data: Record<string, unknown>;
}

type Value = string | number | boolean | null;
type Getter = (r: ExportRecord) => Value;

const READERS = { text: readText, money: readMoney, date: readDate, boolean: readBool } as const;

/** Every record key of DOMAIN §1, read from the merged data as the GraphQL resolvers read it. */
const RECORD_GETTERS: Record<string, Getter> = Object.fromEntries(
  RECORD_FIELDS.map((f): [string, Getter] => {
    const read = READERS[f.type];
    return [f.key, (r) => read(r.data[f.key])];
  }),
);

/**
 * The PfaRecord scalar fields an export can hold, in their default order, with the same values
 * the GraphQL resolvers give (same readers, same cost and slip rules).
 */
export const EXPORT_FIELDS: Readonly<Record<string, Getter>> = {
  id: (r) => r.id,
  viewKey: (r) => (r.sessionId === null ? 'base' : `session:${r.sessionId}`),
  organizationId: (r) => r.organizationId,
  pfaId: (r) => r.pfaId,
  ...RECORD_GETTERS,
  version: (r) => r.version,
  pemsVersion: (r) => r.pemsVersion,
  lastSyncedAt: (r) => r.lastSyncedAt.toISOString(),
  removedFromPemsAt: (r) => (r.removedFromPemsAt ? r.removedFromPemsAt.toISOString() : null),
  planCost: (r) => recordCosts(r.data).planCost,
  forecastCost: (r) => recordCosts(r.data).forecastCost,
  actualCost: (r) => recordCosts(r.data).actualCost,
  variance: (r) => recordCosts(r.data).variance,
  forecastSlipDays: (r) => recordSlips(r.data).forecastSlipDays,
  startSlipDays: (r) => recordSlips(r.data).startSlipDays,
  forecastDurationDays: (r) => recordSlips(r.data).forecastDurationDays,
  planDurationDays: (r) => recordSlips(r.data).planDurationDays,
};

export const DEFAULT_EXPORT_FIELDS: readonly string[] = Object.keys(EXPORT_FIELDS);

const COST_FIELDS = new Set(['planCost', 'forecastCost', 'actualCost', 'variance']);
const SLIP_FIELDS = new Set([
  'forecastSlipDays',
  'startSlipDays',
  'forecastDurationDays',
  'planDurationDays',
]);

/**
 * A row builder for the chosen fields: costs and slips are computed once per record however many
 * of their fields are asked for.
 */
export function rowValues(fields: readonly string[]): (r: ExportRecord) => Value[] {
  const getters = fields.map((f) => EXPORT_FIELDS[f] as Getter);
  const kinds = fields.map((f) => (COST_FIELDS.has(f) ? 1 : SLIP_FIELDS.has(f) ? 2 : 0));
  if (!kinds.some((k) => k !== 0)) return (r) => getters.map((g) => g(r));
  return (r) => {
    let costs: Record<string, number> | undefined;
    let slips: Record<string, number | null> | undefined;
    const out: Value[] = new Array<Value>(fields.length);
    for (let i = 0; i < fields.length; i++) {
      const kind = kinds[i];
      const f = fields[i] as string;
      if (kind === 1)
        out[i] = (costs ??= recordCosts(r.data) as unknown as Record<string, number>)[f] as number;
      else if (kind === 2)
        out[i] = (slips ??= recordSlips(r.data) as unknown as Record<string, number | null>)[f] as
          number | null;
      else out[i] = (getters[i] as Getter)(r);
    }
    return out;
  };
}

/**
 * A number as a plain decimal, never in exponent notation (what Excel and every CSV reader take):
 * `1e21` → `1000000000000000000000`, `1.5e-7` → `0.00000015`. Exact for the double's shortest
 * representation.
 */
export function plainNumber(n: number): string {
  if (!Number.isFinite(n)) return '';
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/i.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = '', expText] = m as unknown as [string, string, string, string, string];
  const exp = Number(expText);
  const digits = lead + frac;
  if (exp >= 0) {
    const intLen = 1 + exp;
    return digits.length <= intLen
      ? sign + digits + '0'.repeat(intLen - digits.length)
      : `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One CSV cell per RFC 4180: empty for null; quoted (quotes doubled) when it holds , " CR or LF. */
export function csvCell(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'number') return plainNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return NEEDS_QUOTES.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One CSV line (CRLF-terminated, as RFC 4180 writes them). */
export function csvLine(values: readonly Value[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) line += (i ? ',' : '') + csvCell(values[i] as Value);
  return line + '\r\n';
}

/** One ndjson line: an object of the chosen fields, nulls kept. */
export function ndjsonLine(fields: readonly string[], values: readonly Value[]): string {
  const o: Record<string, Value> = {};
  for (let i = 0; i < fields.length; i++) o[fields[i] as string] = values[i] as Value;
  return JSON.stringify(o) + '\n';
}
