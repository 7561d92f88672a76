import { sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import type { Db } from '../db/database.js';
import { DAYS_PER_MONTH } from '../domain/costs.js';
import { csvCell, type ExportRecord } from '../domain/export-format.js';
import { RECORD_FIELDS } from '../domain/record-fields.js';
import {
  compileFilter,
  mergedSource,
  type MergeScope,
  type Ordering,
  type RecordFilter,
} from './record-query.js';

/**
 * Rows one FETCH returns: enough to amortise the round trip, small enough for constant memory
 * (a row is one finished line, a few hundred bytes).
 */
export const EXPORT_BATCH = 1000;

/** A batch of the export: its rows' finished lines, concatenated. */
export interface ExportChunk {
  text: string;
  /** Rows in `text`; 0 when the export is complete. */
  rows: number;
}

/** An open export: the first batch is already read (so a failing query fails before any byte). */
export interface ExportCursor {
  first: ExportChunk;
  /** The next batch; `rows` 0 when the export is complete. */
  next(): Promise<ExportChunk>;
  /** Ends the transaction and gives the connection back (discarded when `failed`). */
  close(failed?: unknown): Promise<void>;
}

export interface ExportShape {
  format: 'csv' | 'ndjson';
  /** EXPORT_FIELDS names, in output order. */
  fields: readonly string[];
}

/**
 * Writes the line of a record PostgreSQL leaves to JavaScript: one whose numbers it cannot write
 * exactly as JavaScript does (a monthly rate above 7.5e10, a purchase price from 2^53, a money
 * value below 1e-300 but not 0, a date past 9999-12-31: see MONEY_RANGE). The export format's own
 * writer (src/domain/export-format.ts).
 */
export type RecordWriter = (record: ExportRecord) => string;

/** A field's value in one line: its CSV cell and its JSON value (each NULL for null). */
interface Cell {
  csv: RawBuilder<unknown>;
  json: RawBuilder<unknown>;
  /** A text column: written as is when no text of the row needs quoting or escaping. */
  text?: RawBuilder<unknown>;
}

/** Characters that make a CSV cell quoted (csvCell) or a JSON string escaped (JSON.stringify). */
const SPECIAL = { csv: sql`'[",\\r\\n]'`, ndjson: sql`'[\\x01-\\x1f"\\\\]'` };

/**
 * RFC 4180 as csvCell writes it: quoted (quotes doubled) when the text holds , " CR or LF. Four
 * strpos are cheaper than a regular expression per cell.
 */
function textCell(x: RawBuilder<unknown>): Cell {
  return {
    csv: sql`CASE WHEN strpos(${x}, ',') > 0 OR strpos(${x}, '"') > 0 OR strpos(${x}, E'\\r') > 0 OR strpos(${x}, E'\\n') > 0
                  THEN '"' || replace(${x}, '"', '""') || '"' ELSE ${x} END`,
    // to_json escapes exactly the characters JSON.stringify escapes (" \ and controls, \u00xx).
    json: sql`to_json(${x})::text`,
    text: x,
  };
}

/** Integers and booleans: their text is the same in CSV, JSON and JavaScript. */
function plainCell(x: RawBuilder<unknown>): Cell {
  return { csv: sql`${x}::text`, json: sql`${x}::text` };
}

/** A date: YYYY-MM-DD (DateStyle ISO is set for the export's transaction). */
function dateCell(x: RawBuilder<unknown>): Cell {
  return { csv: sql`${x}::text`, json: sql`'"' || ${x}::text || '"'` };
}

/** An instant as Date.toISOString writes it: UTC, milliseconds (truncated, as the driver reads them). */
function instantCell(x: RawBuilder<unknown>): Cell {
  const iso = sql`to_char(${x} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  return { csv: iso, json: sql`'"' || ${iso} || '"'` };
}

/**
 * A double (float8) written as JavaScript writes the same double. float8 text (with
 * extra_float_digits = 1, set for the transaction) has JavaScript's shortest round-trip digits
 * (below 2^53: see MONEY_RANGE) but uses an exponent below 1e-4 and from 1e15 on (`1.5e-07`,
 * `1e+15`); there
 * - CSV wants a plain decimal (plainNumber): numeric input takes the exponent and numeric output
 *   writes the same digits plainly;
 * - JSON wants String(n): plain from 1e-6 up to 1e21, else an exponent without zero padding.
 * 0 is written `0` (never `-0`, as JavaScript).
 */
function numberCell(x: RawBuilder<unknown>): Cell {
  const plainInFloat8 = sql`(abs(${x}) >= 1e-4::float8 AND abs(${x}) < 1e15::float8)`;
  return {
    csv: sql`CASE WHEN ${x} = 0 THEN '0' WHEN ${plainInFloat8} THEN ${x}::text ELSE ${x}::text::numeric::text END`,
    json: sql`CASE WHEN ${x} = 0 THEN '0' WHEN ${plainInFloat8} THEN ${x}::text
                   WHEN abs(${x}) >= 1e-6::float8 AND abs(${x}) < 1e21::float8 THEN ${x}::text::numeric::text
                   ELSE regexp_replace(${x}::text, 'e([+-])0+', 'e\\1') END`,
  };
}

/** Cost between two dates of the record by DOMAIN §2 in doubles, operation for operation as costs.ts. */
function costOver(start: string, end: string): RawBuilder<unknown> {
  const s = sql.ref(`r.${start}`);
  const e = sql.ref(`r.${end}`);
  return sql`CASE WHEN r.source = 'Purchase' THEN coalesce(r.x_price, 0::float8)
                  WHEN ${s} IS NULL OR ${e} IS NULL OR r.x_rate IS NULL THEN 0::float8
                  ELSE (greatest(0, ${e} - ${s})::float8 / ${sql.lit(DAYS_PER_MONTH)}::float8) * r.x_rate END`;
}

/** The costs level 2 computes (as column x_plan, x_forecast, x_actual); variance is forecast − plan. */
const COSTS = [
  { column: 'x_plan', expr: costOver('original_start', 'original_end'), for: ['planCost', 'variance'] },
  {
    column: 'x_forecast',
    expr: costOver('forecast_start', 'forecast_end'),
    for: ['forecastCost', 'variance'],
  },
  {
    column: 'x_actual',
    expr: sql`CASE WHEN r.is_actualized THEN ${costOver('actual_start', 'actual_end')} ELSE 0::float8 END`,
    for: ['actualCost'],
  },
];

/**
 * Where a money value can go through PostgreSQL's doubles and come out as JavaScript writes it:
 * 0, or from 1e-300 (no underflow anywhere in the cost arithmetic) up to `max`. Below 2^53 float8
 * text has exactly JavaScript's shortest digits; above, PostgreSQL's shortest-digit search skips a
 * candidate lying exactly halfway between two doubles, which JavaScript takes (6.71385354e19 comes
 * out 6.7138535399999996e+19). A purchase price is itself the cost; a monthly rate is multiplied
 * by at most 3,652,058 days / 30.44 (0001-01-01 to 9999-12-31), so up to 7.5e10 every cost stays
 * below 2^53. Records outside take the JavaScript writer.
 */
const MONEY_RANGE = { monthly_rate: '75000000000', purchase_price: '9007199254740991' } as const;

const moneyInRange = (column: keyof typeof MONEY_RANGE): RawBuilder<unknown> => {
  const m = sql.ref(`r.${column}`);
  return sql`(${m} = 0 OR (${m} >= 1e-300 AND ${m} <= ${sql.raw(MONEY_RANGE[column])}))`;
};

/**
 * A money column as the double JavaScript reads from the same JSON (numeric → float8 rounds the
 * same decimal text the same way); NULL when missing or out of range.
 */
const money = (column: keyof typeof MONEY_RANGE): RawBuilder<unknown> =>
  sql`CASE WHEN ${moneyInRange(column)} THEN ${sql.ref(`r.${column}`)}::float8 END`;

const DATE_COLUMNS = RECORD_FIELDS.filter((f) => f.type === 'date').map((f) => sql.ref(`r.${f.column}`));

/** The cell of every exportable field on the innermost derived table `r` (see `exportQuery`). */
function cellOf(field: string, viewKey: string): Cell {
  switch (field) {
    case 'id':
      return { csv: sql`r.id::text`, json: sql`'"' || r.id::text || '"'` };
    case 'viewKey':
      return { csv: sql`${csvCell(viewKey)}::text`, json: sql`${JSON.stringify(viewKey)}::text` };
    case 'organizationId':
      return textCell(sql.ref('r.organization_id'));
    case 'pfaId':
      return textCell(sql.ref('r.pfa_id'));
    case 'version':
      return plainCell(sql.ref('r.version'));
    case 'pemsVersion':
      return textCell(sql.ref('r.pems_version'));
    case 'lastSyncedAt':
      return instantCell(sql.ref('r.last_synced_at'));
    case 'removedFromPemsAt':
      return instantCell(sql.ref('r.removed_from_pems_at'));
    case 'planCost':
      return numberCell(sql.ref('r.x_plan'));
    case 'forecastCost':
      return numberCell(sql.ref('r.x_forecast'));
    case 'actualCost':
      return numberCell(sql.ref('r.x_actual'));
    case 'variance':
      return numberCell(sql`(r.x_forecast - r.x_plan)`);
    case 'forecastSlipDays':
      return plainCell(sql`(r.forecast_end - r.original_end)`);
    case 'startSlipDays':
      return plainCell(sql`(r.forecast_start - r.original_start)`);
    case 'forecastDurationDays':
      return plainCell(sql`(r.forecast_end - r.forecast_start)`);
    case 'planDurationDays':
      return plainCell(sql`(r.original_end - r.original_start)`);
  }
  const spec = RECORD_FIELDS.find((f) => f.key === field);
  if (!spec) throw new Error(`not an export field: ${field}`);
  const column = sql.ref(`r.${spec.column}`);
  switch (spec.type) {
    case 'text':
      return textCell(column);
    case 'money':
      return numberCell(sql.ref(spec.column === 'monthly_rate' ? 'r.x_rate' : 'r.x_price'));
    case 'date':
      return dateCell(column);
    case 'boolean':
      return plainCell(column);
  }
}

/**
 * The export as one text column per row, finished by PostgreSQL (the driver then parses nothing:
 * no JSON document, no dates, no numbers), plus the record as JSON for the rare row it cannot
 * write (`RecordWriter`). Three levels, the inner two with `OFFSET 0` so PostgreSQL keeps each a
 * separate subquery and computes its values once per row instead of inlining them into every use:
 *   1. the merged view, filtered, with the money columns as doubles and the in-range check;
 *   2. the costs (doubles) from those, whether the row's texts need quoting or escaping, and the
 *      record for JavaScript when out of range (so the sort never carries the JSON document);
 *   3. the line, in the requested order (PostgreSQL writes it after the sort, as rows are fetched).
 */
export function exportQuery(
  scope: MergeScope,
  filter: RecordFilter | null,
  ordering: Ordering,
  shape: ExportShape,
): RawBuilder<unknown> {
  const viewKey = scope.sessionId === null ? 'base' : `session:${scope.sessionId}`;
  const typed = RECORD_FIELDS.map((f) => sql.ref(`r.${f.column}`));
  const inRange = sql`(r.monthly_rate IS NULL OR ${moneyInRange('monthly_rate')})
    AND (r.purchase_price IS NULL OR ${moneyInRange('purchase_price')})
    AND coalesce(greatest(${sql.join(DATE_COLUMNS)}) <= DATE '9999-12-31', true)`;
  const merged = sql`
    SELECT r.id, r.organization_id, r.pfa_id, r.version, r.pems_version, r.last_synced_at,
           r.removed_from_pems_at, r.data, ${sql.join(typed)},
           ${money('monthly_rate')} AS x_rate, ${money('purchase_price')} AS x_price, ${inRange} AS x_in_range
    FROM ${mergedSource(scope)}
    WHERE ${compileFilter(filter)}
    OFFSET 0`;
  const cells = shape.fields.map((f) => cellOf(f, viewKey));
  const texts = cells.flatMap((c) => (c.text ? [c.text] : []));
  // Whether the row's texts can go out bare: one regular expression over all of them (their
  // concatenation), instead of a quoting test per cell.
  const plain = texts.length ? sql`(concat(${sql.join(texts)}) !~ ${SPECIAL[shape.format]})` : sql`true`;
  const iso = (x: string) => sql`to_char(${sql.ref(x)} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const record = sql`CASE WHEN NOT r.x_in_range THEN json_build_array(r.id::text, r.organization_id, r.pfa_id,
    r.version, r.pems_version, ${iso('r.last_synced_at')}, ${iso('r.removed_from_pems_at')}, r.data) END`;
  const costs = COSTS.filter((c) => c.for.some((f) => shape.fields.includes(f)));
  const computed = sql.join([
    ...costs.map((c) => sql`${c.expr} AS ${sql.ref(c.column)}`),
    sql`${plain} AS x_plain`,
    sql`${record} AS x_record`,
  ]);
  const source = sql`(SELECT r.*, ${computed} FROM (${merged}) AS r OFFSET 0) AS r`;

  const join = (parts: RawBuilder<unknown>[]) => sql.join(parts, sql` || `);
  const line = (bare: boolean) =>
    shape.format === 'csv'
      ? join([
          ...cells.flatMap((c, i) => [
            ...(i ? [sql`','`] : []),
            sql`coalesce(${bare && c.text ? c.text : c.csv}, '')`,
          ]),
          sql`E'\\r\\n'`,
        ])
      : join([
          ...cells.map(
            (c, i) =>
              sql`${sql.lit(`${i ? ',' : '{'}${JSON.stringify(shape.fields[i])}:`)} || coalesce(${
                bare && c.text ? sql`'"' || ${c.text} || '"'` : c.json
              }, 'null')`,
          ),
          sql`E'}\\n'`,
        ]);
  return sql`
    SELECT CASE WHEN r.x_record IS NULL THEN
             ${texts.length ? sql`CASE WHEN r.x_plain THEN ${line(true)} ELSE ${line(false)} END` : line(false)}
           END AS line,
           r.x_record AS record
    FROM ${source}
    ORDER BY ${ordering.orderBy}`;
}

type Raw = [
  string | null,
  [string, string, string, number, string | null, string, string | null, Record<string, unknown>] | null,
];

/**
 * The merged view (the same relation, filter and order as `pfaRecords`) streamed through a
 * server-side cursor: `DECLARE … NO SCROLL CURSOR` in a read-only transaction on a dedicated
 * connection, then `FETCH n` batches. Parameters stay bound (COPY could not take them), memory
 * stays at one batch, and PostgreSQL produces rows — finished lines — as they are fetched.
 */
export class ExportRepository {
  constructor(
    private readonly db: Db,
    private readonly pool: pg.Pool,
  ) {}

  async open(
    scope: MergeScope,
    filter: RecordFilter | null,
    ordering: Ordering,
    shape: ExportShape,
    writeRecord: RecordWriter,
    batch = EXPORT_BATCH,
  ): Promise<ExportCursor> {
    const query = exportQuery(scope, filter, ordering, shape).compile(this.db);
    const client = await this.pool.connect();
    let released = false;
    const release = (failed?: unknown) => {
      if (released) return;
      released = true;
      client.release(failed instanceof Error ? failed : failed ? new Error(String(failed)) : undefined);
    };
    const sessionId = scope.sessionId;
    let exhausted = false;
    const toLine = ([line, r]: Raw): string => {
      if (line !== null) return line;
      if (!r) throw new Error('export row with neither line nor record');
      return writeRecord({
        id: r[0],
        organizationId: r[1],
        pfaId: r[2],
        version: r[3],
        pemsVersion: r[4],
        lastSyncedAt: new Date(r[5]),
        removedFromPemsAt: r[6] === null ? null : new Date(r[6]),
        sessionId,
        data: r[7],
      });
    };
    /**
     * One FETCH, its rows taken as they arrive ('row' events) instead of collected in the
     * driver's result. Rows collected there were promoted to V8's old generation by young
     * collections (180 of 306 MB allocated over three 200K-row reads, against 2-14 MB with row
     * events) and piled up as garbage until a full collection: tens of MB of RSS per export.
     */
    const fetch = (): Promise<ExportChunk> => {
      if (exhausted) return Promise.resolve({ text: '', rows: 0 });
      return new Promise((resolve, reject) => {
        const lines: string[] = [];
        let failed: unknown = null;
        const config: pg.QueryArrayConfig = { text: `FETCH ${batch} FROM pfa_export`, rowMode: 'array' };
        const query = new pg.Query<Raw>(config);
        query.on('row', (row: Raw) => {
          if (failed) return;
          try {
            lines.push(toLine(row));
          } catch (e) {
            failed = e; // thrown here it would escape into the driver's socket handler
          }
        });
        query.on('error', reject);
        query.on('end', () => {
          if (failed) return reject(failed instanceof Error ? failed : new Error(String(failed)));
          if (lines.length < batch) exhausted = true;
          // join copies the lines once into one flat string (`+=` would build a rope, copied
          // again when written).
          resolve({ text: lines.join(''), rows: lines.length });
        });
        void client.query(query);
      });
    };
    try {
      // The text forms the lines rely on, whatever the server's or role's defaults.
      await client.query('BEGIN READ ONLY; SET LOCAL DateStyle = ISO; SET LOCAL extra_float_digits = 1');
      await client.query(`DECLARE pfa_export NO SCROLL CURSOR FOR ${query.sql}`, [...query.parameters]);
      const first = await fetch();
      return {
        first,
        next: fetch,
        async close(failed) {
          if (released) return;
          if (failed) return release(failed);
          try {
            await client.query('COMMIT');
            release();
          } catch (e) {
            release(e);
          }
        },
      };
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      release(e);
      throw e;
    }
  }
}
