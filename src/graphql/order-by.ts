import { badInput } from '../domain/errors.js';
import { QUERY_FIELDS, type OrderKey } from '../repositories/record-query.js';

/**
 * The API's `PfaRecordOrderBy` values (SCREAMING_SNAKE_CASE field + direction) → ordering keys of
 * the repositories. GraphQL names stay here, at the edge; GET /export takes the same values.
 */
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
