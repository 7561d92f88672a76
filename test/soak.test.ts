import { describe, expect, it } from '@jest/globals';
import { formatReport, runSoak } from '../bench/soak/harness.js';

/**
 * The soak test in CI (issue 9, point 6), small: 6 users for 40 s on 3,000 records, against the
 * real API and worker processes, a PEMS simulator injecting 5xx/429/latency/lost responses and
 * PEMS-side edits, connection kills and a worker SIGKILL. Every invariant must hold.
 */
describe('soak (CI variant)', () => {
  it('keeps every acknowledged change through faults, kills and races', async () => {
    const adminUrl = process.env.PFA_TEST_ADMIN_URL ?? process.env.DATABASE_URL;
    if (!adminUrl) throw new Error('test/global-setup.ts did not run');
    const report = await runSoak({
      users: 6,
      seconds: 40,
      records: 3_000,
      orgs: 1,
      seed: 9,
      keep: false,
      databaseUrl: adminUrl,
      ...(process.env.PFA_TEST_REDIS_URL ? { redisUrl: process.env.PFA_TEST_REDIS_URL } : {}),
      drainSeconds: 75,
      sweepWaitSeconds: 6,
      connectionKills: 3,
      hotRecords: 12,
      privatePerSession: 4,
      progress: 'none',
    });
    const text = formatReport(report, 10);
    // The chaos really happened (otherwise the invariants below prove nothing).
    expect({ kills: report.faults.connectionKills, worker: report.faults.workerKills }).toEqual({
      kills: 3,
      worker: 1,
    });
    expect(report.faults.http5xx).toBeGreaterThan(0);
    expect(report.faults.pemsEdits).toBeGreaterThan(0);
    expect(report.counts.commits ?? 0).toBeGreaterThan(10);
    expect(report.counts.races ?? 0).toBeGreaterThan(0);
    expect(report.counts.pemsWriteBacks ?? 0).toBeGreaterThan(0);
    if (!report.ok) console.error(text);
    expect(report.violations.map((v) => `[${v.invariant}] ${v.detail}`)).toEqual([]);
  }, 300_000);
});
