import client from 'prom-client';
import type { Db } from '../db/database.js';
import { registerGauge, registry } from '../metrics.js';
import { MaintenanceRepository } from '../repositories/maintenance.repository.js';
import { WriteBackRepository } from '../repositories/write-back.repository.js';
import type { JobName } from './gateway.js';

type Counts = Record<JobName, Record<'waiting' | 'active' | 'delayed' | 'failed', number>>;

interface Source {
  repo: MaintenanceRepository;
  writeBack: WriteBackRepository;
  counts: (() => Promise<Counts> | Counts) | null;
}

/** The latest registration still open wins (a process has one job system; tests build several). */
const sources: Source[] = [];
const current = (): Source | undefined => sources.at(-1);
let registered = false;

/**
 * Job gauges on /metrics, read at scrape time: jobs per queue and state (waiting, active,
 * delayed, failed), seconds since the KPI views were refreshed, open conflicts and pending
 * changes. Durations and failures per job are counted by executeJob (pfa_job_duration_seconds,
 * pfa_job_failures_total).
 */
export function registerJobMetrics(
  db: Db,
  gateway: { counts(): Promise<Counts> | Counts } | null,
): () => void {
  const source: Source = {
    repo: new MaintenanceRepository(db),
    writeBack: new WriteBackRepository(db),
    counts: gateway ? () => gateway.counts() : null,
  };
  sources.push(source);
  const unregister = (): void => {
    const i = sources.indexOf(source);
    if (i >= 0) sources.splice(i, 1);
  };
  if (registered) return unregister;
  registered = true;
  new client.Gauge({
    name: 'pfa_queue_jobs',
    help: 'Jobs per queue and state (failed: kept failed jobs)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.resolve(current()?.counts?.()).catch(() => undefined);
      if (!counts) return;
      for (const [queue, states] of Object.entries(counts)) {
        for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
      }
    },
  });
  new client.Gauge({
    name: 'pfa_write_back_oldest_pending_seconds',
    help: 'Per organization, age in seconds of the oldest change committed but not yet written back to PEMS (0: none)',
    labelNames: ['organization'] as const,
    registers: [registry],
    async collect() {
      const source = current();
      const ages = await source?.writeBack.oldestPendingAgeByOrganization().catch(() => undefined);
      if (!ages) return; // the last values stay rather than a scrape error
      // Organizations are a bounded set (the organization table); one that went away loses its series.
      this.reset();
      for (const { organizationId, seconds } of ages) this.set({ organization: organizationId }, seconds);
    },
  });
  registerGauge(
    'pfa_kpi_refresh_age_seconds',
    'Seconds since the KPI views were last refreshed',
    async () => {
      const source = current();
      return source ? source.repo.secondsSinceRefresh() : null;
    },
  );
  let states: Promise<{ conflicts: number; pending: number }> | null = null;
  let statesAt = 0;
  // Both gauges come from one query per scrape.
  const byState = (): Promise<{ conflicts: number; pending: number }> => {
    const source = current();
    if (!source) return Promise.reject(new Error('no job metrics source'));
    if (!states || Date.now() - statesAt > 1_000) {
      statesAt = Date.now();
      states = source.repo.countByState();
    }
    return states;
  };
  registerGauge(
    'pfa_open_conflicts',
    'Modifications in conflict (waiting for their author)',
    async () => (await byState()).conflicts,
  );
  registerGauge(
    'pfa_pending_changes',
    'Committed changes not yet written back to PEMS',
    async () => (await byState()).pending,
  );
  return unregister;
}
