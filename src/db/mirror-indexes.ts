import type pg from 'pg';

/**
 * The secondary indexes of pfa_mirror as the migrated schema has them, for the bulk loads (the
 * seed, and the legacy import's first load of an organization), which drop them before COPY and
 * build them afterwards (much faster than maintaining them row by row). Code never imports
 * migrations (the migrator loads them by path), so the list lives here;
 * test/mirror-indexes.test.ts fails when it and a migrated database disagree.
 */
export const MIRROR_INDEXES: readonly string[] = [
  // pfaRecord(id): GraphQL ids are bare mirror ids; the organization is checked after.
  `CREATE INDEX idx_pfa_mirror_id ON pfa_mirror (id)`,
  // Grid: org + category + source (+ forecast range), ORDER BY forecastStart — an ordered range scan.
  `CREATE INDEX idx_pfa_mirror_grid ON pfa_mirror (organization_id, category, source, forecast_start, id) WHERE is_discontinued IS NOT TRUE`,
  // Timeline viewport (org + forecast range ordered by forecastStart), keyset by (forecast_start, id), min bound;
  // carries the columns of a Gantt bar, so timelineBars is an index-only scan.
  `CREATE INDEX idx_pfa_mirror_forecast_start ON pfa_mirror (organization_id, forecast_start, id) INCLUDE (forecast_end, pfa_id, category, original_start, original_end, actual_start, actual_end, removed_from_pems_at) WHERE is_discontinued IS NOT TRUE`,
  // Max forecast end bound, forecastEnd filters.
  `CREATE INDEX idx_pfa_mirror_forecast_end ON pfa_mirror (organization_id, forecast_end) WHERE is_discontinued IS NOT TRUE`,
  // Default order of the grid (id) for not-discontinued records: deep keyset pages by id.
  `CREATE INDEX idx_pfa_mirror_live_id ON pfa_mirror (organization_id, id) WHERE is_discontinued IS NOT TRUE`,
  // dataContains: JSONB containment within one organization (btree_gin puts the org in the GIN key).
  `CREATE INDEX idx_pfa_mirror_data_gin ON pfa_mirror USING gin (organization_id, data jsonb_path_ops)`,
  // search: case-insensitive substring of each word (trigram).
  `CREATE INDEX idx_pfa_mirror_search_trgm ON pfa_mirror USING gin (search_text gin_trgm_ops)`,
];

export interface MirrorIndex {
  name: string;
  /** The statement with IF NOT EXISTS: a rerun after a crash between drop and rebuild heals the table. */
  create: string;
  /** GIN builds are the long ones (and single-threaded): start them first. */
  gin: boolean;
}

/** Index names are parsed out of the statements (test/mirror-indexes.test.ts: the same as the migrations). */
export function mirrorIndexes(): MirrorIndex[] {
  return MIRROR_INDEXES.map((statement) => {
    const match =
      /^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?([a-z_][a-z0-9_]*)\s+ON\s/i.exec(
        statement,
      );
    if (!match?.[1]) throw new Error(`cannot read the index name of: ${statement}`);
    return {
      name: match[1],
      create: statement.replace(/^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?!IF\s)/i, (m) => `${m}IF NOT EXISTS `),
      gin: /\busing\s+gin\b/i.test(statement),
    };
  });
}

/**
 * Advisory lock (session level) held by a bulk load of pfa_mirror from the moment it drops the
 * indexes until it has built them again. Whoever finds indexes missing while nobody holds it
 * knows they are the leftovers of a load that died, and builds them.
 */
export const MIRROR_BULK_LOCK = 'pfa:mirror-bulk-load';

