/**
 * Move in from the previous PFA Vanguard application: its SQLite file or its PostgreSQL.
 *
 * Records go through the read sync's own path (validated, staged with COPY in batches, merged
 * where something changed: the trigger bumps versions and keeps history), organization by
 * organization, streamed from the source while the previous batch is merged. Then the source's
 * pending work comes over: committed/syncing changes as our committed changes (base version,
 * PEMS recordid: write-back sends them), drafts as drafts in a session per (user, source
 * session), open conflicts as conflicts with "theirs" from PEMS's data — each with its user and
 * times, each remembered in pfa_legacy_import so that a second run adds nothing.
 *
 * `dryRun` reads everything and compares with the database, writing nothing.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { ensureMirrorIndexes } from '../db/mirror-indexes.js';
import type { JsonObject } from '../db/tables.js';
import { MirrorBulkLoad, copyLines, planBulk, type BulkMode } from '../legacy/bulk-load.js';
import { PostgresSource } from '../legacy/postgres-source.js';
import type { LegacyModification, LegacySource } from '../legacy/source.js';
import { SqliteSource } from '../legacy/sqlite-source.js';
import {
  legacyDelta,
  legacyFieldList,
  legacyInstant,
  legacyRecord,
  legacySessionId,
  legacyValue,
} from '../legacy/values.js';
import {
  LegacyImportRepository,
  type DryRunComparer,
  type MirrorRow,
  type PendingWorkRow,
} from '../repositories/legacy-import.repository.js';
import {
  SyncRepository,
  ZERO_COUNTS,
  addCounts,
  type MergeCounts,
  type StagedRecord,
  type StagingSession,
} from '../repositories/sync.repository.js';
import {
  loadWithQuarantine,
  validateRecord,
  MAX_LOGGED_ERRORS,
  type QuarantinedRow,
} from './read-sync.processor.js';

export { legacyDate } from '../legacy/values.js';

const ORGANIZATION_ID = /^[A-Za-z0-9_-]{1,32}$/;
const FIRST_IDS = 5;

export type UserKey = 'username' | 'email' | 'id';
export type LegacySourceSpec = { sqlite: string } | { postgres: string };

export interface LegacyImportOptions {
  source: LegacySourceSpec;
  /** Which user column becomes our user id (the JWT `sub`). Default `username`. */
  userKey?: UserKey;
  /** Compare and count, write nothing. */
  dryRun?: boolean;
  /** Rows per COPY + merge batch (and per source fetch). */
  batchSize?: number;
  /** Organizations whose records are merged at the same time (default 2). */
  concurrency?: number;
  /**
   * The bulk path for organizations without records here (src/legacy/bulk-load.ts): `auto`
   * (default) by planBulk's rule, `always` for every such organization, `never`.
   */
  bulk?: BulkMode;
  onProgress?: (p: ImportProgress) => void;
  /** The bulk path's steps after its COPY (view refresh, each index built), for a progress line. */
  onStep?: (message: string) => void;
}

export interface ImportProgress {
  organizationId: string;
  done: number;
  total: number;
  /** Over every organization. */
  overallDone: number;
  overallTotal: number;
  /** Source rows per second since the start of the record phase. */
  rate: number;
}

export interface PendingCounts {
  committed: number;
  draft: number;
  conflict: number;
}

export interface OrganizationImport {
  /** Our organization id (the source's code). */
  organizationId: string;
  /** The source's organization reference (its id). */
  legacyId: string;
  name: string;
  /** Record rows in the source. */
  source: number;
  /** Records in pfa_mirror after the import (before, in a dry run). */
  target: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** The same pfaId more than once in the source (the last row wins). */
  duplicates: number;
  /** Pending work imported (would be, in a dry run). */
  pending: PendingCounts;
  /** Source modifications imported by an earlier run. */
  pendingAlreadyImported: number;
  /** Source modifications already written to PEMS (synced): nothing to carry. */
  pendingSynced: number;
  /** The records were COPYed by the bulk path (in a dry run: would be). */
  bulk: boolean;
}

