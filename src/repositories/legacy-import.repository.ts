import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from '../db/database.js';
import type { JsonObject, SyncState } from '../db/tables.js';
import type { StagedRecord } from './sync.repository.js';

/**
 * SQL of the legacy import beyond the records themselves (those take the read sync's staging
 * path, SyncRepository with kind 'import'): organizations with their names, the dry run's
 * comparison, and the predecessor's pending work as our modifications, remembered in
 * pfa_legacy_import so that a second run creates nothing twice.
 */

export interface MirrorRow {
  id: string;
  version: number;
  pemsVersion: string | null;
  data: JsonObject;
}

/** One source modification ready to store. */
export interface PendingWorkRow {
  legacyId: string;
  mirrorId: string;
  sessionId: string;
  userId: string;
  state: Extract<SyncState, 'draft' | 'committed' | 'conflict'>;
  delta: JsonObject;
  baseValues: JsonObject;
  baseVersion: number;
  basePemsVersion: string | null;
  currentVersion: number;
  conflicts: unknown[] | null;
  changeReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Set for committed changes and for conflicts found at or after commit. */
  committedAt: Date | null;
  lastError: string | null;
}

export interface PendingWorkResult {
  /** Stored, per state. */
  stored: Record<PendingWorkRow['state'], number>;
  /** Not stored: the session already had an open modification of that record (legacy ids). */
  duplicateOpen: string[];
}

/** COPY text format escaping. */
function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

const DRY = 'pfa_legacy_dry_run';

export class LegacyImportRepository {
  constructor(
    private readonly db: Db,
    private readonly pool: pg.Pool,
  ) {}

  /** Creates the organization, or gives an existing one the source's name. */
  async upsertOrganization(id: string, name: string): Promise<void> {
    await sql`
      INSERT INTO organization (id, name) VALUES (${id}, ${name})
      ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name WHERE organization.name IS DISTINCT FROM EXCLUDED.name`.execute(
      this.db,
    );
  }

  async existingOrganizations(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await sql<{ id: string }>`
      SELECT id FROM organization WHERE id = ANY(${ids as string[]}::text[])`.execute(this.db);
    return new Set(rows.map((r) => r.id));
  }

  /** Records per organization in pfa_mirror, every organization (the bulk path's rule). */
  async mirrorCounts(): Promise<Map<string, number>> {
    const { rows } = await sql<{ organization_id: string; n: number }>`
      SELECT organization_id, count(*)::int AS n FROM pfa_mirror GROUP BY organization_id`.execute(this.db);
    return new Map(rows.map((r) => [r.organization_id, r.n]));
  }

  /** Legacy modification ids already imported into the organization. */
  async importedLegacyIds(organizationId: string): Promise<Set<string>> {
    const { rows } = await sql<{ legacy_id: string }>`
      SELECT legacy_id FROM pfa_legacy_import WHERE organization_id = ${organizationId}`.execute(this.db);
    return new Set(rows.map((r) => r.legacy_id));
  }

  /** The organization's mirror rows of these pfaIds. */
  async mirrorRows(organizationId: string, pfaIds: readonly string[]): Promise<Map<string, MirrorRow>> {
    if (pfaIds.length === 0) return new Map();
    const { rows } = await sql<{
      id: string;
      pfa_id: string;
      version: number;
      pems_version: string | null;
      data: JsonObject;
    }>`
      SELECT id, pfa_id, version, pems_version, data FROM pfa_mirror
      WHERE organization_id = ${organizationId} AND pfa_id = ANY(${pfaIds as string[]}::text[])`.execute(
      this.db,
    );
    return new Map(
      rows.map((r) => [
        r.pfa_id,
        { id: String(r.id), version: r.version, pemsVersion: r.pems_version, data: r.data },
      ]),
    );
  }

