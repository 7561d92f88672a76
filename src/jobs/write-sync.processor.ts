/**
 * write-sync(org): pending changes → PEMS, DOMAIN §3.
 *
 * Claims committed changes in commit order (committed → syncing; SKIP LOCKED, so parallel
 * workers share the work), sends each as a PEMS UPDATE with the recordid it is based on, a
 * bounded number in flight, and settles each one:
 *   accepted               → synced, and the mirror takes the new data and recordid (one statement);
 *   stale recordid         → re-read the record: holding my values already → synced (a retry after
 *                            a crash or a lost response is applied exactly once); none of my fields
 *                            changed since my base → resend with the new recordid; else → conflict
 *                            with base / theirs (PEMS) / mine per field;
 *   network, 429, 5xx      → retried in the run with exponential backoff and jitter, then back to
 *                            committed with the error (the job is retried later, with backoff);
 *   any other PEMS refusal → conflict with PEMS's message (retrying cannot fix it).
 * A change is never dropped: every path ends synced, conflict, or committed with its error.
 */
import { detectConflicts, removedConflict, sameJson } from '../domain/draft-rules.js';
import type { FieldConflict } from '../domain/draft.js';
import { FIELD_BY_KEY } from '../domain/record-fields.js';
import { readBool, readDate, readMoney, readText } from '../domain/values.js';
import {
  PemsError,
  PemsRateLimitedError,
  PemsStaleRecordError,
  isRetryable,
  type PemsClient,
  type PemsRecord,
} from '../pems/client.js';
import { FieldMapError } from '../pems/field-map.js';
import { SyncRepository } from '../repositories/sync.repository.js';
import { WriteBackRepository, type PendingChange } from '../repositories/write-back.repository.js';
import { requirePems, retryDelay, sleep, type JobDeps } from './job-deps.js';
import { RetryLaterError, type JobHandler, type JobRun, type WriteSyncResult } from './registry.js';

/** Resends after a stale refusal before giving up for this run (the record keeps changing). */
const MAX_RESENDS = 3;

type Outcome = 'synced' | 'conflict' | 'failed' | 'lost';

/** Same value for the field's type (PEMS may echo 1250.5 as "1250.50", a date as a timestamp). */
function sameValue(key: string, a: unknown, b: unknown): boolean {
  if (sameJson(a ?? null, b ?? null)) return true;
  const spec = FIELD_BY_KEY.get(key);
  if (!spec) return false;
  const read = { text: readText, money: readMoney, date: readDate, boolean: readBool }[spec.type];
  const x = read(a);
  return x !== null && x === read(b);
}

/**
 * PEMS's values for the change's fields, written as the change would write them when they mean
 * the same (so detectConflicts, which compares JSON exactly, sees no difference of spelling).
 */
function theirsFor(change: PendingChange, current: Record<string, unknown>): Record<string, unknown> {
  const theirs: Record<string, unknown> = {};
  for (const key of Object.keys(change.delta)) {
    const value = current[key] ?? null;
    if (sameValue(key, value, change.delta[key])) theirs[key] = change.delta[key];
    else if (sameValue(key, value, change.baseValues[key])) theirs[key] = change.baseValues[key] ?? null;
    else theirs[key] = value;
  }
  return theirs;
}

export type Verdict =
  | { kind: 'applied' }
  | { kind: 'resend'; recordid: string }
  | { kind: 'conflict'; conflicts: FieldConflict[]; message: string };

/** The re-read rule of DOMAIN §3 on the record as PEMS holds it now. */
export function judgeStale(change: PendingChange, current: PemsRecord | null): Verdict {
  if (current === null) {
    return {
      kind: 'conflict',
      conflicts: Object.keys(change.delta).map((field) => ({
        field,
        base: change.baseValues[field] ?? null,
        theirs: null,
        mine: change.delta[field] ?? null,
      })),
      message: `record ${change.pfaId} no longer exists in PEMS`,
    };
  }
  const theirs = theirsFor(change, current.data);
  if (Object.keys(change.delta).every((k) => sameJson(theirs[k], change.delta[k])))
    return { kind: 'applied' };
  const conflicts = detectConflicts(change.delta, change.baseValues, theirs);
  if (conflicts.length === 0) return { kind: 'resend', recordid: current.recordid };
  return {
    kind: 'conflict',
    conflicts,
    message: `PEMS changed ${conflicts.map((c) => c.field).join(', ')} of ${change.pfaId} since this change was based on it (recordid ${
      change.basePemsVersion ?? 'none'
    } → ${current.recordid})`,
  };
}

/** Shared pause after a 429: every sender waits until PEMS said it may be asked again. */
class PauseGate {
  private until = 0;
  pauseFor(ms: number): void {
    this.until = Math.max(this.until, Date.now() + ms);
  }
  async wait(): Promise<void> {
    for (let left = this.until - Date.now(); left > 0; left = this.until - Date.now()) await sleep(left);
  }
}

