import type { JobDeps } from './job-deps.js';
import { createMaintenanceProcessor } from './maintenance.processor.js';
import { createReadSyncProcessor } from './read-sync.processor.js';
import { createRefreshViewsProcessor } from './refresh-views.processor.js';
import { checkHandlers, type JobHandlers } from './registry.js';
import { createSyncSweepProcessor } from './sync-sweep.processor.js';
import { createWriteSyncProcessor } from './write-sync.processor.js';

/** One handler per job name, checked: a missing or unknown one fails here, at start-up. */
export function createJobHandlers(deps: JobDeps): JobHandlers {
  return checkHandlers({
    'read-sync': createReadSyncProcessor(deps),
    'write-sync': createWriteSyncProcessor(deps),
    'refresh-views': createRefreshViewsProcessor(deps),
    maintenance: createMaintenanceProcessor(deps),
    'sync-sweep': createSyncSweepProcessor(deps),
  });
}

/** Jobs that talk to PEMS (they fail with "PEMS not configured" without a client). */
export const NEEDS_PEMS: ReadonlySet<string> = new Set(['read-sync', 'write-sync']);
