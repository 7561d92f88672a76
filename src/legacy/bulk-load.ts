/**
 * The legacy import's bulk path: the first load of organizations that have no records here yet,
 * done the way the seed loads a database (src/db/seed.ts) instead of row by row through the
 * read sync's merge.
 *
 * 1. Under the session-level advisory lock MIRROR_BULK_LOCK, pfa_mirror's secondary indexes
 *    (src/db/mirror-indexes.ts) are dropped (committed at once: each DROP is its own statement).
 * 2. ONE transaction then takes `SHARE ROW EXCLUSIVE` on pfa_mirror (other writers wait; readers
 *    do not), disables the row trigger pfa_mirror_versioning (on INSERT it only sets version 1,
 *    the column's default) and the KPI log trigger pfa_mirror_kpi_ins, and COPYs each
 *    organization's converted rows straight into pfa_mirror, streamed from the source (a
 *    savepoint per organization: one PostgreSQL refuses goes back to the normal path). Before
 *    COMMIT it analyzes the table, refreshes the KPI views (what the skipped log would have
 *    told them; the refresh holds the refresh lock as every refresh does) and enables both
 *    triggers again. Trigger states are catalog rows changed inside that transaction: no other
 *    session ever sees them disabled, and a crash (or kill -9) rolls all of it back.
 * 3. After COMMIT the indexes are built again (two connections side by side), then the lock is
 *    released.
 *
 * A process that dies between 1 and 3 leaves the indexes missing (and, if it died before COMMIT,
 * no record of the load): the next `npm run migrate` or import finds them missing while nobody
 * holds MIRROR_BULK_LOCK and builds them (ensureMirrorIndexes); an import that takes the bulk path
 * again drops and builds them anyway. Until then reads stay correct, only slower.
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
  /** Time of the KPI views' refresh inside the load transaction. */
  refreshMs: number;
}

/** One bulk load: a dedicated connection holding MIRROR_BULK_LOCK and the load transaction. */
export class MirrorBulkLoad {
  private readonly orgLocks: string[] = [];
  private copied = 0;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly client: pg.PoolClient,
  ) {}

  /**
   * Drops the indexes and opens the load transaction; null when another bulk load holds the lock
   * (the caller then takes the normal path).
   */
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
      await client.query('BEGIN');
      await client.query('LOCK TABLE pfa_mirror IN SHARE ROW EXCLUSIVE MODE');
      await client.query(
        'ALTER TABLE pfa_mirror DISABLE TRIGGER pfa_mirror_kpi_ins, DISABLE TRIGGER pfa_mirror_versioning',
      );
    } catch (e) {
      await load.abort();
      throw e;
    }
    return load;
  }

  /**
   * Takes the organization's read lock (the one read sync and the normal import path take) and
   * checks, under it, that the organization still has no records. False: leave it to the normal path.
   */
  async claim(organizationId: string): Promise<boolean> {
    const { rows } = await this.client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
      [lockKey(organizationId)],
    );
    if (!rows[0]?.locked) return false;
    const present = await this.client.query<{ present: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM pfa_mirror WHERE organization_id = $1) AS present',
      [organizationId],
    );
    if (present.rows[0]?.present) {
      await this.unlockOrg(organizationId);
      return false;
    }
    this.orgLocks.push(organizationId);
    return true;
  }

  /**
   * COPYs one organization's rows (COPY text lines, streamed) under a savepoint; on any error the
   * organization's rows are rolled back and the error is thrown (the load transaction stays usable).
   */
  async copy(chunks: AsyncIterable<string>): Promise<number> {
    const client = this.client;
    await client.query('SAVEPOINT bulk_organization');
    try {
      const stream = client.query(
        copyFrom('COPY pfa_mirror (organization_id, pfa_id, data, pems_version, sync_batch_id) FROM STDIN'),
      );
      // highWaterMark 1: one rendered batch waits at most; pipeline() waits for 'drain'.
      await pipeline(Readable.from(chunks, { highWaterMark: 1 }), stream);
      await client.query('RELEASE SAVEPOINT bulk_organization');
      this.copied += stream.rowCount;
      return stream.rowCount;
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT bulk_organization');
      throw error;
    }
  }

  /**
   * Statistics, the KPI views' refresh and the triggers back, COMMIT; then the organizations' read
   * locks go, the indexes are built and the bulk lock goes.
   */
  async finish(onStep: (message: string) => void = () => undefined): Promise<BulkFinish> {
    const client = this.client;
    let refreshMs = 0;
    if (this.copied > 0) {
      onStep('bulk path: analyzing pfa_mirror and refreshing the KPI views');
      await client.query('ANALYZE pfa_mirror');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [REFRESH_LOCK]);
      const t = performance.now();
      await client.query('SELECT refresh_pfa_materialized_views()');
      refreshMs = performance.now() - t;
    }
    await client.query(
      'ALTER TABLE pfa_mirror ENABLE TRIGGER pfa_mirror_kpi_ins, ENABLE TRIGGER pfa_mirror_versioning',
    );
    await client.query('COMMIT');
    for (const org of this.orgLocks.splice(0)) await this.unlockOrg(org);
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

  /** After a failure: roll back, build the indexes again (best effort), free the locks. */
  async abort(): Promise<void> {
    if (this.closed) return;
    const client = this.client;
    await client.query('ROLLBACK').catch(() => undefined);
    for (const org of this.orgLocks.splice(0)) await this.unlockOrg(org).catch(() => undefined);
    try {
      await buildMirrorIndexes(this.pool, await missingMirrorIndexes(client), undefined, client);
    } catch {
      // The next import or `npm run migrate` builds them (ensureMirrorIndexes).
    }
    await this.close();
  }

  private async unlockOrg(organizationId: string): Promise<void> {
    await this.client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(organizationId)]);
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
