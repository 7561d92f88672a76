import type { RecordValues } from './record-values.js';
import { readBool, readDate, readMoney, readText, daysBetween } from './values.js';

/** Average days in a month, as PEMS and the planners count (DOMAIN §2). */
export const DAYS_PER_MONTH = 30.44;

export interface RecordCosts {
  planCost: number;
  forecastCost: number;
  actualCost: number;
  variance: number;
}

/** What the cost rule reads of a record besides its dates. */
interface Pricing {
  source: string | null;
  purchasePrice: number | null;
  monthlyRate: number | null;
}

/** Cost of one record between two of its dates by the rule of DOMAIN §2 (unrounded). */
function costOver(p: Pricing, start: string | null, end: string | null): number {
  if (p.source === 'Purchase') return p.purchasePrice ?? 0;
  const rate = p.monthlyRate;
  if (start === null || end === null || rate === null) return 0;
  return (Math.max(0, daysBetween(start, end)) / DAYS_PER_MONTH) * rate;
}

/** Costs of a record from its typed values (the same figures SQL's pfa_cost gives). */
export function costsOfValues(v: RecordValues): RecordCosts {
  const planCost = costOver(v, v.originalStart, v.originalEnd);
  const forecastCost = costOver(v, v.forecastStart, v.forecastEnd);
  const actualCost = v.isActualized === true ? costOver(v, v.actualStart, v.actualEnd) : 0;
  return { planCost, forecastCost, actualCost, variance: forecastCost - planCost };
}

/** Costs of a merged JSON document (the keys it needs only). */
export function recordCosts(data: Record<string, unknown>): RecordCosts {
  const p: Pricing = {
    source: readText(data.source),
    purchasePrice: readMoney(data.purchasePrice),
    monthlyRate: readMoney(data.monthlyRate),
  };
  const planCost = costOver(p, readDate(data.originalStart), readDate(data.originalEnd));
  const forecastCost = costOver(p, readDate(data.forecastStart), readDate(data.forecastEnd));
  const actualCost =
    readBool(data.isActualized) === true
      ? costOver(p, readDate(data.actualStart), readDate(data.actualEnd))
      : 0;
  return { planCost, forecastCost, actualCost, variance: forecastCost - planCost };
}

/** Discontinued records count in no KPI and no bound; a missing flag means not discontinued. */
export function isDiscontinued(data: Record<string, unknown>): boolean {
  return readBool(data.isDiscontinued) === true;
}
