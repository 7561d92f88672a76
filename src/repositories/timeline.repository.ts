import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Db } from '../db/database.js';
import { PREPARED_READ, PREPARED_READ_CUSTOM_PLAN } from '../db/read-timeout.js';
import { genericPlanSafe } from './page-plan.js';
import {
  compileFilter,
  mergedBranches,
  mergedSource,
  type MergeScope,
  type RecordFilter,
} from './record-query.js';

/** A date window, both days inclusive (`YYYY-MM-DD`). */
export interface TimelineWindow {
  from: string;
  to: string;
}

/**
 * JSON array text as PostgreSQL's json_agg writes it (`[a, b, …]`), valid JSON by construction:
 * the resolver writes it into the answer as it is (src/graphql/raw-json.ts).
 */
export type JsonArrayText = string;

/**
 * Gantt bars as parallel columns, each a JSON array: entry i of every column is bar i. `id`,
 * `pfaId`: strings; `category`: strings or null; dates `YYYY-MM-DD` (null where the field allows
 * it); `hasDraft`: booleans.
 */
export interface TimelineBarColumns {
  id: JsonArrayText;
  pfaId: JsonArrayText;
  category: JsonArrayText;
  forecastStart: JsonArrayText;
  forecastEnd: JsonArrayText;
  originalStart: JsonArrayText;
  originalEnd: JsonArrayText;
  actualStart: JsonArrayText;
  actualEnd: JsonArrayText;
  hasDraft: JsonArrayText;
}

export interface TimelineBarsPage {
  bars: TimelineBarColumns;
  /** Bars in `bars` (at most the limit). */
  count: number;
  /** More bars overlap the window than the limit let through. */
  truncated: boolean;
}

/** The columns, as the statement names them. */
const COLUMNS = [
  'id',
  'pfaId',
  'category',
  'forecastStart',
  'forecastEnd',
  'originalStart',
  'originalEnd',
  'actualStart',
  'actualEnd',
  'hasDraft',
] as const satisfies readonly (keyof TimelineBarColumns)[];

type BarColumnsRow = { n: string } & Record<keyof TimelineBarColumns, string | null>;

/**
 * A json_agg text (`[a, b, …]`, elements strings, null or booleans) without its last element; the
 * array has two elements at least. Only the last element is read: backwards from the end to its
 * first character (a string's opening quote is the first quote not escaped by a backslash).
 */
export function withoutLastElement(array: string): string {
  let start: number;
  if (array.endsWith('"]')) {
    start = array.length - 2;
    for (;;) {
      start = array.lastIndexOf('"', start - 1);
      let backslashes = 0;
      while (array.charCodeAt(start - 1 - backslashes) === 0x5c) backslashes++;
      if (backslashes % 2 === 0) break;
    }
  } else {
    start = array.lastIndexOf(' ') + 1; // null, true, false
  }
  if (start < 3 || array.slice(start - 2, start) !== ', ')
    throw new Error(`not a json_agg array of two elements or more: …${array.slice(-40)}`);
  return `${array.slice(0, start - 2)}]`;
}

/** A forecast span [forecast_start, forecast_end] of `r` that overlaps the window (NULL dates never do). */
const overlaps = (window: TimelineWindow): RawBuilder<SqlBool> =>
  sql<SqlBool>`r.forecast_start <= ${window.to}::date AND r.forecast_end >= ${window.from}::date`;

/**
 * Gantt bars over the caller's merged view (DOMAIN §3): the window and the filter are applied
 * inside both halves of the merge, each half ordered and limited on its own (see
 * `mergedBranches`). Untouched records then come from an index-only scan of
 * idx_pfa_mirror_forecast_start, which carries every column of a bar (migration
 * 20261205T2100): a range bounded by the window's end (and by a forecastStart filter), never
 * reading `data` or the heap. Only the records with a pending change or a draft of this session
 * are re-evaluated on their merged values.
 */
export class TimelineRepository {
  constructor(private readonly db: Db) {}

  /** The first `limit` bars overlapping the window, by forecast start then id; one statement. */
  async bars(
    scope: MergeScope,
    window: TimelineWindow,
    filter: RecordFilter | null | undefined,
    limit: number,
  ): Promise<TimelineBarsPage> {
    const where = sql<SqlBool>`${overlaps(window)} AND ${compileFilter(filter)}`;
    const take = limit + 1;
    const half = (source: RawBuilder<unknown>) => sql`(
      SELECT r.id, r.pfa_id, r.category, r.forecast_start, r.forecast_end, r.original_start,
             r.original_end, r.actual_start, r.actual_end, r.has_draft
      FROM ${source} AS r
      WHERE ${where}
      ORDER BY r.forecast_start, r.id
      LIMIT ${take})`;
    const [untouched, touched] = mergedBranches(scope);
    // One row of ten JSON texts instead of a row per bar: the driver reads ten values, and
    // neither it nor GraphQL nor JSON.stringify meets the 200,000 values of 20,000 bars (the
    // resolver writes the texts into the answer as they are). The aggregates read the ordered,
    // limited subquery in its order (a plain Aggregate over it). json_agg writes dates as
    // YYYY-MM-DD whatever the DateStyle. The limit + 1st bar, there only to tell that the limit
    // cut, is dropped from the texts here (its last element): dropping it in SQL (row_number()
    // and FILTER) made the statement about 10 ms slower at 20,000 bars (a WindowAgg that stores
    // every row).
    // Prepared on each connection; a generic plan (no planning per request: 2.4 ms of it measured
    // at 20,000 bars) when one index serves every value of the filter's shape, as for pages.
    const prepared = genericPlanSafe(filter, 'forecastStart') ? PREPARED_READ : PREPARED_READ_CUSTOM_PLAN;
    const { rows } = await sql<BarColumnsRow>`${sql.raw(prepared)}
      SELECT count(*) AS n,
             json_agg(b.id::text)::text AS "id",
             json_agg(b.pfa_id)::text AS "pfaId",
             json_agg(b.category)::text AS "category",
             json_agg(b.forecast_start)::text AS "forecastStart",
             json_agg(b.forecast_end)::text AS "forecastEnd",
             json_agg(b.original_start)::text AS "originalStart",
             json_agg(b.original_end)::text AS "originalEnd",
             json_agg(b.actual_start)::text AS "actualStart",
             json_agg(b.actual_end)::text AS "actualEnd",
             json_agg(b.has_draft)::text AS "hasDraft"
      FROM (
        SELECT * FROM (${half(untouched)} UNION ALL ${half(touched)}) AS u
        ORDER BY u.forecast_start, u.id
        LIMIT ${take}) AS b`.execute(this.db);
    const row = rows[0];
    const found = Number(row?.n ?? 0);
    const truncated = found > limit;
    const column = (name: keyof TimelineBarColumns): JsonArrayText => {
      const text = row?.[name] ?? '[]'; // json_agg of no row is NULL
      return truncated ? withoutLastElement(text) : text;
    };
    const bars = {} as TimelineBarColumns;
    for (const name of COLUMNS) bars[name] = column(name);
    return { bars, count: truncated ? limit : found, truncated };
  }

  /** How many bars overlap the window in all (asked only when `bars` was truncated). */
  async count(
    scope: MergeScope,
    window: TimelineWindow,
    filter: RecordFilter | null | undefined,
  ): Promise<number> {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${mergedSource(scope)}
      WHERE ${overlaps(window)} AND ${compileFilter(filter)}`.execute(this.db);
    return Number(rows[0]?.n ?? 0);
  }
}