/** Runs fn over the items, `concurrency` at a time; when one fails, the others still end before it throws. */
async function forEachConcurrent<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length && failure === null) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(lanes);
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/** The client's own refusals of a change it cannot send (a bug of ours would be any other TypeError). */
function isClientRefusal(e: unknown): boolean {
  return e instanceof TypeError && e.message.startsWith('updateRecord:');
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Settles successful sends in small batches: one statement (one commit) for the changes that
 * finish within a few milliseconds of each other instead of one each. A batch that fails is
 * retried change by change, so one bad row cannot hold the others back.
 */
class SyncedWriter {
  private waiting: { item: SyncedItem; resolve: (ok: boolean) => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly repo: WriteBackRepository,
    private readonly maxBatch: number,
    private readonly maxWaitMs = 5,
  ) {}

  /** Resolves true when the change is synced, false when it was no longer ours to settle. */
  settle(item: SyncedItem): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.waiting.splice(0);
    if (batch.length === 0) return;
    void (async () => {
      try {
        const done = await this.repo.markSynced(batch.map((b) => b.item));
        for (const b of batch) b.resolve(done.has(b.item.change.id));
      } catch {
        for (const b of batch) {
          try {
            b.resolve((await this.repo.markSynced([b.item])).has(b.item.change.id));
          } catch (e) {
            b.reject(e);
          }
        }
      }
    })();
  }
}

interface SyncedItem {
  change: PendingChange;
  pemsVersion: string;
  data: Record<string, unknown> | null;
  /** The recordid of the accepted update (absent when PEMS already held the values). */
  sentWith?: string;
}

interface Context {
  org: string;
  pems: PemsClient;
  repo: WriteBackRepository;
  synced: SyncedWriter;
  deps: JobDeps;
  run: JobRun;
  gate: PauseGate;
}

/** One change, start to settled state. Throws only when the database itself fails. */
async function syncOne(ctx: Context, change: PendingChange): Promise<{ outcome: Outcome; error?: string }> {
  const { org, pems, repo, synced, deps, gate } = ctx;
  if (change.removedFromPemsAt) {
    // Gone from PEMS (a full read sync said so): nothing to write back; the user decides.
    const error = `record ${change.pfaId} was removed from PEMS; the change is not written back`;
    const id = await repo.markConflict(change, [removedConflict(change.removedFromPemsAt)], error, null);
    return { outcome: id ? 'conflict' : 'lost', error };
  }
  let recordid: string | null = change.basePemsVersion;
  /** PEMS's record as last re-read: after a resend the mirror takes it with my values on top. */
  let reread: Record<string, unknown> | null = null;
  let resends = 0;
  let attempt = 0;
  for (;;) {
    try {
      if (recordid === null) {
        // Stale (or never known): what does PEMS hold now?
        await gate.wait();
        const current = await pems.getRecord(org, change.pfaId);
        const verdict = judgeStale(change, current);
        if (verdict.kind === 'applied' && current) {
          const ok = await synced.settle({ change, pemsVersion: current.recordid, data: current.data });
          return { outcome: ok ? 'synced' : 'lost' };
        }
        if (verdict.kind === 'conflict') {
          const id = await repo.markConflict(change, verdict.conflicts, verdict.message, current);
          return { outcome: id ? 'conflict' : 'lost', error: verdict.message };
        }
        if (verdict.kind === 'resend') {
          if (++resends > MAX_RESENDS) {
            const error = `PEMS record ${change.pfaId} changed ${MAX_RESENDS} times while sending; will retry`;
            await repo.release(change, error);
            return { outcome: 'failed', error };
          }
          recordid = verdict.recordid;
          reread = current?.data ?? null;
        }
        continue;
      }
      await gate.wait();
      const result = await pems.updateRecord(org, change.pfaId, change.delta, recordid);
      const data = reread === null ? null : { ...reread, ...change.delta };
      const ok = await synced.settle({ change, pemsVersion: result.recordid, data, sentWith: recordid });
      return { outcome: ok ? 'synced' : 'lost' };
    } catch (e) {
      if (e instanceof PemsStaleRecordError) {
        recordid = null;
        continue;
      }
      if (isRetryable(e)) {
        attempt += 1;
        if (attempt < deps.settings.attemptsPerRun) {
          if (e instanceof PemsRateLimitedError) gate.pauseFor(e.retryAfterMs);
          else await sleep(retryDelay(deps.settings, attempt));
          continue;
        }
        const error = `PEMS unavailable after ${attempt} tries: ${describe(e)}`;
        await repo.release(change, error);
        return { outcome: 'failed', error };
      }
      if (e instanceof PemsError || e instanceof FieldMapError || isClientRefusal(e)) {
        // PEMS (or our mapping) refuses this change for good: the user has to decide.
        const error = `PEMS refused the change: ${describe(e)}`;
        let current: PemsRecord | null = null;
        try {
          current = await pems.getRecord(org, change.pfaId);
        } catch {
          // theirs stays unknown (null)
        }
        const conflicts: FieldConflict[] = Object.keys(change.delta).map((field) => ({
          field,
          base: change.baseValues[field] ?? null,
          theirs: current?.data[field] ?? null,
          mine: change.delta[field] ?? null,
        }));
        const id = await repo.markConflict(change, conflicts, error, current);
        return { outcome: id ? 'conflict' : 'lost', error };
      }
      // Not PEMS: a bug or the database. Keep the change committed with the error, then let
      // the job fail if the database is the problem (release throws too).
      const error = `write-back failed: ${describe(e)}`;
      await repo.release(change, error);
      return { outcome: 'failed', error };
    }
  }
}

