import { MIRROR_INDEXES } from '../db/mirror-indexes.js';
import { RECORD_FIELDS } from '../domain/record-fields.js';
import { QUERY_FIELDS, type RecordFilter } from './record-query.js';

/**
 * May a page of this shape keep a generic plan (a prepared statement planned once, whatever the
 * parameter values)? Only when one ordered index of live mirror rows serves the page in order for
 * every value: the filter's text equalities are exactly that index's leading columns (after the
 * organization), the page is ordered by the next column, and the other conditions are date
 * ranges, flags, `hasDraft` or `includeRemoved` — checked on the rows the index scan yields, so a
 * page costs at most one scan of that equality partition (the grid: organization + category +
 * source, ordered by forecastStart; the timeline viewport: organization, ordered by forecastStart).
 *
 * Any other shape is planned per execution (custom plans): measured on 1M records, a generic plan
 * of `category = $1` ordered by id took 1.2 s for a category with no records where the custom plan
 * took 6 ms (another index, then a sort), and one of a `search` page 518 ms against 3.7 ms.
 */
export function genericPlanSafe(filter: RecordFilter | null | undefined, firstOrderField: string): boolean {
  const equalities = new Set<string>();
  if (filter && !conjunctionOfStableConditions(filter, equalities)) return false;
  const orderColumn = QUERY_FIELDS[firstOrderField]?.column;
  if (orderColumn === undefined) return false;
  return ORDERED_LIVE_INDEXES.some(
    (keys) =>
      keys.length > equalities.size &&
      keys.slice(0, equalities.size).every((c) => equalities.has(c)) &&
      keys[equalities.size] === orderColumn,
  );
}

/** Key columns (after organization_id) of the btree indexes over live (not discontinued) rows. */
const ORDERED_LIVE_INDEXES: readonly string[][] = MIRROR_INDEXES.flatMap((ddl) => {
  const m =
    /ON pfa_mirror \(organization_id, ([a-z_, ]+)\)(?: INCLUDE \([a-z_, ]+\))? WHERE is_discontinued IS NOT TRUE$/.exec(
      ddl,
    );
  return m?.[1] ? [m[1].split(',').map((c) => c.trim())] : [];
});

const TEXT_FIELDS = new Set(RECORD_FIELDS.filter((f) => f.type === 'text').map((f) => f.key));
const DATE_FIELDS = new Set(RECORD_FIELDS.filter((f) => f.type === 'date').map((f) => f.key));
const FLAG_FIELDS = new Set(RECORD_FIELDS.filter((f) => f.type === 'boolean').map((f) => f.key));
const RANGE_OPS = new Set(['eq', 'gt', 'gte', 'lt', 'lte']);

/** Collects the text equalities' columns; false at the first condition outside the stable kinds. */
function conjunctionOfStableConditions(filter: RecordFilter, equalities: Set<string>): boolean {
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined || value === null) continue;
    if (key === 'and') {
      if (!(value as RecordFilter[]).every((f) => conjunctionOfStableConditions(f, equalities))) return false;
    } else if (key === 'includeRemoved' || key === 'hasDraft') {
      continue;
    } else if (FLAG_FIELDS.has(key)) {
      // Naming isDiscontinued lifts the default exclusion the indexes' predicate relies on.
      if (key === 'isDiscontinued') return false;
    } else if (TEXT_FIELDS.has(key) || DATE_FIELDS.has(key)) {
      const ops = Object.entries(value as Record<string, unknown>).filter(
        ([, v]) => v !== undefined && v !== null,
      );
      if (TEXT_FIELDS.has(key)) {
        if (ops.length !== 1 || ops[0]?.[0] !== 'eq') return false;
        equalities.add(QUERY_FIELDS[key]?.column ?? key);
      } else if (!ops.every(([op]) => RANGE_OPS.has(op))) return false;
    } else {
      // or, not, search, dataContains, money, costs, slips, ids: plans that depend on the values.
      return false;
    }
  }
  return true;
}
