import { sql, type Kysely } from 'kysely';

/**
 * The Mirror + Delta data model of DOMAIN.md §6, with the corrections of §7.
 *
 * Every statement here is static SQL (no input reaches it). The parse functions are plain SQL
 * (regex-guarded casts, no plpgsql EXCEPTION blocks) so they are IMMUTABLE, usable in STORED
 * generated columns, and cost nothing extra on the COPY load path.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);
  await sql`CREATE EXTENSION IF NOT EXISTS btree_gin`.execute(db);

  // ---------------------------------------------------------------- parse functions
  // A JSON scalar as text: strings as they are, numbers and booleans as written; objects,
  // arrays and null are no value.
  await sql`
    CREATE FUNCTION pfa_text(v jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE WHEN jsonb_typeof(v) IN ('string', 'number', 'boolean') THEN v #>> '{}' END
    $$`.execute(db);

  // Money (DOMAIN §2): a JSON number >= 0, or a string of plain digits with an optional
  // decimal part ("1250.50"). "TBA", "1,250.00", negatives and everything else are missing.
  await sql`
    CREATE FUNCTION pfa_money(v jsonb) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE jsonb_typeof(v)
        WHEN 'number' THEN CASE WHEN (v #>> '{}')::numeric >= 0 THEN (v #>> '{}')::numeric END
        WHEN 'string' THEN CASE WHEN (v #>> '{}') ~ '^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$' THEN (v #>> '{}')::numeric END
      END
    $$`.execute(db);

  // Booleans: JSON true/false, or the strings "true"/"false" in any case.
  await sql`
    CREATE FUNCTION pfa_bool(v jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE
        WHEN jsonb_typeof(v) = 'boolean' THEN (v #>> '{}')::boolean
        WHEN jsonb_typeof(v) = 'string' AND lower(v #>> '{}') IN ('true', 'false') THEN lower(v #>> '{}')::boolean
      END
    $$`.execute(db);

  // Dates: YYYY-MM-DD, or a full ISO-8601 timestamp read as its UTC date (no offset = UTC).
  // Impossible calendar dates (2025-02-31) and anything else give NULL. Nested CASEs fix the
  // evaluation order, so make_date/make_timestamp only ever see validated parts.
  await sql`
    CREATE FUNCTION pfa_parse_date(s text) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE WHEN m IS NOT NULL
                   AND m[1]::int >= 1 AND m[2]::int BETWEEN 1 AND 12 AND m[3]::int BETWEEN 1 AND 31
                   AND coalesce(m[5]::int, 0) <= 23 AND coalesce(m[6]::int, 0) <= 59
                   AND coalesce(m[7]::int, 0) <= 59 AND coalesce(m[9]::int, 0) <= 23
                   AND coalesce(m[10]::int, 0) <= 59
        THEN CASE WHEN m[3]::int <= extract(day FROM make_date(m[1]::int, m[2]::int, 1) + interval '1 month' - interval '1 day')
          THEN CASE WHEN m[4] IS NULL OR m[8] IS NULL
            THEN make_date(m[1]::int, m[2]::int, m[3]::int)
            ELSE (make_timestamp(m[1]::int, m[2]::int, m[3]::int, m[5]::int, m[6]::int, 0)
                  - make_interval(hours => (m[8] || m[9])::int, mins => (m[8] || m[10])::int))::date
          END
        END
      END
      FROM regexp_match(s, '^([0-9]{4})-([0-9]{2})-([0-9]{2})(T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\\.[0-9]+)?)?(?:Z|([+-])([0-9]{2}):?([0-9]{2}))?)?$') AS r(m)
    $$`.execute(db);

  await sql`
    CREATE FUNCTION pfa_date(v jsonb) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN pfa_parse_date(v #>> '{}') END
    $$`.execute(db);

  // Cost rule of DOMAIN §2 on already-parsed values; unrounded.
  await sql`
    CREATE FUNCTION pfa_cost(source text, start_date date, end_date date, monthly_rate numeric, purchase_price numeric)
    RETURNS numeric LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE
        WHEN source = 'Purchase' THEN coalesce(purchase_price, 0)
        WHEN start_date IS NULL OR end_date IS NULL OR monthly_rate IS NULL THEN 0
        ELSE greatest(0, end_date - start_date) / 30.44 * monthly_rate
      END
    $$`.execute(db);

  // The text `search` looks in (DOMAIN §5). Newlines separate the fields: search words never
  // hold whitespace, so a word can only match inside one field.
  await sql`
    CREATE FUNCTION pfa_search_text(pfa_id text, data jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT lower(concat_ws(E'\\n', pfa_id, pfa_text(data -> 'category'), pfa_text(data -> 'class'),
        pfa_text(data -> 'manufacturer'), pfa_text(data -> 'model'), pfa_text(data -> 'equipment'),
        pfa_text(data -> 'contract')))
    $$`.execute(db);

  // jsonb || over rows, in the aggregate's ORDER BY: how pending deltas stack in commit order.
  await sql`
    CREATE AGGREGATE jsonb_concat_agg(jsonb) (SFUNC = jsonb_concat, STYPE = jsonb, INITCOND = '{}')
  `.execute(db);

  // ---------------------------------------------------------------- tables
  await sql`
    CREATE TABLE organization (
      id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,32}$'),
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);

  await sql`
    CREATE TABLE pfa_mirror (
      id bigint GENERATED BY DEFAULT AS IDENTITY,
      organization_id text NOT NULL REFERENCES organization (id),
      pfa_id text NOT NULL,
      data jsonb NOT NULL CHECK (jsonb_typeof(data) = 'object'),
      version integer NOT NULL DEFAULT 1,
      pems_version text,
      last_synced_at timestamptz NOT NULL DEFAULT now(),
      sync_batch_id text,
      removed_from_pems_at timestamptz,
      category text GENERATED ALWAYS AS (pfa_text(data -> 'category')) STORED,
      class text GENERATED ALWAYS AS (pfa_text(data -> 'class')) STORED,
      source text GENERATED ALWAYS AS (pfa_text(data -> 'source')) STORED,
      dor text GENERATED ALWAYS AS (pfa_text(data -> 'dor')) STORED,
      area_silo text GENERATED ALWAYS AS (pfa_text(data -> 'areaSilo')) STORED,
      manufacturer text GENERATED ALWAYS AS (pfa_text(data -> 'manufacturer')) STORED,
      model text GENERATED ALWAYS AS (pfa_text(data -> 'model')) STORED,
      contract text GENERATED ALWAYS AS (pfa_text(data -> 'contract')) STORED,
      equipment text GENERATED ALWAYS AS (pfa_text(data -> 'equipment')) STORED,
      monthly_rate numeric GENERATED ALWAYS AS (pfa_money(data -> 'monthlyRate')) STORED,
      purchase_price numeric GENERATED ALWAYS AS (pfa_money(data -> 'purchasePrice')) STORED,
      original_start date GENERATED ALWAYS AS (pfa_date(data -> 'originalStart')) STORED,
      original_end date GENERATED ALWAYS AS (pfa_date(data -> 'originalEnd')) STORED,
      forecast_start date GENERATED ALWAYS AS (pfa_date(data -> 'forecastStart')) STORED,
      forecast_end date GENERATED ALWAYS AS (pfa_date(data -> 'forecastEnd')) STORED,
      actual_start date GENERATED ALWAYS AS (pfa_date(data -> 'actualStart')) STORED,
      actual_end date GENERATED ALWAYS AS (pfa_date(data -> 'actualEnd')) STORED,
      is_actualized boolean GENERATED ALWAYS AS (pfa_bool(data -> 'isActualized')) STORED,
      has_actuals boolean GENERATED ALWAYS AS (pfa_bool(data -> 'hasActuals')) STORED,
      has_plan boolean GENERATED ALWAYS AS (pfa_bool(data -> 'hasPlan')) STORED,
      is_discontinued boolean GENERATED ALWAYS AS (pfa_bool(data -> 'isDiscontinued')) STORED,
      is_funds_transferable boolean GENERATED ALWAYS AS (pfa_bool(data -> 'isFundsTransferable')) STORED,
      search_text text GENERATED ALWAYS AS (pfa_search_text(pfa_id, data)) STORED,
      PRIMARY KEY (organization_id, id),
      UNIQUE (organization_id, pfa_id),
      CONSTRAINT pfa_mirror_pfa_id_matches_data CHECK (NOT (data ? 'pfaId') OR data ->> 'pfaId' = pfa_id)
    )`.execute(db);
  await sql`ALTER TABLE pfa_mirror ALTER COLUMN data SET STORAGE MAIN`.execute(db);
  await createMirrorIndexes(db);

  await sql`
    CREATE TABLE pfa_mirror_history (
      id bigint GENERATED BY DEFAULT AS IDENTITY,
      organization_id text NOT NULL,
      mirror_id bigint NOT NULL,
      version integer NOT NULL,
      data jsonb NOT NULL,
      pems_version text,
      superseded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organization_id, id),
      FOREIGN KEY (organization_id, mirror_id) REFERENCES pfa_mirror (organization_id, id) ON DELETE CASCADE
    )`.execute(db);
  // history(record): a record's superseded versions, newest first.
  await sql`CREATE INDEX idx_pfa_mirror_history_record ON pfa_mirror_history (organization_id, mirror_id, version DESC)`.execute(
    db,
  );

  // Versions belong to the database, not to writers: exactly one bump per real data change.
  await sql`
    CREATE FUNCTION pfa_mirror_versioning() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
        RETURN NEW;
      END IF;
      IF NEW.data IS DISTINCT FROM OLD.data THEN
        INSERT INTO pfa_mirror_history (organization_id, mirror_id, version, data, pems_version)
        VALUES (OLD.organization_id, OLD.id, OLD.version, OLD.data, OLD.pems_version);
        NEW.version := OLD.version + 1;
      ELSE
        NEW.version := OLD.version;
      END IF;
      RETURN NEW;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER pfa_mirror_versioning BEFORE INSERT OR UPDATE ON pfa_mirror
    FOR EACH ROW EXECUTE FUNCTION pfa_mirror_versioning()`.execute(db);

  await sql`
    CREATE TABLE pfa_session (
      organization_id text NOT NULL REFERENCES organization (id),
      id text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
      owner_user_id text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organization_id, id)
    )`.execute(db);
  await sql`CREATE INDEX idx_pfa_session_owner ON pfa_session (owner_user_id, organization_id)`.execute(db);

  await sql`CREATE TYPE pfa_sync_state AS ENUM ('draft', 'committed', 'syncing', 'synced', 'conflict')`.execute(
    db,
  );

  await sql`
    CREATE TABLE pfa_modification (
      id bigint GENERATED BY DEFAULT AS IDENTITY,
      organization_id text NOT NULL,
      mirror_id bigint NOT NULL,
      session_id text NOT NULL,
      user_id text NOT NULL,
      delta jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(delta) = 'object'),
      modified_fields text[] NOT NULL DEFAULT '{}',
      base_values jsonb NOT NULL DEFAULT '{}',
      base_version integer NOT NULL,
      base_pems_version text,
      current_version integer NOT NULL DEFAULT 1,
      sync_state pfa_sync_state NOT NULL DEFAULT 'draft',
      conflicts jsonb,
      change_reason text CHECK (char_length(change_reason) <= 500),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      committed_at timestamptz,
      committed_by text,
      commit_xid xid8,
      synced_at timestamptz,
      sync_attempts integer NOT NULL DEFAULT 0,
      last_error text,
      PRIMARY KEY (organization_id, id),
      FOREIGN KEY (organization_id, mirror_id) REFERENCES pfa_mirror (organization_id, id) ON DELETE CASCADE,
      FOREIGN KEY (organization_id, session_id) REFERENCES pfa_session (organization_id, id),
      CHECK (sync_state IN ('draft', 'conflict') OR committed_at IS NOT NULL)
    )`.execute(db);
  // At most one open modification per (organization, record, session) — DOMAIN §3.
  await sql`
    CREATE UNIQUE INDEX uq_pfa_modification_open ON pfa_modification (organization_id, mirror_id, session_id)
    WHERE sync_state IN ('draft', 'conflict')`.execute(db);
  // The merge's anti-join probe: does this record have a pending delta or this session's draft?
  await sql`
    CREATE INDEX idx_pfa_modification_live ON pfa_modification (organization_id, mirror_id)
    WHERE sync_state <> 'synced'`.execute(db);
  // Write-sync selection and the merge's pending set, in commit order.
  await sql`
    CREATE INDEX idx_pfa_modification_pending ON pfa_modification (organization_id, committed_at, id)
    WHERE sync_state IN ('committed', 'syncing')`.execute(db);
  // A session's open drafts (the merge's own set, drafts(), commit and discard).
  await sql`
    CREATE INDEX idx_pfa_modification_session ON pfa_modification (organization_id, session_id, sync_state)
    WHERE sync_state <> 'synced'`.execute(db);
  // Maintenance: archive synced modifications by age.
  await sql`
    CREATE INDEX idx_pfa_modification_synced ON pfa_modification (synced_at) WHERE sync_state = 'synced'`.execute(
    db,
  );

  // Every change to a draft, for audit: who, when, why, old → new delta.
  await sql`
    CREATE TABLE pfa_modification_event (
      id bigint GENERATED BY DEFAULT AS IDENTITY,
      organization_id text NOT NULL,
      modification_id bigint NOT NULL,
      mirror_id bigint NOT NULL,
      session_id text NOT NULL,
      user_id text NOT NULL,
      action text NOT NULL,
      reason text,
      old_delta jsonb,
      new_delta jsonb,
      from_state pfa_sync_state,
      to_state pfa_sync_state,
      at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organization_id, id)
    )`.execute(db);
  await sql`CREATE INDEX idx_pfa_modification_event_mod ON pfa_modification_event (organization_id, modification_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE pfa_modification_archive (
      id bigint NOT NULL,
      organization_id text NOT NULL,
      mirror_id bigint NOT NULL,
      session_id text NOT NULL,
      user_id text NOT NULL,
      delta jsonb NOT NULL,
      modified_fields text[] NOT NULL,
      base_values jsonb NOT NULL,
      base_version integer NOT NULL,
      base_pems_version text,
      current_version integer NOT NULL,
      sync_state pfa_sync_state NOT NULL,
      conflicts jsonb,
      change_reason text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      committed_at timestamptz,
      committed_by text,
      commit_xid xid8,
      synced_at timestamptz,
      sync_attempts integer NOT NULL,
      last_error text,
      archived_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organization_id, id)
    )`.execute(db);

  await sql`
    CREATE TABLE pfa_sync_log (
      id bigint GENERATED BY DEFAULT AS IDENTITY,
      organization_id text NOT NULL REFERENCES organization (id),
      direction text NOT NULL CHECK (direction IN ('read', 'write')),
      mode text NOT NULL DEFAULT 'full',
      status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed', 'partial')),
      job_id text,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      duration_ms integer,
      inserted integer NOT NULL DEFAULT 0,
      updated integer NOT NULL DEFAULT 0,
      unchanged integer NOT NULL DEFAULT 0,
      rejected integer NOT NULL DEFAULT 0,
      removed integer NOT NULL DEFAULT 0,
      synced integer NOT NULL DEFAULT 0,
      conflicted integer NOT NULL DEFAULT 0,
      failed integer NOT NULL DEFAULT 0,
      watermark text,
      errors jsonb NOT NULL DEFAULT '[]',
      message text,
      PRIMARY KEY (organization_id, id)
    )`.execute(db);
  await sql`CREATE INDEX idx_pfa_sync_log_recent ON pfa_sync_log (organization_id, started_at DESC)`.execute(
    db,
  );

  // When refresh_pfa_materialized_views() last ran (the views also carry their own time).
  await sql`
    CREATE TABLE pfa_view_refresh (
      id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
      refreshed_at timestamptz NOT NULL,
      duration_ms integer NOT NULL
    )`.execute(db);

  await createViews(db);
}

async function createMirrorIndexes(db: Kysely<unknown>): Promise<void> {
  for (const statement of MIRROR_INDEXES) await sql.raw(statement).execute(db);
}

/**
 * Secondary indexes of pfa_mirror, exported so the bulk seed can drop them before COPY and
 * build them afterwards (much faster than maintaining them row by row).
 */
