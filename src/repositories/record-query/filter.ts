import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import { RECORD_FIELDS } from '../../domain/record-fields.js';
import { badInput } from '../../domain/errors.js';
import { checkFilter } from '../../domain/filter-limits.js';
import { QUERY_FIELDS, castParam, fieldExpr } from './fields.js';

/** The filter language of DOMAIN §5 (PfaRecordFilter), compiled to a condition on the merged relation `r`. */

export interface StringOps {
  eq?: string | null;
  ne?: string | null;
  in?: readonly string[] | null;
  notIn?: readonly string[] | null;
  contains?: string | null;
  startsWith?: string | null;
  isNull?: boolean | null;
}
export interface NumberOps {
  eq?: number | null;
  ne?: number | null;
  gt?: number | null;
  gte?: number | null;
  lt?: number | null;
  lte?: number | null;
  in?: readonly number[] | null;
  isNull?: boolean | null;
}
export interface DateOps {
  eq?: string | null;
  gt?: string | null;
  gte?: string | null;
  lt?: string | null;
  lte?: string | null;
  isNull?: boolean | null;
}

/** The GraphQL `PfaRecordFilter` input, structurally. */
export interface RecordFilter {
  and?: readonly RecordFilter[] | null;
  or?: readonly RecordFilter[] | null;
  not?: RecordFilter | null;
  hasDraft?: boolean | null;
  dataContains?: Record<string, unknown> | null;
  search?: string | null;
  /** Top level only: also records removed from PEMS. */
  includeRemoved?: boolean | null;
  [field: string]: unknown;
}

const MAX_IN = 1000;
const MAX_CONDITIONS = 500;
const MAX_NESTING = 12;
const BOOLEAN_FIELDS = new Set(RECORD_FIELDS.filter((f) => f.type === 'boolean').map((f) => f.key));

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Does the filter name isDiscontinued anywhere (then discontinued records are not hidden)? */
export function namesDiscontinued(filter: RecordFilter | null | undefined): boolean {
  if (!filter) return false;
  if (filter.isDiscontinued !== undefined && filter.isDiscontinued !== null) return true;
  return (
    (filter.and ?? []).some(namesDiscontinued) ||
    (filter.or ?? []).some(namesDiscontinued) ||
    namesDiscontinued(filter.not)
  );
}

interface CompileState {
  conditions: number;
}

function isPresent<T>(v: T | null | undefined): v is T {
  return v !== undefined && v !== null;
}

function compileField(field: string, ops: unknown, path: string, state: CompileState): Expression<SqlBool>[] {
  const spec = QUERY_FIELDS[field];
  if (!spec) throw badInput(`unknown filter field "${field}"`, path);
  const col = fieldExpr(field);
  const out: Expression<SqlBool>[] = [];
  const push = (e: RawBuilder<SqlBool>) => {
    if (++state.conditions > MAX_CONDITIONS)
      throw badInput(`filter has more than ${MAX_CONDITIONS} conditions`, 'filter');
    out.push(e);
  };
  if (BOOLEAN_FIELDS.has(field)) {
    if (typeof ops !== 'boolean') throw badInput(`${path} must be a Boolean`, path);
    push(ops ? sql<SqlBool>`${col} IS TRUE` : sql<SqlBool>`${col} IS NOT TRUE`);
    return out;
  }
  if (typeof ops !== 'object' || ops === null) throw badInput(`${path} must be an operator object`, path);
  const o = ops as Record<string, unknown>;
  const p = (v: unknown) => castParam(v, spec.type);
  const checkList = (list: readonly unknown[], op: string) => {
    if (list.length > MAX_IN)
      throw badInput(`${path}.${op} has ${list.length} values; at most ${MAX_IN}`, `${path}.${op}`);
  };
  for (const [op, value] of Object.entries(o)) {
    if (!isPresent(value)) continue;
    switch (op) {
      case 'eq':
        push(sql<SqlBool>`${col} = ${p(value)}`);
        break;
      case 'ne':
        push(sql<SqlBool>`${col} <> ${p(value)}`);
        break;
      case 'gt':
        push(sql<SqlBool>`${col} > ${p(value)}`);
        break;
      case 'gte':
        push(sql<SqlBool>`${col} >= ${p(value)}`);
        break;
      case 'lt':
        push(sql<SqlBool>`${col} < ${p(value)}`);
        break;
      case 'lte':
        push(sql<SqlBool>`${col} <= ${p(value)}`);
        break;
      case 'in':
      case 'notIn': {
        const list = value as readonly unknown[];
        checkList(list, op);
        const arrayType = spec.type === 'text' ? sql`text[]` : sql`numeric[]`;
        const cond = sql<SqlBool>`${col} = ANY(${list}::${arrayType})`;
        push(op === 'in' ? cond : sql<SqlBool>`${col} <> ALL(${list}::${arrayType})`);
        break;
      }
      case 'contains':
        push(sql<SqlBool>`${col} ILIKE ${'%' + escapeLike(String(value)) + '%'}`);
        break;
      case 'startsWith':
        push(sql<SqlBool>`${col} ILIKE ${escapeLike(String(value)) + '%'}`);
        break;
      case 'isNull':
        push(value ? sql<SqlBool>`${col} IS NULL` : sql<SqlBool>`${col} IS NOT NULL`);
        break;
      default:
        throw badInput(`unknown operator ${path}.${op}`, `${path}.${op}`);
    }
  }
  return out;
}

