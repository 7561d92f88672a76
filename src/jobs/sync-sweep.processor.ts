/**
 * sync-sweep (scheduled): nothing waits for the next commit.
 *
 *   write — every WRITE_SYNC_SWEEP_INTERVAL_MS: a write-sync for each organization with changes
 *           committed longer than the grace period ago and not yet written back (the commit's own
 *           enqueue failed, or the job gave up after its retries);
 *   read  — every READ_SYNC_INTERVAL_MS: an incremental read-sync for each organization.
 *
 * An organization whose sync is already waiting, delayed (backing off) or running is skipped, so
 * sweeps never pile up jobs; the gateway adds through its usual deduplication besides.
 */
import { MaintenanceRepository } from '../repositories/maintenance.repository.js';
import { WriteBackRepository } from '../repositories/write-back.repository.js';
import type { JobDeps } from './job-deps.js';
import { PermanentJobError, type JobHandler, type SweepResult } from './registry.js';

export function createSyncSweepProcessor(deps: JobDeps): JobHandler<'sync-sweep'> {
  return async (payload, run): Promise<SweepResult> => {
    const enqueue = deps.enqueueIfIdle;
    if (!enqueue) throw new PermanentJobError('sync-sweep: this runner has no job queue to add syncs to');
    const started = performance.now();
    const organizations =
      payload.direction === 'write'
        ? await new WriteBackRepository(deps.db).organizationsToSweep(deps.settings.writeSweepGraceMs)
        : await new MaintenanceRepository(deps.db).organizationIds();
    const job = payload.direction === 'write' ? 'write-sync' : 'read-sync';
    const result: SweepResult = { direction: payload.direction, queued: [], skipped: [], durationMs: 0 };
    for (const organizationId of organizations) {
      const added = await enqueue(job, organizationId);
      (added ? result.queued : result.skipped).push(organizationId);
    }
    result.durationMs = Math.round(performance.now() - started);
    if (result.queued.length > 0)
      run.log.info({ job: 'sync-sweep', reason: payload.reason, ...result }, `sweep queued ${job}`);
    return result;
  };
}
