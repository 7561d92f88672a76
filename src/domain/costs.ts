import { readBool, readDate, readMoney, readText, daysBetween } from './values.js';

/** Average days in a month, as PEMS and the planners count (DOMAIN §2). */
export const DAYS_PER_MONTH = 30.44;

export interface RecordCosts {
  planCost: number;
  forecastCost: number;
  actualCost: number;
  variance: number;
}

/** Cost of one record between two dates by the rule of DOMAIN §2 (unrounded). */
export function costBetween(data: Record<string, unknown>, startKey: string, endKey: string): number {
  if (readText(data.source) === 'Purchase') return readMoney(data.purchasePrice) ?? 0;
  const start = readDate(data[startKey]);
  const end = readDate(data[endKey]);
  const rate = readMoney(data.monthlyRate);
  if (start === null || end === null || rate === null) return 0;
  return (Math.max(0, daysBetween(start, end)) / DAYS_PER_MONTH) * rate;
}

export function recordCosts(data: Record<string, unknown>): RecordCosts {
  const planCost = costBetween(data, 'originalStart', 'originalEnd');
  const forecastCost = costBetween(data, 'forecastStart', 'forecastEnd');
  const actualCost = readBool(data.isActualized) === true ? costBetween(data, 'actualStart', 'actualEnd') : 0;
  return { planCost, forecastCost, actualCost, variance: forecastCost - planCost };
}

/** Discontinued records count in no KPI and no bound; a missing flag means not discontinued. */
export function isDiscontinued(data: Record<string, unknown>): boolean {
  return readBool(data.isDiscontinued) === true;
}
