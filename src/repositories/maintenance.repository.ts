import { sql } from 'kysely';
import type { Db } from '../db/database.js';

/** Any refresh of the KPI views holds this transaction-level advisory lock (hashed in SQL). */
export const REFRESH_LOCK = 'pfa:refresh-views';

/** Rows one retention statement deletes at most (each batch is its own short transaction). */
const RETENTION_BATCH = 10_000;

async function deleteInBatches(
  run: (limit: number) => Promise<{ rows: { n: number }[] }>,
  batch: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const n = (await run(batch)).rows[0]?.n ?? 0;
    total += n;
    if (n < batch) return total;
  }
}

/** SQL of the housekeeping jobs: view refresh, archiving, retention, statistics; and job gauges. */
export class MaintenanceRepository {
  constructor(private readonly db: Db) {}

  /**
   * refresh_pfa_materialized_views() under an advisory lock; null (nothing done) when another
   * refresh holds it — the one running already covers what this one was asked for, or the next
   * request will. The function records the refresh time itself (pfa_view_refresh).
   */
  async refreshViews(timeoutMs: number): Promise<{ durationMs: number } | null> {
    return this.db.transaction().execute(async (tx) => {
      const { rows } = await sql<{ locked: boolean }>`
        SELECT pg_try_advisory_xact_lock(hashtextextended(${REFRESH_LOCK}, 0)) AS locked`.execute(tx);
      if (!rows[0]?.locked) return null;
      await sql`SELECT set_config('statement_timeout', ${String(timeoutMs)}, true)`.execute(tx);
      const started = performance.now();
      await sql`SELECT refresh_pfa_materialized_views()`.execute(tx);
      return { durationMs: Math.round(performance.now() - started) };
    });
  }