  /**
   * Stores an organization's imported pending work in ONE transaction: the sessions (owned by
   * the change's user), the modifications with their who/when, the audit events and the
   * pfa_legacy_import rows. A draft or conflict whose session already has an open modification
   * of the record is left out and named.
   */
  async insertPendingWork(
    organizationId: string,
    source: string,
    rows: readonly PendingWorkRow[],
  ): Promise<PendingWorkResult> {
    const result: PendingWorkResult = { stored: { draft: 0, committed: 0, conflict: 0 }, duplicateOpen: [] };
    if (rows.length === 0) return result;
    await this.db.transaction().execute(async (tx) => {
      const sessions = new Map<string, { owner: string; createdAt: Date }>();
      for (const r of rows) {
        const s = sessions.get(r.sessionId);
        if (!s || r.createdAt < s.createdAt)
          sessions.set(r.sessionId, { owner: r.userId, createdAt: r.createdAt });
      }
      await sql`
        INSERT INTO pfa_session (organization_id, id, owner_user_id, created_at, last_used_at)
        SELECT ${organizationId}, s.id, s.owner, s.created_at, s.created_at
        FROM jsonb_to_recordset(${JSON.stringify(
          [...sessions].map(([id, s]) => ({ id, owner: s.owner, created_at: s.createdAt.toISOString() })),
        )}::jsonb) AS s(id text, owner text, created_at timestamptz)
        ON CONFLICT (organization_id, id) DO NOTHING`.execute(tx);

      // Ids first, so that each stored row is known by its legacy id without a second lookup.
      const { rows: ids } = await sql<{ id: string }>`
        SELECT nextval(pg_get_serial_sequence('pfa_modification', 'id'))::text AS id
        FROM generate_series(1, ${rows.length}::int)`.execute(tx);
      const payload = rows.map((r, i) => ({
        id: ids[i]?.id,
        legacy_id: r.legacyId,
        mirror_id: r.mirrorId,
        session_id: r.sessionId,
        user_id: r.userId,
        delta: r.delta,
        modified_fields: Object.keys(r.delta),
        base_values: r.baseValues,
        base_version: r.baseVersion,
        base_pems_version: r.basePemsVersion,
        current_version: r.currentVersion,
        sync_state: r.state,
        conflicts: r.conflicts,
        change_reason: r.changeReason,
        created_at: r.createdAt.toISOString(),
        updated_at: r.updatedAt.toISOString(),
        committed_at: r.committedAt?.toISOString() ?? null,
        committed_by: r.committedAt === null ? null : r.userId,
        last_error: r.lastError,
      }));
      const { rows: stored } = await sql<{
        id: string;
        legacy_id: string;
        sync_state: PendingWorkRow['state'];
      }>`
        WITH src AS (
          SELECT * FROM jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) AS s(
            id bigint, legacy_id text, mirror_id bigint, session_id text, user_id text, delta jsonb,
            modified_fields text[], base_values jsonb, base_version int, base_pems_version text, current_version int,
            sync_state pfa_sync_state, conflicts jsonb, change_reason text, created_at timestamptz,
            updated_at timestamptz, committed_at timestamptz, committed_by text, last_error text)
        ), ins AS (
          INSERT INTO pfa_modification (id, organization_id, mirror_id, session_id, user_id, delta, modified_fields,
            base_values, base_version, base_pems_version, current_version, sync_state, conflicts, change_reason,
            created_at, updated_at, committed_at, committed_by, commit_xid, last_error)
          SELECT id, ${organizationId}, mirror_id, session_id, user_id, delta, modified_fields, base_values, base_version,
            base_pems_version, current_version, sync_state, conflicts, change_reason, created_at, updated_at,
            committed_at, committed_by, NULL, last_error
          FROM src ORDER BY id
          ON CONFLICT (organization_id, mirror_id, session_id) WHERE sync_state IN ('draft', 'conflict') DO NOTHING
          RETURNING id
        ), events AS (
          INSERT INTO pfa_modification_event (organization_id, modification_id, mirror_id, session_id, user_id, action,
            reason, old_delta, new_delta, from_state, to_state)
          SELECT ${organizationId}, s.id, s.mirror_id, s.session_id, s.user_id, 'legacy-import',
            'imported from the previous application (' || ${source} || '), its modification ' || s.legacy_id,
            NULL, s.delta, NULL, s.sync_state
          FROM src s JOIN ins USING (id)
        ), map AS (
          INSERT INTO pfa_legacy_import (organization_id, legacy_id, modification_id, sync_state, source)
          SELECT ${organizationId}, s.legacy_id, s.id, s.sync_state, ${source}
          FROM src s JOIN ins USING (id)
        )
        SELECT s.id::text, s.legacy_id, s.sync_state FROM src s JOIN ins USING (id)`.execute(tx);
      const storedIds = new Set(stored.map((r) => r.legacy_id));
      for (const r of stored) result.stored[r.sync_state] += 1;
      for (const r of rows) if (!storedIds.has(r.legacyId)) result.duplicateOpen.push(r.legacyId);
    });
    return result;
  }

