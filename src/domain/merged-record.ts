import { recordCosts, type RecordCosts } from './costs.js';

/** A record as one caller sees it: mirror data overlaid by pending deltas and the caller's draft. */
export interface MergedRecord {
  id: string;
  organizationId: string;
  pfaId: string;
  data: Record<string, unknown>;
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

const costCache = new WeakMap<MergedRecord, RecordCosts>();

/** Costs of a merged record, computed once per object. */
export function costsOf(record: MergedRecord): RecordCosts {
  let costs = costCache.get(record);
  if (!costs) {
    costs = recordCosts(record.data);
    costCache.set(record, costs);
  }
  return costs;
}
