/**
 * A database of the previous PFA Vanguard application, read-only: its SQLite development file
 * or its PostgreSQL. Both readers hand rows over with the source's own column names; the
 * import (src/jobs/legacy-import.ts) does the rest the same way for both.
 */

/** Where the records are: the later releases' `pfa_mirror`, or the flat `pfa_records` / `PfaRecord`. */
export type RecordTable = 'pfa_mirror' | 'pfa_records' | 'PfaRecord';

export interface LegacyShape {
  kind: 'sqlite' | 'postgres';
  recordTable: RecordTable;
  /** Columns of the record table. */
  columns: ReadonlySet<string>;
  /** Columns (record table) declared as timestamps: unknown ones are kept as ISO timestamps. */
  timestampColumns: ReadonlySet<string>;
  hasOrganizations: boolean;
  hasUsers: boolean;
  /** `pfa_modification` exists (with how many rows). */
  modifications: number | null;
  /** `pfa_sync_conflict` exists. */
  hasConflicts: boolean;
  /** One line for the operator: what was found. */
  description: string;
}

export interface LegacyOrganization {
  id: string;
  code: string | null;
  name: string | null;
}

export interface LegacyUser {
  id: string;
  username: string | null;
  email: string | null;
}

/** A source modification with what the import needs of its record and its open conflict. */
export interface LegacyModification {
  id: string;
  /** The organization reference of the modification (or of its record). */
  organizationId: string | null;
  /** pfaId of the record the modification changes; null when that record is missing. */
  pfaId: string | null;
  mirrorId: string | null;
  userId: string | null;
  sessionId: string | null;
  syncState: string | null;
  delta: unknown;
  baseVersion: number | null;
  currentVersion: number | null;
  modifiedFields: unknown;
  changeReason: string | null;
  pemsVersion: string | null;
  createdAt: unknown;
  updatedAt: unknown;
  committedAt: unknown;
  /** The newest unresolved `pfa_sync_conflict` of this modification, if any. */
  conflict: { pemsData: unknown; localData: unknown; conflictFields: unknown; createdAt: unknown } | null;
}

export interface LegacySource {
  readonly shape: LegacyShape;
  organizations(): Promise<LegacyOrganization[]>;
  users(): Promise<LegacyUser[]>;
  /** Record rows per raw `organizationId` value. */
  recordCounts(): Promise<{ organizationId: string | null; count: number }[]>;
  /** An organization's record rows in pfaId order, in batches (streamed, not loaded at once). */
  records(organizationId: string, batchSize: number): AsyncIterable<Record<string, unknown>[]>;
  /** Every modification (pending work is small next to the records). */
  modifications(): Promise<LegacyModification[]>;
  close(): Promise<void>;
}

/** pfa_sync_conflict statuses that mean "settled": anything else is an open conflict. */
export const RESOLVED_CONFLICT = /^(resolved|auto[_-]?resolved|dismissed|ignored|closed|accepted|rejected)$/i;

export function describeShape(s: Omit<LegacyShape, 'description'>, records: number): string {
  const parts = [
    `${s.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'}: records in ${s.recordTable} (${records} rows)`,
  ];
  parts.push(
    s.hasOrganizations
      ? 'organizations from `organizations`'
      : 'no `organizations` table (organizationId holds codes)',
  );
  parts.push(s.hasUsers ? 'users from `users`' : 'no `users` table');
  if (s.modifications !== null) parts.push(`${s.modifications} modifications in pfa_modification`);
  if (s.hasConflicts) parts.push('conflicts in pfa_sync_conflict');
  return parts.join('; ');
}
