import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { precompiled } from '../../db/precompiled.js';
import { RECORD_FIELDS } from '../../domain/record-fields.js';
import { deltaValue, type MergeScope } from './fields.js';

const relevantModification = (scope: MergeScope): RawBuilder<SqlBool> =>
  scope.sessionId === null
    ? sql<SqlBool>`d.sync_state IN ('committed', 'syncing')`
    : sql<SqlBool>`(d.sync_state IN ('committed', 'syncing') OR (d.session_id = ${scope.sessionId} AND d.sync_state IN ('draft', 'conflict')))`;

// Constant column lists, compiled once (src/db/precompiled.ts).
const MIRROR_OUTPUT = precompiled(sql.join(RECORD_FIELDS.map((f) => sql.ref(`m.${f.column}`))));
const OVERLAY_OUTPUT = precompiled(sql.join(RECORD_FIELDS.map((f) => sql.ref(`p.${f.column}`))));
// The caller's draft over "theirs": a key of the delta (its stored parsed value, or parsed by the
// mirror's own parse function), every other field the overlay's (or the mirror's) typed column —
// no merged document is parsed.
const MERGED_OUTPUT = precompiled(
  sql.join(
    RECORD_FIELDS.map(
      (f) => sql`CASE WHEN d.delta ? ${sql.lit(f.key)} THEN ${deltaValue('d', f)}
    WHEN p.id IS NOT NULL THEN ${sql.ref(`p.${f.column}`)} ELSE ${sql.ref(`m.${f.column}`)} END AS ${sql.ref(f.column)}`,
    ),
  ),
);

/**
 * The two halves of the merged relation, each a parenthesised SELECT with the columns listed for
 * `mergedSource`: records untouched by any relevant modification (straight from the mirror's
 * indexed columns) and the touched ones. The touched half reads the maintained overlay
 * `pfa_pending_record` (mirror + pending deltas, typed columns kept by the database in the
 * writing transaction, see migration 20261205T2000) and re-parses only the caller's own open
 * modifications (at most one per record and session), laid over that overlay.
 *
 * A query that orders and limits must do so inside each half (see `MirrorRepository.findPage`):
 * PostgreSQL cannot flatten a UNION ALL member that has a WHERE clause or a join, so it plans
 * each half as a separate subquery that knows nothing of the outer ORDER BY/LIMIT and the outer
 * query sorts every matching row.
 */
export function mergedBranches(scope: MergeScope): [RawBuilder<unknown>, RawBuilder<unknown>] {
  const org = scope.organizationId;
  const relevant = relevantModification(scope);
  const untouched = sql`(
    SELECT m.id, m.organization_id, m.pfa_id, m.version, m.pems_version, m.last_synced_at, m.removed_from_pems_at,
           NULL::bigint AS draft_id, false AS has_draft, m.data, m.search_text, ${MIRROR_OUTPUT}
    FROM pfa_mirror m
    WHERE m.organization_id = ${org}
      AND NOT EXISTS (SELECT 1 FROM pfa_modification d
                      WHERE d.organization_id = ${org} AND d.mirror_id = m.id AND ${relevant}))`;
  const pending = (withoutOwn: RawBuilder<unknown>) => sql`
    SELECT m.id, m.organization_id, m.pfa_id, m.version, m.pems_version, m.last_synced_at, m.removed_from_pems_at,
           NULL::bigint AS draft_id, false AS has_draft, p.data, p.search_text, ${OVERLAY_OUTPUT}
    FROM pfa_pending_record p
    JOIN pfa_mirror m ON m.organization_id = ${org} AND m.id = p.id
    WHERE p.organization_id = ${org} ${withoutOwn}`;
  if (scope.sessionId === null) return [untouched, sql`(${pending(sql``)})`];
  const own = sql`d.organization_id = ${org} AND d.session_id = ${scope.sessionId} AND d.sync_state IN ('draft', 'conflict')`;
  return [
    untouched,
    sql`((${pending(sql`AND NOT EXISTS (SELECT 1 FROM pfa_modification d WHERE ${own} AND d.mirror_id = p.id)`)})
    UNION ALL (
    SELECT m.id, m.organization_id, m.pfa_id, m.version, m.pems_version, m.last_synced_at, m.removed_from_pems_at,
           d.id AS draft_id, true AS has_draft, j.data,
           pfa_search_text(m.pfa_id, j.data) AS search_text, ${MERGED_OUTPUT}
    FROM pfa_modification d
    JOIN pfa_mirror m ON m.organization_id = ${org} AND m.id = d.mirror_id
    LEFT JOIN pfa_pending_record p ON p.organization_id = ${org} AND p.id = d.mirror_id
    -- OFFSET 0 keeps the merged document computed once: inlined, every parse function rebuilt it.
    CROSS JOIN LATERAL (SELECT coalesce(p.data, m.data) || d.delta AS data OFFSET 0) j
    WHERE ${own}))`,
  ];
}

/**
 * The untouched half's columns for the mirror rows whose ids an expression yields (a bigint
 * array): the second step of a page whose ids were picked from an index alone
 * (page-plan.ts, `coveringIndexPage`). The ids must already satisfy the untouched half's
 * condition (no relevant modification).
 */
export function untouchedById(organizationId: string, ids: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`(
    SELECT m.id, m.organization_id, m.pfa_id, m.version, m.pems_version, m.last_synced_at, m.removed_from_pems_at,
           NULL::bigint AS draft_id, false AS has_draft, m.data, m.search_text, ${MIRROR_OUTPUT}
    FROM pfa_mirror m
    WHERE m.organization_id = ${organizationId} AND m.id = ANY(${ids}))`;
}

/**
 * "Theirs" of DOMAIN §3 for the mirror row aliased `m`: its data overlaid by every pending delta
 * of the organization (the caller's own earlier pending changes included) in commit order — the
 * maintained overlay where the record has one. The one definition used by edits (the baseline a
 * delta is minimised against), bulk edits, commit and conflict resolution.
 */
export function pendingOverlay(organizationId: string, mirror = 'm'): RawBuilder<Record<string, unknown>> {
  const m = sql.ref(mirror);
  return sql<Record<string, unknown>>`coalesce((
    SELECT o.data FROM pfa_pending_record o WHERE o.organization_id = ${organizationId} AND o.id = ${m}.id), ${m}.data)`;
}

/**
 * The merged relation for one organization and session, as a derived table `r` with columns:
 * id, organization_id, pfa_id, version, pems_version, last_synced_at, removed_from_pems_at, draft_id, has_draft, data,
 * search_text and every generated column of pfa_mirror.
 */
export function mergedSource(scope: MergeScope): RawBuilder<unknown> {
  const [untouched, touched] = mergedBranches(scope);
  return sql`(${untouched} UNION ALL ${touched}) AS r`;
}
