/**
 * The secondary indexes of pfa_mirror as the migrated schema has them, for the bulk seed, which
 * drops them before COPY and builds them afterwards (much faster than maintaining them row by
 * row). Code never imports migrations (the migrator loads them by path), so the list lives here;
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
