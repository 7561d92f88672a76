import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Db } from '../db/database.js';

/** Draft events: visible only to the owner of the session they happened in. */
export const PRIVATE_ACTIONS = ['created', 'edited', 'emptied', 'discarded', 'conflicted'] as const;
/** The actor of PEMS-side changes (read sync, or any direct write to the mirror). */
export const PEMS_ACTOR = 'system:pems';

export interface AuditQuery {
  organizationId: string;
  /** The caller: draft events of sessions they own (or wrote) only. */
  callerId: string;
  recordId?: string | null;
  userId?: string | null;
  since?: Date | null;
  until?: Date | null;
  first: number;
  /** Position after which to continue: [at as text, source (0 event, 1 PEMS), id]. */
  after?: readonly [string, number, string] | null;
}

export interface AuditEventRow {
  at: Date;
  userId: string;
  action: string;
  recordId: string;
  fields: string[];
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  position: [string, number, string];
}

interface Raw {
  at: Date;
  at_text: string;
  src: number;
  id: string;
  user_id: string;
  action: string;
  record_id: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

/**
 * The organization's audit trail, newest first: pfa_modification_event (commits, resolutions,
 * write-backs; draft events of the caller's own sessions only) and PEMS-side changes from
 * pfa_mirror_history (each superseded version against its successor). Keyset-paged on
 * (at, source, id) descending.
 */
export class AuditRepository {
  constructor(private readonly db: Db) {}

  async page(q: AuditQuery): Promise<{ rows: AuditEventRow[]; hasNextPage: boolean }> {
    const org = q.organizationId;
    const eventWhere: RawBuilder<SqlBool>[] = [
      sql<SqlBool>`e.organization_id = ${org}`,
      sql<SqlBool>`(e.action <> ALL(${[...PRIVATE_ACTIONS]}::text[]) OR e.user_id = ${q.callerId}
        OR EXISTS (SELECT 1 FROM pfa_session s WHERE s.organization_id = e.organization_id
                   AND s.id = e.session_id AND s.owner_user_id = ${q.callerId}))`,
    ];
    const historyWhere: RawBuilder<SqlBool>[] = [sql<SqlBool>`h.organization_id = ${org}`];
    if (q.recordId) {
      eventWhere.push(sql<SqlBool>`e.mirror_id = ${q.recordId}::bigint`);
      historyWhere.push(sql<SqlBool>`h.mirror_id = ${q.recordId}::bigint`);
    }
    if (q.since) {
      eventWhere.push(sql<SqlBool>`e.at >= ${q.since.toISOString()}::timestamptz`);
      historyWhere.push(sql<SqlBool>`h.superseded_at >= ${q.since.toISOString()}::timestamptz`);
    }
    if (q.until) {
      eventWhere.push(sql<SqlBool>`e.at < ${q.until.toISOString()}::timestamptz`);
      historyWhere.push(sql<SqlBool>`h.superseded_at < ${q.until.toISOString()}::timestamptz`);
    }
    if (q.userId) {
      eventWhere.push(sql<SqlBool>`e.user_id = ${q.userId}`);
      if (q.userId !== PEMS_ACTOR) historyWhere.push(sql<SqlBool>`false`);
    }
    if (q.after) {
      const [at, src, id] = q.after;
      eventWhere.push(sql<SqlBool>`(e.at, 0, e.id) < (${at}::timestamptz, ${src}::int, ${id}::bigint)`);
      historyWhere.push(
        sql<SqlBool>`(h.superseded_at, 1, h.id) < (${at}::timestamptz, ${src}::int, ${id}::bigint)`,
      );
    }
    const limit = q.first + 1;
    const { rows } = await sql<Raw>`
      SELECT * FROM (
        (SELECT e.at, e.at::text AS at_text, 0 AS src, e.id::text AS id, e.user_id, e.action,
                e.mirror_id::text AS record_id,
                CASE WHEN e.old_delta IS NOT DISTINCT FROM e.new_delta
                     THEN coalesce(pm.base_values, pa.base_values, e.old_delta) ELSE e.old_delta END AS before,
                e.new_delta AS after
         FROM pfa_modification_event e
         LEFT JOIN pfa_modification pm ON pm.organization_id = e.organization_id AND pm.id = e.modification_id
         LEFT JOIN pfa_modification_archive pa ON pm.id IS NULL AND pa.organization_id = e.organization_id
                                              AND pa.id = e.modification_id
         WHERE ${sql.join(eventWhere, sql` AND `)}
         ORDER BY e.at DESC, e.id DESC LIMIT ${limit})
        UNION ALL
        (SELECT h.superseded_at AS at, h.superseded_at::text AS at_text, 1 AS src, h.id::text AS id,
                ${PEMS_ACTOR} AS user_id, 'pems-changed' AS action, h.mirror_id::text AS record_id,
                h.data AS before, coalesce(n.data, m.data) AS after
         FROM pfa_mirror_history h
         JOIN pfa_mirror m ON m.organization_id = h.organization_id AND m.id = h.mirror_id
         LEFT JOIN pfa_mirror_history n ON n.organization_id = h.organization_id AND n.mirror_id = h.mirror_id
                                       AND n.version = h.version + 1
         WHERE ${sql.join(historyWhere, sql` AND `)}
         ORDER BY h.superseded_at DESC, h.id DESC LIMIT ${limit})
      ) x
      ORDER BY x.at DESC, x.src DESC, x.id::bigint DESC
      LIMIT ${limit}`.execute(this.db);
    const out = rows.slice(0, q.first).map((r) => toEvent(r));
    return { rows: out, hasNextPage: rows.length > q.first };
  }
}

function toEvent(r: Raw): AuditEventRow {
  const before = r.before ?? {};
  const after = r.after ?? {};
  let fields: string[];
  if (r.src === 1) {
    // A PEMS change: only the fields whose values differ, before and after restricted to them.
    fields = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
      .sort();
  } else fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const pick = (o: Record<string, unknown>) =>
    Object.fromEntries(fields.filter((f) => f in o).map((f) => [f, o[f]]));
  return {
    at: r.at,
    userId: r.user_id,
    action: r.action,
    recordId: r.record_id,
    fields,
    before: pick(before),
    after: pick(after),
    position: [r.at_text, r.src, r.id],
  };
}
