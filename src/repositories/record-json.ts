import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { precompiled } from '../db/precompiled.js';
import { DAYS_PER_MONTH } from '../domain/costs.js';
import { RECORD_FIELDS, type FieldType } from '../domain/record-fields.js';
import { MAX_DATE, MIN_DATE } from '../domain/values.js';

/**
 * A page's records written as JSON by PostgreSQL (issue 11): for a `pfaRecords { nodes { … } }`
 * selection of plain fields, each record untouched by any modification comes as one JSON object
 * text with the selected fields under their response keys, in selection order — exactly the text
 * graphql-js would write for it — and goes into the answer as it is (src/graphql/raw-json.ts).
 * Nothing is parsed into JS values, completed field by field and stringified again.
 *
 * "Exactly" is kept by reading the same stored values the resolvers read and writing them the way
 * JSON.stringify does:
 *
 * - text: PostgreSQL's JSON string escaping is JSON.stringify's (`\"`, `\\`, `\b \f \n \r \t`,
 *   other control characters as lower-case `\u00xx`, everything else as is; text holds no NUL);
 * - money and costs: the resolvers give `Number(numeric text)` and cost arithmetic in doubles.
 *   PostgreSQL's `numeric::float8` rounds the same decimal to the same double, its float8
 *   arithmetic is the same IEEE arithmetic done in the same order (costs.ts), and with
 *   `extra_float_digits` > 0 (the default) float8 prints the shortest round-trip digits, as
 *   JavaScript does — in the same notation for magnitudes in [1e-4, 1e15) and zero. `+ 0` turns
 *   a −0 (0 × a negative rate) into 0, which is what JSON.stringify writes for −0. Money
 *   beyond what float8 takes or computes with (moneyFits) is never cast: it marks the record;
 * - dates: JSON dates are ISO `YYYY-MM-DD` whatever DateStyle says, for years 1–9999;
 * - integers and booleans as such.
 *
 * A record with a value outside those ranges (or a server with `extra_float_digits` ≤ 0) gets a
 * NULL instead of its text, and the reader reads the page again the ordinary way.
 */

/** A field a projected page can carry: how its value is written, and when that is exact. */
interface Projection {
  /** Over `r` (the record's stored columns) and `node_values` (its money and costs as float8). */
  value: RawBuilder<unknown>;
  /** When the JSON text is exactly graphql-js's; omitted: always. */
  exact?: RawBuilder<SqlBool>;
  /** Does it write a float (then the server's float output setting matters, and node_values is read)? */
  float?: boolean;
}

const col = (column: string): RawBuilder<unknown> => sql.ref(`r.${column}`);
const nv = (column: string): RawBuilder<unknown> => sql.ref(`node_values.${column}`);

/**
 * Money float8 takes, with every cost of it: 0 or within [1e-300, 1e300], compared as numeric.
 * Beyond a double's range `numeric::float8` is an error (JavaScript reads Infinity, or 0), and so
 * is float8 arithmetic whose result overflows or underflows to 0 (a cost is the money times at
 * most ~1.2e5 and at least 1/30.44, or the price itself). Any other money marks the record
 * inexact (its page is read the ordinary way) and is never cast: no error fails the page.
 */
const moneyFits = (column: string): RawBuilder<SqlBool> =>
  sql<SqlBool>`(${col(column)} IS NULL OR ${col(column)} = 0 OR ${col(column)} BETWEEN 1e-300 AND 1e300)`;

/**
 * A date JSON writes as graphql-js does (YYYY-MM-DD), and that TypeScript counts days from: a
 * later one (a PEMS timestamp with an offset can give 10000-01-01) makes daysBetween NaN there,
 * so its slips and costs are marked too.
 */
const dateFits = (column: string): RawBuilder<SqlBool> =>
  sql<SqlBool>`(${col(column)} IS NULL OR ${col(column)} BETWEEN ${sql.lit(MIN_DATE)}::date AND ${sql.lit(MAX_DATE)}::date)`;
const datesFit = (...columns: string[]): RawBuilder<SqlBool> =>
  sql<SqlBool>`(${sql.join(columns.map(dateFits), sql` AND `)})`;

/** A float8 JSON writes as JSON.stringify does (shortest digits, same notation): 0, or [1e-4, 1e15). */
const floatFits = (e: RawBuilder<unknown>): RawBuilder<SqlBool> =>
  sql<SqlBool>`(${e} IS NULL OR ${e} = 0 OR (abs(${e}) >= 1e-4 AND abs(${e}) < 1e15))`;

