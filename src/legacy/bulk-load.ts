/**
 * The legacy import's bulk path: the first load of organizations that have no records here yet,
 * done the way the seed loads a database (src/db/seed.ts) instead of row by row through the
 * read sync's merge.
 *
 * 1. Under the session-level advisory lock MIRROR_BULK_LOCK, pfa_mirror's secondary indexes
 *    (src/db/mirror-indexes.ts) are dropped (each DROP committed at once).
 * 2. Each organization is COPYed straight into pfa_mirror in ONE transaction of its own, on its
 *    own connection (several at once), its rows streamed from the source through the normal
 *    path's conversion and validation, under its read lock and after checking that it still has
 *    no records. The versioning trigger gives version 1. The KPI log (pfa_mirror_kpi_ins) is left
 *    out when no KPI cache row of the organization exists (checked while the transaction holds
 *    the refresh lock shared, so no refresh can produce one from a snapshot without these rows
 *    until it commits): live KPIs of an organization no cache holds are computed from its
 *    records, and the refresh in step 3 would delete the log anyway; the organization's change
 *    sequence is bumped as the trigger would have (migration 20261206T0145). When a cache row
 *    exists, the trigger logs every new record's state as for any insert. Either way the live
 *    KPIs are right from the organization's COMMIT on. A row PostgreSQL refuses rolls the
 *    organization back; the normal path then loads it.
 * 3. ANALYZE, a refresh of the KPI views (which folds the states logged by organizations a cache
 *    held into the views and empties the log of them), the indexes built again (two connections
 *    side by side), the lock released. (The refresh side by side with the builds was slower:
 *    measured on 1M records, 39–41 s against 28–36 s one after the other.)
 *
 * A process that dies between 1 and 3 leaves the indexes missing: organizations it committed are
 * in (complete: one transaction each), the others are not. The next `npm run migrate` or import
 * finds the indexes missing while nobody holds MIRROR_BULK_LOCK and builds them
 * (ensureMirrorIndexes); a re-run then loads the missing organizations (the loaded ones have
 * records: normal path, nothing to change). Until then reads stay correct, only slower.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import {
  MIRROR_BULK_LOCK,
  buildMirrorIndexes,
  missingMirrorIndexes,
  mirrorIndexes,
} from '../db/mirror-indexes.js';
import { REFRESH_LOCK } from '../repositories/maintenance.repository.js';
import { lockKey, type StagedRecord } from '../repositories/sync.repository.js';

/** `auto`: the rule of planBulk; `always` (--bulk): every organization without records; `never` (--no-bulk). */
export type BulkMode = 'auto' | 'always' | 'never';

/** Below this many new records the normal path is cheap enough: no index is dropped for them. */
export const BULK_MIN_RECORDS = 10_000;