export function createWriteSyncProcessor(deps: JobDeps): JobHandler<'write-sync'> {
  return async (payload, run): Promise<WriteSyncResult> => {
    const pems = requirePems(deps);
    const org = payload.organizationId;
    const repo = new WriteBackRepository(deps.db);
    const syncLog = new SyncRepository(deps.db, deps.pool);
    const log = run.log.child({ job: 'write-sync', org });
    const startedAt = performance.now();

    const recovered = await repo.recoverExpiredClaims(org, deps.settings.writeLeaseMs);
    if (recovered > 0) log.warn({ recovered }, 'changes left syncing by a stopped worker are sent again');
    const runId = await syncLog.startRun(org, 'write', 'incremental', run.jobId);
    const synced = new SyncedWriter(repo, deps.settings.writeConcurrency);
    const ctx: Context = { org, pems, repo, synced, deps, run, gate: new PauseGate() };
    const counts = { synced: 0, conflicted: 0, failed: 0, lost: 0 };
    const errors: { id: string; pfaId: string; error: string }[] = [];
    const settledFailed = new Set<string>();
    const unsettled = new Map<string, PendingChange>();

    try {
      const batchSize = deps.settings.writeConcurrency * 4;
      for (;;) {
        const batch = await repo.claim(org, batchSize, [...settledFailed]);
        if (batch.length === 0) break;
        for (const change of batch) unsettled.set(change.id, change);
        await forEachConcurrent(batch, deps.settings.writeConcurrency, async (change) => {
          const { outcome, error } = await syncOne(ctx, change);
          unsettled.delete(change.id);
          if (outcome === 'synced') counts.synced += 1;
          else if (outcome === 'conflict') counts.conflicted += 1;
          else if (outcome === 'lost') counts.lost += 1;
          else {
            counts.failed += 1;
            settledFailed.add(change.id);
          }
          if (error && errors.length < 1_000) errors.push({ id: change.id, pfaId: change.pfaId, error });
        });
        const seconds = (performance.now() - startedAt) / 1000;
        const done = counts.synced + counts.conflicted + counts.failed;
        run.progress?.({ phase: 'write', done, ratePerSecond: seconds > 0 ? done / seconds : 0 });
      }
    } catch (error) {
      // Claimed but not settled: back to committed now rather than after the lease. Whether PEMS
      // got some of them does not matter: a resend with the same recordid is refused as stale
      // and the re-read finds the values there.
      for (const change of unsettled.values()) {
        await repo
          .release(change, `write-sync run failed before this change was settled: ${describe(error)}`)
          .catch(() => undefined);
      }
      await syncLog
        .finishRun(org, runId, { status: 'failed', ...counts, errors, message: describe(error) })
        .catch((e: unknown) => log.error({ err: e }, 'could not record the failed run'));
      if (counts.synced + counts.conflicted > 0) deps.requestRefresh(`write-sync:${org}`);
      throw error;
    }

    const status = counts.failed > 0 ? 'partial' : 'succeeded';
    const message = `${counts.synced} synced, ${counts.conflicted} conflicts, ${counts.failed} left committed${
      recovered ? `, ${recovered} recovered from a stopped worker` : ''
    }`;
    await syncLog.finishRun(org, runId, {
      status,
      synced: counts.synced,
      conflicted: counts.conflicted,
      failed: counts.failed,
      errors,
      message,
    });
    if (counts.synced + counts.conflicted > 0) deps.requestRefresh(`write-sync:${org}`);
    const result: WriteSyncResult = {
      runId,
      status,
      synced: counts.synced,
      conflicted: counts.conflicted,
      failed: counts.failed,
      recovered,
      durationMs: Math.round(performance.now() - startedAt),
    };
    log.info(result, 'write sync finished');
    // Changes left committed: fail this attempt so the job runner retries it with backoff.
    if (counts.failed > 0) throw new RetryLaterError(`write-sync ${org}: ${message}`);
    return result;
  };
}
