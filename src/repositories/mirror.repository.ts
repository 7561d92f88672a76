import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.js';
import { PREPARED_READ, PREPARED_READ_CUSTOM_PLAN } from '../db/read-timeout.js';
import type { MergedRecord } from '../domain/merged-record.js';
import { RECORD_FIELDS } from '../domain/record-fields.js';
import { valuesFromColumns } from '../domain/record-values.js';
import { precompiled } from '../db/precompiled.js';
import { coveringIndexPage, genericPlanSafe } from './page-plan.js';
import { recordJson, type ProjectedField } from './record-json.js';
import {
  afterCondition,
  compileFilter,
  mergedBranches,
  mergedSource,
  planOrdering,
  untouchedById,
  type MergeScope,
  type OrderKey,
  type Ordering,
  type RecordFilter,
} from './record-query.js';

export interface HistoryRow {
  mirrorId: string;
  version: number;
  data: Record<string, unknown>;
  pemsVersion: string | null;
  supersededAt: Date;
}

export interface PageRequest {
  filter?: RecordFilter | null;
  orderBy: OrderKey[];
  first: number;
  /** Decoded cursor values (one per ordering key), or null for the first page. */
  after: readonly unknown[] | null;
  /**
   * Read the merged JSON document (`data`) as well? Without it (false) the records carry the
   * typed columns of the merged relation instead, which is all every field but `data` needs: no
   * document to serialise, send and parse per row. Default true.
   */
  withData?: boolean;
  /**
   * Write the untouched records of the page as JSON objects of these fields instead
   * (record-json.ts): their rows then carry `json` and no record. Records with a modification
   * still come as records. Implies `withData: false`.
   */
  project?: { fields: readonly ProjectedField[]; viewKey: string } | null;
}

export type PageRow = (
  | { record: MergedRecord; json?: undefined }
  /** A record of a projected page as its JSON object text (record-json.ts). */
  | { record?: undefined; json: string; id: string }
) & {
  /** Values of the ordering keys, for the cursor. */
  sortValues: unknown[];
};

interface MergedRow {
  id: string;
  organization_id: string;
  pfa_id: string;
  version: number;
  pems_version: string | null;
  last_synced_at: Date;
  removed_from_pems_at: Date | null;
  draft_id: string | null;
  /** Null (or absent) when the read took the typed columns (aliased to the record keys) instead. */
  data?: Record<string, unknown> | null;
  /** A projected page's JSON text of an untouched record. */
  node_json?: string | null;
  [sortKey: `sk${number}`]: unknown;
}

const toRecord = (row: MergedRow, sessionId: string | null): MergedRecord => {
  const data = row.data ?? null;
  return {
    sessionId,
    id: String(row.id),
    organizationId: row.organization_id,
    pfaId: row.pfa_id,
    data,
    // One object shape either way; the values of a document are derived on first use (valuesOf).
    values: data === null ? valuesFromColumns(row as unknown as Record<string, unknown>) : undefined,
    version: row.version,
    pemsVersion: row.pems_version,
    lastSyncedAt: row.last_synced_at,
    removedFromPemsAt: row.removed_from_pems_at,
    draftId: row.draft_id === null ? null : String(row.draft_id),
  };
};

const BASE_COLUMNS = sql`r.id, r.organization_id, r.pfa_id, r.version, r.pems_version, r.last_synced_at, r.removed_from_pems_at, r.draft_id`;
const RECORD_COLUMNS = sql`${BASE_COLUMNS}, r.data`;
const NULL_OF = { text: 'text', money: 'numeric', date: 'date', boolean: 'boolean' } as const;
/**
 * A page without documents (`withData: false`). Records untouched by any modification come as
 * the mirror's stored typed columns, named by record key (what every field but `data` needs;
 * no document to serialise, send and parse). Records with a modification come as their merged
 * document and typed NULLs: their typed columns are re-parsed from the merged JSON, and asking
 * for them in the output made PostgreSQL plan 22 more inlined parse expressions per statement
 * (+1.7 ms of planning, measured); their few documents are read in JS instead (valuesOf).
 */
type Named = (f: (typeof RECORD_FIELDS)[number]) => string;
/** Untouched records: the mirror's stored typed columns, each under the given name. */
const untouchedColumns = (name: Named) =>
  precompiled(
    sql`${BASE_COLUMNS}, ${sql.join(
      RECORD_FIELDS.map((f) => sql`${sql.ref(`r.${f.column}`)} AS ${sql.ref(name(f))}`),
    )}, NULL::jsonb AS data`,
  );
