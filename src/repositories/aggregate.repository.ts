import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { Db } from '../db/database.js';
import {
  compileFilter,
  fieldExpr,
  mergedBranches,
  mergedSource,
  type MergeScope,
  type RecordFilter,
} from './record-query.js';

/** Text fields whose values can be listed (GraphQL `PfaValueField`), by record key. */
export const VALUE_FIELDS = [
  'category',
  'class',
  'source',
  'dor',
  'areaSilo',
  'manufacturer',
  'model',
  'contract',
  'equipment',
] as const;
export type ValueField = (typeof VALUE_FIELDS)[number];

/** Group keys of `pfaAggregate` (GraphQL `PfaGroupBy`), by output field. */
export const GROUP_KEYS = [
  'category',
  'class',
  'source',
  'dor',
  'areaSilo',
  'manufacturer',
  'model',
  'forecastStartMonth',
  'forecastStartYear',
] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

const groupExpr = (key: GroupKey): RawBuilder<unknown> => {
  switch (key) {
    case 'forecastStartMonth':
      return sql`to_char(r.forecast_start, 'YYYY-MM')`;
    case 'forecastStartYear':
      return sql`extract(year FROM r.forecast_start)::int`;
    default:
      return fieldExpr(key);
  }
};

/** Grouped keys of one row (only those asked for); the year is a number, the others text. */
export type AggregateKeys = { [K in Exclude<GroupKey, 'forecastStartYear'>]?: string | null } & {
  forecastStartYear?: number | null;
};

export interface AggregateRow {
  keys: AggregateKeys;
  recordCount: number;
  actualizedCount: number;
  totalPlanCost: number;
  totalForecastCost: number;
  totalActualCost: number;
  totalVariance: number;
  minForecastStart: string | null;
  maxForecastEnd: string | null;
}

export interface FieldValueCount {
  value: string;
  count: number;
}

export interface ValueSuggestion {
  /** Whether some record of the organization holds the value exactly. */
  exists: boolean;
  /** Existing values closest to it, best first. */
  closest: FieldValueCount[];
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Totals and value lists over the caller's merged view (DOMAIN §3): the filter is applied inside
 * both halves of the merge (see `mergedBranches`), so the records no pending change or draft
 * touches are read through the mirror's indexes on their generated columns, and only the few
 * touched records are re-evaluated on their merged JSON.
 */
export class AggregateRepository {
  constructor(private readonly db: Db) {}

  /** One row per group (ordered by the keys, nulls last); one row in all without keys. */
  async aggregate(
    scope: MergeScope,
    filter: RecordFilter | null | undefined,
    groupBy: readonly GroupKey[],
  ): Promise<AggregateRow[]> {
    const where = compileFilter(filter);
    const keys = groupBy.map((k, i) => sql`${groupExpr(k)} AS ${sql.ref(`g${i}`)}`);
    const half = (source: RawBuilder<unknown>) => sql`(
      SELECT ${sql.join([
        ...keys,
        sql`r.is_actualized IS TRUE AS actualized`,
        sql`${fieldExpr('planCost')} AS plan`,
        sql`${fieldExpr('forecastCost')} AS forecast`,
        sql`${fieldExpr('actualCost')} AS actual`,
        sql`r.forecast_start`,
        sql`r.forecast_end`,
      ])}
      FROM ${source} AS r WHERE ${where})`;
    const [untouched, touched] = mergedBranches(scope);
    const refs = groupBy.map((_, i) => sql.ref(`a.g${i}`));
    const { rows } = await sql<Record<string, unknown>>`
      SELECT ${sql.join([
        ...refs,
        sql`count(*) AS n`,
        sql`count(*) FILTER (WHERE a.actualized) AS actualized_n`,
        sql`coalesce(sum(a.plan), 0) AS plan`,
        sql`coalesce(sum(a.forecast), 0) AS forecast`,
        sql`coalesce(sum(a.actual), 0) AS actual`,
        sql`coalesce(sum(a.forecast - a.plan), 0) AS variance`,
        sql`min(a.forecast_start)::text AS min_fs`,
        sql`max(a.forecast_end)::text AS max_fe`,
      ])}
      FROM (${half(untouched)} UNION ALL ${half(touched)}) AS a
      ${groupBy.length ? sql`GROUP BY ${sql.join(refs)} ORDER BY ${sql.join(refs.map((r) => sql`${r} ASC NULLS LAST`))}` : sql``}`.execute(
      this.db,
    );
    return rows.map((row) => ({
      keys: Object.fromEntries(
        groupBy.map((k, i) => {
          const v = row[`g${i}`];
          return [
            k,
            v === null || v === undefined ? null : k === 'forecastStartYear' ? Number(v) : String(v),
          ];
        }),
      ) as AggregateKeys,
      recordCount: Number(row.n),
      actualizedCount: Number(row.actualized_n),
      totalPlanCost: Number(row.plan),
      totalForecastCost: Number(row.forecast),
      totalActualCost: Number(row.actual),
      totalVariance: Number(row.variance),
      minForecastStart: (row.min_fs as string | null) ?? null,
      maxForecastEnd: (row.max_fe as string | null) ?? null,
    }));
  }

