/** The GraphQL documents and parameters of the benchmark's query patterns. */
import type pg from 'pg';

export const ORG = 'HOLNG';

/** ~20 scalar fields, what a planning grid shows. */
const GRID_FIELDS = `id pfaId category class source dor areaSilo manufacturer model equipment
  monthlyRate purchasePrice originalStart originalEnd forecastStart forecastEnd isActualized version
  planCost forecastCost`;

/** Slim fields of a Gantt/timeline bar. */
const TIMELINE_FIELDS = `id pfaId category originalStart originalEnd forecastStart forecastEnd actualStart actualEnd`;

export const RECORDS_QUERY = `query Records($org: ID!, $filter: PfaRecordFilter, $orderBy: [PfaRecordOrderBy!], $first: Int, $after: String) {
  pfaRecords(organizationId: $org, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    nodes { ${GRID_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const TIMELINE_QUERY = `query Timeline($org: ID!, $filter: PfaRecordFilter, $after: String) {
  pfaRecords(organizationId: $org, filter: $filter, orderBy: [FORECAST_START_ASC], first: 1000, after: $after) {
    nodes { ${TIMELINE_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;

/**
 * timelineBars (issue 11): the same viewport in one request, the bars as parallel arrays with the
 * timeline's slim fields (plus whether the session holds a draft of the record).
 */
export const TIMELINE_BARS_QUERY = `query TimelineBars($org: ID!, $from: LocalDate!, $to: LocalDate!, $filter: PfaRecordFilter, $limit: Int) {
  timelineBars(organizationId: $org, from: $from, to: $to, filter: $filter, limit: $limit) {
    count truncated totalCount
    bars { ${TIMELINE_FIELDS} hasDraft }
  }
}`;

export interface TimelineBarsAnswer {
  timelineBars: { count: number; truncated: boolean; totalCount: number; bars: { id: string[] } };
}

/** The day before an ISO date: the inclusive end of a [gte, lt) window. */
export const dayBefore = (iso: string): string =>
  new Date(Date.parse(`${iso}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

export const KPI_QUERY = `query Kpi($org: ID!) {
  kpiSummary(organizationId: $org) {
    category source dor totalPlanCost totalForecastCost totalActualCost totalVariance recordCount actualizedCount refreshedAt
  }
}`;

export const BOUNDS_QUERY = `query Bounds($org: ID!) {
  timelineBounds(organizationId: $org) {
    planStart planEnd forecastStart forecastEnd actualStart actualEnd totalRecords actualizedRecords refreshedAt
  }
}`;

export const BULK_MUTATION = `mutation Bulk($input: BulkUpdatePfaRecordsInput!) {
  bulkUpdatePfaRecords(input: $input) { affectedCount }
}`;

export const COMMIT_MUTATION = `mutation Commit($org: ID!) {
  commitDrafts(organizationId: $org) { committed { id syncState } conflicted { id } }
}`;

/** pfaAggregate (issue 12): totals per group over a filter, the caller's drafts included. */
export const AGGREGATE_QUERY = `query Aggregate($org: ID!, $filter: PfaRecordFilter, $groupBy: [PfaGroupBy!]) {
  pfaAggregate(organizationId: $org, filter: $filter, groupBy: $groupBy) {
    category recordCount actualizedCount totalPlanCost totalForecastCost totalActualCost totalVariance
    minForecastStart maxForecastEnd
  }
}`;

/** fieldValues (issue 12): the values of a text field with their counts, most frequent first. */
export const FIELD_VALUES_QUERY = `query FieldValues($org: ID!, $field: PfaValueField!, $filter: PfaRecordFilter) {
  fieldValues(organizationId: $org, field: $field, filter: $filter) { value count }
}`;

/** Grid with a slip filter: forecast end more than 30 days past plan end, in a forecast window. */
export const SLIP_FILTER = {
  forecastSlipDays: { gt: 30 },
  forecastStart: { gte: '2025-01-01' },
  forecastEnd: { lte: '2025-12-31' },
};

export interface Connection {
  pfaRecords: { nodes: { id: string }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

/** Grid: org + category + source + forecast window, ordered by forecast start (the seed's grid query). */
export const GRID_FILTER = {
  category: { eq: 'Earthmoving' },
  source: { eq: 'Rental' },
  forecastStart: { gte: '2025-01-01' },
  forecastEnd: { lte: '2025-12-31' },
};

export const SIMPLE_FILTER = { category: { eq: 'Earthmoving' }, source: { eq: 'Rental' } };

/** The seed's "AI search": JSONB containment on manufacturer + category. */
export const SEARCH_FILTER = { dataContains: { manufacturer: 'Caterpillar', category: 'Earthmoving' } };

/**
 * A forecast-start window [gte, lt) of the organization holding about `count` live records (the
 * default filter hides discontinued ones), read from the mirror's generated columns. Many records
 * share a day, so the end is whichever day boundary lands closer to `count`.
 */
export async function forecastWindow(
  client: pg.ClientBase,
  from: string,
  count: number,
): Promise<{ gte: string; lt: string; expected: number }> {
  const live = `organization_id = $1 AND is_discontinued IS NOT TRUE AND forecast_start >= $2::date`;
  const { rows } = await client.query<{ d: string | null }>(
    `SELECT forecast_start::text AS d FROM pfa_mirror WHERE ${live} ORDER BY forecast_start OFFSET $3 LIMIT 1`,
    [ORG, from, count],
  );
  const day = rows[0]?.d ?? '2099-01-01';
  const counts = await client.query<{ before: string; through: string; next: string }>(
    `SELECT count(*) FILTER (WHERE forecast_start < $3::date) AS before,
            count(*) FILTER (WHERE forecast_start <= $3::date) AS through,
            ($3::date + 1)::text AS next
     FROM pfa_mirror WHERE ${live} AND forecast_start <= $3::date`,
    [ORG, from, day],
  );
  const before = Number(counts.rows[0]?.before ?? 0);
  const through = Number(counts.rows[0]?.through ?? 0);
  const next = counts.rows[0]?.next ?? day;
  return Math.abs(through - count) < Math.abs(count - before)
    ? { gte: from, lt: next, expected: through }
    : { gte: from, lt: day, expected: before };
}
