/**
 * maintenance (nightly): synced modifications older than 30 days go to the archive (one
 * statement), sync logs older than 90 days are deleted, runs abandoned by a dead worker are
 * closed; retention: audit events, superseded record versions and KPI refresh logs older than
 * their settings (AUDIT_/HISTORY_/REFRESH_LOG_RETENTION_DAYS) are deleted and sessions idle
 * longer than SESSION_IDLE_DAYS whose modifications are all archived removed (0 keeps each);
 * then the planner statistics are refreshed (ANALYZE).
 */
import { MaintenanceRepository } from '../repositories/maintenance.repository.js';
import type { JobDeps } from './job-deps.js';
import type { JobHandler, MaintenanceResult } from './registry.js';

/** No run lasts this long: a `running` log row older than this lost its worker. */
const ABANDONED_RUN_HOURS = 6;

export function createMaintenanceProcessor(deps: JobDeps): JobHandler<'maintenance'> {
  return async (payload, run): Promise<MaintenanceResult> => {
    const repo = new MaintenanceRepository(deps.db);
    const started = performance.now();
    const archived = await repo.archiveSynced(deps.settings.archiveAfterDays);
    const deletedSyncLogs = await repo.deleteSyncLogs(deps.settings.syncLogRetentionDays);
    const abandoned = await repo.failAbandonedRuns(ABANDONED_RUN_HOURS);
    const s = deps.settings;
    // After archiving: events of the modifications just archived may go too.
    const deletedEvents = s.auditRetentionDays > 0 ? await repo.deleteOldEvents(s.auditRetentionDays) : 0;
    const deletedHistory =
      s.historyRetentionDays > 0 ? await repo.deleteOldHistory(s.historyRetentionDays) : 0;
    const deletedRefreshLogs =
      s.refreshLogRetentionDays > 0 ? await repo.deleteOldRefreshLogs(s.refreshLogRetentionDays) : 0;
    const deletedSessions = s.sessionIdleDays > 0 ? await repo.deleteIdleSessions(s.sessionIdleDays) : 0;
    await repo.analyze();
    const result: MaintenanceResult = {
      archived,
      deletedSyncLogs,
      deletedEvents,
      deletedHistory,
      deletedRefreshLogs,
      deletedSessions,
      durationMs: Math.round(performance.now() - started),
    };
    run.log.info({ job: 'maintenance', reason: payload.reason, abandoned, ...result }, 'maintenance done');
    return result;
  };
}
