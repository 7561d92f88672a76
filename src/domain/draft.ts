/** Where a modification is in its life cycle (the database's enum pfa_sync_state). */
export type SyncState = 'draft' | 'committed' | 'syncing' | 'synced' | 'conflict';

export interface FieldConflict {
  field: string;
  base: unknown;
  theirs: unknown;
  mine: unknown;
}

/** A pfa_modification row as the domain and the API see it. */
export interface DraftView {
  id: string;
  organizationId: string;
  mirrorId: string;
  sessionId: string;
  userId: string;
  delta: Record<string, unknown>;
  modifiedFields: string[];
  baseValues: Record<string, unknown>;
  baseVersion: number;
  basePemsVersion: string | null;
  currentVersion: number;
  syncState: SyncState;
  conflicts: FieldConflict[];
  changeReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  committedAt: Date | null;
  lastError: string | null;
}

export const OPEN_STATES: readonly SyncState[] = ['draft', 'conflict'];
export const PENDING_STATES: readonly SyncState[] = ['committed', 'syncing'];