  /** A connection for the dry run's comparisons: its own temporary table, nothing committed. */
  async openDryRun(organizationId: string): Promise<DryRunComparer> {
    const client = await this.pool.connect();
    try {
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS ${DRY} (pfa_id text NOT NULL, data jsonb NOT NULL, pems_version text)`,
      );
    } catch (e) {
      client.release(e instanceof Error ? e : true);
      throw e;
    }
    return new DryRunComparer(client, organizationId);
  }
}

/**
 * What the import's merge would do with a batch (the same test as the read sync's import
 * merge: a record is changed when laying the legacy fields over its data changes it), inside a
 * transaction that is rolled back.
 */
export class DryRunComparer {
  constructor(
    private readonly client: pg.PoolClient,
    private readonly organizationId: string,
  ) {}

  async compare(
    records: readonly StagedRecord[],
  ): Promise<{ inserted: number; updated: number; unchanged: number }> {
    if (records.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    await this.client.query('BEGIN');
    try {
      await pipeline(
        Readable.from(
          (function* () {
            let chunk = '';
            for (const r of records) {
              chunk += `${copyText(r.pfaId)}\t${copyText(r.json)}\t${r.pemsVersion === null ? '\\N' : copyText(r.pemsVersion)}\n`;
              if (chunk.length > 1 << 20) {
                yield chunk;
                chunk = '';
              }
            }
            if (chunk) yield chunk;
          })(),
        ),
        this.client.query(copyFrom(`COPY ${DRY} (pfa_id, data, pems_version) FROM STDIN`)),
      );
      // No statistics on the temporary table: without these the planner guesses big, hashes the
      // organization's mirror and JIT-compiles the query, per batch (as the staging merge would).
      await this.client.query(
        'SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off',
      );
      const { rows } = await this.client.query<{ inserted: number; updated: number; unchanged: number }>(
        // The merge's change test, computed once per row (not once per count).
        `SELECT count(*) FILTER (WHERE c.changed IS NULL)::int AS inserted,
                count(*) FILTER (WHERE c.changed)::int AS updated,
                count(*) FILTER (WHERE NOT c.changed)::int AS unchanged
         FROM (SELECT CASE WHEN m.id IS NOT NULL THEN (m.data || s.data) IS DISTINCT FROM m.data END AS changed
               FROM ${DRY} s LEFT JOIN pfa_mirror m ON m.organization_id = $1 AND m.pfa_id = s.pfa_id) c`,
        [this.organizationId],
      );
      return rows[0] ?? { inserted: 0, updated: 0, unchanged: 0 };
    } finally {
      await this.client.query('ROLLBACK').catch(() => undefined);
    }
  }

  async release(): Promise<void> {
    let broken: Error | undefined;
    try {
      await this.client.query('DISCARD TEMP');
    } catch (e) {
      broken = e instanceof Error ? e : new Error(String(e));
    }
    this.client.release(broken);
  }
}
