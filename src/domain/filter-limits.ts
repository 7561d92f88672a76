import { badInput } from './errors.js';
import { FIELD_BY_KEY } from './record-fields.js';
import { parseLocalDate, textProblem } from './values.js';

/**
 * Bounds on a record filter (the `PfaRecordFilter` language of DOMAIN §5), checked before the
 * filter is compiled to SQL: whatever a client sends, the statement it becomes has a bounded
 * size, and no value reaches PostgreSQL that it would refuse (NUL, unpaired surrogates, dates
 * outside 0001-01-01 … 9999-12-31, non-finite numbers). The walk is iterative, so a filter nested
 * thousands of levels deep is refused without touching the call stack.
 */
export const FILTER_LIMITS = Object.freeze({
  /** Filter objects + operators + flags + search words + dataContains weight, in all. */
  conditions: 500,
  /** and/or/not levels below the top. */
  nesting: 12,
  /** Characters of one string operand (eq, ne, contains, startsWith, each `in` entry, search). */
  stringLength: 200,
  /** Entries of one `in` / `notIn` list. */
  listLength: 1000,
  /** Words of one `search`. */
  searchWords: 20,
  /** Characters of one `dataContains` object written as JSON. */
  dataContainsChars: 2000,
  /** Object/array levels of one `dataContains` (the object itself is level 1). */
  dataContainsDepth: 4,
  /** One condition per this many characters of a `dataContains` (containment costs by size). */
  dataContainsCharsPerCondition: 100,
});

type Kind = 'text' | 'number' | 'int' | 'date' | 'datetime' | 'boolean';

/** Filterable fields and the kind of their operands; keys not listed here get generic checks. */
const KIND: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['pfaId', 'text'],
  ...[...FIELD_BY_KEY.values()].map((f): [string, Kind] => [f.key, f.type === 'money' ? 'number' : f.type]),
  ['planCost', 'number'],
  ['forecastCost', 'number'],
  ['actualCost', 'number'],
  ['variance', 'number'],
  // Day differences of two dates (src/repositories/record-query.ts `fieldExpr`).
  ['forecastSlipDays', 'int'],
  ['startSlipDays', 'int'],
  ['forecastDurationDays', 'int'],
  ['planDurationDays', 'int'],
  ['removedFromPemsAt', 'datetime'],
]);

/** Day counts compare as PostgreSQL `integer`. */
const MAX_INT = 2_147_483_647;

/** Keys of a filter object that hold no condition of their own. */
const FLAGS = new Set(['includeRemoved']);

interface Pending {
  node: unknown;
  path: string;
  depth: number;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const checked = new WeakSet<object>();

/**
 * Throws BAD_USER_INPUT (naming the path of the offending value, e.g. `filter.or[3].model.eq`)
 * unless the filter is within FILTER_LIMITS and every operand is a value the database accepts.
 * A filter object that passed once is remembered, so repeated calls for one request are free.
 */
export function checkFilter(filter: unknown, path = 'filter'): void {
  if (filter === null || filter === undefined) return;
  if (typeof filter === 'object' && checked.has(filter)) return;
  let conditions = 0;
  const count = (n: number, at: string) => {
    conditions += n;
    if (conditions > FILTER_LIMITS.conditions)
      throw badInput(
        `filter has more than ${FILTER_LIMITS.conditions} conditions (every filter object, operator, flag, search word and 100 characters of dataContains counts)`,
        at,
      );
  };
  const stack: Pending[] = [{ node: filter, path, depth: 0 }];
  while (stack.length > 0) {
    const { node, path: here, depth } = stack.pop() as Pending;
    if (depth > FILTER_LIMITS.nesting)
      throw badInput(`filter nests deeper than ${FILTER_LIMITS.nesting} levels`, here);
    if (!isObject(node)) throw badInput(`${here} must be a filter object`, here);
    count(1, here);
    for (const [key, value] of Object.entries(node)) {
      if (value === null || value === undefined) continue;
      const at = `${here}.${key}`;
      switch (key) {
        case 'and':
        case 'or': {
          if (!Array.isArray(value)) throw badInput(`${at} must be a list of filters`, at);
          if (value.length > FILTER_LIMITS.conditions) count(value.length, at);
          for (let i = value.length - 1; i >= 0; i--)
            stack.push({ node: value[i], path: `${at}[${i}]`, depth: depth + 1 });
          break;
        }
        case 'not':
          stack.push({ node: value, path: at, depth: depth + 1 });
          break;
        case 'hasDraft':
          if (typeof value !== 'boolean') throw badInput(`${at} must be a Boolean`, at);
          count(1, at);
          break;
        case 'search': {
          checkString(value, at);
          const words = (value as string).split(/\s+/).filter(Boolean).length;
          if (words > FILTER_LIMITS.searchWords)
            throw badInput(`${at} has more than ${FILTER_LIMITS.searchWords} words`, at);
          count(Math.max(1, words), at);
          break;
        }
        case 'dataContains':
          count(checkJsonObject(value, at), at);
          break;
        default:
          if (FLAGS.has(key)) {
            if (typeof value !== 'boolean') throw badInput(`${at} must be a Boolean`, at);
          } else count(checkField(key, value, at), at);
      }
    }
  }
  if (typeof filter === 'object') checked.add(filter);
}

function checkString(value: unknown, at: string): void {
  if (typeof value !== 'string') throw badInput(`${at} must be a String`, at);
  if (value.length > FILTER_LIMITS.stringLength)
    throw badInput(`${at} is ${value.length} characters long; at most ${FILTER_LIMITS.stringLength}`, at);
  const problem = textProblem(value);
  if (problem) throw badInput(`${at} ${problem}`, at);
}

function checkOperand(kind: Kind | undefined, value: unknown, at: string): void {
  switch (kind) {
    case 'text':
      return checkString(value, at);
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw badInput(`${at} must be a finite number`, at);
      return;
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || Math.abs(value) > MAX_INT)
        throw badInput(`${at} must be a whole number (Int)`, at);
      return;
    case 'datetime': {
      // The DateTime scalar hands over a Date; a filter from elsewhere (export's JSON) a string.
      const time =
        value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
      const year = Number.isFinite(time) ? new Date(time).getUTCFullYear() : NaN;
      if (!(year >= 1 && year <= 9999))
        throw badInput(`${at} must be an ISO-8601 date-time between years 1 and 9999`, at);
      return;
    }
    case 'date':
      if (parseLocalDate(value) === null)
        throw badInput(`${at} must be a date YYYY-MM-DD between 0001-01-01 and 9999-12-31`, at);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw badInput(`${at} must be a Boolean`, at);
      return;
    default:
      // A field this module does not know (yet): the generic checks every operand needs.
      if (typeof value === 'string') return checkString(value, at);
      if (typeof value === 'number' && !Number.isFinite(value))
        throw badInput(`${at} must be a finite number`, at);
      if (typeof value === 'object') throw badInput(`${at} must be a single value`, at);
  }
}

