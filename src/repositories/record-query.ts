import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Db } from '../db/database.js';
import { RECORD_FIELDS, type FieldType } from '../domain/record-fields.js';
import { badInput } from '../domain/errors.js';
import { checkFilter } from '../domain/filter-limits.js';

/**
 * The session-scoped merge and the filter language of DOMAIN §5, compiled to one parameterised
 * query. Shape (see `mergedRecords`):
 *
 *   SELECT … FROM (
 *     untouched: pfa_mirror rows with no pending delta and no draft of this session
 *                → filtered on the mirror's own indexed generated columns
 *     UNION ALL
 *     touched:   the few records with a pending delta or this session's draft
 *                → merged JSON re-parsed with the same SQL functions as the generated columns
 *   ) r WHERE <filter on r> ORDER BY <keys> LIMIT n
 *
 * PostgreSQL flattens the UNION ALL into an append relation and pushes the filter, the ordering
 * and the LIMIT into each branch, so the untouched branch is an ordered index range scan with an
 * anti-join probe, never a scan of the organization.
 */

export interface MergeScope {
  organizationId: string;
  /** The caller's session; null sees mirror + pending deltas only. */
  sessionId: string | null;
}

export type ValueType = FieldType | 'id' | 'cost' | 'int' | 'datetime';

interface Column {
  column: string;
  type: ValueType;
}

/** GraphQL filter/order field → column of the merged relation `r` (or a cost expression). */
export const QUERY_FIELDS: Readonly<Record<string, Column>> = {
  id: { column: 'id', type: 'id' },
  pfaId: { column: 'pfa_id', type: 'text' },
  ...Object.fromEntries(RECORD_FIELDS.map((f) => [f.key, { column: f.column, type: f.type }])),
  planCost: { column: 'plan_cost', type: 'cost' },
  forecastCost: { column: 'forecast_cost', type: 'cost' },
  actualCost: { column: 'actual_cost', type: 'cost' },
  variance: { column: 'variance', type: 'cost' },
  // Day differences of the merged dates (null when either date is missing); no stored column.
  forecastSlipDays: { column: 'forecast_slip_days', type: 'int' },
  startSlipDays: { column: 'start_slip_days', type: 'int' },
  forecastDurationDays: { column: 'forecast_duration_days', type: 'int' },
  planDurationDays: { column: 'plan_duration_days', type: 'int' },
  removedFromPemsAt: { column: 'removed_from_pems_at', type: 'datetime' },
};

const PLAN_COST = sql`pfa_cost(r.source, r.original_start, r.original_end, r.monthly_rate, r.purchase_price)`;
const FORECAST_COST = sql`pfa_cost(r.source, r.forecast_start, r.forecast_end, r.monthly_rate, r.purchase_price)`;
const ACTUAL_COST = sql`(CASE WHEN r.is_actualized THEN pfa_cost(r.source, r.actual_start, r.actual_end, r.monthly_rate, r.purchase_price) ELSE 0 END)`;

/** SQL expression for a field of the merged relation `r`. */
export function fieldExpr(field: string): RawBuilder<unknown> {
  const spec = QUERY_FIELDS[field];
  if (!spec) throw badInput(`unknown field ${field}`);
  switch (spec.column) {
    case 'plan_cost':
      return PLAN_COST;
    case 'forecast_cost':
      return FORECAST_COST;
    case 'actual_cost':
      return ACTUAL_COST;
    case 'variance':
      return sql`(${FORECAST_COST} - ${PLAN_COST})`;
    case 'forecast_slip_days':
      return sql`(r.forecast_end - r.original_end)`;
    case 'start_slip_days':
      return sql`(r.forecast_start - r.original_start)`;
    case 'forecast_duration_days':
      return sql`(r.forecast_end - r.forecast_start)`;
    case 'plan_duration_days':
      return sql`(r.original_end - r.original_start)`;
    case 'removed_from_pems_at':
      // At the precision the API shows (DateTime has milliseconds), so a cursor made from a value
      // read back compares equal to it.
      return sql`date_trunc('milliseconds', r.removed_from_pems_at)`;
    default:
      return sql.ref(`r.${spec.column}`);
  }
}

function castParam(value: unknown, type: ValueType): RawBuilder<unknown> {
  switch (type) {
    case 'date':
      return sql`${value}::date`;
    case 'money':
    case 'cost':
      return sql`${value}::numeric`;
    case 'id':
      return sql`${value}::bigint`;
    case 'int':
      return sql`${value}::integer`;
    case 'datetime':
      return sql`${value instanceof Date ? value.toISOString() : value}::timestamptz`;
    case 'boolean':
      return sql`${value}::boolean`;
    default:
      return sql`${value}::text`;
  }
}

// ------------------------------------------------------------------------------- merge source

const relevantModification = (scope: MergeScope): RawBuilder<SqlBool> =>
  scope.sessionId === null
    ? sql<SqlBool>`d.sync_state IN ('committed', 'syncing')`
    : sql<SqlBool>`(d.sync_state IN ('committed', 'syncing') OR (d.session_id = ${scope.sessionId} AND d.sync_state IN ('draft', 'conflict')))`;

