import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Db } from '../db/database.js';
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

/** Gantt bars as parallel arrays: entry i of every array is bar i. */
export interface TimelineBarColumns {
  id: string[];
  pfaId: string[];
  category: (string | null)[];
  forecastStart: string[];
  forecastEnd: string[];
  originalStart: (string | null)[];
  originalEnd: (string | null)[];
  actualStart: (string | null)[];
  actualEnd: (string | null)[];
  hasDraft: boolean[];
}

export interface TimelineBarsPage {
  bars: TimelineBarColumns;
  /** More bars overlap the window than the limit let through. */
  truncated: boolean;
}

interface BarRow {
  id: string;
  pfa_id: string;
  category: string | null;
  forecast_start: string;
  forecast_end: string;
  original_start: string | null;
  original_end: string | null;
  actual_start: string | null;
  actual_end: string | null;
  has_draft: boolean;
}

/** A forecast span [forecast_start, forecast_end] of `r` that overlaps the window (NULL dates never do). */
const overlaps = (window: TimelineWindow): RawBuilder<SqlBool> =>
  sql<SqlBool>`r.forecast_start <= ${window.to}::date AND r.forecast_end >= ${window.from}::date`;

/**
 * Gantt bars over the caller's merged view (DOMAIN §3): the window and the filter are applied
 * inside both halves of the merge, each half ordered and limited on its own (see
 * `mergedBranches`). Untouched records then come from an index-only scan of
 * idx_pfa_mirror_forecast_start, which carries every column of a bar (migration
 * 20261205T2100): ordered by forecast start and bounded by the window's end, never reading `data`
 * or the heap. Only the records with a pending change or a draft of this session are re-evaluated
 * on their merged values.
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
    const { rows } = await sql<BarRow>`
      SELECT * FROM (${half(untouched)} UNION ALL ${half(touched)}) AS b
      ORDER BY b.forecast_start, b.id
      LIMIT ${take}`.execute(this.db);
    const truncated = rows.length > limit;
    const n = Math.min(rows.length, limit);
    const bars: TimelineBarColumns = {
      id: new Array<string>(n),
      pfaId: new Array<string>(n),
      category: new Array<string | null>(n),
      forecastStart: new Array<string>(n),
      forecastEnd: new Array<string>(n),
      originalStart: new Array<string | null>(n),
      originalEnd: new Array<string | null>(n),
      actualStart: new Array<string | null>(n),
      actualEnd: new Array<string | null>(n),
      hasDraft: new Array<boolean>(n),
    };
    for (let i = 0; i < n; i++) {
      const row = rows[i] as BarRow;
      bars.id[i] = String(row.id);
      bars.pfaId[i] = row.pfa_id;
      bars.category[i] = row.category;
      bars.forecastStart[i] = row.forecast_start;
      bars.forecastEnd[i] = row.forecast_end;
      bars.originalStart[i] = row.original_start;
      bars.originalEnd[i] = row.original_end;
      bars.actualStart[i] = row.actual_start;
      bars.actualEnd[i] = row.actual_end;
      bars.hasDraft[i] = row.has_draft;
    }
    return { bars, truncated };
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
