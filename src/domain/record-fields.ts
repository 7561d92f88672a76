/**
 * The record keys of DOMAIN §1: one registry used by validation, the GraphQL layer, the SQL
 * merge (column names and parse functions) and the data generator.
 */
export type FieldType = 'text' | 'money' | 'date' | 'boolean';

export interface FieldSpec {
  /** JSON key in `data` (camelCase, as PEMS sends it after mapping). */
  readonly key: string;
  /** Generated column on pfa_mirror. */
  readonly column: string;
  readonly type: FieldType;
  /** May a user change it in a draft? */
  readonly editable: boolean;
}

const f = (key: string, column: string, type: FieldType, editable: boolean): FieldSpec => ({
  key,
  column,
  type,
  editable,
});

export const RECORD_FIELDS: readonly FieldSpec[] = [
  f('category', 'category', 'text', true),
  f('class', 'class', 'text', true),
  f('source', 'source', 'text', true),
  f('dor', 'dor', 'text', true),
  f('areaSilo', 'area_silo', 'text', true),
  f('manufacturer', 'manufacturer', 'text', true),
  f('model', 'model', 'text', true),
  f('contract', 'contract', 'text', true),
  f('equipment', 'equipment', 'text', true),
  f('monthlyRate', 'monthly_rate', 'money', true),
  f('purchasePrice', 'purchase_price', 'money', true),
  f('originalStart', 'original_start', 'date', false),
  f('originalEnd', 'original_end', 'date', false),
  f('forecastStart', 'forecast_start', 'date', true),
  f('forecastEnd', 'forecast_end', 'date', true),
  f('actualStart', 'actual_start', 'date', false),
  f('actualEnd', 'actual_end', 'date', false),
  f('isActualized', 'is_actualized', 'boolean', false),
  f('hasActuals', 'has_actuals', 'boolean', false),
  f('hasPlan', 'has_plan', 'boolean', false),
  f('isDiscontinued', 'is_discontinued', 'boolean', true),
  f('isFundsTransferable', 'is_funds_transferable', 'boolean', true),
];

export const FIELD_BY_KEY: ReadonlyMap<string, FieldSpec> = new Map(RECORD_FIELDS.map((s) => [s.key, s]));
export const EDITABLE_KEYS: readonly string[] = RECORD_FIELDS.filter((s) => s.editable).map((s) => s.key);
