/**
 * maintenance (nightly): synced modifications older than 30 days go to the archive (one
 * statement), sync logs older than 90 days are deleted, runs abandoned by a dead worker are
 * closed, and the planner statistics are refreshed (ANALYZE).
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
    await repo.analyze();
    const result: MaintenanceResult = {
      archived,
      deletedSyncLogs,
      durationMs: Math.round(performance.now() - started),
    };
    run.log.info({ job: 'maintenance', reason: payload.reason, abandoned, ...result }, 'maintenance done');
    return result;
  };
}
