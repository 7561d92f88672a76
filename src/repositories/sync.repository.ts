import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from '../db/database.js';

/**
 * SQL of the read path PEMS → mirror (and of the legacy import, which takes the same path) and
 * of pfa_sync_log. Records are staged with COPY into a temporary table on one dedicated
 * connection, then merged into pfa_mirror by one set-based statement per batch that writes only
 * rows whose data (or PEMS version, or removal mark) actually changed: the versioning trigger
 * then bumps the version and keeps history for exactly those.
 */

export interface StagedRecord {
  pfaId: string;
  /** The record's data as JSON text (already validated: an object PostgreSQL's jsonb accepts). */
  json: string;
  /** PEMS recordid; null when unknown (legacy import). */
  pemsVersion: string | null;
}

export interface MergeCounts {
  inserted: number;
  /** Existing records rewritten (data, PEMS version or a removal mark changed). */
  updated: number;
  /** Of `updated`, those whose data changed (a new version with history). */
  dataChanged: number;
  unchanged: number;
}

export const ZERO_COUNTS: Readonly<MergeCounts> = Object.freeze({
  inserted: 0,
  updated: 0,
  dataChanged: 0,
  unchanged: 0,
});

/**
 * What loading one batch did. `deferred`: records of a PEMS read the batch did not write although
 * they differ, because their mirror row was written after the page was requested (a write-back,
 * a conflict's re-read, another read): what the mirror holds may be newer than the page, so it is
 * left alone and the caller reads those records again (see `StagingSession.load`).
 */
export interface LoadResult extends MergeCounts {
  deferred: string[];
}

export function addCounts(a: MergeCounts, b: MergeCounts): MergeCounts {
  return {
    inserted: a.inserted + b.inserted,
    updated: a.updated + b.updated,
    dataChanged: a.dataChanged + b.dataChanged,
    unchanged: a.unchanged + b.unchanged,
  };
}

/**
 * `pems`: PEMS is the truth — data and recordid replace the mirror's, a removal mark is cleared.
 * `import`: the legacy system's fields are laid over the mirror's data (keys it does not know,
 * e.g. unknown PEMS fields, survive); PEMS version and removal marks are left alone.
 */
export type MergeKind = 'pems' | 'import';

export interface StagingOptions {
  organizationId: string;
  /** Written to pfa_mirror.sync_batch_id of every row this run writes. */
  batchId: string;
  kind: MergeKind;
  /**
   * Take the organization's read lock (one read or import of an organization at a time, across
   * processes). A run's extra loaders share the lock of its first session and pass false.
   */
  lock: boolean;
}

export interface LastReadRun {
  /** Watermark of the latest successful read (the next incremental read starts there). */
  watermark: string | null;
  /** When the latest successful full read started. */
  lastFullAt: Date | null;
}

export interface RunTotals {
  status: 'succeeded' | 'partial' | 'failed';
  inserted?: number;
  updated?: number;
  unchanged?: number;
  rejected?: number;
  removed?: number;
  synced?: number;
  conflicted?: number;
  failed?: number;
  watermark?: string | null;
  errors?: unknown[];
  message?: string | null;
}

/** COPY text format: backslash, tab, newline and carriage return must be escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : value;
}

const STAGING = 'pfa_sync_staging';
const SEEN = 'pfa_sync_seen';

/**
 * The merge of one staged batch. `cmp` looks every staged row up once through the unique
 * (organization_id, pfa_id) index and decides insert / update / nothing; the UPDATE repeats the
 * change test on the target row so that a row changed concurrently (write-back) is re-checked.
 */
