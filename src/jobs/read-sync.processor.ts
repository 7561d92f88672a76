/**
 * read-sync(org): PEMS → pfa_mirror.
 *
 * Pages through the organization's PEMS grid (the next page is fetched while the current one is
 * staged and merged), validates every row, COPYs the good ones into a staging table and merges
 * them set-based, writing only what changed. A row that cannot be stored is quarantined — kept
 * out of the mirror with its reason in pfa_sync_log.errors — while the batch goes on. A full read
 * soft-marks records PEMS no longer has; an incremental read asks only for changes after the
 * watermark of the last successful run. One pfa_sync_log row per run.
 */
import type { PemsClient, PemsPage, PemsPageRecord, PemsRecord } from '../pems/client.js';
import { PemsError, PemsRateLimitedError, isRetryable } from '../pems/client.js';
import {
  ZERO_COUNTS,
  addCounts,
  SyncRepository,
  type LoadResult,
  type MergeCounts,
  type StagedRecord,
  type StagingSession,
} from '../repositories/sync.repository.js';
import { requirePems, retryDelay, sleep, type JobDeps } from './job-deps.js';
import { RetryLaterError, type JobHandler, type JobRun, type ReadSyncResult } from './registry.js';

/** At most this many quarantined rows are kept in pfa_sync_log.errors (the count is exact). */
export const MAX_LOGGED_ERRORS = 1_000;
const MAX_RAW_CHARS = 2_000;
const MAX_RECORD_BYTES = 1 << 20;
const MAX_PFA_ID_LENGTH = 256;
/**
 * Rounds of reading again, one by one, the records a page could not overwrite because a
 * write-back wrote them after the page was requested (each round is one GET per record).
 */
const MAX_REREAD_ROUNDS = 3;

/**
 * JSON text PostgreSQL's jsonb refuses: \u0000, or an escaped surrogate (JSON.stringify escapes
 * only unpaired ones). The lookbehind skips an escaped backslash followed by "u0000".
 */
const JSONB_UNSAFE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

export interface QuarantinedRow {
  pfaId: string | null;
  reason: string;
  raw?: unknown;
}

export type RowVerdict = { ok: true; record: StagedRecord } | { ok: false; rejection: QuarantinedRow };

function rawForLog(raw: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(raw);
  } catch {
    return '[unserialisable]';
  }
  if (text === undefined) return null;
  return text.length <= MAX_RAW_CHARS ? raw : `${text.slice(0, MAX_RAW_CHARS)}…`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks one record before it may reach the mirror: mapped by the client, identified, its data an
 * object whose pfaId agrees, and storable as jsonb. Shared with the legacy import.
 */