/** Records with a modification: typed NULLs under the same names, and their merged document. */
const touchedColumns = (name: Named) =>
  precompiled(
    sql`${BASE_COLUMNS}, ${sql.join(
      RECORD_FIELDS.map((f) => sql`NULL::${sql.raw(NULL_OF[f.type])} AS ${sql.ref(name(f))}`),
    )}, r.data`,
  );
const UNTOUCHED_TYPED_COLUMNS = untouchedColumns((f) => f.key);
const TOUCHED_TYPED_COLUMNS = touchedColumns((f) => f.key);

/**
 * A projected page's halves: the typed columns under their own names (record-json.ts reads them
 * as `r.<column>`), NULL for records with a modification, which come as their merged document.
 */
const UNTOUCHED_STORED_COLUMNS = untouchedColumns((f) => f.column);
const TOUCHED_STORED_COLUMNS = touchedColumns((f) => f.column);
/** Outside a projected page's JSON, only the records with a modification need their columns. */
const PROJECTED_OUTPUT = precompiled(
  sql.join(
    [
      'organization_id',
      'pfa_id',
      'version',
      'pems_version',
      'last_synced_at',
      'removed_from_pems_at',
      'draft_id',
    ].map((c) => sql`CASE WHEN r.data IS NOT NULL THEN ${sql.ref(`r.${c}`)} END AS ${sql.ref(c)}`),
  ),
);

/** Reads of the mirror, always through the session-scoped merge. */
export class MirrorRepository {
  /** Projected pages read, and those read again the ordinary way (a value JSON could not carry exactly). */
  readonly projection = { pages: 0, rereads: 0 };

  constructor(private readonly db: Db) {}

  /** The page's ordering; `backward` for `last`/`before` pages (rows come in reverse order). */
  planOrdering(request: Pick<PageRequest, 'filter' | 'orderBy'>, backward = false): Ordering {
    return planOrdering(request.orderBy, request.filter, backward);
  }

  /**
   * One page in the requested order; fetches first + 1 rows to know whether more follow. Filter,
   * keyset condition, order and limit go inside each half of the merge, so the untouched half is an
   * index-ordered range scan that stops after first + 1 rows (with the anti-join probe per row),
   * and the outer query merges at most 2 × (first + 1) rows.
   */
  async findPage(
    scope: MergeScope,
    request: PageRequest,
    ordering: Ordering,
  ): Promise<{ rows: PageRow[]; hasNextPage: boolean }> {
    const where = [compileFilter(request.filter)];
    if (request.after) where.push(afterCondition(ordering, request.after));
    const sortColumns = ordering.keys.map((k, i) => sql`${k.expr} AS ${sql.ref(`sk${i}`)}`);
    const limit = request.first + 1;
    const typed = request.withData === false;
    const half = (source: RawBuilder<unknown>, columns: RawBuilder<unknown>) => sql`(
      SELECT ${columns}, ${sql.join(sortColumns)}
      FROM ${source} AS r
      WHERE ${sql.join(where, sql` AND `)}
      ORDER BY ${ordering.orderBy}
      LIMIT ${limit})`;
    const [untouched, touched] = mergedBranches(scope);
    // Ids first from an index alone when it carries every column the page reads (page-plan.ts).
    const untouchedHalf = (columns: RawBuilder<unknown>) =>
      coveringIndexPage(
        request.filter,
        ordering.keys.map((k) => k.field),
      )
        ? sql`(
      SELECT ${columns}, ${sql.join(sortColumns)}
      FROM ${untouchedById(
        scope.organizationId,
        sql`ARRAY(SELECT r.id FROM ${untouched} AS r WHERE ${sql.join(where, sql` AND `)}
          ORDER BY ${ordering.orderBy} LIMIT ${limit})`,
      )} AS r
      ORDER BY ${ordering.orderBy}
      LIMIT ${limit})`
        : half(untouched, columns);
    // A prepared statement on each connection (parsed once); kept with a generic plan only when
    // one index serves every value of the shape (page-plan.ts), else planned per execution.
    const prepared = genericPlanSafe(request.filter, ordering.keys[0]?.field ?? 'id')
      ? PREPARED_READ
      : PREPARED_READ_CUSTOM_PLAN;
    const project = request.project ?? null;
    const columns: [RawBuilder<unknown>, RawBuilder<unknown>] = project
      ? [UNTOUCHED_STORED_COLUMNS, TOUCHED_STORED_COLUMNS]
      : typed
        ? [UNTOUCHED_TYPED_COLUMNS, TOUCHED_TYPED_COLUMNS]
        : [RECORD_COLUMNS, RECORD_COLUMNS];
    const merged = sql`SELECT * FROM (${untouchedHalf(columns[0])} UNION ALL ${half(touched, columns[1])}) AS r
      ORDER BY ${ordering.outputOrderBy}
      LIMIT ${limit}`;
    let statement = merged;
    if (project) {
      // The JSON of the page's final rows only (after the LIMIT), not of every row sorted.
      const json = recordJson(project.fields, project.viewKey);
      statement = sql`SELECT r.id, ${PROJECTED_OUTPUT}, r.data,
          CASE WHEN r.data IS NULL THEN ${json.value} END AS node_json,
          ${sql.join(ordering.keys.map((_, i) => sql.ref(`r.sk${i}`)))}
        FROM (${merged}) AS r ${json.join}
        ORDER BY ${ordering.outputOrderBy}`;
    }
    const { rows } = await sql<MergedRow>`${sql.raw(prepared)} ${statement}`.execute(this.db);
    const sortValues = (row: MergedRow) => ordering.keys.map((_, i) => normaliseSortValue(row[`sk${i}`]));
    if (project) this.projection.pages += 1;
    const page: PageRow[] = [];
    for (const row of rows.slice(0, request.first)) {
      if (!project || row.data)
        page.push({ record: toRecord(row, scope.sessionId), sortValues: sortValues(row) });
      else if (row.node_json)
        page.push({ json: row.node_json, id: String(row.id), sortValues: sortValues(row) });
      // A value the JSON cannot carry exactly (record-json.ts): the page the ordinary way.
      else {
        this.projection.rereads += 1;
        return this.findPage(scope, { ...request, project: null, withData: false }, ordering);
      }
    }
    return { rows: page, hasNextPage: rows.length > request.first };
  }