export interface BulkPlan {
  /** Organizations (our codes) whose records take the bulk path. */
  codes: Set<string>;
  /** Why, or why not, in one line for the operator. */
  reason: string;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * Which organizations take the bulk path. Only organizations without a single record in
 * pfa_mirror are candidates (their load is pure inserts: nothing to compare or merge). `auto`
 * takes them when they bring at least BULK_MIN_RECORDS records and the mirror holds no more
 * records than they bring (a new or near-empty mirror: building its indexes once costs less than
 * maintaining them row by row, and other organizations' reads are slow for a short while only).
 */
export function planBulk(
  mode: BulkMode,
  candidates: readonly { code: string; rows: number }[],
  mirrorCounts: ReadonlyMap<string, number>,
): BulkPlan {
  const none = (reason: string): BulkPlan => ({ codes: new Set(), reason });
  if (mode === 'never') return none('normal path for every organization (--no-bulk)');
  const empty = candidates.filter((c) => c.rows > 0 && (mirrorCounts.get(c.code) ?? 0) === 0);
  if (empty.length === 0) return none('normal path: every organization already has records here');
  const rows = empty.reduce((n, c) => n + c.rows, 0);
  let mirror = 0;
  for (const n of mirrorCounts.values()) mirror += n;
  const codes = new Set(empty.map((c) => c.code));
  const which = `${empty.length} organization${empty.length === 1 ? '' : 's'} without records here (${fmt(rows)} source rows)`;
  if (mode === 'always') return { codes, reason: `bulk path for ${which} (--bulk)` };
  if (rows < BULK_MIN_RECORDS)
    return none(`normal path: ${which}, fewer than ${fmt(BULK_MIN_RECORDS)} (--bulk forces the bulk path)`);
  if (mirror > rows)
    return none(
      `normal path: ${which}, but the mirror already holds ${fmt(mirror)} records, more than they bring (--bulk forces the bulk path)`,
    );
  return { codes, reason: `bulk path for ${which}; the mirror held ${fmt(mirror)} records` };
}

/** COPY text format: backslash, tab, newline and carriage return must be escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : value;
}

/** COPY lines of pfa_mirror (organization_id, pfa_id, data, pems_version, sync_batch_id). */
export function copyLines(organizationId: string, batchId: string, records: readonly StagedRecord[]): string {
  const org = copyText(organizationId);
  const batch = copyText(batchId);
  let text = '';
  for (const r of records)
    text += `${org}\t${copyText(r.pfaId)}\t${copyText(r.json)}\t${r.pemsVersion === null ? '\\N' : copyText(r.pemsVersion)}\t${batch}\n`;
  return text;
}

export interface BulkFinish {
  /** Time spent building the secondary indexes again. */
  indexesMs: number;
  /** Time of the KPI views' refresh after the load. */
  refreshMs: number;
}

export type BulkCopyOutcome =
  /** `kpiLogged`: false when the KPI log was left out (no cache row of the organization existed). */
  | { copied: number; kpiLogged: boolean }
  /** Another read of the organization holds its lock, or it has records by now: normal path. */
  | { skipped: string };

/**
 * One bulk load: a dedicated connection holding MIRROR_BULK_LOCK from the indexes' drop until
 * they are built again; each organization is COPYed in a transaction of its own, on a pooled
 * connection, so that several can be loaded at once.
 */
export class MirrorBulkLoad {
  private copied = 0;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly client: pg.PoolClient,
  ) {}

  /** Takes the lock and drops the indexes; null when another bulk load holds the lock (normal path then). */
  static async begin(pool: pg.Pool): Promise<MirrorBulkLoad | null> {
    const client = await pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
        [MIRROR_BULK_LOCK],
      );
      if (!rows[0]?.locked) {
        client.release();
        return null;
      }
    } catch (e) {
      client.release(e instanceof Error ? e : true);
      throw e;
    }
    const load = new MirrorBulkLoad(pool, client);
    try {
      await client.query('SET statement_timeout = 0');
      // Each DROP waits for the readers of the moment (ACCESS EXCLUSIVE) and is committed at once.
      for (const index of mirrorIndexes()) await client.query(`DROP INDEX IF EXISTS ${index.name}`);
    } catch (e) {
      await load.abort();
      throw e;
    }
    return load;
  }

  /**
   * One organization in one transaction on its own connection: its read lock (the one read sync
   * and the normal import path take), a check under that lock that it still has no records, the
   * COPY of its rows (COPY text lines, streamed), COMMIT. The versioning trigger sets version 1.
   * The transaction holds the refresh lock shared from before its checks until it ends: no
   * refresh runs meanwhile, and one that follows takes its snapshot after the COMMIT. When no KPI
   * cache row of the organization exists (none can appear before the COMMIT, then), the KPI log of
   * the new records is left out (`pfa.kpi_log` off: readers compute such an organization from its
   * records, and the refresh at the end of the load would have deleted the log) and the
   * organization's change sequence is bumped as the trigger would have; otherwise the trigger
   * logs each new record's state. On any error the transaction is rolled back — none of the
   * organization's rows stay — and the error is thrown.
   */
  async copyOrganization(organizationId: string, chunks: AsyncIterable<string>): Promise<BulkCopyOutcome> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    let locked = false;
    try {
      await client.query('SET statement_timeout = 0');
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
        [lockKey(organizationId)],
      );
      locked = rows[0]?.locked === true;
      if (!locked) return { skipped: 'another read of it is running' };
      await client.query('BEGIN');
      try {
        // Waits for a refresh that is running; refreshes wait for this transaction (their
        // function takes the lock first, in a statement of its own).
        await client.query('SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))', [REFRESH_LOCK]);
        // A statement after the lock: it sees what a refresh that ran before committed.
        const state = await client.query<{ present: boolean; cached: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM pfa_mirror WHERE organization_id = $1) AS present,
                  EXISTS (SELECT 1 FROM pfa_timeline_bounds WHERE organization_id = $1)
                  OR EXISTS (SELECT 1 FROM pfa_kpi_summary WHERE organization_id = $1) AS cached`,
          [organizationId],
        );
        if (state.rows[0]?.present) {
          await client.query('ROLLBACK');
          return { skipped: 'it received records meanwhile' };
        }
        const kpiLogged = state.rows[0]?.cached !== false;
        if (!kpiLogged) await client.query(`SET LOCAL pfa.kpi_log = 'off'`);
        const stream = client.query(
          copyFrom('COPY pfa_mirror (organization_id, pfa_id, data, pems_version, sync_batch_id) FROM STDIN'),
        );
        // highWaterMark 1: one rendered batch waits at most; pipeline() waits for 'drain'.
        await pipeline(Readable.from(chunks, { highWaterMark: 1 }), stream);
        if (!kpiLogged)
          // What the trigger does once per statement: bump the sequence when a counted record came.
          await client.query(
            `SELECT pfa_bump_org($1) WHERE EXISTS (
               SELECT 1 FROM pfa_mirror
               WHERE organization_id = $1 AND removed_from_pems_at IS NULL AND is_discontinued IS NOT TRUE)`,
            [organizationId],
          );
        await client.query('COMMIT');
        this.copied += stream.rowCount;
        return { copied: stream.rowCount, kpiLogged };
      } catch (error) {
        await client.query('ROLLBACK').catch((e: unknown) => {
          broken = e instanceof Error ? e : new Error(String(e));
        });
        throw error;
      }
    } finally {
      if (locked && !broken)
        await client
          .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(organizationId)])
          .catch((e: unknown) => {
            broken = e instanceof Error ? e : new Error(String(e));
          });
      await client.query('RESET statement_timeout').catch(() => undefined);
      client.release(broken); // a broken session ends, and its locks with it
    }
  }

  /**
   * Statistics and the KPI views' refresh (which takes the logged states of the new records into
   * the views and empties the log of them), then the indexes; then the lock goes.
   */
  async finish(onStep: (message: string) => void = () => undefined): Promise<BulkFinish> {
    const client = this.client;
    let refreshMs = 0;
    if (this.copied > 0) {
      onStep('bulk path: analyzing pfa_mirror and refreshing the KPI views');
      await client.query('ANALYZE pfa_mirror');
      const t = performance.now();
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [REFRESH_LOCK]);
        await client.query('SELECT refresh_pfa_materialized_views()');
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
      refreshMs = performance.now() - t;
    }
    const t = performance.now();
    const missing = await missingMirrorIndexes(client);
    let built = 0;
    onStep(`bulk path: building ${missing.length} indexes of pfa_mirror`);
    await buildMirrorIndexes(
      this.pool,
      missing,
      (name) => onStep(`bulk path: index ${name} built (${++built}/${missing.length})`),
      client,
    );
    const indexesMs = performance.now() - t;
    await this.close();
    return { indexesMs, refreshMs };
  }

  /** After a failure: the indexes built again (best effort), the lock freed. Committed organizations stay. */
  async abort(): Promise<void> {
    if (this.closed) return;
    try {
      await buildMirrorIndexes(this.pool, await missingMirrorIndexes(this.client), undefined, this.client);
    } catch {
      // The next import or `npm run migrate` builds them (ensureMirrorIndexes).
    }
    await this.close();
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let broken: Error | undefined;
    try {
      await this.client.query('RESET statement_timeout');
      await this.client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [MIRROR_BULK_LOCK]);
    } catch (e) {
      broken = e instanceof Error ? e : new Error(String(e)); // the session ends, and its locks with it
    }
    this.client.release(broken);
  }
}
