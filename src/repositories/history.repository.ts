import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.js';
import { badInput } from '../domain/errors.js';
import type { MergedRecord } from '../domain/merged-record.js';
import { RECORD_FIELDS } from '../domain/record-fields.js';
import {
  afterCondition,
  compileFilter,
  parsedKey,
  type Ordering,
  type RecordFilter,
} from './record-query.js';

const PARSED = RECORD_FIELDS.map((f) => sql`${parsedKey(sql`j.data`, f)} AS ${sql.ref(f.column)}`);

/**
 * The mirror in transaction time, as a derived table `r` with the columns of `mergedSource`: for
 * each record first seen at or before `asOf` and not removed by then, the version current at
 * `asOf` — the oldest history row superseded after `asOf`, else the mirror row itself. No pending
 * deltas and no drafts (`has_draft` false, `draft_id` null).
 */
export function asOfSource(organizationId: string, asOf: Date): RawBuilder<unknown> {
  const t = asOf.toISOString();
  return sql`(
    SELECT m.id, m.organization_id, m.pfa_id, coalesce(h.version, m.version) AS version,
           CASE WHEN h.version IS NULL THEN m.pems_version ELSE h.pems_version END AS pems_version,
           m.last_synced_at, NULL::timestamptz AS removed_from_pems_at,
           NULL::bigint AS draft_id, false AS has_draft, j.data,
           pfa_search_text(m.pfa_id, j.data) AS search_text, ${sql.join(PARSED)}
    FROM pfa_mirror m
    LEFT JOIN LATERAL (
      SELECT h.version, h.data, h.pems_version FROM pfa_mirror_history h
      WHERE h.organization_id = m.organization_id AND h.mirror_id = m.id AND h.superseded_at > ${t}::timestamptz
      ORDER BY h.version LIMIT 1) h ON true
    CROSS JOIN LATERAL (SELECT coalesce(h.data, m.data) AS data OFFSET 0) j
    WHERE m.organization_id = ${organizationId} AND m.first_seen_at <= ${t}::timestamptz
      AND (m.removed_from_pems_at IS NULL OR m.removed_from_pems_at > ${t}::timestamptz)) AS r`;
}

interface Row {
  id: string;
  organization_id: string;
  pfa_id: string;
  version: number;
  pems_version: string | null;
  last_synced_at: Date;
  data: Record<string, unknown>;
  [sortKey: `sk${number}`]: unknown;
}

const toRecord = (row: Row): MergedRecord => ({
  sessionId: null,
  id: String(row.id),
  organizationId: row.organization_id,
  pfaId: row.pfa_id,
  data: row.data,
  version: row.version,
  pemsVersion: row.pems_version,
  lastSyncedAt: row.last_synced_at,
  removedFromPemsAt: null,
  draftId: null,
});

/** As-of reads of the mirror (`asOf` on pfaRecord / pfaRecords). */
export class HistoryRepository {
  constructor(
    private readonly db: Db,
    /** HISTORY_RETENTION_DAYS: superseded versions older than this are deleted (0 keeps all). */
    private readonly retentionDays: number,
  ) {}

  /**
   * Checks T: not in the future, not before the retention horizon (then a version current at T
   * may have been deleted). The horizon is now − HISTORY_RETENTION_DAYS; with retention off, the
   * oldest kept history row's predecessor is unknown only before the first record was seen.
   */
  async checkAsOf(asOf: Date): Promise<void> {
    const now = Date.now();
    if (Number.isNaN(asOf.getTime())) throw badInput('asOf is not a valid DateTime', 'asOf');
    if (asOf.getTime() > now)
      throw badInput(`asOf ${asOf.toISOString()} is in the future; the latest is now`, 'asOf');
    if (this.retentionDays > 0) {
      const horizon = new Date(now - this.retentionDays * 86_400_000);
      if (asOf < horizon)
        throw badInput(
          `asOf ${asOf.toISOString()} is before the history retention horizon ${horizon.toISOString()} (HISTORY_RETENTION_DAYS=${this.retentionDays}); older versions are not kept`,
          'asOf',
        );
    }
  }

  async findPage(
    organizationId: string,
    asOf: Date,
    filter: RecordFilter | null,
    ordering: Ordering,
    first: number,
    after: readonly unknown[] | null,
  ): Promise<{ rows: { record: MergedRecord; sortValues: unknown[] }[]; hasNextPage: boolean }> {
    const where = [compileFilter(filter)];
    if (after) where.push(afterCondition(ordering, after));
    const sortColumns = ordering.keys.map((k, i) => sql`${k.expr} AS ${sql.ref(`sk${i}`)}`);
    const { rows } = await sql<Row>`
      SELECT r.id::text AS id, r.organization_id, r.pfa_id, r.version, r.pems_version, r.last_synced_at, r.data,
             ${sql.join(sortColumns)}
      FROM ${asOfSource(organizationId, asOf)}
      WHERE ${sql.join(where, sql` AND `)}
      ORDER BY ${ordering.orderBy}
      LIMIT ${first + 1}`.execute(this.db);
    return {
      rows: rows.slice(0, first).map((row) => ({
        record: toRecord(row),
        sortValues: ordering.keys.map((_, i) => normalise(row[`sk${i}`])),
      })),
      hasNextPage: rows.length > first,
    };
  }

  async count(organizationId: string, asOf: Date, filter: RecordFilter | null): Promise<number> {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${asOfSource(organizationId, asOf)} WHERE ${compileFilter(filter)}`.execute(
      this.db,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** One record as of T (discontinued or not), or null when it did not exist then. */
  async load(organizationId: string, asOf: Date, id: string): Promise<MergedRecord | null> {
    const { rows } = await sql<Row>`
      SELECT r.id::text AS id, r.organization_id, r.pfa_id, r.version, r.pems_version, r.last_synced_at, r.data
      FROM ${asOfSource(organizationId, asOf)} WHERE r.id = ${id}::bigint`.execute(this.db);
    return rows[0] ? toRecord(rows[0]) : null;
  }
}

function normalise(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
}