const MIRROR_OUTPUT = RECORD_FIELDS.map((f) => sql.ref(`m.${f.column}`));
const MERGED_OUTPUT = RECORD_FIELDS.map((f) => {
  const parse = { text: 'pfa_text', money: 'pfa_money', date: 'pfa_date', boolean: 'pfa_bool' }[f.type];
  return sql`${sql.raw(parse)}(j.data -> ${sql.lit(f.key)}) AS ${sql.ref(f.column)}`;
});

/**
 * The two halves of the merged relation, each a parenthesised SELECT with the columns listed for
 * `mergedSource`: records untouched by any relevant modification (straight from the mirror's
 * indexed columns) and the few touched ones (merged JSON re-parsed).
 *
 * A query that orders and limits must do so inside each half (see `MirrorRepository.findPage`):
 * PostgreSQL cannot flatten a UNION ALL member that has a WHERE clause or a join, so it plans
 * each half as a separate subquery that knows nothing of the outer ORDER BY/LIMIT and the outer
 * query sorts every matching row.
 */
export function mergedBranches(scope: MergeScope): [RawBuilder<unknown>, RawBuilder<unknown>] {
  const org = scope.organizationId;
  const relevant = relevantModification(scope);
  return [
    sql`(
    SELECT m.id, m.organization_id, m.pfa_id, m.version, m.pems_version, m.last_synced_at, m.removed_from_pems_at,
           NULL::bigint AS draft_id, false AS has_draft, m.data, m.search_text, ${sql.join(MIRROR_OUTPUT)}
    FROM pfa_mirror m
    WHERE m.organization_id = ${org}
      AND NOT EXISTS (SELECT 1 FROM pfa_modification d
                      WHERE d.organization_id = ${org} AND d.mirror_id = m.id AND ${relevant}))`,
    sql`(
    SELECT m.id, m.organization_id, m.pfa_id, m.version, m.pems_version, m.last_synced_at, m.removed_from_pems_at,
           x.draft_id, x.draft_id IS NOT NULL AS has_draft, j.data,
           pfa_search_text(m.pfa_id, j.data) AS search_text, ${sql.join(MERGED_OUTPUT)}
    FROM (SELECT d.mirror_id,
                 jsonb_concat_agg(d.delta ORDER BY d.sync_state IN ('draft', 'conflict'), d.committed_at, d.id) AS delta,
                 max(d.id) FILTER (WHERE d.sync_state IN ('draft', 'conflict')) AS draft_id
          FROM pfa_modification d
          WHERE d.organization_id = ${org} AND ${relevant}
          GROUP BY d.mirror_id) x
    JOIN pfa_mirror m ON m.organization_id = ${org} AND m.id = x.mirror_id
    -- OFFSET 0 keeps the merged document computed once: inlined, every parse function rebuilt it.
    CROSS JOIN LATERAL (SELECT m.data || x.delta AS data OFFSET 0) j)`,
  ];
}

/**
 * "Theirs" of DOMAIN §3 for the mirror row aliased `m`: its data overlaid by every pending delta
 * of the organization (the caller's own earlier pending changes included) in commit order. The
 * one definition used by edits (the baseline a delta is minimised against), bulk edits, commit
 * and conflict resolution.
 */
export function pendingOverlay(organizationId: string, mirror = 'm'): RawBuilder<Record<string, unknown>> {
  const m = sql.ref(mirror);
  return sql<Record<string, unknown>>`(${m}.data || coalesce((
    SELECT jsonb_concat_agg(o.delta ORDER BY o.committed_at, o.id) FROM pfa_modification o
    WHERE o.organization_id = ${organizationId} AND o.mirror_id = ${m}.id
      AND o.sync_state IN ('committed', 'syncing')), '{}'))`;
}

/**
 * The merged relation for one organization and session, as a derived table `r` with columns:
 * id, organization_id, pfa_id, version, pems_version, last_synced_at, removed_from_pems_at, draft_id, has_draft, data,
 * search_text and every generated column of pfa_mirror.
 */
export function mergedSource(scope: MergeScope): RawBuilder<unknown> {
  const [untouched, touched] = mergedBranches(scope);
  return sql`(${untouched} UNION ALL ${touched}) AS r`;
}

// ------------------------------------------------------------------------------- filters

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

const andAll = (parts: Expression<SqlBool>[]): RawBuilder<SqlBool> =>
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

// ------------------------------------------------------------------------------- ordering + keyset

export interface OrderKey {
  field: string;
  desc: boolean;
}

/** `FORECAST_START_DESC` → { field: 'forecastStart', desc: true }. */
export function parseOrderBy(values: readonly string[] | null | undefined): OrderKey[] {
  const keys: OrderKey[] = [];
  for (const v of values ?? []) {
    const m = /^([A-Z_]+)_(ASC|DESC)$/.exec(v);
    if (!m || !m[1]) throw badInput(`unknown orderBy value ${v}`, 'orderBy');
    const field = m[1].toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!QUERY_FIELDS[field]) throw badInput(`unknown orderBy value ${v}`, 'orderBy');
    if (keys.some((k) => k.field === field)) throw badInput(`orderBy names ${field} twice`, 'orderBy');
    keys.push({ field, desc: m[2] === 'DESC' });
    if (field === 'id') break; // id is unique: later keys cannot matter
  }
  return keys;
}

