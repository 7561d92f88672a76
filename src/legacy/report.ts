import type { LegacyImportReport } from '../jobs/legacy-import.js';

const fmt = (n: number): string => n.toLocaleString('en-US');

/** The report as the operator reads it (also the docs' worked example). */
export function formatReport(report: LegacyImportReport): string[] {
  const out: string[] = [];
  out.push(`source: ${report.description}`);
  if (report.dryRun) out.push('dry run: nothing is written');
  if (report.bulk.indexesBuiltAtStart.length)
    out.push(
      `built pfa_mirror indexes an interrupted bulk load had left missing: ${report.bulk.indexesBuiltAtStart.join(', ')}`,
    );
  out.push(`${report.dryRun ? 'would take the ' : ''}${report.bulk.reason}`);
  out.push(
    'organization  name                            source    target  inserted   updated  unchanged  rejected  committed  drafts  conflicts',
  );
  const orgs = [...report.organizations].sort((a, b) => a.organizationId.localeCompare(b.organizationId));
  for (const o of orgs) {
    out.push(
      `${o.organizationId.padEnd(13)} ${o.name.slice(0, 30).padEnd(30)} ${fmt(o.source).padStart(6)} ${fmt(o.target).padStart(9)} ` +
        `${fmt(o.inserted).padStart(9)} ${fmt(o.updated).padStart(9)} ${fmt(o.unchanged).padStart(10)} ${fmt(o.rejected).padStart(9)} ` +
        `${fmt(o.pending.committed).padStart(10)} ${fmt(o.pending.draft).padStart(7)} ${fmt(o.pending.conflict).padStart(10)}` +
        (o.duplicates ? `   (${fmt(o.duplicates)} duplicate pfaIds: the last row won)` : '') +
        (o.pendingAlreadyImported ? `   (${fmt(o.pendingAlreadyImported)} changes imported before)` : '') +
        (o.pendingSynced ? `   (${fmt(o.pendingSynced)} already synced)` : ''),
    );
  }
  if (report.bulk.organizations.length && !report.dryRun)
    out.push(
      `bulk path (COPY with pfa_mirror's secondary indexes dropped): ${[...report.bulk.organizations].sort().join(', ')}; ` +
        `KPI views refreshed in ${(report.bulk.refreshMs / 1000).toFixed(1)} s, indexes rebuilt in ${(report.bulk.indexesMs / 1000).toFixed(1)} s`,
    );
  for (const f of report.bulk.fallback) out.push(`${f.organizationId}: not bulk loaded: ${f.reason}`);
  for (const u of report.unresolved)
    out.push(
      `not imported: ${fmt(u.rows)} rows with organizationId ${JSON.stringify(u.value)}: ${u.reason}` +
        (u.firstIds.length ? ` (first ids: ${u.firstIds.join(', ')})` : ''),
    );
  for (const e of report.errors.slice(0, 20)) out.push(`  rejected ${e.pfaId ?? '(no pfaId)'}: ${e.reason}`);
  if (report.errors.length > 20) out.push(`  … ${report.errors.length - 20} more in pfa_sync_log.errors`);
  if (report.pendingProblems.length) {
    out.push(`pending work not imported: ${fmt(report.pendingProblems.length)}`);
    for (const p of report.pendingProblems.slice(0, 20))
      out.push(
        `  modification ${p.legacyId}${p.organizationId ? ` (${p.organizationId})` : ''}: ${p.reason}`,
      );
    if (report.pendingProblems.length > 20) out.push(`  … ${report.pendingProblems.length - 20} more`);
  }
  const dropped = Object.entries(report.droppedDeltaKeys);
  if (dropped.length)
    out.push(
      `delta keys dropped (not editable or unreadable): ${dropped.map(([k, n]) => `${k} ×${n}`).join(', ')}`,
    );
  if (report.unmappedUsers.length)
    out.push(
      `users the user key could not map (their changes keep the source's user id): ${report.unmappedUsers.slice(0, 10).join(', ')}` +
        (report.unmappedUsers.length > 10 ? ` … ${report.unmappedUsers.length - 10} more` : ''),
    );
  const pending = report.organizations.reduce(
    (a, o) => ({
      committed: a.committed + o.pending.committed,
      draft: a.draft + o.pending.draft,
      conflict: a.conflict + o.pending.conflict,
    }),
    { committed: 0, draft: 0, conflict: 0 },
  );
  out.push(
    `${fmt(report.records)} source rows, records done in ${(report.recordsMs / 1000).toFixed(1)} s (${fmt(report.recordsPerSecond)} records/s), ` +
      `whole run ${(report.durationMs / 1000).toFixed(1)} s; ` +
      `${report.dryRun ? 'pending work that would be imported' : 'pending work imported'}: ${fmt(pending.committed)} committed, ${fmt(pending.draft)} drafts, ${fmt(pending.conflict)} conflicts`,
  );
  return out;
}
