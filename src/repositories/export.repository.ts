import { sql } from 'kysely';
import type pg from 'pg';
import type { Db } from '../db/database.js';
import type { ExportRecord } from '../domain/export-format.js';
import {
  compileFilter,
  mergedSource,
  type MergeScope,
  type Ordering,
  type RecordFilter,
} from './record-query.js';

/** Rows one FETCH returns: enough to amortise the round trip, small enough for constant memory. */
export const EXPORT_BATCH = 1000;

/** An open export: the first batch is already read (so a failing query fails before any byte). */
export interface ExportCursor {
  first: ExportRecord[];
  /** The next batch; empty when the export is complete. */
  next(): Promise<ExportRecord[]>;
  /** Ends the transaction and gives the connection back (discarded when `failed`). */
  close(failed?: unknown): Promise<void>;
}

type Raw = [string, string, string, number, string | null, Date, Date | null, Record<string, unknown>];

/**
 * The merged view (the same relation, filter and order as `pfaRecords`) streamed through a
 * server-side cursor: `DECLARE … NO SCROLL CURSOR` in a read-only transaction on a dedicated
 * connection, then `FETCH n` batches. Parameters stay bound (COPY could not take them), memory
 * stays at one batch, and PostgreSQL produces rows as they are fetched.
 */
export class ExportRepository {
  constructor(
    private readonly db: Db,
    private readonly pool: pg.Pool,
  ) {}

  async open(
    scope: MergeScope,
    filter: RecordFilter | null,
    ordering: Ordering,
    batch = EXPORT_BATCH,
  ): Promise<ExportCursor> {
    const query = sql`
      SELECT r.id::text, r.organization_id, r.pfa_id, r.version, r.pems_version, r.last_synced_at,
             r.removed_from_pems_at, r.data
      FROM ${mergedSource(scope)}
      WHERE ${compileFilter(filter)}
      ORDER BY ${ordering.orderBy}`.compile(this.db);
    const client = await this.pool.connect();
    let released = false;
    const release = (failed?: unknown) => {
      if (released) return;
      released = true;
      client.release(failed instanceof Error ? failed : failed ? new Error(String(failed)) : undefined);
    };
    const sessionId = scope.sessionId;
    const fetch = async (): Promise<ExportRecord[]> => {
      const res = await client.query<Raw>({ text: `FETCH ${batch} FROM pfa_export`, rowMode: 'array' });
      return res.rows.map((row) => ({
        id: row[0],
        organizationId: row[1],
        pfaId: row[2],
        version: row[3],
        pemsVersion: row[4],
        lastSyncedAt: row[5],
        removedFromPemsAt: row[6],
        sessionId,
        data: row[7],
      }));
    };
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`DECLARE pfa_export NO SCROLL CURSOR FOR ${query.sql}`, [...query.parameters]);
      const first = await fetch();
      return {
        first,
        next: fetch,
        async close(failed) {
          if (released) return;
          if (failed) return release(failed);
          try {
            await client.query('COMMIT');
            release();
          } catch (e) {
            release(e);
          }
        },
      };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      release(e);
      throw e;
    }
  }
}
