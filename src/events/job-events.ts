import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { MaintenanceRepository } from '../repositories/maintenance.repository.js';
import type { EventBus } from './bus.js';

/** What a running job reports (src/jobs/execute.ts calls `jobEvents.*` around every handler). */
export interface JobEventSink {
  started(id: string, job: string, payload: unknown): void;
  progress(id: string, job: string, payload: unknown, processed: number, total: number | null): void;
  finished(id: string, job: string, payload: unknown, result: unknown): void;
  failed(id: string, job: string, payload: unknown): void;
}

const noop: JobEventSink = { started() {}, progress() {}, finished() {}, failed() {} };
let sink: JobEventSink = noop;

/** Where job events go in this process; set at boot by processes that run jobs. */
export const jobEvents: JobEventSink = {
  started: (...a) => sink.started(...a),
  progress: (...a) => sink.progress(...a),
  finished: (...a) => sink.finished(...a),
  failed: (...a) => sink.failed(...a),
};

function organizationOf(payload: unknown): string | null {
  const org = (payload as { organizationId?: unknown } | null)?.organizationId;
  return typeof org === 'string' ? org : null;
}

/** Progress events at most this often per job (a sync reports per batch). */
const PROGRESS_INTERVAL_MS = 250;

/**
 * Job progress and, when a job changed an organization's figures, `kpiChanged`: a refresh that
 * refreshed (every organization), a read sync that inserted, updated or removed records.
 */
export function publishJobEvents(bus: EventBus, db: Db, log: Logger): void {
  const maintenance = new MaintenanceRepository(db);
  const lastProgress = new Map<string, number>();
  const progress = (
    id: string,
    job: string,
    payload: unknown,
    state: string,
    processed: number,
    total: number | null,
  ) =>
    void bus.publish({
      type: 'jobProgress',
      id,
      job,
      state,
      processed,
      total,
      organizationId: organizationOf(payload),
    });
  const kpiChanged = (organizationId: string, reason: string) =>
    void bus.publish({ type: 'kpiChanged', organizationId, refreshedAt: new Date().toISOString(), reason });
  sink = {
    started: (id, job, payload) => progress(id, job, payload, 'active', 0, null),
    progress(id, job, payload, processed, total) {
      const now = Date.now();
      if (now - (lastProgress.get(id) ?? 0) < PROGRESS_INTERVAL_MS) return;
      lastProgress.set(id, now);
      progress(id, job, payload, 'active', processed, total);
    },
    finished(id, job, payload, result) {
      lastProgress.delete(id);
      const r = (result ?? {}) as Record<string, unknown>;
      const processed = Number(r.read ?? r.synced ?? 0) || 0;
      progress(id, job, payload, 'completed', processed, processed);
      const org = organizationOf(payload);
      if (job === 'read-sync' && org && Number(r.inserted) + Number(r.updated) + Number(r.removed) > 0)
        kpiChanged(org, 'sync');
      if (job === 'refresh-views' && r.refreshed === true)
        maintenance
          .organizationIds()
          .then((ids) => ids.forEach((o) => kpiChanged(o, 'refresh')))
          .catch((err: unknown) => log.warn({ err }, 'kpiChanged after a refresh not published'));
    },
    failed(id, job, payload) {
      lastProgress.delete(id);
      progress(id, job, payload, 'failed', 0, null);
    },
  };
}
