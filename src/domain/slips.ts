import type { RecordValues } from './record-values.js';
import { readDate, daysBetween } from './values.js';

/** Slip and duration fields of a record (DOMAIN §5.1), in whole days. */
export interface RecordSlips {
  /** forecastEnd − originalEnd. */
  forecastSlipDays: number | null;
  /** forecastStart − originalStart. */
  startSlipDays: number | null;
  /** forecastEnd − forecastStart. */
  forecastDurationDays: number | null;
  /** originalEnd − originalStart. */
  planDurationDays: number | null;
}

/** `end − start` in days of two dates of a record; null when either is missing. */
export function daysFrom(start: string | null, end: string | null): number | null {
  return start === null || end === null ? null : daysBetween(start, end);
}

/** The same figures SQL computes in `fieldExpr` (record-query/fields.ts) as date differences. */
export function slipsOfValues(
  v: Pick<RecordValues, 'originalStart' | 'originalEnd' | 'forecastStart' | 'forecastEnd'>,
): RecordSlips {
  return {
    forecastSlipDays: daysFrom(v.originalEnd, v.forecastEnd),
    startSlipDays: daysFrom(v.originalStart, v.forecastStart),
    forecastDurationDays: daysFrom(v.forecastStart, v.forecastEnd),
    planDurationDays: daysFrom(v.originalStart, v.originalEnd),
  };
}

/** Slips of a merged JSON document. */
export function recordSlips(data: Record<string, unknown>): RecordSlips {
  return slipsOfValues({
    originalStart: readDate(data.originalStart),
    originalEnd: readDate(data.originalEnd),
    forecastStart: readDate(data.forecastStart),
    forecastEnd: readDate(data.forecastEnd),
  });
}
