import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.js';

/**
 * The operational queries of the seed design (slow statements, index usage, sizes, bloat, the
 * grid index rebuild, cache freshness, pending work), written for this schema. The read-only
 * ones are run by `npm run doctor`; the maintenance statements are only printed.
 */

/** The grid index (migrations/20261127T1500_initial_schema.ts, MIRROR_INDEXES). */
export const GRID_INDEX = 'idx_pfa_mirror_grid';

export type Extension = 'pg_stat_statements' | 'pgstattuple';

export interface DoctorCheck {
  id: string;
  title: string;
  query: RawBuilder<Record<string, unknown>>;
  /** An extension the query needs; without it the check prints how to install it instead. */
  needs?: Extension;
  /** What to read in the result. */
  note?: string;
}

export interface MaintenanceStatement {
  title: string;
  statement: string;
  note: string;
}

export const DOCTOR_CHECKS: readonly DoctorCheck[] = [
  {
    id: 'slow-statements',
    title: 'Slow statements (pg_stat_statements, mean > 100 ms)',
    needs: 'pg_stat_statements',
    note: 'Sort by total_exec_time instead to find what costs the server most overall.',
    query: sql`
      SELECT round(mean_exec_time::numeric, 1) AS mean_ms, calls, round(total_exec_time::numeric) AS total_ms, rows,
             left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS query
      FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND mean_exec_time > 100
      ORDER BY mean_exec_time DESC
      LIMIT 10`,
  },
  {
    id: 'index-usage',
    title: 'Index usage (scans since the statistics were reset; unused = 0 scans, not unique)',
    note: 'An index unused on a young database is not proof: look at one that served for weeks.',
    query: sql`
      SELECT s.relname AS table_name, s.indexrelname AS index_name, s.idx_scan, s.idx_tup_read,
             pg_size_pretty(pg_relation_size(s.indexrelid)) AS size,
             CASE WHEN s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary THEN 'unused' ELSE '' END AS verdict
      FROM pg_stat_user_indexes s
      JOIN pg_index i ON i.indexrelid = s.indexrelid
      WHERE s.relname LIKE 'pfa\\_%'
      ORDER BY s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary DESC,
               pg_relation_size(s.indexrelid) DESC, s.indexrelname`,
  },
  {
    id: 'sizes',
    title: 'Table and index sizes (tables and materialized views)',
    query: sql`
      SELECT c.relname AS relation, CASE c.relkind WHEN 'm' THEN 'matview' ELSE 'table' END AS kind,
             c.reltuples::bigint AS est_rows, pg_size_pretty(pg_table_size(c.oid)) AS data,
             pg_size_pretty(pg_indexes_size(c.oid)) AS indexes, pg_size_pretty(pg_total_relation_size(c.oid)) AS total
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
      WHERE c.relkind IN ('r', 'm') AND c.relname LIKE 'pfa\\_%'
      ORDER BY pg_total_relation_size(c.oid) DESC, c.relname`,
  },
  {
    id: 'dead-rows',
    title: 'Table bloat estimate: dead rows (autovacuum keeping up?)',
    note: 'The materialized views show a high share right after each concurrent refresh; that is normal.',
    query: sql`
      SELECT relname AS table_name, n_live_tup, n_dead_tup,
             round(100.0 * n_dead_tup / nullif(n_live_tup + n_dead_tup, 0), 1) AS dead_pct,
             last_autovacuum, last_autoanalyze
      FROM pg_stat_user_tables
      WHERE relname LIKE 'pfa\\_%'
      ORDER BY n_dead_tup DESC, relname`,
  },
  {
    id: 'index-bloat',
    title: 'Index bloat (B-tree leaf density; a fresh index is ~90%, well below ~60% means bloat)',
    needs: 'pgstattuple',
    note: 'pgstatindex reads each index in full: run it off-peak.',
    query: sql`
      SELECT c.relname AS index_name, pg_size_pretty(pg_relation_size(c.oid)) AS size,
             round(s.avg_leaf_density::numeric, 1) AS leaf_density_pct,
             round(s.leaf_fragmentation::numeric, 1) AS leaf_fragmentation_pct
      FROM pg_class c
      JOIN pg_index i ON i.indexrelid = c.oid
      JOIN pg_am am ON am.oid = c.relam AND am.amname = 'btree'
      CROSS JOIN LATERAL pgstatindex(c.oid::regclass) s
      WHERE (c.relname LIKE 'idx\\_pfa\\_%' OR c.relname LIKE 'uq\\_pfa\\_%') AND s.leaf_pages > 0
      ORDER BY pg_relation_size(c.oid) DESC, c.relname`,
  },
  {
    id: 'invalid-indexes',
    title: 'Invalid indexes (left by a failed REINDEX/CREATE INDEX CONCURRENTLY; drop before retrying)',
    query: sql`
      SELECT c.relname AS index_name, t.relname AS table_name
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
      WHERE NOT i.indisvalid
      ORDER BY c.relname`,
  },
  {
    id: 'cache-freshness',
    title: 'KPI caches (materialized views): last refresh (pfa_view_refresh)',
    note: 'Worth an alert when older than three refresh intervals.',
    query: sql`
      SELECT max(refreshed_at) AS last_refresh, date_trunc('second', now() - max(refreshed_at)) AS age,
             (SELECT duration_ms FROM pfa_view_refresh ORDER BY refreshed_at DESC, id DESC LIMIT 1) AS last_duration_ms,
             count(*) AS refreshes_logged
      FROM pfa_view_refresh`,
  },
  {
    id: 'pending-per-organization',
    title: 'Open and pending changes per organization (drafts, conflicts, committed, syncing)',
    query: sql`
      SELECT organization_id, count(*) FILTER (WHERE sync_state = 'draft') AS drafts,
             count(*) FILTER (WHERE sync_state = 'conflict') AS conflicts,
             count(*) FILTER (WHERE sync_state = 'committed') AS committed,
             count(*) FILTER (WHERE sync_state = 'syncing') AS syncing
      FROM pfa_modification
      WHERE sync_state <> 'synced'
      GROUP BY organization_id
      ORDER BY organization_id`,
  },
  {
    id: 'oldest-unsynced',
    title: 'Oldest change not yet written back to PEMS, per organization',
    note: 'Worth an alert when older than an hour (PEMS down or rejecting).',
    query: sql`
      SELECT organization_id, min(committed_at) AS oldest_commit,
             date_trunc('second', now() - min(committed_at)) AS age, count(*) AS unsynced,
             max(sync_attempts) AS max_attempts
      FROM pfa_modification
      WHERE sync_state IN ('committed', 'syncing')
      GROUP BY organization_id
      ORDER BY min(committed_at)`,
  },
];