  /** Values of a text field among the records the filter returns, most frequent first (ties by value). */
  async fieldValues(
    scope: MergeScope,
    field: ValueField,
    filter: RecordFilter | null | undefined,
    search: string | null,
    first: number,
  ): Promise<FieldValueCount[]> {
    const col = fieldExpr(field);
    const conditions: RawBuilder<SqlBool>[] = [compileFilter(filter), sql<SqlBool>`${col} IS NOT NULL`];
    if (search) conditions.push(sql<SqlBool>`${col} ILIKE ${'%' + escapeLike(search) + '%'}`);
    const half = (source: RawBuilder<unknown>) => sql`(
      SELECT ${col} AS v FROM ${source} AS r WHERE ${sql.join(conditions, sql` AND `)})`;
    const [untouched, touched] = mergedBranches(scope);
    const { rows } = await sql<{ v: string; n: string }>`
      SELECT a.v, count(*) AS n FROM (${half(untouched)} UNION ALL ${half(touched)}) AS a
      GROUP BY a.v ORDER BY n DESC, a.v COLLATE "C" LIMIT ${first}`.execute(this.db);
    return rows.map((r) => ({ value: r.v, count: Number(r.n) }));
  }

  /**
   * Does any record of the organization (as the caller sees it: discontinued and removed records
   * too) hold this exact value, and which existing values come closest: equal ignoring case first,
   * then those containing it or contained in it, then by trigram similarity (pg_trgm), then by
   * frequency. Reads the whole organization: meant for answers that came back empty.
   */
  async suggest(
    scope: MergeScope,
    field: ValueField,
    value: string,
    limit: number,
  ): Promise<ValueSuggestion> {
    const col = fieldExpr(field);
    const { rows } = await sql<{ v: string; n: string; exact: boolean }>`
      WITH vals AS (
        SELECT ${col} AS v, count(*) AS n FROM ${mergedSource(scope)} WHERE ${col} IS NOT NULL GROUP BY 1)
      (SELECT v, n, true AS exact FROM vals WHERE v = ${value})
      UNION ALL
      (SELECT v, n, false AS exact FROM vals WHERE v <> ${value}
       ORDER BY lower(v) = lower(${value}) DESC,
                (strpos(lower(v), lower(${value})) > 0 OR strpos(lower(${value}), lower(v)) > 0) DESC,
                similarity(v, ${value}) DESC, n DESC, v
       LIMIT ${limit})`.execute(this.db);
    return {
      exists: rows.some((r) => r.exact),
      closest: rows.filter((r) => !r.exact).map((r) => ({ value: r.v, count: Number(r.n) })),
    };
  }
}
