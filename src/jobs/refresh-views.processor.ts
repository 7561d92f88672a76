/**
 * refresh-views: refreshes the KPI caches (pfa_kpi_summary, pfa_timeline_bounds) through
 * refresh_pfa_materialized_views(), which refreshes CONCURRENTLY (readers never wait) and
 * records the time. Under an advisory lock: a refresh that finds another one running skips.
 * Requests are deduplicated upstream by the gateways (one waiting refresh at most).
 */
import { MaintenanceRepository } from '../repositories/maintenance.repository.js';
import type { JobDeps } from './job-deps.js';
import type { JobHandler, RefreshResult } from './registry.js';

/** A refresh at 1M records takes seconds; the pool's statement timeout is for requests. */
const REFRESH_TIMEOUT_MS = 10 * 60_000;

export function createRefreshViewsProcessor(deps: JobDeps): JobHandler<'refresh-views'> {
  return async (payload, run): Promise<RefreshResult> => {
    const repo = new MaintenanceRepository(deps.db);
    const started = performance.now();
    const done = await repo.refreshViews(REFRESH_TIMEOUT_MS);
    const result: RefreshResult = {
      refreshed: done !== null,
      skipped: done === null,
      durationMs: Math.round(performance.now() - started),
    };
    run.log.info(
      { job: 'refresh-views', reason: payload.reason, ...result },
      done ? 'views refreshed' : 'refresh skipped: another is running',
    );
    return result;
  };
}