/** Secondary indexes of pfa_mirror (from the list) that the database lacks. */
export async function missingMirrorIndexes(client: pg.ClientBase | pg.Pool): Promise<MirrorIndex[]> {
  const { rows } = await client.query<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'pfa_mirror'`,
  );
  const present = new Set(rows.map((r) => r.indexname));
  return mirrorIndexes().filter((i) => !present.has(i.name));
}

const GIN_BUILD_MEMORY = '64MB';
const BTREE_BUILD_MEMORY = '1GB';

/**
 * Builds the given indexes with two connections side by side (GIN builds are single-threaded, so
 * two of them use both cores; the btree builds may add parallel workers of their own).
 * `onBuilt` is told each name as it is done.
 */
export async function buildMirrorIndexes(
  pool: pg.Pool,
  indexes: readonly MirrorIndex[],
  onBuilt: (name: string) => void = () => undefined,
  /** A connection the caller holds (and keeps): one builder runs on it, the other on a pooled one. */
  own?: pg.ClientBase,
): Promise<void> {
  const queue = [...indexes].sort((a, b) => Number(b.gin) - Number(a.gin));
  const builder = async (held?: pg.ClientBase): Promise<void> => {
    const client = held ?? (await pool.connect());
    let broken: Error | undefined;
    try {
      await client.query('SET max_parallel_maintenance_workers = 2');
      await client.query('SET statement_timeout = 0');
      for (let index = queue.shift(); index; index = queue.shift()) {
        // A btree build sorts: the more memory the fewer passes. A GIN build collects entries in
        // memory and merges them into the index whenever it is full: a small buffer that stays
        // in the CPU caches wins (JSONB GIN index over 1M records: 22-28 s of CPU with 64MB,
        // 35-36 s with 1GB, measured interleaved on 2026-12-05).
        await client.query(
          `SET maintenance_work_mem = '${index.gin ? GIN_BUILD_MEMORY : BTREE_BUILD_MEMORY}'`,
        );
        await client.query(index.create);
        onBuilt(index.name);
      }
      await client.query(
        'RESET maintenance_work_mem; RESET max_parallel_maintenance_workers; RESET statement_timeout',
      );
    } catch (e) {
      broken = e instanceof Error ? e : new Error(String(e));
      queue.length = 0; // the other builder stops after its current index
      throw e;
    } finally {
      if (!held) (client as pg.PoolClient).release(broken);
    }
  };
  const results = await Promise.allSettled([builder(own), builder()]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export interface EnsureResult {
  /** Indexes that were missing and have been built. */
  built: string[];
  /** A bulk load holds MIRROR_BULK_LOCK right now: its missing indexes are its own business. */
  bulkLoadRunning: boolean;
  /**
   * The KPI change log's insert trigger (pfa_mirror_kpi_ins) was found switched off — left so by a
   * seed killed during its COPY — and has been switched on, and the KPI views refreshed so they
   * count the rows the log missed.
   */
  kpiTriggerEnabled?: true;
}

/** The statement trigger that logs new mirror rows' KPI states; a bulk seed switches it off. */
export const KPI_INSERT_TRIGGER = 'pfa_mirror_kpi_ins';

/**
 * Builds the secondary indexes of pfa_mirror that are missing — the leftovers of a bulk load (the
 * legacy import's, or a seed) whose process died between dropping and rebuilding them — and
 * switches the KPI insert trigger back on if a killed seed left it off, unless a bulk load is
 * running right now. The legacy import and `npm run migrate` call it first.
 */
export async function ensureMirrorIndexes(pool: pg.Pool): Promise<EnsureResult> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
      [MIRROR_BULK_LOCK],
    );
    if (!rows[0]?.locked) return { built: [], bulkLoadRunning: true };
    try {
      const missing = await missingMirrorIndexes(client);
      if (missing.length) await buildMirrorIndexes(pool, missing, undefined, client);
      const result: EnsureResult = { built: missing.map((i) => i.name), bulkLoadRunning: false };
      const trigger = await client.query<{ enabled: string }>(
        `SELECT tgenabled AS enabled FROM pg_trigger WHERE tgrelid = 'pfa_mirror'::regclass AND tgname = $1`,
        [KPI_INSERT_TRIGGER],
      );
      if (trigger.rows[0]?.enabled === 'D') {
        await client.query(`ALTER TABLE pfa_mirror ENABLE TRIGGER ${KPI_INSERT_TRIGGER}`);
        await client.query('SELECT refresh_pfa_materialized_views()');
        result.kpiTriggerEnabled = true;
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [MIRROR_BULK_LOCK]);
    }
  } catch (e) {
    broken = e instanceof Error ? e : new Error(String(e));
    throw e;
  } finally {
    client.release(broken);
  }
}