/** The money as float8 where it fits (`fits` flags from the inner level), else NULL. */
const money = (column: string): RawBuilder<unknown> =>
  sql`(CASE WHEN f.${sql.raw(column)}_fits THEN ${col(column)}::float8 END)`;

/**
 * costs.ts `costOver` in float8, operation for operation: purchases cost their price (0 when
 * missing); rentals `(max(0, end − start) / DAYS_PER_MONTH) × rate`, 0 when a date or the rate
 * is missing.
 */
const costOver = (start: string, end: string): RawBuilder<unknown> => sql`(CASE
    WHEN r.source = 'Purchase' THEN coalesce(${money('purchase_price')}, 0::float8)
    WHEN ${col(start)} IS NULL OR ${col(end)} IS NULL OR r.monthly_rate IS NULL THEN 0::float8
    ELSE (greatest(0, ${col(end)} - ${col(start)})::float8 / ${sql.lit(String(DAYS_PER_MONTH))}::float8) * ${money('monthly_rate')}
  END)`;

/**
 * A record's money and costs as float8, each computed once (`node_values`): the checks of a field
 * and its value read them instead of repeating the casts and the cost arithmetic (measured on
 * 1,000 grid rows of 20 fields: 7.8 ms with every expression repeated, 5.4 ms so). OFFSET 0 keeps
 * each level a subquery of its own, evaluated once per record, not inlined into every reference.
 */
const NODE_VALUES = sql`CROSS JOIN LATERAL (
    SELECT f.monthly_rate_fits, f.purchase_price_fits,
           ${money('monthly_rate')} AS rate, ${money('purchase_price')} AS price,
           ${costOver('original_start', 'original_end')} AS plan,
           ${costOver('forecast_start', 'forecast_end')} AS forecast,
           (CASE WHEN r.is_actualized THEN ${costOver('actual_start', 'actual_end')} ELSE 0::float8 END) AS actual
    FROM (SELECT ${moneyFits('monthly_rate')} AS monthly_rate_fits, ${moneyFits('purchase_price')} AS purchase_price_fits
          OFFSET 0) f
    OFFSET 0) AS node_values`;

/** A double of node_values, written the way JSON.stringify writes it (+ 0 turns −0 into 0). */
const float = (e: RawBuilder<unknown>, fits: RawBuilder<SqlBool>): Projection => ({
  value: sql`(${e} + 0::float8)`,
  exact: sql<SqlBool>`(${fits} AND ${floatFits(e)})`,
  float: true,
});
const PRICING_FITS = sql<SqlBool>`(${nv('monthly_rate_fits')} AND ${nv('purchase_price_fits')})`;
const cost = (e: RawBuilder<unknown>, ...dates: string[]): Projection =>
  float(e, sql<SqlBool>`(${PRICING_FITS} AND ${datesFit(...dates)})`);

const MONEY_VALUE: Readonly<Record<string, string>> = { monthly_rate: 'rate', purchase_price: 'price' };

const BY_TYPE: Readonly<Record<FieldType, (column: string) => Projection>> = {
  text: (c) => ({ value: col(c) }),
  boolean: (c) => ({ value: col(c) }),
  money: (c) => float(nv(MONEY_VALUE[c] as string), sql<SqlBool>`${nv(`${c}_fits`)}`),
  date: (c) => ({ value: col(c), exact: dateFits(c) }),
};

const daysBetween = (later: string, earlier: string): Projection => ({
  value: sql`(${col(later)} - ${col(earlier)})`,
  exact: datesFit(later, earlier),
});

const PROJECTIONS: Readonly<Record<string, Projection>> = {
  id: { value: sql`r.id::text` },
  organizationId: { value: col('organization_id') },
  pfaId: { value: col('pfa_id') },
  ...Object.fromEntries(RECORD_FIELDS.map((f) => [f.key, BY_TYPE[f.type](f.column)])),
  version: { value: col('version') },
  pemsVersion: { value: col('pems_version') },
  planCost: cost(nv('plan'), 'original_start', 'original_end'),
  forecastCost: cost(nv('forecast'), 'forecast_start', 'forecast_end'),
  actualCost: cost(nv('actual'), 'actual_start', 'actual_end'),
  variance: cost(
    sql`(${nv('forecast')} - ${nv('plan')})`,
    'original_start',
    'original_end',
    'forecast_start',
    'forecast_end',
  ),
  forecastSlipDays: daysBetween('forecast_end', 'original_end'),
  startSlipDays: daysBetween('forecast_start', 'original_start'),
  forecastDurationDays: daysBetween('forecast_end', 'forecast_start'),
  planDurationDays: daysBetween('original_end', 'original_start'),
};