export interface BulkReport {
  mode: BulkMode;
  /** The decision in one line (which organizations, why). */
  reason: string;
  /** Organizations whose records the bulk path loaded (would load, dry). */
  organizations: string[];
  /** Planned for the bulk path but loaded by the normal one (PostgreSQL refused a row, records appeared, lock busy). */
  fallback: { organizationId: string; reason: string }[];
  /** Building pfa_mirror's secondary indexes after the load. */
  indexesMs: number;
  /** The KPI views' refresh inside the load transaction. */
  refreshMs: number;
  /** Indexes found missing at the start (an earlier bulk load died) and built before anything else. */
  indexesBuiltAtStart: string[];
}

export interface PendingProblem {
  legacyId: string;
  organizationId: string | null;
  reason: string;
}

export interface UnresolvedOrganization {
  /** The source's organizationId value. */
  value: string | null;
  rows: number;
  firstIds: string[];
  reason: string;
}

export interface LegacyImportReport {
  description: string;
  dryRun: boolean;
  organizations: OrganizationImport[];
  unresolved: UnresolvedOrganization[];
  /** Quarantined record rows (at most MAX_LOGGED_ERRORS kept). */
  errors: QuarantinedRow[];
  /** Pending work that could not come over (missing record, unresolved organization, nothing editable …). */
  pendingProblems: PendingProblem[];
  /** Source user ids that `userKey` could not map (their changes keep the source's user id). */
  unmappedUsers: string[];
  /** Keys dropped from deltas because they are not editable or not readable, with counts. */
  droppedDeltaKeys: Record<string, number>;
  records: number;
  durationMs: number;
  /** Time spent on the records (reading, converting, merging), without the pending work. */
  recordsMs: number;
  /** Source record rows per second of recordsMs. */
  recordsPerSecond: number;
  changed: boolean;
  bulk: BulkReport;
}

interface Deps {
  db: Db;
  pool: pg.Pool;
  log: Logger;
}

export async function openLegacySource(spec: LegacySourceSpec): Promise<LegacySource> {
  return 'sqlite' in spec ? SqliteSource.open(spec.sqlite) : PostgresSource.open(spec.postgres);
}

/** Reads the source and imports (or, dry, compares) it organization by organization. */
export async function importLegacy(deps: Deps, options: LegacyImportOptions): Promise<LegacyImportReport> {
  const source = await openLegacySource(options.source);
  try {
    return await importFrom(deps, source, options);
  } finally {
    await source.close();
  }
}

interface ResolvedOrg {
  code: string;
  name: string;
}

