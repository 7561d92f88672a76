import { MIRROR_INDEXES } from '../db/mirror-indexes.js';
import { RECORD_FIELDS } from '../domain/record-fields.js';
import { QUERY_FIELDS, columnsOf, type RecordFilter } from './record-query.js';

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
const ORDERED_LIVE_INDEXES: readonly string[][] = liveIndexes().map((i) => i.keys);

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

/** Key and INCLUDE columns of each btree index over live mirror rows, keys after organization_id. */
const COVERING_LIVE_INDEXES = liveIndexes();

function liveIndexes(): { keys: string[]; columns: Set<string> }[] {
  return MIRROR_INDEXES.flatMap((ddl) => {
    const m =
      /ON pfa_mirror \(organization_id, ([a-z_, ]+)\)(?: INCLUDE \(([a-z_, ]+)\))? WHERE is_discontinued IS NOT TRUE$/.exec(
        ddl,
      );
    if (!m?.[1]) return [];
    const keys = m[1].split(',').map((c) => c.trim());
    const include = m[2] ? m[2].split(',').map((c) => c.trim()) : [];
    return [{ keys, columns: new Set(['organization_id', ...keys, ...include]) }];
  });
}

/**
 * Should the untouched half of a page first pick its ids from an index alone (an index-only
 * scan), then read just those rows? Yes when one ordered index of live rows both serves the
 * page's order (its first key is the first ordering field) and carries every column the filter
 * and the ordering read, and the filter has a condition on some other column — one the index
 * cannot bound, so the scan walks past rows that fail it. Read row by row, every row walked past
 * costs a heap fetch; from the index, none does (slip filter of the benchmark on 1M records: the
 * scan passed 6,533 rows for 1,001 kept — 10,000 buffers read through the heap, 100 from the
 * index). When the filter only bounds the order column, there is nothing to skip and the extra
 * lookup by id would only add work.
 */
export function coveringIndexPage(
  filter: RecordFilter | null | undefined,
  orderFields: readonly string[],
): boolean {
  if (!filter) return false;
  const columns = new Set<string>(['organization_id', 'id', 'removed_from_pems_at']);
  const filterColumns = new Set<string>();
  if (!collectColumns(filter, filterColumns)) return false;
  for (const field of orderFields) {
    const spec = QUERY_FIELDS[field];
    if (!spec) return false;
    for (const c of columnsOf(spec)) columns.add(c);
  }
  const orderColumn = QUERY_FIELDS[orderFields[0] ?? 'id']?.column;
  for (const c of filterColumns) columns.add(c);
  const unbounded = [...filterColumns].some((c) => c !== orderColumn && c !== 'removed_from_pems_at');
  if (!unbounded) return false;
  return COVERING_LIVE_INDEXES.some(
    (index) => index.keys[0] === orderColumn && [...columns].every((c) => index.columns.has(c)),
  );
}

/** The columns a filter reads; false when it reads something no btree index carries. */
function collectColumns(filter: RecordFilter, columns: Set<string>): boolean {
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined || value === null) continue;
    if (key === 'and' || key === 'or') {
      if (!(value as RecordFilter[]).every((f) => collectColumns(f, columns))) return false;
    } else if (key === 'not') {
      if (!collectColumns(value as RecordFilter, columns)) return false;
    } else if (key === 'includeRemoved') {
      columns.add('removed_from_pems_at');
    } else if (key === 'hasDraft') {
      continue; // a constant in the untouched half
    } else if (key === 'isDiscontinued' || key === 'search' || key === 'dataContains') {
      return false; // lifts the indexes' predicate, or reads search_text / data
    } else {
      const spec = QUERY_FIELDS[key];
      if (!spec) return false;
      for (const c of columnsOf(spec)) columns.add(c);
    }
  }
  return true;
}
