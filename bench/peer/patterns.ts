/**
 * The same four questions, asked of this service and of PostGraphile V5 over the same database.
 * PostGraphile reads the plain pfa_mirror table and the KPI materialized view: it merges no
 * drafts and corrects no KPIs, so it does less work per request than our service with a session.
 */

/** What each side is asked: one GraphQL-over-HTTP request body. */
export interface GraphqlBody {
  query: string;
  variables?: Record<string, unknown>;
}

export interface PeerPattern {
  key: PatternKey;
  title: string;
  ours: GraphqlBody;
  peer: GraphqlBody;
}

export type PatternKey = 'grid1000' | 'grid100' | 'search100' | 'kpi';

/** Timed one client at a time. */
export const LATENCY_PATTERNS: readonly PatternKey[] = ['grid1000', 'grid100', 'search100', 'kpi'];
/** Loaded with many connections. */
export const LOAD_PATTERNS: readonly PatternKey[] = ['grid100', 'kpi'];

const ORG = 'HOLNG';

/** The planning grid's columns; PostGraphile calls the primary key rowId (its id is the node id). */
const GRID_FIELDS = `id pfaId category class source dor areaSilo manufacturer model equipment
  monthlyRate purchasePrice originalStart originalEnd forecastStart forecastEnd isActualized version`;
const PEER_GRID_FIELDS = GRID_FIELDS.replace(/^id /, 'rowId ');

const KPI_FIELDS = `category source dor totalPlanCost totalForecastCost totalActualCost totalVariance
  recordCount actualizedCount`;

/** Earthmoving rentals forecast to start and end in 2025, by forecast start. */
function oursGrid(first: number): GraphqlBody {
  return {
    query: `query G($f: PfaRecordFilter) {
  pfaRecords(organizationId: "${ORG}", filter: $f, orderBy: [FORECAST_START_ASC], first: ${first}) {
    nodes { ${GRID_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`,
    variables: {
      f: {
        category: { eq: 'Earthmoving' },
        source: { eq: 'Rental' },
        forecastStart: { gte: '2025-01-01' },
        forecastEnd: { lte: '2025-12-31' },
      },
    },
  };
}

/** The same page from PostGraphile; discontinued records are left out as our service does. */
function peerGrid(first: number): GraphqlBody {
  return {
    query: `{
  allPfaMirrors(
    first: ${first}
    orderBy: [FORECAST_START_ASC, PRIMARY_KEY_ASC]
    filter: {
      organizationId: { equalTo: "${ORG}" }
      category: { equalTo: "Earthmoving" }
      source: { equalTo: "Rental" }
      forecastStart: { greaterThanOrEqualTo: "2025-01-01" }
      forecastEnd: { lessThanOrEqualTo: "2025-12-31" }
      isDiscontinued: { distinctFrom: true }
    }
  ) {
    nodes { ${PEER_GRID_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`,
  };
}

export const PATTERNS: Record<PatternKey, PeerPattern> = {
  grid1000: {
    key: 'grid1000',
    title: 'grid page of 1000 (filter + order by forecast start)',
    ours: oursGrid(1000),
    peer: peerGrid(1000),
  },
  grid100: {
    key: 'grid100',
    title: 'grid page of 100 (filter + order by forecast start)',
    ours: oursGrid(100),
    peer: peerGrid(100),
  },
  search100: {
    key: 'search100',
    title: 'JSONB containment search, first 100',
    ours: {
      query: `{
  pfaRecords(
    organizationId: "${ORG}"
    filter: { dataContains: { manufacturer: "Caterpillar", category: "Earthmoving" } }
    orderBy: [FORECAST_START_ASC]
    first: 100
  ) {
    nodes { ${GRID_FIELDS} }
  }
}`,
    },
    peer: {
      query: `{
  allPfaMirrors(
    first: 100
    orderBy: [FORECAST_START_ASC, PRIMARY_KEY_ASC]
    filter: {
      organizationId: { equalTo: "${ORG}" }
      isDiscontinued: { distinctFrom: true }
      data: { contains: { manufacturer: "Caterpillar", category: "Earthmoving" } }
    }
  ) {
    nodes { ${PEER_GRID_FIELDS} }
  }
}`,
    },
  },
  kpi: {
    key: 'kpi',
    title: 'KPI summary of the organization',
    ours: { query: `{ kpiSummary(organizationId: "${ORG}") { ${KPI_FIELDS} } }` },
    peer: {
      query: `{ allPfaKpiSummaries(filter: { organizationId: { equalTo: "${ORG}" } }) { nodes { ${KPI_FIELDS} } } }`,
    },
  },
};

/** Rows in an answer: the list under the first field (or its `nodes`). */
export function rowsIn(data: unknown): number | null {
  if (!data || typeof data !== 'object') return null;
  const first: unknown = Object.values(data)[0];
  if (Array.isArray(first)) return first.length;
  if (first && typeof first === 'object' && 'nodes' in first && Array.isArray(first.nodes))
    return first.nodes.length;
  return null;
}