export async function importFrom(
  deps: Deps,
  source: LegacySource,
  options: LegacyImportOptions,
): Promise<LegacyImportReport> {
  const started = performance.now();
  const dryRun = options.dryRun === true;
  const batchSize = options.batchSize ?? 5_000;
  const userKey = options.userKey ?? 'username';
  const repo = new LegacyImportRepository(deps.db, deps.pool);
  const sync = new SyncRepository(deps.db, deps.pool);
  const shape = source.shape;
  deps.log.info({ source: shape.description }, 'legacy import: source found');

  const report: LegacyImportReport = {
    description: shape.description,
    dryRun,
    organizations: [],
    unresolved: [],
    errors: [],
    pendingProblems: [],
    unmappedUsers: [],
    droppedDeltaKeys: {},
    records: 0,
    durationMs: 0,
    recordsMs: 0,
    recordsPerSecond: 0,
    changed: false,
    bulk: {
      mode: options.bulk ?? 'auto',
      reason: '',
      organizations: [],
      fallback: [],
      indexesMs: 0,
      refreshMs: 0,
      indexesBuiltAtStart: [],
    },
  };
  if (!dryRun) {
    // Indexes an interrupted bulk load left missing are built before anything reads or writes.
    const ensured = await ensureMirrorIndexes(deps.pool);
    report.bulk.indexesBuiltAtStart = ensured.built;
    if (ensured.built.length)
      deps.log.warn(
        { indexes: ensured.built },
        'legacy import: built pfa_mirror indexes an interrupted bulk load left missing',
      );
  }

  // ---------------------------------------------------------------- organizations
  const orgRows = await source.organizations();
  const resolveOrg = (value: string | null): ResolvedOrg | string => {
    if (value === null) return 'no organizationId';
    if (shape.hasOrganizations) {
      const o = orgRows.find((r) => r.id === value) ?? orgRows.find((r) => r.code === value);
      if (!o) return `organizationId ${JSON.stringify(value)} is not in organizations`;
      if (!o.code || !ORGANIZATION_ID.test(o.code))
        return `organization ${JSON.stringify(value)} has the code ${JSON.stringify(o.code)}, which is not a valid organization code`;
      return { code: o.code, name: o.name?.trim() || o.code };
    }
    return ORGANIZATION_ID.test(value)
      ? { code: value, name: value }
      : `organizationId ${JSON.stringify(value)} is not an organization code`;
  };

  const counts = await source.recordCounts();
  const targets: { legacyId: string; org: ResolvedOrg; rows: number }[] = [];
  for (const { organizationId: value, count } of counts) {
    const r = resolveOrg(value);
    if (typeof r === 'string') {
      const firstIds: string[] = [];
      if (value !== null) {
        for await (const batch of source.records(value, FIRST_IDS)) {
          for (const row of batch) firstIds.push(String(row.id ?? row.pfaId));
          break;
        }
      }
      report.unresolved.push({ value, rows: count, firstIds, reason: r });
      continue;
    }
    targets.push({ legacyId: value as string, org: r, rows: count });
  }
  // Two source organizations with one code would fight over the same records.
  const byCode = new Map<string, number>();
  for (const t of targets) byCode.set(t.org.code, (byCode.get(t.org.code) ?? 0) + 1);

  // ---------------------------------------------------------------- users and pending work
  const users = await source.users();
  const userIndex = new Map(users.map((u) => [u.id, u]));
  const unmapped = new Set<string>();
  const ourUser = (legacyUserId: string | null): string => {
    const id = legacyUserId ?? 'unknown';
    const u = userIndex.get(id);
    const v = u ? (userKey === 'id' ? u.id : userKey === 'email' ? u.email : u.username) : null;
    if (v && v.trim() !== '') return v.trim();
    unmapped.add(id);
    return id;
  };
  const modifications = await source.modifications();
  const modsByOrg = new Map<string, LegacyModification[]>();
  for (const m of modifications) {
    const r = resolveOrg(m.organizationId);
    if (typeof r === 'string') {
      report.pendingProblems.push({ legacyId: m.id, organizationId: m.organizationId, reason: r });
      continue;
    }
    const list = modsByOrg.get(r.code) ?? [];
    list.push(m);
    modsByOrg.set(r.code, list);
  }

  // ---------------------------------------------------------------- records, then pending work
  const overallTotal = targets.reduce((n, t) => n + t.rows, 0);
  let overallDone = 0;
  const recordsStarted = performance.now();
  let recordsMs = 0;
  const reject = (row: QuarantinedRow): void => {
    if (report.errors.length < MAX_LOGGED_ERRORS) report.errors.push(row);
  };
  const existing = dryRun
    ? await repo.existingOrganizations(targets.map((t) => t.org.code))
    : new Set<string>();

  const runnable = targets.filter((t) => {
    if ((byCode.get(t.org.code) ?? 0) <= 1) return true;
    report.unresolved.push({
      value: t.legacyId,
      rows: t.rows,
      firstIds: [],
      reason: `more than one source organization has the code ${t.org.code}`,
    });
    return false;
  });
  const done = new Map<string, OrganizationImport>();
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 2, 8));
  const onRowsOf = (code: string, rows: number): ((n: number) => void) => {
    let orgDone = 0;
    return (n) => {
      overallDone += n;
      orgDone += n;
      const seconds = (performance.now() - recordsStarted) / 1000;
      options.onProgress?.({
        organizationId: code,
        done: orgDone,
        total: rows,
        overallDone,
        overallTotal,
        rate: seconds > 0 ? overallDone / seconds : 0,
      });
    };
  };

  // Bulk path first: organizations without records here, COPYed with the indexes dropped.
  const mirrorCounts = await repo.mirrorCounts();
  const plan = planBulk(
    report.bulk.mode,
    runnable.map((t) => ({ code: t.org.code, rows: t.rows })),
    mirrorCounts,
  );
  report.bulk.reason = plan.reason;
  deps.log.info({ reason: plan.reason }, 'legacy import: bulk decision');
  const bulkTargets = runnable.filter((t) => plan.codes.has(t.org.code)).sort((a, b) => b.rows - a.rows);
  if (dryRun) report.bulk.organizations = bulkTargets.map((t) => t.org.code);
  else if (bulkTargets.length) {
    for (const t of bulkTargets) await repo.upsertOrganization(t.org.code, t.org.name);
    const load = await MirrorBulkLoad.begin(deps.pool);
    if (!load) {
      report.bulk.reason += '; another bulk load of pfa_mirror is running: normal path instead';
    } else {
      // `concurrency` organizations at a time, each COPYed in its own transaction.
      const bulkQueue = [...bulkTargets];
      let stop = false;
      const bulkWorker = async (): Promise<void> => {
        for (let t = bulkQueue.shift(); t && !stop; t = bulkQueue.shift()) {
          const outcome = await bulkOrganizationRecords(sync, load, source, t, {
            batchSize,
            onRows: onRowsOf(t.org.code, t.rows),
          }).catch((error: unknown) => {
            stop = true; // the other loaders finish their organization and take no other
            throw error;
          });
          if ('fallback' in outcome) {
            overallDone -= outcome.rowsRead; // read again by the normal path
            report.bulk.fallback.push({ organizationId: t.org.code, reason: outcome.fallback });
            continue;
          }
          const { org, errors } = outcome;
          for (const e of errors) reject(e);
          deps.log.info(
            { org: org.organizationId, inserted: org.inserted, rejected: org.rejected },
            'legacy import: records of organization done (bulk path)',
          );
          done.set(org.organizationId, org);
          report.bulk.organizations.push(org.organizationId);
        }
      };
      const bulkResults = await Promise.allSettled(
        Array.from({ length: Math.min(concurrency, bulkTargets.length) }, () => bulkWorker()),
      );
      const bulkFailed = bulkResults.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bulkFailed) {
        await load.abort();
        throw bulkFailed.reason;
      }
      const f = await load
        .finish((message) => {
          deps.log.info(`legacy import: ${message}`);
          options.onStep?.(message);
        })
        .catch(async (error: unknown) => {
          await load.abort(); // builds what is still missing (best effort) and frees the lock
          throw error;
        });
      report.bulk.indexesMs = Math.round(f.indexesMs);
      report.bulk.refreshMs = Math.round(f.refreshMs);
    }
  }

  // Records: `concurrency` organizations at a time (each on its own staging connection; the
  // source's reads share its one snapshot), largest first so that the last one is not alone.
  const queue = runnable.filter((t) => !done.has(t.org.code)).sort((a, b) => b.rows - a.rows);
  const worker = async (): Promise<void> => {
    for (let t = queue.shift(); t; t = queue.shift()) {
      const { code } = t.org;
      const org = await importOrganizationRecords(deps, sync, repo, source, t, {
        dryRun,
        batchSize,
        orgExists: !dryRun || existing.has(code),
        reject,
        onRows: onRowsOf(code, t.rows),
      });
      if (dryRun) org.bulk = plan.codes.has(code);
      done.set(code, org);
    }
  };
  const results = await Promise.allSettled(Array.from({ length: concurrency }, () => worker()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  recordsMs = performance.now() - recordsStarted;

  // Pending work, once every record is in.
  for (const t of runnable) {
    const org = done.get(t.org.code) as OrganizationImport;
    report.records += t.rows;
    await importPendingWork(repo, shape.kind, org, modsByOrg.get(t.org.code) ?? [], ourUser, report, dryRun);
    report.organizations.push(org);
  }
  // Pending work of organizations without records in the source.
  for (const [code, mods] of modsByOrg) {
    if (report.organizations.some((o) => o.organizationId === code)) continue;
    for (const m of mods)
      report.pendingProblems.push({
        legacyId: m.id,
        organizationId: code,
        reason: `its record ${m.pfaId ?? m.mirrorId ?? '?'} is missing (the organization has no records in the source)`,
      });
  }

  report.unmappedUsers = [...unmapped].sort();
  report.durationMs = Math.round(performance.now() - started);
  report.recordsMs = Math.round(recordsMs);
  report.recordsPerSecond = recordsMs > 0 ? Math.round((report.records * 1000) / recordsMs) : 0;
  report.changed = report.organizations.some(
    (o) => o.inserted + o.updated + o.pending.committed + o.pending.draft + o.pending.conflict > 0,
  );
  if (dryRun) report.changed = false;
  return report;
}

// ------------------------------------------------------------------------------------ records

/**
 * Source rows → validated records, batch by batch, the same for both paths. Rows come in pfaId
 * order, so a repeated pfaId is adjacent: one row is held back until the next batch shows whether
 * it repeats, and the last row of a pfaId wins.
 */
class RecordConverter {
  private held: StagedRecord | null = null;

  constructor(
    private readonly timestampColumns: ReadonlySet<string>,
    private readonly result: OrganizationImport,
    private readonly reject: (row: QuarantinedRow) => void,
  ) {}

  push(rows: readonly Record<string, unknown>[]): StagedRecord[] {
    const staged: StagedRecord[] = [];
    for (const row of rows) {
      const rec = legacyRecord(row, this.timestampColumns);
      if (this.held && rec.pfaId !== '' && this.held.pfaId === rec.pfaId) {
        this.result.duplicates += 1;
        this.held = null;
      }
      if (this.held) staged.push(this.held);
      this.held = null;
      const verdict = validateRecord(rec.pfaId, rec.data, rec.pemsVersion, {
        id: row.id ?? null,
        pfaId: row.pfaId ?? null,
      });
      if (!verdict.ok) this.reject(verdict.rejection);
      else this.held = verdict.record;
    }
    return staged;
  }

  finish(): StagedRecord[] {
    const last = this.held;
    this.held = null;
    return last ? [last] : [];
  }
}

function emptyResult(t: { legacyId: string; org: ResolvedOrg; rows: number }): OrganizationImport {
  return {
    organizationId: t.org.code,
    legacyId: t.legacyId,
    name: t.org.name,
    source: t.rows,
    target: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    rejected: 0,
    duplicates: 0,
    pending: { committed: 0, draft: 0, conflict: 0 },
    pendingAlreadyImported: 0,
    pendingSynced: 0,
    bulk: false,
  };
}

/** PostgreSQL errors about the data of a row (class 21, 22, 23, 54): the normal path quarantines those. */
function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(21|22|23|54)/.test(code);
}

