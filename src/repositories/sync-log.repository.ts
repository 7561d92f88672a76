import type { Db } from '../db/database.js';

export interface SyncRunRow {
  id: string;
  organizationId: string;
  direction: 'read' | 'write';
  mode: string;
  status: string;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  removed: number;
  synced: number;
  conflicted: number;
  failed: number;
  errors: unknown[];
  message: string | null;
}

/** pfa_sync_log: one row per synchronisation run. */
export class SyncLogRepository {
  constructor(private readonly db: Db) {}

  async recent(organizationId: string, first: number): Promise<SyncRunRow[]> {
    const rows = await this.db
      .selectFrom('pfa_sync_log')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(first)
      .execute();
    return rows.map((r) => ({
      id: String(r.id),
      organizationId: r.organization_id,
      direction: r.direction,
      mode: r.mode,
      status: r.status,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      durationMs: r.duration_ms,
      inserted: r.inserted,
      updated: r.updated,
      unchanged: r.unchanged,
      rejected: r.rejected,
      removed: r.removed,
      synced: r.synced,
      conflicted: r.conflicted,
      failed: r.failed,
      errors: r.errors,
      message: r.message,
    }));
  }
}