export const MIRROR_INDEXES: readonly string[] = [
  // pfaRecord(id): GraphQL ids are bare mirror ids; the organization is checked after.
  `CREATE INDEX idx_pfa_mirror_id ON pfa_mirror (id)`,
  // Grid: org + category + source (+ forecast range), ORDER BY forecastStart — an ordered range scan.
  `CREATE INDEX idx_pfa_mirror_grid ON pfa_mirror (organization_id, category, source, forecast_start, id) WHERE is_discontinued IS NOT TRUE`,
  // Timeline viewport (org + forecast range ordered by forecastStart), keyset by (forecast_start, id), min bound.
  `CREATE INDEX idx_pfa_mirror_forecast_start ON pfa_mirror (organization_id, forecast_start, id) WHERE is_discontinued IS NOT TRUE`,
  // Max forecast end bound, forecastEnd filters.
  `CREATE INDEX idx_pfa_mirror_forecast_end ON pfa_mirror (organization_id, forecast_end) WHERE is_discontinued IS NOT TRUE`,
  // Default order of the grid (id) for not-discontinued records: deep keyset pages by id.
  `CREATE INDEX idx_pfa_mirror_live_id ON pfa_mirror (organization_id, id) WHERE is_discontinued IS NOT TRUE`,
  // dataContains: JSONB containment within one organization (btree_gin puts the org in the GIN key).
  `CREATE INDEX idx_pfa_mirror_data_gin ON pfa_mirror USING gin (organization_id, data jsonb_path_ops)`,
  // search: case-insensitive substring of each word (trigram).
  `CREATE INDEX idx_pfa_mirror_search_trgm ON pfa_mirror USING gin (search_text gin_trgm_ops)`,
];