const MERGE_PEMS = `
  WITH cmp AS MATERIALIZED (
    SELECT s.pfa_id, s.data, s.pems_version, m.id AS mirror_id,
           m.data IS DISTINCT FROM s.data AS data_changed,
           m.data IS DISTINCT FROM s.data OR m.pems_version IS DISTINCT FROM s.pems_version
             OR m.removed_from_pems_at IS NOT NULL AS needs_write
    FROM ${STAGING} s
    LEFT JOIN pfa_mirror m ON m.organization_id = $1 AND m.pfa_id = s.pfa_id
  ), ins AS (
    INSERT INTO pfa_mirror (organization_id, pfa_id, data, pems_version, last_synced_at, sync_batch_id)
    SELECT $1, c.pfa_id, c.data, c.pems_version, now(), $2 FROM cmp c WHERE c.mirror_id IS NULL
    ON CONFLICT (organization_id, pfa_id) DO NOTHING
    RETURNING 1
  ), upd AS (
    UPDATE pfa_mirror m
    SET data = c.data, pems_version = c.pems_version, last_synced_at = now(), sync_batch_id = $2,
        removed_from_pems_at = NULL
    FROM cmp c
    WHERE c.needs_write AND m.organization_id = $1 AND m.id = c.mirror_id
      AND (m.data IS DISTINCT FROM c.data OR m.pems_version IS DISTINCT FROM c.pems_version
           OR m.removed_from_pems_at IS NOT NULL)
      -- Never a page older than the mirror row: a row written since the page was requested ($3:
      -- a write-back's new data, re-checked here on the row version a concurrent writer left)
      -- may hold a later PEMS state than the page. It is left alone and read again (deferred).
      AND ($3::timestamptz IS NULL OR m.last_synced_at < $3::timestamptz)
    RETURNING c.pfa_id, c.data_changed
  )
  SELECT (SELECT count(*) FROM cmp)::int AS total,
         (SELECT count(*) FROM ins)::int AS inserted,
         (SELECT count(*) FROM upd)::int AS updated,
         (SELECT count(*) FROM upd WHERE data_changed)::int AS data_changed,
         ARRAY(SELECT c.pfa_id FROM cmp c
               WHERE c.needs_write AND c.mirror_id IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM upd u WHERE u.pfa_id = c.pfa_id)) AS deferred`;

/**
 * One writer per record (DOMAIN §3): the rows this batch will change are locked first, in id
 * order, as commits and write-back lock them, so a read sync never deadlocks with them.
 */
const LOCK_CHANGING = `
  SELECT m.id FROM ${STAGING} s
  JOIN pfa_mirror m ON m.organization_id = $1 AND m.pfa_id = s.pfa_id
  WHERE m.data IS DISTINCT FROM s.data OR m.pems_version IS DISTINCT FROM s.pems_version
     OR m.removed_from_pems_at IS NOT NULL
  ORDER BY m.id
  FOR UPDATE OF m`;

const MERGE_IMPORT = `
  WITH cmp AS MATERIALIZED (
    SELECT s.pfa_id, s.data, s.pems_version, m.id AS mirror_id,
           (m.data || s.data) IS DISTINCT FROM m.data AS data_changed
    FROM ${STAGING} s
    LEFT JOIN pfa_mirror m ON m.organization_id = $1 AND m.pfa_id = s.pfa_id
  ), ins AS (
    INSERT INTO pfa_mirror (organization_id, pfa_id, data, pems_version, sync_batch_id)
    SELECT $1, c.pfa_id, c.data, c.pems_version, $2 FROM cmp c WHERE c.mirror_id IS NULL
    ON CONFLICT (organization_id, pfa_id) DO NOTHING
    RETURNING 1
  ), upd AS (
    UPDATE pfa_mirror m
    SET data = m.data || c.data, pems_version = coalesce(m.pems_version, c.pems_version), sync_batch_id = $2
    FROM cmp c
    WHERE c.data_changed AND m.organization_id = $1 AND m.id = c.mirror_id
      AND (m.data || c.data) IS DISTINCT FROM m.data
    RETURNING c.data_changed
  )
  SELECT (SELECT count(*) FROM cmp)::int AS total,
         (SELECT count(*) FROM ins)::int AS inserted,
         (SELECT count(*) FROM upd)::int AS updated,
         (SELECT count(*) FROM upd)::int AS data_changed`;

/**
 * One run's staging area: a dedicated connection holding the run's advisory lock (one read of
 * an organization at a time, across every process) and its temporary tables.
 */
