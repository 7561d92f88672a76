import { badInput } from './errors.js';
import { daysBetween } from './values.js';

/** The limits of `timelineBars` (issue 11): what one Gantt request may ask for. */

/** Bars in one answer at most, and the default `limit`. */
export const TIMELINE_MAX_BARS = 50_000;
/** Days a window may hold at most (three years, a leap day included): `to` − `from` ≤ 1,095. */
export const TIMELINE_MAX_WINDOW_DAYS = 1_096;
/**
 * Bars per unit of the query cost (src/graphql/limits.ts): a bar is one small row written into
 * parallel arrays, measured at about a quarter of the time of a record object with the same fields.
 */
export const TIMELINE_BARS_PER_COST_UNIT = 4;

/** The window [from, to] (inclusive days, already valid dates), or BAD_USER_INPUT naming `to`. */
export function checkTimelineWindow(from: string, to: string): { from: string; to: string } {
  const span = daysBetween(from, to);
  if (span < 0) throw badInput(`to (${to}) is before from (${from})`, 'to');
  if (span + 1 > TIMELINE_MAX_WINDOW_DAYS)
    throw badInput(
      `the window ${from} … ${to} holds ${span + 1} days; at most ${TIMELINE_MAX_WINDOW_DAYS} (three years)`,
      'to',
    );
  return { from, to };
}

/** The bar limit (default TIMELINE_MAX_BARS), or BAD_USER_INPUT naming `limit`. */
export function checkTimelineLimit(limit: number | null | undefined): number {
  const n = limit ?? TIMELINE_MAX_BARS;
  if (!Number.isInteger(n) || n < 1 || n > TIMELINE_MAX_BARS)
    throw badInput(`limit must be between 1 and ${TIMELINE_MAX_BARS} (got ${n})`, 'limit');
  return n;
}
