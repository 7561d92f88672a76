import { sql, type Kysely } from 'kysely';

/**
 * Text fields hold JSON strings only: a number or boolean where PEMS should send text is no value
 * (as for money and dates, a wrong type is missing). The TypeScript reader cannot reproduce
 * PostgreSQL's text of a JSON number (1250.50 vs 1250.5), so what the API shows and what filters
 * compare would otherwise differ. Rows holding such values are rewritten so their stored generated
 * columns follow (an UPDATE that keeps `data` bumps no version: the trigger compares data).
 *
 * Also: a timestamp whose UTC date falls before year 1 is no date (it came out as 0001 BC).
 */
const TEXT_KEYS = [
  'category',
  'class',
  'source',
  'dor',
  'areaSilo',
  'manufacturer',
  'model',
  'contract',
  'equipment',
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION pfa_text(v jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN v #>> '{}' END
    $$`.execute(db);
  await sql`ALTER FUNCTION pfa_parse_date_general(text) RENAME TO pfa_parse_date_any_era`.execute(db);
  await sql`
    CREATE FUNCTION pfa_parse_date_general(s text) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT CASE WHEN d >= DATE '0001-01-01' THEN d END FROM pfa_parse_date_any_era(s) AS t(d)
    $$`.execute(db);
  await rewriteNonStringTexts(db);
}

async function rewriteNonStringTexts(db: Kysely<unknown>): Promise<void> {
  const conditions = TEXT_KEYS.map((k) => sql`jsonb_typeof(data -> ${sql.lit(k)}) IN ('number', 'boolean')`);
  await sql`UPDATE pfa_mirror SET data = data WHERE ${sql.join(conditions, sql` OR `)}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION pfa_parse_date_general(text)`.execute(db);
  await sql`ALTER FUNCTION pfa_parse_date_any_era(text) RENAME TO pfa_parse_date_general`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION pfa_text(v jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT CASE WHEN jsonb_typeof(v) IN ('string', 'number', 'boolean') THEN v #>> '{}' END
    $$`.execute(db);
  await rewriteNonStringTexts(db);
}