async function createViews(db: Kysely<unknown>): Promise<void> {
  // The organization's records as everyone sees them: mirror + pending deltas in commit order.
  // Never drafts (DOMAIN §4). Records without a pending delta come straight from the mirror's
  // generated columns; the few with one are re-parsed from the merged JSON.
  await sql`
    CREATE VIEW pfa_committed_records AS
    WITH pending AS (
      SELECT organization_id, mirror_id, jsonb_concat_agg(delta ORDER BY committed_at, id) AS delta
      FROM pfa_modification
      WHERE sync_state IN ('committed', 'syncing')
      GROUP BY organization_id, mirror_id
    )
    SELECT m.organization_id, m.id, m.category, m.source, m.dor, m.monthly_rate, m.purchase_price,
           m.original_start, m.original_end, m.forecast_start, m.forecast_end, m.actual_start, m.actual_end,
           m.is_actualized, m.is_discontinued
    FROM pfa_mirror m
    WHERE NOT EXISTS (SELECT 1 FROM pending p WHERE p.organization_id = m.organization_id AND p.mirror_id = m.id)
    UNION ALL
    SELECT m.organization_id, m.id, pfa_text(d -> 'category'), pfa_text(d -> 'source'), pfa_text(d -> 'dor'),
           pfa_money(d -> 'monthlyRate'), pfa_money(d -> 'purchasePrice'),
           pfa_date(d -> 'originalStart'), pfa_date(d -> 'originalEnd'),
           pfa_date(d -> 'forecastStart'), pfa_date(d -> 'forecastEnd'),
           pfa_date(d -> 'actualStart'), pfa_date(d -> 'actualEnd'),
           pfa_bool(d -> 'isActualized'), pfa_bool(d -> 'isDiscontinued')
    FROM pending p
    JOIN pfa_mirror m ON m.organization_id = p.organization_id AND m.id = p.mirror_id
    CROSS JOIN LATERAL (SELECT m.data || p.delta) AS x(d)`.execute(db);

  // KPI cache. group_key is never NULL (NULL categories form a group of their own), so it
  // carries the unique index REFRESH ... CONCURRENTLY needs. refresh_snapshot is the snapshot
  // the refresh read with: the service uses it to know exactly which commits the cache holds.
  await sql`
    CREATE MATERIALIZED VIEW pfa_kpi_summary AS
    SELECT organization_id, category, source, dor,
           jsonb_build_array(category, source, dor)::text AS group_key,
           sum(pfa_cost(source, original_start, original_end, monthly_rate, purchase_price)) AS total_plan_cost,
           sum(pfa_cost(source, forecast_start, forecast_end, monthly_rate, purchase_price)) AS total_forecast_cost,
           sum(CASE WHEN is_actualized THEN pfa_cost(source, actual_start, actual_end, monthly_rate, purchase_price) ELSE 0 END) AS total_actual_cost,
           sum(pfa_cost(source, forecast_start, forecast_end, monthly_rate, purchase_price)
               - pfa_cost(source, original_start, original_end, monthly_rate, purchase_price)) AS total_variance,
           count(*)::bigint AS record_count,
           count(*) FILTER (WHERE is_actualized)::bigint AS actualized_count,
           now() AS refreshed_at,
           pg_current_snapshot()::text AS refresh_snapshot
    FROM pfa_committed_records
    WHERE is_discontinued IS NOT TRUE
    GROUP BY organization_id, category, source, dor`.execute(db);
  await sql`CREATE UNIQUE INDEX uq_pfa_kpi_summary ON pfa_kpi_summary (organization_id, group_key)`.execute(
    db,
  );

  await sql`
    CREATE MATERIALIZED VIEW pfa_timeline_bounds AS
    SELECT organization_id,
           min(original_start) AS plan_start, max(original_end) AS plan_end,
           min(forecast_start) AS forecast_start, max(forecast_end) AS forecast_end,
           min(actual_start) FILTER (WHERE is_actualized) AS actual_start,
           max(actual_end) FILTER (WHERE is_actualized) AS actual_end,
           count(*)::bigint AS total_records,
           count(*) FILTER (WHERE is_actualized)::bigint AS actualized_records,
           now() AS refreshed_at,
           pg_current_snapshot()::text AS refresh_snapshot
    FROM pfa_committed_records
    WHERE is_discontinued IS NOT TRUE
    GROUP BY organization_id`.execute(db);
  await sql`CREATE UNIQUE INDEX uq_pfa_timeline_bounds ON pfa_timeline_bounds (organization_id)`.execute(db);

  // Refreshes both caches without blocking readers and records when. A materialized view that
  // has never been populated cannot be refreshed CONCURRENTLY, hence the first plain refresh.
  await sql`
    CREATE FUNCTION refresh_pfa_materialized_views() RETURNS timestamptz LANGUAGE plpgsql AS $$
    DECLARE
      started timestamptz := clock_timestamp();
    BEGIN
      IF (SELECT ispopulated FROM pg_matviews WHERE matviewname = 'pfa_kpi_summary' AND schemaname = current_schema()) THEN
        REFRESH MATERIALIZED VIEW CONCURRENTLY pfa_kpi_summary;
      ELSE
        REFRESH MATERIALIZED VIEW pfa_kpi_summary;
      END IF;
      IF (SELECT ispopulated FROM pg_matviews WHERE matviewname = 'pfa_timeline_bounds' AND schemaname = current_schema()) THEN
        REFRESH MATERIALIZED VIEW CONCURRENTLY pfa_timeline_bounds;
      ELSE
        REFRESH MATERIALIZED VIEW pfa_timeline_bounds;
      END IF;
      INSERT INTO pfa_view_refresh (refreshed_at, duration_ms)
      VALUES (now(), (extract(epoch FROM clock_timestamp() - started) * 1000)::int);
      RETURN now();
    END $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    'DROP FUNCTION IF EXISTS refresh_pfa_materialized_views()',
    'DROP MATERIALIZED VIEW IF EXISTS pfa_timeline_bounds',
    'DROP MATERIALIZED VIEW IF EXISTS pfa_kpi_summary',
    'DROP VIEW IF EXISTS pfa_committed_records',
    'DROP TABLE IF EXISTS pfa_view_refresh',
    'DROP TABLE IF EXISTS pfa_sync_log',
    'DROP TABLE IF EXISTS pfa_modification_archive',
    'DROP TABLE IF EXISTS pfa_modification_event',
    'DROP TABLE IF EXISTS pfa_modification',
    'DROP TYPE IF EXISTS pfa_sync_state',
    'DROP TABLE IF EXISTS pfa_session',
    'DROP TABLE IF EXISTS pfa_mirror_history',
    'DROP TABLE IF EXISTS pfa_mirror',
    'DROP FUNCTION IF EXISTS pfa_mirror_versioning()',
    'DROP TABLE IF EXISTS organization',
    'DROP AGGREGATE IF EXISTS jsonb_concat_agg(jsonb)',
    'DROP FUNCTION IF EXISTS pfa_search_text(text, jsonb)',
    'DROP FUNCTION IF EXISTS pfa_cost(text, date, date, numeric, numeric)',
    'DROP FUNCTION IF EXISTS pfa_date(jsonb)',
    'DROP FUNCTION IF EXISTS pfa_parse_date(text)',
    'DROP FUNCTION IF EXISTS pfa_bool(jsonb)',
    'DROP FUNCTION IF EXISTS pfa_money(jsonb)',
    'DROP FUNCTION IF EXISTS pfa_text(jsonb)',
  ]) {
    await sql.raw(statement).execute(db);
  }
}
