import { readBool, readDate, readMoney, readText } from './values.js';

/**
 * The record keys of DOMAIN §1 (RECORD_FIELDS) as the API shows them: text and dates as strings
 * (dates canonical YYYY-MM-DD), money as numbers, flags as booleans, null when missing or not a
 * valid value. Read from the merged JSON with the tolerant readers of values.ts, or taken from
 * the merged relation's typed columns — the SQL twins of those readers (pfa_text, pfa_money,
 * pfa_date, pfa_bool), which test/parse-functions.test.ts keeps in exact agreement.
 */
export interface RecordValues {
  category: string | null;
  class: string | null;
  source: string | null;
  dor: string | null;
  areaSilo: string | null;
  manufacturer: string | null;
  model: string | null;
  contract: string | null;
  equipment: string | null;
  monthlyRate: number | null;
  purchasePrice: number | null;
  originalStart: string | null;
  originalEnd: string | null;
  forecastStart: string | null;
  forecastEnd: string | null;
  actualStart: string | null;
  actualEnd: string | null;
  isActualized: boolean | null;
  hasActuals: boolean | null;
  hasPlan: boolean | null;
  isDiscontinued: boolean | null;
  isFundsTransferable: boolean | null;
}

/** The typed values of a merged JSON document. */
export function valuesFromData(data: Record<string, unknown>): RecordValues {
  return {
    category: readText(data.category),
    class: readText(data.class),
    source: readText(data.source),
    dor: readText(data.dor),
    areaSilo: readText(data.areaSilo),
    manufacturer: readText(data.manufacturer),
    model: readText(data.model),
    contract: readText(data.contract),
    equipment: readText(data.equipment),
    monthlyRate: readMoney(data.monthlyRate),
    purchasePrice: readMoney(data.purchasePrice),
    originalStart: readDate(data.originalStart),
    originalEnd: readDate(data.originalEnd),
    forecastStart: readDate(data.forecastStart),
    forecastEnd: readDate(data.forecastEnd),
    actualStart: readDate(data.actualStart),
    actualEnd: readDate(data.actualEnd),
    isActualized: readBool(data.isActualized),
    hasActuals: readBool(data.hasActuals),
    hasPlan: readBool(data.hasPlan),
    isDiscontinued: readBool(data.isDiscontinued),
    isFundsTransferable: readBool(data.isFundsTransferable),
  };
}

/**
 * A row of the merged relation's typed columns, aliased to the record keys (see
 * MirrorRepository: `r.area_silo AS "areaSilo"`, …), as node-postgres returns it: NUMERIC as its
 * exact decimal text, DATE as YYYY-MM-DD text (src/db/database.ts), booleans and text as such.
 * Money becomes a number the way readMoney reads it (Number of the same decimal), everything else
 * is already the API's value: the row object itself is reused, nothing is copied.
 */
export function valuesFromColumns(row: Record<string, unknown>): RecordValues {
  const values = row as unknown as Record<keyof RecordValues, unknown>;
  if (values.monthlyRate !== null) values.monthlyRate = Number(values.monthlyRate);
  if (values.purchasePrice !== null) values.purchasePrice = Number(values.purchasePrice);
  return values as RecordValues;
}