interface PlannedKey extends OrderKey {
  expr: RawBuilder<unknown>;
  type: ValueType;
  nonNull: boolean;
  /** NULLs after every value (the contract's order); false in a reversed (backward) ordering. */
  nullsLast: boolean;
}

export interface Ordering {
  keys: PlannedKey[];
  orderBy: RawBuilder<unknown>;
  /** The same order over output columns sk0, sk1, … of a derived table `r` (sort key i as sk<i>). */
  outputOrderBy: RawBuilder<unknown>;
  signature: string;
}

/**
 * Total order: the requested keys, then id in the direction of the first key. NULLs last.
 * `backward` plans the exact reverse (every direction flipped, NULLs first), for `last`/`before`
 * pages; its signature is the forward one, so cursors work in both directions.
 */
export function planOrdering(
  orderBy: OrderKey[],
  filter: RecordFilter | null | undefined,
  backward = false,
): Ordering {
  const requested = orderBy.length ? orderBy : [{ field: 'id', desc: false }];
  const keys: PlannedKey[] = requested.map((k) => {
    const spec = QUERY_FIELDS[k.field] as Column;
    const nonNull =
      k.field === 'id' || k.field === 'pfaId' || spec.type === 'cost' || provenNonNull(filter, k.field);
    return { ...k, expr: fieldExpr(k.field), type: spec.type, nonNull, nullsLast: true };
  });
  if (!keys.some((k) => k.field === 'id')) {
    keys.push({
      field: 'id',
      desc: keys[0]?.desc ?? false,
      expr: fieldExpr('id'),
      type: 'id',
      nonNull: true,
      nullsLast: true,
    });
  }
  const signature = keys.map((k) => `${k.field}:${k.desc ? 'd' : 'a'}`).join(',');
  if (backward) for (const k of keys) Object.assign(k, { desc: !k.desc, nullsLast: false });
  // NULLS LAST is the contract; for a key proven non-null the NULLS clause is free, so pick the
  // one a plain btree walked backwards produces (DESC NULLS FIRST) and keep the index order usable.
  const orderSql = (expr: (k: PlannedKey, i: number) => RawBuilder<unknown>) =>
    sql.join(
      keys.map((k, i) =>
        k.desc
          ? k.nonNull || !k.nullsLast
            ? sql`${expr(k, i)} DESC NULLS FIRST`
            : sql`${expr(k, i)} DESC NULLS LAST`
          : k.nonNull || k.nullsLast
            ? sql`${expr(k, i)} ASC NULLS LAST`
            : sql`${expr(k, i)} ASC NULLS FIRST`,
      ),
    );
  return {
    keys,
    orderBy: orderSql((k) => k.expr),
    outputOrderBy: orderSql((_, i) => sql.ref(`r.sk${i}`)),
    signature,
  };
}

/** Keyset condition "strictly after this cursor position" in the ordering. */
export function afterCondition(ordering: Ordering, values: readonly unknown[]): RawBuilder<SqlBool> {
  const { keys } = ordering;
  const allNonNull = keys.every((k) => k.nonNull);
  const sameDirection = keys.every((k) => k.desc === keys[0]?.desc);
  if (allNonNull && sameDirection) {
    // Row comparison: an index range condition on (key…, id).
    const left = sql.join(keys.map((k) => k.expr));
    const right = sql.join(keys.map((k, i) => castParam(values[i], k.type)));
    return keys[0]?.desc ? sql<SqlBool>`(${left}) < (${right})` : sql<SqlBool>`(${left}) > (${right})`;
  }
  // General form: OR over i of (k1 = v1 AND … AND k(i-1) = v(i-1) AND ki after vi), NULLs last.
  const alternatives: RawBuilder<SqlBool>[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as PlannedKey;
    const v = values[i];
    const equalPrefix = keys.slice(0, i).map((p, j) => {
      const pv = values[j];
      return pv === null
        ? sql<SqlBool>`${p.expr} IS NULL`
        : sql<SqlBool>`${p.expr} = ${castParam(pv, p.type)}`;
    });
    let after: RawBuilder<SqlBool>;
    // NULLs last: nothing follows a NULL, NULLs follow every value; NULLs first: the reverse.
    if (v === null) after = k.nullsLast ? sql<SqlBool>`false` : sql<SqlBool>`${k.expr} IS NOT NULL`;
    else {
      const cmp = k.desc
        ? sql<SqlBool>`${k.expr} < ${castParam(v, k.type)}`
        : sql<SqlBool>`${k.expr} > ${castParam(v, k.type)}`;
      after = k.nonNull || !k.nullsLast ? cmp : sql<SqlBool>`(${cmp} OR ${k.expr} IS NULL)`;
    }
    alternatives.push(andAll([...equalPrefix, after]));
  }
  return sql<SqlBool>`(${sql.join(alternatives, sql` OR `)})`;
}

// ------------------------------------------------------------------------------- cursors

export type { Db };