export function validateRecord(
  pfaId: string,
  data: unknown,
  pemsVersion: string | null,
  raw: unknown,
  clientError?: string,
): RowVerdict {
  const reject = (reason: string): RowVerdict => ({
    ok: false,
    rejection: { pfaId: pfaId === '' ? null : pfaId, reason, raw: rawForLog(raw) },
  });
  if (data === null || data === undefined) return reject(clientError ?? 'row could not be mapped');
  if (pfaId === '') return reject('row has no PFA_ID');
  if (pfaId.length > MAX_PFA_ID_LENGTH) return reject(`PFA_ID longer than ${MAX_PFA_ID_LENGTH} characters`);
  if (!isPlainObject(data)) return reject('record data is not a JSON object');
  if ('pfaId' in data && data.pfaId !== pfaId) {
    return reject(`pfaId mismatch: the row is ${pfaId}, its data says ${JSON.stringify(data.pfaId)}`);
  }
  if (pemsVersion === '') return reject('row has no RECORDID');
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch (e) {
    return reject(`record data cannot be serialised: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (json.length > MAX_RECORD_BYTES) return reject(`record data larger than ${MAX_RECORD_BYTES} bytes`);
  if (json.includes('\\u') && JSONB_UNSAFE.test(json))
    return reject('record data holds \\u0000 or an unpaired surrogate, which jsonb cannot store');
  return { ok: true, record: { pfaId, json, pemsVersion } };
}

function validatePemsRow(r: PemsPageRecord): RowVerdict {
  return validateRecord(r.pfaId, r.data, r.recordid, r.raw, r.error);
}

function roundAll(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));
}

/** PostgreSQL errors about the data of a batch (so bisecting it can find the culprit). */
function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(21|22|23|54)/.test(code);
}

/**
 * Loads a batch; when PostgreSQL refuses it for its data, splits it in halves until the rows it
 * refuses are alone, quarantines those and loads the rest.
 */
export async function loadWithQuarantine(
  staging: StagingSession,
  records: readonly StagedRecord[],
  reject: (row: QuarantinedRow) => void,
  requestedAt: Date | null = null,
): Promise<LoadResult> {
  try {
    return await staging.load(records, requestedAt);
  } catch (e) {
    if (!isDataError(e)) throw e;
    const only = records[0];
    if (records.length === 1 && only) {
      reject({ pfaId: only.pfaId, reason: `refused by PostgreSQL: ${(e as Error).message}` });
      return { ...ZERO_COUNTS, deferred: [] };
    }
    const mid = Math.ceil(records.length / 2);
    const left = await loadWithQuarantine(staging, records.slice(0, mid), reject, requestedAt);
    const right = await loadWithQuarantine(staging, records.slice(mid), reject, requestedAt);
    return { ...addCounts(left, right), deferred: [...left.deferred, ...right.deferred] };
  }
}

/** readPage with in-run retries of transient failures (a full read should not restart for one 503). */
async function readPageWithRetry(
  pems: PemsClient,
  org: string,
  options: { cursor: number; pageSize: number; updatedSince?: string },
  deps: JobDeps,
  run: JobRun,
): Promise<PemsPage> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pems.readPage(org, options);
    } catch (e) {
      if (!isRetryable(e) || attempt >= deps.settings.attemptsPerRun) throw e;
      const wait = e instanceof PemsRateLimitedError ? e.retryAfterMs : retryDelay(deps.settings, attempt);
      run.log.warn(
        { org, cursor: options.cursor, attempt, wait, err: (e as Error).message },
        'PEMS page failed; retrying',
      );
      await sleep(wait);
    }
  }
}

/**
 * getRecord with in-run retries of transient failures; a record PEMS cannot give (malformed) is
 * an error the caller quarantines.
 */
async function getRecordWithRetry(
  pems: PemsClient,
  org: string,
  pfaId: string,
  deps: JobDeps,
  run: JobRun,
): Promise<PemsRecord | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pems.getRecord(org, pfaId);
    } catch (e) {
      if (!isRetryable(e) || attempt >= deps.settings.attemptsPerRun) throw e;
      const wait = e instanceof PemsRateLimitedError ? e.retryAfterMs : retryDelay(deps.settings, attempt);
      run.log.warn(
        { org, pfaId, attempt, wait, err: (e as Error).message },
        'PEMS record read failed; retrying',
      );
      await sleep(wait);
    }
  }
}

/** A page as requested: the database clock just before the request (see StagingSession.load). */
interface RequestedPage {
  page: PemsPage;
  requestedAt: Date;
}

/** A page checked row by row: what may be staged, and what is quarantined. */
interface CheckedPage {
  page: PemsPage;
  requestedAt: Date;
  /** One per pfaId (the same record twice in a page: the later wins). */
  records: StagedRecord[];
  rejections: QuarantinedRow[];
  checkMs: number;
}

function checkPage({ page, requestedAt }: RequestedPage): CheckedPage {
  const started = performance.now();
  const byId = new Map<string, StagedRecord>();
  const rejections: QuarantinedRow[] = [];
  for (const r of page.records) {
    const verdict = validatePemsRow(r);
    if (verdict.ok) byId.set(verdict.record.pfaId, verdict.record);
    else rejections.push(verdict.rejection);
  }
  return { page, requestedAt, records: [...byId.values()], rejections, checkMs: performance.now() - started };
}

/**
 * Pages in order. Page n+1 is requested, and checked as soon as it arrives, while the caller
 * stages and merges page n: PEMS, this process and PostgreSQL work at the same time.
 */
async function* prefetchPages(
  fetchPage: (cursor: number) => Promise<RequestedPage>,
): AsyncGenerator<CheckedPage> {
  const fetchChecked = (cursor: number): Promise<CheckedPage> => fetchPage(cursor).then(checkPage);
  let next: Promise<CheckedPage> | null = fetchChecked(0);
  try {
    while (next) {
      const checked: CheckedPage = await next;
      next = checked.page.more ? fetchChecked(checked.page.nextCursor) : null;
      next?.catch(() => undefined); // surfaced when awaited; never an unhandled rejection meanwhile
      yield checked;
    }
  } finally {
    next?.catch(() => undefined);
  }
}

/**
 * Staging sessions of one run, each on its own connection, merging batches in parallel (the
 * first holds the organization's read lock). A batch sharing a pfaId with one still loading
 * waits for it, so a record changed twice during an incremental read is merged in page order.
 */
class Loaders {
  private readonly idle: StagingSession[];
  private readonly busy = new Map<StagingSession, { ids: Set<string>; done: Promise<void> }>();
  private failure: unknown = null;
  /** Records a load left alone because the mirror row may be newer than the page (read them again). */
  readonly deferred = new Set<string>();

  constructor(
    readonly sessions: readonly StagingSession[],
    private readonly onCounts: (c: MergeCounts) => void,
    private readonly reject: (row: QuarantinedRow) => void,
  ) {
    this.idle = [...sessions];
  }

  /** Starts loading the batch on a free session (waiting for one); throws an earlier load's error. */
  async submit(records: readonly StagedRecord[], requestedAt: Date): Promise<void> {
    const ids = new Set(records.map((r) => r.pfaId));
    for (;;) {
      if (this.failure !== null) throw this.failure;
      const overlapping = [...this.busy.values()].some((b) => [...ids].some((id) => b.ids.has(id)));
      if (this.idle.length > 0 && !overlapping) break;
      await Promise.race([...this.busy.values()].map((b) => b.done));
    }
    const session = this.idle.pop() as StagingSession;
    const done = loadWithQuarantine(session, records, this.reject, requestedAt)
      .then(
        (c) => {
          for (const id of c.deferred) this.deferred.add(id);
          this.onCounts(c);
        },
        (e: unknown) => {
          this.failure ??= e;
        },
      )
      .finally(() => {
        this.busy.delete(session);
        this.idle.push(session);
      });
    this.busy.set(session, { ids, done });
  }

  /** Waits for every load; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    if (this.failure !== null) throw this.failure;
  }

  /** Waits for every load to end, whatever the outcome (before the sessions may be released). */
  async settle(): Promise<void> {
    while (this.busy.size > 0) await Promise.all([...this.busy.values()].map((b) => b.done));
  }
}

export function createReadSyncProcessor(deps: JobDeps): JobHandler<'read-sync'> {
  return async (payload, run): Promise<ReadSyncResult> => {
    const pems = requirePems(deps);
    const org = payload.organizationId;
    const repo = new SyncRepository(deps.db, deps.pool);
    await repo.ensureOrganization(org);
    const last = await repo.lastReadRun(org);
    const forceFull =
      deps.settings.fullSyncEveryMs > 0 &&
      (last.lastFullAt === null || Date.now() - last.lastFullAt.getTime() > deps.settings.fullSyncEveryMs);
    const mode: 'full' | 'incremental' =
      payload.full || last.watermark === null || forceFull ? 'full' : 'incremental';

    const startedAt = performance.now();
    const runId = await repo.startRun(org, 'read', mode, run.jobId);
    const batchId = `read-${runId}`;
    const primary = await repo.openStaging({ organizationId: org, batchId, kind: 'pems', lock: true });
    if (!primary) {
      await repo.finishRun(org, runId, { status: 'failed', message: `another read of ${org} is running` });
      throw new RetryLaterError(`another read of ${org} is running`);
    }
    const sessions: StagingSession[] = [primary];

    let counts: MergeCounts = { ...ZERO_COUNTS };
    let read = 0;
    let removed = 0;
    let rejectedCount = 0;
    let unidentified = 0;
    const errors: QuarantinedRow[] = [];
    const reject = (row: QuarantinedRow): void => {
      rejectedCount += 1;
      if (row.pfaId === null) unidentified += 1;
      if (errors.length < MAX_LOGGED_ERRORS) errors.push(row);
    };
    /** Every pfaId PEMS sent in a full read (quarantined ones too): the others are removed. */
    const seen = mode === 'full' ? new Set<string>() : null;
    let watermark: string | null = null;
    /** Where the time goes: waiting for PEMS pages, checking them (overlapped), COPY + merge. */
    const timings = { waitMs: 0, validateMs: 0, loadMs: 0 };
    const log = run.log.child({ job: 'read-sync', org, runId, mode });
    log.info({ watermark: mode === 'incremental' ? last.watermark : null }, 'read sync started');

    let loaders: Loaders | null = null;
    try {
      for (let i = 1; i < deps.settings.readLoaders; i++) {
        const extra = await repo.openStaging({ organizationId: org, batchId, kind: 'pems', lock: false });
        if (extra) sessions.push(extra);
      }
      loaders = new Loaders(
        sessions,
        (c) => {
          counts = addCounts(counts, c);
        },
        reject,
      );
      const fetchPage = async (cursor: number): Promise<RequestedPage> => {
        const requestedAt = await repo.clock();
        const page = await readPageWithRetry(
          pems,
          org,
          {
            cursor,
            pageSize: deps.settings.readPageSize,
            ...(mode === 'incremental' && last.watermark !== null ? { updatedSince: last.watermark } : {}),
          },
          deps,
          run,
        );
        return { page, requestedAt };
      };
      let first = true;
      let mark = performance.now();
      for await (const { page, requestedAt, records, rejections, checkMs } of prefetchPages(fetchPage)) {
        const got = performance.now();
        timings.waitMs += got - mark;
        timings.validateMs += checkMs;
        // The first page's watermark: changes made while we page are read again next time, not lost.
        if (first) watermark = page.watermark ?? null;
        first = false;
        read += page.records.length;
        for (const r of rejections) {
          reject(r);
          if (r.pfaId !== null) seen?.add(r.pfaId);
        }
        if (seen) for (const r of records) seen.add(r.pfaId);
        const size = deps.settings.readBatchSize;
        for (let i = 0; i < records.length; i += size)
          await loaders.submit(records.slice(i, i + size), requestedAt);
        mark = performance.now();
        timings.loadMs += mark - got;
        const seconds = (performance.now() - startedAt) / 1000;
        run.progress?.({ phase: 'read', done: read, ratePerSecond: seconds > 0 ? read / seconds : 0 });
      }
      const drainFrom = performance.now();
      await loaders.drain();
      // A page is a snapshot of PEMS taken before it was merged: a write-back PEMS applied in
      // between wrote a later state into the mirror, which the page must not undo (its stale
      // values would become "theirs" of every commit until the next read). Those records are
      // read again, each on its own, until the mirror takes them or a write-back is newer still.
      let reread = 0;
      for (let round = 1; loaders.deferred.size > 0 && round <= MAX_REREAD_ROUNDS; round++) {
        const ids = [...loaders.deferred];
        loaders.deferred.clear();
        reread += ids.length;
        const requestedAt = await repo.clock();
        const fresh: StagedRecord[] = [];
        for (const pfaId of ids) {
          let current: PemsRecord | null;
          try {
            current = await getRecordWithRetry(pems, org, pfaId, deps, run);
          } catch (e) {
            if (isRetryable(e) || !(e instanceof PemsError)) throw e;
            reject({ pfaId, reason: `read again after a write-back: ${e.message}` });
            continue;
          }
          if (current === null) continue; // gone from PEMS meanwhile: the next full read marks it
          const verdict = validateRecord(pfaId, current.data, current.recordid, current.data);
          if (verdict.ok) fresh.push(verdict.record);
          else reject(verdict.rejection);
        }
        if (fresh.length) await loaders.submit(fresh, requestedAt);
        await loaders.drain();
      }
      const stillDeferred = loaders.deferred.size;
      if (stillDeferred > 0) {
        // Still overtaken by write-backs: keep the previous watermark so the next run reads them.
        log.warn({ records: stillDeferred }, 'records kept changing under the read; read again next run');
        watermark = last.watermark;
      }
      timings.loadMs += performance.now() - drainFrom;
      let message: string;
      if (seen && unidentified > 0) {
        message = `${unidentified} rejected rows carried no PFA_ID: records missing from PEMS were not marked removed`;
      } else {
        if (seen) removed = await primary.markRemoved(seen);
        message = `${mode} read: ${read} rows, ${counts.inserted} new, ${counts.dataChanged} changed, ${rejectedCount} rejected, ${removed} removed${
          reread ? `, ${reread} read again after a write-back overtook their page` : ''
        }`;
      }
      const status = rejectedCount > 0 ? 'partial' : 'succeeded';
      await repo.finishRun(org, runId, {
        status,
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: counts.unchanged,
        rejected: rejectedCount,
        removed,
        watermark,
        errors,
        message,
      });
      const durationMs = performance.now() - startedAt;
      const result: ReadSyncResult = {
        runId,
        mode,
        status,
        read,
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: counts.unchanged,
        rejected: rejectedCount,
        removed,
        durationMs: Math.round(durationMs),
        recordsPerSecond: Math.round(read / Math.max(durationMs / 1000, 0.001)),
        watermark,
      };
      log.info({ ...result, timings: roundAll(timings), loaders: sessions.length }, 'read sync finished');
      if (counts.inserted + counts.updated + removed > 0) deps.requestRefresh(`read-sync:${org}`);
      return result;
    } catch (error) {
      await loaders?.settle(); // what is in flight finishes (and is counted) before the run is closed
      const message =
        error instanceof PemsError
          ? `PEMS: ${error.message}`
          : error instanceof Error
            ? error.message
            : String(error);
      await repo
        .finishRun(org, runId, {
          status: 'failed',
          inserted: counts.inserted,
          updated: counts.updated,
          unchanged: counts.unchanged,
          rejected: rejectedCount,
          errors,
          message,
        })
        .catch((e: unknown) => log.error({ err: e }, 'could not record the failed run'));
      // What was merged before the failure is in the mirror: the views should see it.
      if (counts.inserted + counts.updated > 0) deps.requestRefresh(`read-sync:${org}`);
      throw error;
    } finally {
      // Release the helpers first: the primary holds the lock another run may be waiting for.
      for (const session of sessions.slice(1)) await session.release();
      await primary.release();
    }
  };
}
