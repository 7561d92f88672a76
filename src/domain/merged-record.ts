import { costsOfValues, type RecordCosts } from './costs.js';
import { valuesFromData, type RecordValues } from './record-values.js';
import { slipsOfValues, type RecordSlips } from './slips.js';

/** A record as one caller sees it: mirror data overlaid by pending deltas and the caller's draft. */
export interface MergedRecord {
  id: string;
  organizationId: string;
  pfaId: string;
  /**
   * The merged JSON document, or null when the read left it out (a page whose selection does not
   * ask for `data`): `values` then holds the record keys, read from the merged relation's typed
   * columns.
   */
  data: Record<string, unknown> | null;
  /** The record keys as typed values; derived from `data` on first use when a read did not give them. */
  values?: RecordValues;
  /** Memo of costsOf / slipsOf (computed on first use). */
  costs?: RecordCosts;
  slips?: RecordSlips;
  version: number;
  pemsVersion: string | null;
  lastSyncedAt: Date;
  /** When a full read sync found the record gone from PEMS (null while PEMS has it). */
  removedFromPemsAt: Date | null;
  /** The session whose view this is (null: the baseline, mirror + pending). */
  sessionId: string | null;
  /** The caller's open modification of this record, if any. */
  draftId: string | null;
}

/** Which view of a record a session sees (PfaRecord.viewKey): `base`, or `session:<id>`. */
export function viewKeyOf(sessionId: string | null): string {
  return sessionId === null ? 'base' : `session:${sessionId}`;
}

/** The record keys of a merged record as typed values (read from `data` once per object). */
export function valuesOf(record: MergedRecord): RecordValues {
  if (record.values) return record.values;
  if (record.data === null) throw new Error(`record ${record.id} was read with neither data nor values`);
  return (record.values = valuesFromData(record.data));
}

/** Costs of a merged record, computed once per object. */
export function costsOf(record: MergedRecord): RecordCosts {
  return (record.costs ??= costsOfValues(valuesOf(record)));
}

/** Slip and duration days of a merged record, computed once per object. */
export function slipsOf(record: MergedRecord): RecordSlips {
  return (record.slips ??= slipsOfValues(valuesOf(record)));
}