export class StagingSession {
  private released = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly options: StagingOptions,
  ) {}

  /**
   * COPYs the records into staging and merges them, in one transaction: all or nothing.
   * `requestedAt` (a PEMS read: the database clock just before the page was requested) keeps a
   * page from overwriting a mirror row written after that moment — by a write-back that PEMS
   * applied after it served the page, typically: those records come back in `deferred`.
   */
  async load(records: readonly StagedRecord[], requestedAt: Date | null = null): Promise<LoadResult> {
    if (records.length === 0) return { ...ZERO_COUNTS, deferred: [] };
    const client = this.client;
    await client.query('BEGIN');
    try {
      await pipeline(
        Readable.from(copyChunks(records)),
        client.query(copyFrom(`COPY ${STAGING} (pfa_id, data, pems_version) FROM STDIN`)),
      );
      // The staging table has no statistics (the planner guesses ~70k rows) and then hashes the
      // organization's whole mirror per batch (and JIT-compiles it). A batch is a few thousand
      // rows: one unique-index probe each is the plan that stays fast at any mirror size.
      await client.query(
        'SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off',
      );
      if (this.options.kind === 'pems') await client.query(LOCK_CHANGING, [this.options.organizationId]);
      const { rows } = await client.query<{
        total: number;
        inserted: number;
        updated: number;
        data_changed: number;
        deferred?: string[];
      }>(
        this.options.kind === 'pems' ? MERGE_PEMS : MERGE_IMPORT,
        this.options.kind === 'pems'
          ? [this.options.organizationId, this.options.batchId, requestedAt]
          : [this.options.organizationId, this.options.batchId],
      );
      await client.query('COMMIT'); // ON COMMIT DELETE ROWS empties the staging table
      const r = rows[0] ?? { total: 0, inserted: 0, updated: 0, data_changed: 0 };
      const deferred = r.deferred ?? [];
      return {
        inserted: r.inserted,
        updated: r.updated,
        dataChanged: r.data_changed,
        unchanged: r.total - r.inserted - r.updated - deferred.length,
        deferred,
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /**
   * End of a full read: records of the organization that PEMS did not send (`seen` holds every
   * pfaId it sent, quarantined rows included) are marked removed — soft: their data, drafts and
   * history stay. Returns how many were newly marked.
   */
  async markRemoved(seen: Iterable<string>): Promise<number> {
    const client = this.client;
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${SEEN} (pfa_id text NOT NULL)`);
    await client.query(`TRUNCATE ${SEEN}`);
    await pipeline(Readable.from(idChunks(seen)), client.query(copyFrom(`COPY ${SEEN} (pfa_id) FROM STDIN`)));
    await client.query(`ANALYZE ${SEEN}`);
    // Hash anti-join: one pass over the organization's records against the seen set.
    const result = await client.query(
      `UPDATE pfa_mirror m SET removed_from_pems_at = now(), sync_batch_id = $2
       WHERE m.organization_id = $1 AND m.removed_from_pems_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM ${SEEN} s WHERE s.pfa_id = m.pfa_id)`,
      [this.options.organizationId, this.options.batchId],
    );
    return result.rowCount ?? 0;
  }

  /** Drops the temporary tables, frees the lock and gives the connection back. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    let broken: Error | undefined;
    try {
      await this.client.query('DISCARD TEMP');
      await this.client.query('RESET statement_timeout');
      if (this.options.lock)
        await this.client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
          lockKey(this.options.organizationId),
        ]);
    } catch (e) {
      broken = e instanceof Error ? e : new Error(String(e)); // the connection is unusable: let the pool drop it
    }
    this.client.release(broken);
  }
}

function* idChunks(ids: Iterable<string>): Generator<string> {
  let chunk = '';
  for (const id of ids) {
    chunk += `${copyText(id)}\n`;
    if (chunk.length > 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

function* copyChunks(records: readonly StagedRecord[]): Generator<string> {
  let chunk = '';
  for (const r of records) {
    chunk += `${copyText(r.pfaId)}\t${copyText(r.json)}\t${r.pemsVersion === null ? '\\N' : copyText(r.pemsVersion)}\n`;
    if (chunk.length > 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Advisory lock name of reads into one organization (read sync and import share it), hashed in SQL. */
export function lockKey(organizationId: string): string {
  return `pfa:read:${organizationId}`;
}

export class SyncRepository {
  constructor(
    private readonly db: Db,
    private readonly pool: pg.Pool,
  ) {}

  /** The database's clock now (the clock every `now()` of the mirror's writers reads). */
  async clock(): Promise<Date> {
    const { rows } = await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(this.db);
    return rows[0]?.now as Date;
  }

  async ensureOrganization(id: string, name: string = id): Promise<void> {
    await this.db
      .insertInto('organization')
      .values({ id, name })
      .onConflict((c) => c.column('id').doNothing())
      .execute();
  }

  async lastReadRun(organizationId: string): Promise<LastReadRun> {
    const { rows } = await sql<{ watermark: string | null; last_full_at: Date | null }>`
      SELECT (SELECT watermark FROM pfa_sync_log
              WHERE organization_id = ${organizationId} AND direction = 'read'
                AND status IN ('succeeded', 'partial') AND watermark IS NOT NULL
              ORDER BY started_at DESC, id DESC LIMIT 1) AS watermark,
             (SELECT max(started_at) FROM pfa_sync_log
              WHERE organization_id = ${organizationId} AND direction = 'read' AND mode = 'full'
                AND status IN ('succeeded', 'partial')) AS last_full_at`.execute(this.db);
    return { watermark: rows[0]?.watermark ?? null, lastFullAt: rows[0]?.last_full_at ?? null };
  }

  /**
   * A dedicated connection for staging (with the organization's read lock when asked), or null
   * when another read of the same organization holds that lock.
   */
  async openStaging(options: StagingOptions): Promise<StagingSession | null> {
    const client = await this.pool.connect();
    try {
      if (options.lock) {
        const { rows } = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
          [lockKey(options.organizationId)],
        );
        if (!rows[0]?.locked) {
          client.release();
          return null;
        }
      }
      // Batches are small, but a full read's last step scans a whole organization.
      await client.query(`SET statement_timeout = '10min'`);
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (pfa_id text NOT NULL, data jsonb NOT NULL, pems_version text)
         ON COMMIT DELETE ROWS`,
      );
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw error;
    }
    return new StagingSession(client, options);
  }

  async startRun(
    organizationId: string,
    direction: 'read' | 'write',
    mode: string,
    jobId: string | null,
  ): Promise<string> {
    const row = await this.db
      .insertInto('pfa_sync_log')
      .values({ organization_id: organizationId, direction, mode, job_id: jobId })
      .returning('id')
      .executeTakeFirstOrThrow();
    return String(row.id);
  }

  async finishRun(organizationId: string, runId: string, totals: RunTotals): Promise<void> {
    await sql`
      UPDATE pfa_sync_log SET
        status = ${totals.status}, finished_at = clock_timestamp(),
        duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::int,
        inserted = ${totals.inserted ?? 0}, updated = ${totals.updated ?? 0}, unchanged = ${totals.unchanged ?? 0},
        rejected = ${totals.rejected ?? 0}, removed = ${totals.removed ?? 0}, synced = ${totals.synced ?? 0},
        conflicted = ${totals.conflicted ?? 0}, failed = ${totals.failed ?? 0},
        watermark = ${totals.watermark ?? null}, errors = ${JSON.stringify(totals.errors ?? [])}::jsonb,
        message = ${totals.message ?? null}
      WHERE organization_id = ${organizationId} AND id = ${runId}::bigint`.execute(this.db);
  }

  /** Mirror records per organization (import reports). */
  async countRecords(organizationIds: readonly string[]): Promise<Map<string, number>> {
    if (organizationIds.length === 0) return new Map();
    const { rows } = await sql<{ organization_id: string; n: number }>`
      SELECT organization_id, count(*)::int AS n FROM pfa_mirror
      WHERE organization_id = ANY(${organizationIds}::text[]) GROUP BY organization_id`.execute(this.db);
    return new Map(rows.map((r) => [r.organization_id, r.n]));
  }
}