/**
 * The PfaRecord fields a projected page can carry (besides `__typename` and `viewKey`, which
 * are the same for every record of a page). The others (`data`, `organization`, `draft`,
 * `history`, the timestamps) send the page the ordinary way.
 */
export const PROJECTABLE_FIELDS: ReadonlySet<string> = new Set([
  ...Object.keys(PROJECTIONS),
  '__typename',
  'viewKey',
]);

/** One selected field of a projected page: its response key and the PfaRecord field. */
export interface ProjectedField {
  key: string;
  field: string;
}

/**
 * The JSON object text of a record of the merged relation `r` (its stored typed columns), with
 * the given fields under their keys in order: `value`, NULL where that text would not be exact,
 * to be selected from `r ${join}`. `viewKey` is the page's own constant (the session's view).
 *
 * The join is a LATERAL subquery without FROM, which PostgreSQL pulls up into the query:
 * row_to_json then reads one row of named values per record (compact JSON, keys in column order)
 * without a subplan per record (measured on 1,000 grid rows: 3.5 ms as a join, 3.7 ms as a
 * scalar subquery, against 0.65 ms for the same columns unconverted).
 */
export function recordJson(
  fields: readonly ProjectedField[],
  viewKey: string,
): { join: RawBuilder<unknown>; value: RawBuilder<string | null> } {
  const signature = fields.map((f) => `${f.key}:${f.field}`).join(',');
  let shape = SHAPES.get(signature);
  if (!shape) {
    shape = shapeOf(fields);
    if (SHAPES.size >= MAX_SHAPES) SHAPES.clear();
    SHAPES.set(signature, shape);
  }
  // The constant parts compiled once per selection (src/db/precompiled.ts); viewKey, the page's
  // only value, stays a parameter.
  const columns = shape.columns.map((c) => (c === VIEW_KEY ? sql`${viewKey}::text` : c));
  return {
    join: sql`${shape.values ? NODE_VALUES_TEXT : sql``} CROSS JOIN LATERAL (SELECT ${sql.join(columns, sql``)}) AS node_fields`,
    value: shape.value,
  };
}

/** Compiled selections, by their fields (a client's few shapes; cleared when there are many). */
const SHAPES = new Map<string, Shape>();
interface Shape {
  columns: (RawBuilder<unknown> | typeof VIEW_KEY)[];
  value: RawBuilder<string | null>;
  /** Does it read node_values (money or costs selected)? */
  values: boolean;
}
const NODE_VALUES_TEXT = precompiled(NODE_VALUES);
const MAX_SHAPES = 500;
/** Where the page's viewKey goes in a compiled column list. */
const VIEW_KEY = Symbol('viewKey');

function shapeOf(fields: readonly ProjectedField[]): Shape {
  // Column list text in runs between the viewKey parameters: [run, VIEW_KEY, run, …].
  const columns: (RawBuilder<unknown> | typeof VIEW_KEY)[] = [];
  let run: RawBuilder<unknown>[] = [];
  const flush = (last: boolean) => {
    if (run.length > 0) columns.push(precompiled(sql.join(run, sql``)));
    run = [];
    if (!last) columns.push(VIEW_KEY);
  };
  const exact: RawBuilder<SqlBool>[] = [];
  let floats = false;
  fields.forEach(({ key, field }, i) => {
    const comma = i === 0 ? sql`` : sql`, `;
    if (field === 'viewKey') {
      run.push(comma);
      flush(false);
      run.push(sql` AS ${sql.ref(key)}`);
      return;
    }
    if (field === '__typename') {
      run.push(sql`${comma}'PfaRecord'::text AS ${sql.ref(key)}`);
      return;
    }
    const projection = PROJECTIONS[field];
    if (!projection) throw new Error(`recordJson: ${field} is not projectable`);
    run.push(sql`${comma}${projection.value} AS ${sql.ref(key)}`);
    if (projection.exact) exact.push(projection.exact);
    floats ||= projection.float === true;
  });
  flush(true);
  if (floats) exact.push(FLOAT_OUTPUT_EXACT);
  // `node_fields.*`, not `node_fields`: a bare name is a column first, and a client may name a
  // response key `node_fields` (row_to_json of that value is no function).
  const json = sql<string>`row_to_json(node_fields.*)::text`;
  return {
    columns,
    values: floats,
    value: precompiled<string | null>(
      exact.length === 0 ? json : sql`CASE WHEN ${sql.join(exact, sql` AND `)} THEN ${json} END`,
    ),
  };
}

/** Floats print the shortest round-trip digits only with extra_float_digits > 0 (the default). */
const FLOAT_OUTPUT_EXACT = sql<SqlBool>`current_setting('extra_float_digits')::int > 0`;
