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

/** `end − start` in days of two date keys of a record; null when either is not a date. */
export function daysFrom(data: Record<string, unknown>, startKey: string, endKey: string): number | null {
  const start = readDate(data[startKey]);
  const end = readDate(data[endKey]);
  return start === null || end === null ? null : daysBetween(start, end);
}

/** The same figures SQL computes in `fieldExpr` (record-query.ts) as date differences. */
export function recordSlips(data: Record<string, unknown>): RecordSlips {
  return {
    forecastSlipDays: daysFrom(data, 'originalEnd', 'forecastEnd'),
    startSlipDays: daysFrom(data, 'originalStart', 'forecastStart'),
    forecastDurationDays: daysFrom(data, 'forecastStart', 'forecastEnd'),
    planDurationDays: daysFrom(data, 'originalStart', 'originalEnd'),
  };
}