  /**
   * Synced modifications older than the cut-off move to pfa_modification_archive: one
   * statement (DELETE … RETURNING feeding INSERT), so a row is in exactly one of the two tables.
   */
  async archiveSynced(olderThanDays: number): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      WITH moved AS (
        DELETE FROM pfa_modification
        WHERE sync_state = 'synced' AND synced_at < now() - make_interval(days => ${olderThanDays})
        RETURNING *
      ), archived AS (
        INSERT INTO pfa_modification_archive (id, organization_id, mirror_id, session_id, user_id, delta, modified_fields,
          base_values, base_version, base_pems_version, current_version, sync_state, conflicts, change_reason,
          created_at, updated_at, committed_at, committed_by, commit_xid, synced_at, sync_attempts, last_error)
        SELECT id, organization_id, mirror_id, session_id, user_id, delta, modified_fields,
          base_values, base_version, base_pems_version, current_version, sync_state, conflicts, change_reason,
          created_at, updated_at, committed_at, committed_by, commit_xid, synced_at, sync_attempts, last_error
        FROM moved
        ON CONFLICT (organization_id, id) DO NOTHING
        RETURNING 1
      )
      SELECT count(*)::int AS n FROM archived`.execute(this.db);
    return rows[0]?.n ?? 0;
  }

  async deleteSyncLogs(olderThanDays: number): Promise<number> {
    const result = await sql`
      DELETE FROM pfa_sync_log WHERE started_at < now() - make_interval(days => ${olderThanDays})`.execute(
      this.db,
    );
    return Number(result.numAffectedRows ?? 0);
  }

  /** Runs still `running` long after any run could last: their worker died. */
  async failAbandonedRuns(olderThanHours: number): Promise<number> {
    const result = await sql`
      UPDATE pfa_sync_log SET status = 'failed', finished_at = now(),
        message = coalesce(message || '; ', '') || 'abandoned: the worker stopped during the run'
      WHERE status = 'running' AND started_at < now() - make_interval(hours => ${olderThanHours})`.execute(
      this.db,
    );
    return Number(result.numAffectedRows ?? 0);
  }

  async analyze(): Promise<void> {
    await sql`ANALYZE pfa_mirror, pfa_mirror_history, pfa_modification, pfa_modification_event, pfa_sync_log`.execute(
      this.db,
    );
  }

  // ---------------------------------------------------------------- retention

  /**
   * Audit events older than `days`, in batches (short transactions, bounded locks). Events of a
   * modification still in pfa_modification (open, pending, or synced but not yet archived) stay:
   * a live change keeps its whole trail.
   */
  async deleteOldEvents(days: number, batch = RETENTION_BATCH): Promise<number> {
    return deleteInBatches(
      (limit) =>
        sql<{ n: number }>`
        WITH doomed AS (
          SELECT e.organization_id, e.id FROM pfa_modification_event e
          WHERE e.at < now() - make_interval(days => ${days})
            AND NOT EXISTS (
              SELECT 1 FROM pfa_modification pm
              WHERE pm.organization_id = e.organization_id AND pm.id = e.modification_id)
          LIMIT ${limit}
        ), deleted AS (
          DELETE FROM pfa_modification_event e USING doomed d
          WHERE e.organization_id = d.organization_id AND e.id = d.id
          RETURNING 1
        )
        SELECT count(*)::int AS n FROM deleted`.execute(this.db),
      batch,
    );
  }

  /** Superseded record versions (pfa_mirror_history) older than `days`, in batches. */
  async deleteOldHistory(days: number, batch = RETENTION_BATCH): Promise<number> {
    return deleteInBatches(
      (limit) =>
        sql<{ n: number }>`
        WITH doomed AS (
          SELECT organization_id, id FROM pfa_mirror_history
          WHERE superseded_at < now() - make_interval(days => ${days})
          LIMIT ${limit}
        ), deleted AS (
          DELETE FROM pfa_mirror_history h USING doomed d
          WHERE h.organization_id = d.organization_id AND h.id = d.id
          RETURNING 1
        )
        SELECT count(*)::int AS n FROM deleted`.execute(this.db),
      batch,
    );
  }

  /** KPI refresh log rows older than `days`; the newest row always stays (the refresh-age gauge reads it). */
  async deleteOldRefreshLogs(days: number): Promise<number> {
    const result = await sql`
      DELETE FROM pfa_view_refresh
      WHERE refreshed_at < now() - make_interval(days => ${days})
        AND id <> (SELECT id FROM pfa_view_refresh ORDER BY refreshed_at DESC, id DESC LIMIT 1)`.execute(
      this.db,
    );
    return Number(result.numAffectedRows ?? 0);
  }

  /**
   * Sessions unused for `days` whose modifications are all archived (none left in
   * pfa_modification). A request that uses such a session again re-creates it
   * (SessionRepository.touch), so a removal racing a returning user loses nothing.
   */
  async deleteIdleSessions(days: number): Promise<number> {
    const result = await sql`
      DELETE FROM pfa_session s
      WHERE s.last_used_at < now() - make_interval(days => ${days})
        AND NOT EXISTS (
          SELECT 1 FROM pfa_modification pm WHERE pm.organization_id = s.organization_id AND pm.session_id = s.id)`.execute(
      this.db,
    );
    return Number(result.numAffectedRows ?? 0);
  }

  /** Every organization's code (what the scheduled read sync visits). */
  async organizationIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('organization').select('id').orderBy('id').execute();
    return rows.map((r) => r.id);
  }

  // ------------------------------------------------------------------- gauges

  async secondsSinceRefresh(): Promise<number | null> {
    const { rows } = await sql<{ s: number | null }>`
      SELECT extract(epoch FROM now() - max(refreshed_at))::float8 AS s FROM pfa_view_refresh`.execute(
      this.db,
    );
    return rows[0]?.s ?? null;
  }

  async countByState(): Promise<{ conflicts: number; pending: number }> {
    const { rows } = await sql<{ conflicts: number; pending: number }>`
      SELECT count(*) FILTER (WHERE sync_state = 'conflict')::int AS conflicts,
             count(*) FILTER (WHERE sync_state IN ('committed', 'syncing'))::int AS pending
      FROM pfa_modification WHERE sync_state <> 'synced'`.execute(this.db);
    return rows[0] ?? { conflicts: 0, pending: 0 };
  }
}