export const andAll = (parts: Expression<SqlBool>[]): RawBuilder<SqlBool> =>
  parts.length === 0 ? sql<SqlBool>`true` : sql<SqlBool>`(${sql.join(parts, sql` AND `)})`;

function compileNode(
  filter: RecordFilter,
  path: string,
  depth: number,
  state: CompileState,
): RawBuilder<SqlBool> {
  if (depth > MAX_NESTING) throw badInput(`filter nests deeper than ${MAX_NESTING} levels`, path);
  const parts: Expression<SqlBool>[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (!isPresent(value)) continue;
    const here = `${path}.${key}`;
    switch (key) {
      case 'and':
        (value as RecordFilter[]).forEach((f, i) =>
          parts.push(compileNode(f, `${here}[${i}]`, depth + 1, state)),
        );
        break;
      case 'or': {
        const list = value as RecordFilter[];
        const alternatives = list.map((f, i) => compileNode(f, `${here}[${i}]`, depth + 1, state));
        parts.push(
          alternatives.length === 0
            ? sql<SqlBool>`false`
            : sql<SqlBool>`(${sql.join(alternatives, sql` OR `)})`,
        );
        break;
      }
      case 'not':
        // Two-valued logic: a condition on a missing value is false, so NOT of it is true.
        parts.push(sql<SqlBool>`(${compileNode(value as RecordFilter, here, depth + 1, state)}) IS NOT TRUE`);
        break;
      case 'includeRemoved':
        if (depth > 0) throw badInput('includeRemoved is allowed at the top level of a filter only', here);
        break;
      case 'hasDraft':
        parts.push(value ? sql<SqlBool>`r.has_draft` : sql<SqlBool>`NOT r.has_draft`);
        break;
      case 'dataContains':
        parts.push(sql<SqlBool>`r.data @> ${JSON.stringify(value)}::jsonb`);
        break;
      case 'search': {
        const words = String(value).split(/\s+/).filter(Boolean);
        if (words.length > 20) throw badInput('search has more than 20 words', here);
        for (const w of words)
          parts.push(sql<SqlBool>`r.search_text LIKE ${'%' + escapeLike(w.toLowerCase()) + '%'}`);
        break;
      }
      default:
        parts.push(...compileField(key, value, here, state));
    }
  }
  return andAll(parts);
}

/** WHERE condition on `r` for a filter, including the default exclusion of discontinued records. */
export function compileFilter(filter: RecordFilter | null | undefined): RawBuilder<SqlBool> {
  checkFilter(filter); // bounds and operand values before any SQL (src/domain/filter-limits.ts)
  const state: CompileState = { conditions: 0 };
  const parts: Expression<SqlBool>[] = [];
  if (filter) parts.push(compileNode(filter, 'filter', 0, state));
  if (!namesDiscontinued(filter)) parts.push(sql<SqlBool>`r.is_discontinued IS NOT TRUE`);
  // Records gone from PEMS are left out unless asked for (top level only, DOMAIN §3).
  if (filter?.includeRemoved !== true) parts.push(sql<SqlBool>`r.removed_from_pems_at IS NULL`);
  return andAll(parts);
}

/**
 * Fields that every matching record must have a value for: compared at the top level (through
 * `and` only). Lets ordering and keyset skip the NULLS-LAST handling and use plain index order.
 */
export function provenNonNull(filter: RecordFilter | null | undefined, field: string): boolean {
  if (!filter) return false;
  checkFilter(filter); // bounded nesting before the recursion below
  const ops = filter[field];
  if (isPresent(ops) && typeof ops === 'object') {
    const o = ops as Record<string, unknown>;
    if (
      ['eq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'startsWith', 'ne', 'notIn'].some((k) =>
        isPresent(o[k]),
      )
    )
      return true;
    if (o.isNull === false) return true;
  }
  return (filter.and ?? []).some((f) => provenNonNull(f, field));
}