/** Printed, never run: they change or lock things and belong to an operator's decision. */
export const MAINTENANCE_STATEMENTS: readonly MaintenanceStatement[] = [
  {
    title: 'Rebuild the grid index without blocking reads or writes',
    statement: `REINDEX INDEX CONCURRENTLY ${GRID_INDEX};`,
    note: 'the other large ones: idx_pfa_mirror_forecast_start, idx_pfa_mirror_data_gin, idx_pfa_mirror_search_trgm',
  },
  {
    title: 'Statistics and dead rows of the busiest tables',
    statement: 'VACUUM (ANALYZE) pfa_mirror, pfa_modification, pfa_modification_event;',
    note: 'autovacuum normally does this; run it after a bulk import or when dead_pct stays high',
  },
];

export interface CheckResult {
  rows: Record<string, unknown>[];
  /** Why the check did not run (a missing extension), or the error it raised. */
  skipped?: string;
}

/** Read-only diagnostics of the service's own database. */
export class DoctorRepository {
  constructor(private readonly db: Db) {}

  /** The SQL text of a check as it is sent (no parameters: every check is constant). */
  text(check: DoctorCheck): string {
    return check.query.compile(this.db).sql;
  }

  async serverInfo(): Promise<{ database: string; version: string }> {
    const { rows } = await sql<{ database: string; version: string }>`
      SELECT current_database() AS database, current_setting('server_version') AS version`.execute(this.db);
    return rows[0] ?? { database: '?', version: '?' };
  }

  async installedExtensions(): Promise<Set<string>> {
    const { rows } = await sql<{ extname: string }>`SELECT extname FROM pg_extension`.execute(this.db);
    return new Set(rows.map((r) => r.extname));
  }

  async indexExists(name: string): Promise<boolean> {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_class WHERE relkind = 'i' AND relname = ${name}`.execute(this.db);
    return (rows[0]?.n ?? 0) > 0;
  }

  /**
   * Runs one check in a READ ONLY transaction. A missing extension, or pg_stat_statements created
   * but not preloaded, is reported as skipped with what to do.
   */
  async run(check: DoctorCheck, extensions: ReadonlySet<string>): Promise<CheckResult> {
    if (check.needs && !extensions.has(check.needs)) {
      const preload =
        check.needs === 'pg_stat_statements'
          ? "set shared_preload_libraries = 'pg_stat_statements' (a restart), then "
          : '';
      return {
        rows: [],
        skipped: `${check.needs} is not installed: ${preload}CREATE EXTENSION ${check.needs};`,
      };
    }
    try {
      const rows = await this.db
        .transaction()
        .setAccessMode('read only')
        .execute(async (tx) => (await check.query.execute(tx)).rows);
      return { rows };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return { rows: [], skipped: message };
    }
  }
}