/** Checks one field's operators; returns how many conditions they are. */
function checkField(field: string, ops: unknown, at: string): number {
  const kind = KIND.get(field);
  if (kind === 'boolean') {
    if (typeof ops !== 'boolean') throw badInput(`${at} must be a Boolean`, at);
    return 1;
  }
  if (kind === undefined && typeof ops === 'boolean') return 1;
  if (!isObject(ops)) throw badInput(`${at} must be an operator object`, at);
  let n = 0;
  for (const [op, value] of Object.entries(ops)) {
    if (value === null || value === undefined) continue;
    const here = `${at}.${op}`;
    n++;
    if (op === 'isNull') {
      if (typeof value !== 'boolean') throw badInput(`${here} must be a Boolean`, here);
    } else if (op === 'in' || op === 'notIn') {
      if (!Array.isArray(value)) throw badInput(`${here} must be a list`, here);
      if (value.length > FILTER_LIMITS.listLength)
        throw badInput(`${here} has ${value.length} values; at most ${FILTER_LIMITS.listLength}`, here);
      value.forEach((v, i) => checkOperand(kind, v, `${here}[${i}]`));
    } else checkOperand(kind, value, here);
  }
  return n;
}

/**
 * Checks a `dataContains` object: JSON of at most dataContainsChars characters and
 * dataContainsDepth levels, text the database accepts, finite numbers. Returns its weight in
 * conditions.
 */
function checkJsonObject(value: unknown, at: string): number {
  if (!isObject(value)) throw badInput(`${at} must be a JSON object`, at);
  const limit = FILTER_LIMITS.dataContainsChars;
  let chars = 2;
  const tooBig = () => badInput(`${at} is larger than ${limit} characters of JSON`, at);
  const stack: { v: unknown; depth: number; path: string }[] = [{ v: value, depth: 1, path: at }];
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop() as { v: unknown; depth: number; path: string };
    if (typeof v === 'string') {
      chars += v.length + 2;
      if (chars > limit) throw tooBig();
      const problem = textProblem(v);
      if (problem) throw badInput(`${path} ${problem}`, path);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw badInput(`${path} must be a finite number`, path);
      chars += String(v).length;
    } else if (typeof v === 'boolean' || v === null) chars += 5;
    else if (typeof v === 'object') {
      if (depth > FILTER_LIMITS.dataContainsDepth)
        throw badInput(`${at} nests deeper than ${FILTER_LIMITS.dataContainsDepth} levels`, path);
      const entries = Array.isArray(v)
        ? v.map((x, i): [string, unknown] => [`[${i}]`, x])
        : Object.entries(v).map(([k, x]): [string, unknown] => {
            chars += k.length + 4;
            const problem = textProblem(k);
            if (problem) throw badInput(`${path} has a key that ${problem}`, path);
            return [`.${k}`, x];
          });
      chars += 2;
      if (chars > limit) throw tooBig();
      for (const [suffix, x] of entries) stack.push({ v: x, depth: depth + 1, path: `${path}${suffix}` });
    } else throw badInput(`${path} is not a JSON value`, path);
    if (chars > limit) throw tooBig();
  }
  return Math.max(1, Math.ceil(chars / FILTER_LIMITS.dataContainsCharsPerCondition));
}
