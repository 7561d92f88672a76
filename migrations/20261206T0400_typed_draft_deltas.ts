import { sql, type Kysely } from 'kysely';

/**
 * The dates and money of a modification's delta, parsed once when the delta is written.
 *
 * Every read with a session lays the session's drafts over "theirs": each key of the delta is
 * parsed by the mirror's own parse function (pfa_date, pfa_money, …). A date costs ~3 µs to parse
 * (the inlined pfa_date extracts the JSON string at each use, then a regular expression and
 * make_date): with 50 drafts moving forecast dates, a KPI summary parsed 100 dates and a grid
 * page filtered 50 drafts on parsed dates, every request (measured 2026-12-06 with pgbench on the
 * 1M-record benchmark database: the KPI statement with a session ran at 1,672 tps on two cores
 * parsing, 2,571 tps reading the typed values).
 *
 * The four editable keys whose parsing costs are stored beside the delta as generated columns,
 * computed by the same functions as the mirror's columns, so they are equal by construction and
 * no writer can forget them. The cheap keys (text, booleans) and the keys a draft cannot hold
 * (PEMS-owned dates) are still parsed at read time, where they are present. Writing costs ~3 µs
 * per date the delta holds.
 */
/**
 * pfa_date(delta -> key), written out: pfa_date inlined reads `(delta -> key) #>> '{}'` at each of
 * its uses of the string, `delta ->> key` is one lookup (the same text for a JSON string). 95
 * instead of 125 ms per 20,000 rows with two dates (INSERT, 2026-12-06).
 */
function dateOf(key: string) {
  return sql`CASE WHEN jsonb_typeof(delta -> ${sql.lit(key)}) = 'string' THEN pfa_parse_date(delta ->> ${sql.lit(key)}) END`;
}

const TYPED = [
  ['delta_monthly_rate', 'numeric', sql`pfa_money(delta -> 'monthlyRate')`],
  ['delta_purchase_price', 'numeric', sql`pfa_money(delta -> 'purchasePrice')`],
  ['delta_forecast_start', 'date', dateOf('forecastStart')],
  ['delta_forecast_end', 'date', dateOf('forecastEnd')],
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  // One ALTER TABLE: the table is rewritten once for the four columns.
  await sql`ALTER TABLE pfa_modification ${sql.join(
    TYPED.map(
      ([column, type, expr]) =>
        sql`ADD COLUMN ${sql.ref(column)} ${sql.raw(type)} GENERATED ALWAYS AS (${expr}) STORED`,
    ),
  )}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE pfa_modification ${sql.join(
    TYPED.map(([column]) => sql`DROP COLUMN IF EXISTS ${sql.ref(column)}`),
  )}`.execute(db);
}