/**
 * One organization through the bulk path: its rows streamed from the source, converted and
 * validated like the normal path's, COPYed straight into pfa_mirror in one transaction, with a
 * pfa_sync_log run like the normal path's. A row PostgreSQL refuses (or a pfaId that repeats after
 * trimming) rolls the organization back: it then takes the normal path, which quarantines such
 * rows one by one; so does an organization whose read lock is busy or that has records by now.
 */
async function bulkOrganizationRecords(
  sync: SyncRepository,
  load: MirrorBulkLoad,
  source: LegacySource,
  t: { legacyId: string; org: ResolvedOrg; rows: number },
  o: { batchSize: number; onRows: (n: number) => void },
): Promise<{ org: OrganizationImport; errors: QuarantinedRow[] } | { fallback: string; rowsRead: number }> {
  const code = t.org.code;
  const result = emptyResult(t);
  result.bulk = true;
  const errors: QuarantinedRow[] = [];
  const converter = new RecordConverter(source.shape.timestampColumns, result, (row) => {
    result.rejected += 1;
    if (errors.length < MAX_LOGGED_ERRORS) errors.push(row);
  });
  const runId = await sync.startRun(code, 'read', 'import', null);
  const batchId = `import-${runId}`;
  let rowsRead = 0;
  async function* chunks(): AsyncGenerator<string> {
    const iterator = source.records(t.legacyId, o.batchSize)[Symbol.asyncIterator]();
    try {
      let next = iterator.next();
      for (;;) {
        const r = await next;
        if (r.done) break;
        next = iterator.next(); // the next fetch runs while this batch is converted and copied
        next.catch(() => undefined);
        const text = copyLines(code, batchId, converter.push(r.value));
        rowsRead += r.value.length;
        o.onRows(r.value.length);
        if (text) yield text;
      }
      const last = converter.finish();
      if (last.length) yield copyLines(code, batchId, last);
    } finally {
      await iterator.return?.(undefined)?.catch?.(() => undefined);
    }
  }
  let outcome: Awaited<ReturnType<MirrorBulkLoad['copyOrganization']>>;
  try {
    outcome = await load.copyOrganization(code, chunks());
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const data = isDataError(error);
    await sync
      .finishRun(code, runId, {
        status: 'failed',
        message: `legacy import (bulk path) rolled back: ${message}${data ? '; the normal path loads it instead' : ''}`,
      })
      .catch(() => undefined);
    if (data) return { fallback: `PostgreSQL refused a row (${message}): normal path`, rowsRead };
    throw error;
  }
  if ('skipped' in outcome) {
    await sync.finishRun(code, runId, {
      status: 'failed',
      message: `legacy import (bulk path) not taken: ${outcome.skipped}; the normal path loads it instead`,
    });
    return { fallback: `${outcome.skipped}: normal path`, rowsRead };
  }
  result.inserted = outcome.copied;
  result.target = outcome.copied;
  await sync.finishRun(code, runId, {
    status: result.rejected > 0 ? 'partial' : 'succeeded',
    inserted: result.inserted,
    rejected: result.rejected,
    errors,
    message: `legacy import (${source.shape.recordTable}, bulk path): ${t.rows} source rows, ${result.target} mirror records`,
  });
  return { org: result, errors };
}