  /** How many records match (only computed when the client selects totalCount). */
  async count(scope: MergeScope, filter: RecordFilter | null | undefined): Promise<number> {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${mergedSource(scope)} WHERE ${compileFilter(filter)}`.execute(this.db);
    return Number(rows[0]?.n ?? 0);
  }

  /** Merged records by id for one scope, discontinued or not, in any order. */
  async loadMerged(scope: MergeScope, ids: readonly string[]): Promise<MergedRecord[]> {
    if (ids.length === 0) return [];
    const { rows } = await sql<MergedRow>`
      SELECT ${RECORD_COLUMNS} FROM ${mergedSource(scope)} WHERE r.id = ANY(${ids}::bigint[])`.execute(
      this.db,
    );
    return rows.map((row) => toRecord(row, scope.sessionId));
  }

  /** The organization of each record id that exists. */
  async organizationsOf(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('pfa_mirror')
      .select(['id', 'organization_id'])
      .where('id', 'in', [...new Set(ids)])
      .execute();
    return new Map(rows.map((r) => [String(r.id), r.organization_id]));
  }

  /** The organization a record id belongs to (null when there is no such record). */
  async organizationOf(id: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('pfa_mirror')
      .select('organization_id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.organization_id ?? null;
  }

  /** The record id of a PEMS identifier in an organization (unique key), or null. */
  async idOfPfaId(organizationId: string, pfaId: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('pfa_mirror')
      .select('id')
      .where('organization_id', '=', organizationId)
      .where('pfa_id', '=', pfaId)
      .executeTakeFirst();
    return row ? String(row.id) : null;
  }

  /** Superseded versions for many records at once, newest first, at most `first` each. */
  async history(organizationId: string, mirrorIds: readonly string[], first: number): Promise<HistoryRow[]> {
    if (mirrorIds.length === 0) return [];
    const { rows } = await sql<{
      mirror_id: string;
      version: number;
      data: Record<string, unknown>;
      pems_version: string | null;
      superseded_at: Date;
    }>`
      SELECT h.mirror_id, h.version, h.data, h.pems_version, h.superseded_at
      FROM unnest(${mirrorIds}::bigint[]) AS k(mirror_id)
      CROSS JOIN LATERAL (
        SELECT * FROM pfa_mirror_history h
        WHERE h.organization_id = ${organizationId} AND h.mirror_id = k.mirror_id
        ORDER BY h.version DESC LIMIT ${first}
      ) h`.execute(this.db);
    return rows.map((r) => ({
      mirrorId: String(r.mirror_id),
      version: r.version,
      data: r.data,
      pemsVersion: r.pems_version,
      supersededAt: r.superseded_at,
    }));
  }

  async organizations(ids: readonly string[]): Promise<{ id: string; name: string }[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom('organization').select(['id', 'name']).where('id', 'in', ids).execute();
  }
}

/** Sort values go into cursors as JSON: dates and numerics stay strings, so they compare exactly. */
function normaliseSortValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  return typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
}
