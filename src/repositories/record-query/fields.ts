import { sql, type RawBuilder } from 'kysely';
import { RECORD_FIELDS, type FieldType } from '../../domain/record-fields.js';
import { badInput } from '../../domain/errors.js';

/** The fields a filter or an ordering can name, as SQL on the merged relation `r`. */

/**
 * The SQL function that reads a JSON value of each field type exactly as the mirror's generated
 * columns do (migrations: pfa_text, pfa_money, pfa_date, pfa_bool).
 */
export const PARSE_FUNCTION: Readonly<Record<FieldType, string>> = {
  text: 'pfa_text',
  money: 'pfa_money',
  date: 'pfa_date',
  boolean: 'pfa_bool',
};

/** `json -> key` of a record field, parsed by its type's function. */
export function parsedKey(
  json: RawBuilder<unknown>,
  field: { key: string; type: FieldType },
): RawBuilder<unknown> {
  return sql`${sql.raw(PARSE_FUNCTION[field.type])}(${json} -> ${sql.lit(field.key)})`;
}

/**
 * The delta keys stored parsed beside a modification's delta (generated columns `delta_<column>`
 * of pfa_modification, migration 20261206T0400): the editable keys whose parsing costs.
 */
export const TYPED_DELTA_COLUMNS: ReadonlySet<string> = new Set([
  'monthly_rate',
  'purchase_price',
  'forecast_start',
  'forecast_end',
]);

/**
 * A field's value in the delta of the modification aliased `d` (null when the key is absent or
 * not a value of the field's type): the stored parsed column where there is one, else the key
 * parsed now. Callers test `d.delta ? key` first, as a key present with a wrong value is no value.
 */
export function deltaValue(
  d: string,
  field: { key: string; column: string; type: FieldType },
): RawBuilder<unknown> {
  return TYPED_DELTA_COLUMNS.has(field.column)
    ? sql.ref(`${d}.delta_${field.column}`)
    : parsedKey(sql.ref(`${d}.delta`), field);
}

export interface MergeScope {
  organizationId: string;
  /** The caller's session; null sees mirror + pending deltas only. */
  sessionId: string | null;
}

export type ValueType = FieldType | 'id' | 'cost' | 'int' | 'datetime';

export interface Column {
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

/** The day-difference fields: [later date, earlier date] columns of the merged relation. */
const DAY_DIFFERENCES: Readonly<Record<string, readonly [string, string]>> = {
  forecast_slip_days: ['forecast_end', 'original_end'],
  start_slip_days: ['forecast_start', 'original_start'],
  forecast_duration_days: ['forecast_end', 'forecast_start'],
  plan_duration_days: ['original_end', 'original_start'],
};

/** The stored columns of the merged relation a query field's expression reads. */
export function columnsOf(spec: Column): readonly string[] {
  return DAY_DIFFERENCES[spec.column] ?? [spec.column];
}

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
    case 'start_slip_days':
    case 'forecast_duration_days':
    case 'plan_duration_days': {
      const [later, earlier] = DAY_DIFFERENCES[spec.column] as readonly [string, string];
      return sql`(${sql.ref(`r.${later}`)} - ${sql.ref(`r.${earlier}`)})`;
    }
    case 'removed_from_pems_at':
      // At the precision the API shows (DateTime has milliseconds), so a cursor made from a value
      // read back compares equal to it.
      return sql`date_trunc('milliseconds', r.removed_from_pems_at)`;
    default:
      return sql.ref(`r.${spec.column}`);
  }
}

export function castParam(value: unknown, type: ValueType): RawBuilder<unknown> {
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