interface RecordRunOptions {
  dryRun: boolean;
  batchSize: number;
  orgExists: boolean;
  reject: (row: QuarantinedRow) => void;
  onRows: (n: number) => void;
}

async function importOrganizationRecords(
  deps: Deps,
  sync: SyncRepository,
  repo: LegacyImportRepository,
  source: LegacySource,
  t: { legacyId: string; org: ResolvedOrg; rows: number },
  o: RecordRunOptions,
): Promise<OrganizationImport> {
  const code = t.org.code;
  const result = emptyResult(t);
  const errors: QuarantinedRow[] = [];
  const rejectHere = (row: QuarantinedRow): void => {
    result.rejected += 1;
    if (errors.length < MAX_LOGGED_ERRORS) errors.push(row);
    o.reject(row);
  };

  let runId: string | null = null;
  let staging: StagingSession | null = null;
  let comparer: DryRunComparer | null = null;
  if (o.dryRun) {
    comparer = await repo.openDryRun(code);
  } else {
    await repo.upsertOrganization(code, t.org.name);
    runId = await sync.startRun(code, 'read', 'import', null);
    staging = await sync.openStaging({
      organizationId: code,
      batchId: `import-${runId}`,
      kind: 'import',
      lock: true,
    });
    if (!staging) {
      await sync.finishRun(code, runId, { status: 'failed', message: `another read of ${code} is running` });
      throw new Error(`another read of ${code} is running: try again later`);
    }
  }

  let counts: MergeCounts = { ...ZERO_COUNTS };
  const load = async (records: StagedRecord[]): Promise<void> => {
    if (records.length === 0) return;
    if (comparer) {
      const c = o.orgExists
        ? await comparer.compare(records)
        : { inserted: records.length, updated: 0, unchanged: 0 };
      counts = addCounts(counts, { ...c, dataChanged: c.updated });
    } else if (staging) {
      counts = addCounts(counts, await loadWithQuarantine(staging, records, rejectHere));
    }
  };

  const iterator = source.records(t.legacyId, o.batchSize)[Symbol.asyncIterator]();
  let inflight: Promise<void> = Promise.resolve();
  const converter = new RecordConverter(source.shape.timestampColumns, result, rejectHere);
  try {
    let next = iterator.next();
    for (;;) {
      const r = await next;
      if (r.done) break;
      next = iterator.next(); // the next fetch runs while this batch is converted and merged
      next.catch(() => undefined);
      const staged = converter.push(r.value);
      await inflight;
      inflight = load(staged);
      inflight.catch(() => undefined);
      o.onRows(r.value.length);
    }
    const last = converter.finish();
    if (last.length) {
      await inflight;
      inflight = load(last);
    }
    await inflight;
    result.inserted = counts.inserted;
    result.updated = counts.updated;
    result.unchanged = counts.unchanged;
    result.target = (await sync.countRecords([code])).get(code) ?? 0;
    if (runId !== null)
      await sync.finishRun(code, runId, {
        status: result.rejected > 0 ? 'partial' : 'succeeded',
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: counts.unchanged,
        rejected: result.rejected,
        errors,
        message: `legacy import (${source.shape.recordTable}): ${t.rows} source rows, ${result.target} mirror records`,
      });
    deps.log.info(
      { org: code, ...counts, rejected: result.rejected },
      'legacy import: records of organization done',
    );
    return result;
  } catch (error) {
    await inflight.catch(() => undefined);
    if (runId !== null)
      await sync
        .finishRun(code, runId, {
          status: 'failed',
          ...counts,
          rejected: result.rejected,
          errors,
          message: error instanceof Error ? error.message : String(error),
        })
        .catch(() => undefined);
    throw error;
  } finally {
    await iterator.return?.(undefined)?.catch?.(() => undefined);
    await staging?.release();
    await comparer?.release();
  }
}

