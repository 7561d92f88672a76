import { sql, type Kysely } from 'kysely';

/**
 * Makes the parse functions behind pfa_mirror's generated columns inlinable. Same results, row
 * for row (the stored columns need no rewrite); 10–20× cheaper writes of pfa_mirror.
 *
 * PostgreSQL inlines a scalar SQL function only when (among other rules) it is not STRICT with a
 * non-strict body such as CASE, and — when IMMUTABLE — its body calls no STABLE function. The
 * initial schema's functions broke one rule or the other: pfa_text/pfa_money/pfa_bool/pfa_date are
 * STRICT around a CASE, pfa_search_text calls concat_ws (STABLE), pfa_parse_date has a FROM
 * clause. Each call then ran through the SQL-function executor: ~100 µs for a date, so every
 * INSERT or UPDATE of a record spent ~1 ms in its generated columns (sync, import and seed ran at
 * 500–700 rows/s). Inlined, a whole record's columns cost ~60 µs.
 *
 * Every body below returns NULL for a NULL argument exactly as the STRICT version did (each CASE
 * falls through to NULL). pfa_parse_date keeps the full ISO-8601 parser as pfa_parse_date_general
 * and only adds a fast path for the plain YYYY-MM-DD form every PEMS date takes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION pfa_parse_date_general(s text) RETURNS date
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

  // Plain dates (the regex admits months 01–12 and days 01–31 only) are checked against the
  // month's length before make_date sees them; everything else takes the general parser.
  await sql`
    CREATE OR REPLACE FUNCTION pfa_parse_date(s text) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE
        WHEN s ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' THEN
          CASE WHEN substr(s, 1, 4)::int >= 1
                AND substr(s, 9, 2)::int <= extract(day FROM make_date(substr(s, 1, 4)::int, substr(s, 6, 2)::int, 1)
                                                             + interval '1 month' - interval '1 day')
            THEN make_date(substr(s, 1, 4)::int, substr(s, 6, 2)::int, substr(s, 9, 2)::int)
          END
        ELSE pfa_parse_date_general(s)
      END
    $$`.execute(db);

  await sql`
    CREATE OR REPLACE FUNCTION pfa_date(v jsonb) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN pfa_parse_date(v #>> '{}') END
    $$`.execute(db);

  await sql`
    CREATE OR REPLACE FUNCTION pfa_text(v jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN jsonb_typeof(v) IN ('string', 'number', 'boolean') THEN v #>> '{}' END
    $$`.execute(db);

  await sql`
    CREATE OR REPLACE FUNCTION pfa_money(v jsonb) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE jsonb_typeof(v)
        WHEN 'number' THEN CASE WHEN (v #>> '{}')::numeric >= 0 THEN (v #>> '{}')::numeric END
        WHEN 'string' THEN CASE WHEN (v #>> '{}') ~ '^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$' THEN (v #>> '{}')::numeric END
      END
    $$`.execute(db);

  await sql`
    CREATE OR REPLACE FUNCTION pfa_bool(v jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE
        WHEN jsonb_typeof(v) = 'boolean' THEN (v #>> '{}')::boolean
        WHEN jsonb_typeof(v) = 'string' AND lower(v #>> '{}') IN ('true', 'false') THEN lower(v #>> '{}')::boolean
      END
    $$`.execute(db);

  // concat_ws is STABLE; `E'\n' || NULL` is NULL, so coalesce(E'\n' || x, '') skips a missing
  // field exactly as concat_ws does and the text is byte for byte the same.
  await sql`
    CREATE OR REPLACE FUNCTION pfa_search_text(pfa_id text, data jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT lower(coalesce(pfa_id, '')
        || coalesce(E'\\n' || pfa_text(data -> 'category'), '') || coalesce(E'\\n' || pfa_text(data -> 'class'), '')
        || coalesce(E'\\n' || pfa_text(data -> 'manufacturer'), '') || coalesce(E'\\n' || pfa_text(data -> 'model'), '')
        || coalesce(E'\\n' || pfa_text(data -> 'equipment'), '') || coalesce(E'\\n' || pfa_text(data -> 'contract'), ''))
    $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION pfa_search_text(pfa_id text, data jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT lower(concat_ws(E'\\n', pfa_id, pfa_text(data -> 'category'), pfa_text(data -> 'class'),
        pfa_text(data -> 'manufacturer'), pfa_text(data -> 'model'), pfa_text(data -> 'equipment'),
        pfa_text(data -> 'contract')))
    $$`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION pfa_bool(v jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE
        WHEN jsonb_typeof(v) = 'boolean' THEN (v #>> '{}')::boolean
        WHEN jsonb_typeof(v) = 'string' AND lower(v #>> '{}') IN ('true', 'false') THEN lower(v #>> '{}')::boolean
      END
    $$`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION pfa_money(v jsonb) RETURNS numeric
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE jsonb_typeof(v)
        WHEN 'number' THEN CASE WHEN (v #>> '{}')::numeric >= 0 THEN (v #>> '{}')::numeric END
        WHEN 'string' THEN CASE WHEN (v #>> '{}') ~ '^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$' THEN (v #>> '{}')::numeric END
      END
    $$`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION pfa_text(v jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE WHEN jsonb_typeof(v) IN ('string', 'number', 'boolean') THEN v #>> '{}' END
    $$`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION pfa_date(v jsonb) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN pfa_parse_date(v #>> '{}') END
    $$`.execute(db);
  // The original body under its original name; then the general parser is no longer needed.
  await sql`
    CREATE OR REPLACE FUNCTION pfa_parse_date(s text) RETURNS date
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
  await sql`DROP FUNCTION IF EXISTS pfa_parse_date_general(text)`.execute(db);
}
