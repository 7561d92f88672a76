/**
 * The predecessor's pending work, read the same way from SQLite and PostgreSQL: the statement
 * text is built only from fixed table names and column names the source's catalog listed
 * (quoted), never from input values.
 */
import { RESOLVED_CONFLICT, type LegacyModification, type RecordTable } from './source.js';

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

const pick = (columns: ReadonlySet<string>, ...names: string[]): string | null =>
  names.find((n) => columns.has(n)) ?? null;

/** SELECT of every modification with its record's pfaId and organization (LEFT JOIN: a missing record is reported). */
export function modificationsQuery(
  recordTable: RecordTable,
  modColumns: ReadonlySet<string>,
  recordColumns: ReadonlySet<string>,
): string | null {
  const ref = pick(modColumns, 'mirrorId', 'recordId', 'pfaRecordId');
  if (!ref || !modColumns.has('id')) return null;
  const recordPfa = recordColumns.has('pfaId') ? `r.${quoteIdent('pfaId')}` : 'NULL';
  const recordOrg = recordColumns.has('organizationId') ? `r.${quoteIdent('organizationId')}` : 'NULL';
  return `SELECT mo.*, ${recordPfa} AS "__pfaId", ${recordOrg} AS "__recordOrg", r."id" AS "__recordId"
    FROM "pfa_modification" mo LEFT JOIN ${quoteIdent(recordTable)} r ON r."id" = mo.${quoteIdent(ref)}
    ORDER BY mo."id"`;
}

const text = (v: unknown): string | null =>
  v === null || v === undefined ? null : typeof v === 'string' ? v : String(v);
const int = (v: unknown): number | null => {
  const n = typeof v === 'number' ? v : typeof v === 'string' || typeof v === 'bigint' ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.trunc(n) : null;
};
const time = (v: unknown): number => {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number') return v;
  const d = typeof v === 'string' ? Date.parse(v.includes('T') ? v : v.replace(' ', 'T') + 'Z') : NaN;
  return Number.isNaN(d) ? 0 : d;
};

/** Open conflicts per modification id: the newest whose status is not a settled one. */
export function openConflicts(
  rows: readonly Record<string, unknown>[],
): Map<string, NonNullable<LegacyModification['conflict']>> {
  const out = new Map<string, NonNullable<LegacyModification['conflict']>>();
  const sorted = [...rows].sort((a, b) => time(a.createdAt) - time(b.createdAt));
  for (const c of sorted) {
    const mod = text(c.modificationId);
    const status = text(c.status) ?? '';
    if (!mod) continue;
    if (RESOLVED_CONFLICT.test(status.trim()) || c.resolvedAt) {
      out.delete(mod);
      continue;
    }
    out.set(mod, {
      pemsData: c.pemsData ?? null,
      localData: c.localData ?? null,
      conflictFields: c.conflictFields ?? null,
      createdAt: c.createdAt ?? null,
    });
  }
  return out;
}

export function toModification(
  row: Record<string, unknown>,
  conflicts: ReadonlyMap<string, NonNullable<LegacyModification['conflict']>>,
): LegacyModification {
  const id = text(row.id) ?? '';
  return {
    id,
    organizationId: text(row.organizationId ?? row.__recordOrg),
    pfaId: row.__recordId === null || row.__recordId === undefined ? null : text(row.__pfaId),
    mirrorId: text(row.mirrorId ?? row.recordId ?? row.pfaRecordId),
    userId: text(row.userId),
    sessionId: text(row.sessionId),
    syncState: text(row.syncState ?? row.syncStatus ?? row.status),
    delta: row.delta ?? row.changes ?? null,
    baseVersion: int(row.baseVersion),
    currentVersion: int(row.currentVersion),
    modifiedFields: row.modifiedFields ?? null,
    changeReason: text(row.changeReason ?? row.reason),
    pemsVersion: text(row.pemsVersion),
    createdAt: row.createdAt ?? row.modifiedAt ?? null,
    updatedAt: row.updatedAt ?? row.modifiedAt ?? null,
    committedAt: row.committedAt ?? null,
    conflict: conflicts.get(id) ?? null,
  };
}