// ------------------------------------------------------------------------------- pending work

const COMMITTED_STATES = new Set([
  'committed',
  'syncing',
  'queued',
  'pending',
  'pending_sync',
  'failed',
  'sync_error',
  'error',
]);

function parseObject(v: unknown): JsonObject {
  let o = v;
  if (typeof v === 'string') {
    try {
      o = JSON.parse(v);
    } catch {
      return {};
    }
  }
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as JsonObject) : {};
}

async function importPendingWork(
  repo: LegacyImportRepository,
  kind: 'sqlite' | 'postgres',
  org: OrganizationImport,
  mods: readonly LegacyModification[],
  ourUser: (legacyUserId: string | null) => string,
  report: LegacyImportReport,
  dryRun: boolean,
): Promise<void> {
  if (mods.length === 0) return;
  const code = org.organizationId;
  const problem = (m: LegacyModification, reason: string): void => {
    report.pendingProblems.push({ legacyId: m.id, organizationId: code, reason });
  };
  const imported = await repo.importedLegacyIds(code);
  const pfaIds = [...new Set(mods.map((m) => m.pfaId).filter((p): p is string => p !== null))];
  const mirror = await repo.mirrorRows(code, pfaIds);
  const rows: PendingWorkRow[] = [];
  const now = new Date();

  // The change edited last first: of two open changes of one record in one session, it stays.
  const byRecency = [...mods].sort(
    (a, b) => (legacyInstant(b.updatedAt)?.getTime() ?? 0) - (legacyInstant(a.updatedAt)?.getTime() ?? 0),
  );
  for (const m of byRecency) {
    if (imported.has(m.id)) {
      org.pendingAlreadyImported += 1;
      continue;
    }
    const state = (m.syncState ?? 'draft').trim().toLowerCase();
    let ours: PendingWorkRow['state'];
    if (m.conflict) ours = 'conflict';
    else if (state === 'draft') ours = 'draft';
    else if (COMMITTED_STATES.has(state)) ours = 'committed';
    else if (state === 'synced') {
      org.pendingSynced += 1;
      continue;
    } else {
      problem(m, `state ${JSON.stringify(m.syncState)} is neither pending nor a draft: not imported`);
      continue;
    }
    if (m.pfaId === null) {
      problem(m, `its record ${JSON.stringify(m.mirrorId)} is missing from the source`);
      continue;
    }
    const { delta, dropped } = legacyDelta(m.delta);
    for (const k of dropped) report.droppedDeltaKeys[k] = (report.droppedDeltaKeys[k] ?? 0) + 1;
    if (Object.keys(delta).length === 0) {
      problem(
        m,
        `its delta holds no editable change${dropped.length ? ` (dropped: ${dropped.join(', ')})` : ''}`,
      );
      continue;
    }
    // In a dry run a record new to the mirror has no row yet: it would come with this import.
    const record: MirrorRow | undefined =
      mirror.get(m.pfaId) ??
      (dryRun ? { id: `new:${m.pfaId}`, version: 1, pemsVersion: null, data: {} } : undefined);
    if (!record) {
      problem(m, `its record ${m.pfaId} is not in the mirror (rejected by the import?)`);
      continue;
    }
    const userId = ourUser(m.userId);
    const baseValues = Object.fromEntries(Object.keys(delta).map((k) => [k, record.data[k] ?? null]));
    const createdAt = legacyInstant(m.createdAt) ?? now;
    const updatedAt = legacyInstant(m.updatedAt) ?? createdAt;
    const committedAt =
      ours === 'committed' || (ours === 'conflict' && state !== 'draft')
        ? (legacyInstant(m.committedAt) ?? updatedAt)
        : null;
    let conflicts: unknown[] | null = null;
    if (ours === 'conflict' && m.conflict) {
      const theirsData = parseObject(m.conflict.pemsData);
      const listed = (legacyFieldList(m.conflict.conflictFields) ?? []).filter((f) => f in delta);
      const fields = listed.length > 0 ? listed : Object.keys(delta);
      conflicts = fields.map((field) => ({
        field,
        base: baseValues[field] ?? null,
        theirs:
          field in theirsData
            ? legacyValue(field, theirsData[field], new Set())
            : (record.data[field] ?? null),
        mine: delta[field],
      }));
    }
    rows.push({
      legacyId: m.id,
      mirrorId: record.id,
      sessionId: legacySessionId(userId, m.sessionId),
      userId,
      state: ours,
      delta,
      baseValues,
      baseVersion: record.version,
      basePemsVersion: m.pemsVersion ?? record.pemsVersion,
      currentVersion: Math.max(1, m.currentVersion ?? 1),
      conflicts,
      changeReason: m.changeReason === null ? null : m.changeReason.slice(0, 500),
      createdAt,
      updatedAt: updatedAt < createdAt ? createdAt : updatedAt,
      committedAt,
      lastError:
        ours === 'committed' && state !== 'committed' && state !== 'syncing'
          ? `previous application left it ${state}`
          : null,
    });
  }

  if (dryRun) {
    // Two open modifications of one (record, session) cannot both come over.
    const seen = new Set<string>();
    for (const r of rows) {
      const key = `${r.mirrorId}/${r.sessionId}`;
      if (r.state !== 'committed' && seen.has(key)) {
        report.pendingProblems.push({
          legacyId: r.legacyId,
          organizationId: code,
          reason: 'its session already has an open change of this record',
        });
        continue;
      }
      if (r.state !== 'committed') seen.add(key);
      org.pending[r.state] += 1;
    }
    return;
  }
  const stored = await repo.insertPendingWork(code, kind, rows);
  for (const s of ['committed', 'draft', 'conflict'] as const) org.pending[s] += stored.stored[s];
  for (const id of stored.duplicateOpen)
    report.pendingProblems.push({
      legacyId: id,
      organizationId: code,
      reason: 'its session already has an open change of this record',
    });
}
