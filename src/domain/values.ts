/**
 * Tolerant readers of PEMS values — the TypeScript twins of the SQL functions pfa_text,
 * pfa_money, pfa_date and pfa_bool (migrations/…initial_schema.ts). Tests run both on the same
 * inputs: they must agree exactly.
 */

/** Text fields hold JSON strings; any other JSON value is no value (as pfa_text in SQL). */
export function readText(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

const MONEY_STRING = /^([0-9]+(\.[0-9]*)?|\.[0-9]+)$/;

/** Money: a JSON number ≥ 0 or a plain-digit string; anything else (or negative) is missing. */
export function readMoney(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v === 'string' && MONEY_STRING.test(v)) return Number(v);
  return null;
}

export function readBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'true') return true;
    if (s === 'false') return false;
  }
  return null;
}

const DATE_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})(T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?(?:Z|([+-])([0-9]{2}):?([0-9]{2}))?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digit = (s: string, i: number): number => s.charCodeAt(i) - 48;

/** Fast path for the form every PEMS date takes: a valid YYYY-MM-DD is its own canonical form. */
function plainDate(s: string): string | null | undefined {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return undefined;
  for (const i of [0, 1, 2, 3, 5, 6, 8, 9]) if (digit(s, i) < 0 || digit(s, i) > 9) return undefined;
  const year = digit(s, 0) * 1000 + digit(s, 1) * 100 + digit(s, 2) * 10 + digit(s, 3);
  const month = digit(s, 5) * 10 + digit(s, 6);
  const day = digit(s, 8) * 10 + digit(s, 9);
  if (year < 1 || month < 1 || month > 12 || day < 1) return null;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const max = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  return day <= max ? s : null;
}

/** ISO date (YYYY-MM-DD), or a full ISO-8601 timestamp read as its UTC date; else null. */
export function parseIsoDate(s: string): string | null {
  const plain = plainDate(s);
  if (plain !== undefined) return plain;
  const m = DATE_RE.exec(s);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[5] ?? 0);
  const minute = Number(m[6] ?? 0);
  const second = Number(m[7] ?? 0);
  const offH = Number(m[9] ?? 0);
  const offM = Number(m[10] ?? 0);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  if (hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) return null;
  if (day > daysInMonth(year, month)) return null;
  if (m[4] === undefined || m[8] === undefined) return formatDate(year, month, day);
  const sign = m[8] === '-' ? -1 : 1;
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute - sign * (offH * 60 + offM), 0, 0);
  if (d.getUTCFullYear() < 1) return null; // before year 1: no date (as in SQL)
  return formatDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
}

function formatDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function readDate(v: unknown): string | null {
  return typeof v === 'string' ? parseIsoDate(v) : null;
}

/**
 * Days since 1970-01-01 of a date written YYYY-MM-DD (proleptic Gregorian, as Date counts), or
 * NaN when the text is not of that form. Plain integer arithmetic (days-from-civil): two of these
 * per cost and slip field, thousands per page, where Date.parse of a built string cost more.
 */
function dayNumber(s: string): number {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return NaN;
  let year = 0;
  for (let i = 0; i < 4; i++) {
    const c = digit(s, i);
    if (c < 0 || c > 9) return NaN;
    year = year * 10 + c;
  }
  const m1 = digit(s, 5);
  const m2 = digit(s, 6);
  const d1 = digit(s, 8);
  const d2 = digit(s, 9);
  if (m1 < 0 || m1 > 9 || m2 < 0 || m2 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return NaN;
  const month = m1 * 10 + m2;
  const day = d1 * 10 + d2;
  if (month < 1 || month > 12 || day < 1 || day > 31) return NaN;
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Whole days from start to end of two ISO dates (may be negative). */
export function daysBetween(start: string, end: string): number {
  const days = dayNumber(end) - dayNumber(start);
  if (!Number.isNaN(days)) return days;
  return Math.round((Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000);
}

/** The dates the service stores and compares: PostgreSQL's `date` beyond these is an error or BC. */
export const MIN_DATE = '0001-01-01';
export const MAX_DATE = '9999-12-31';

/**
 * A client's calendar date: exactly `YYYY-MM-DD`, a real day, within 0001-01-01 … 9999-12-31
 * (the range every path — filters, edits, shifts — shares). Returns the date, or null.
 */
export function parseLocalDate(v: unknown): string | null {
  if (typeof v !== 'string' || v.length !== 10) return null;
  return plainDate(v) === v ? v : null;
}

/**
 * Why a client's text cannot be stored or compared, or null when it can: PostgreSQL refuses NUL
 * (U+0000) in `text` and `jsonb`, and a lone UTF-16 surrogate cannot be encoded (in JSON it
 * arrives as an escape `jsonb` refuses).
 */
export function textProblem(s: string): string | null {
  if (s.includes('\u0000')) return 'contains a NUL character (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'contains an unpaired UTF-16 surrogate';
  return null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
