import { sql, type Kysely } from 'kysely';

/**
 * Removed means removed (DOMAIN §3): a record that a full read sync found gone from PEMS
 * (`removed_from_pems_at` set) counts in no KPI and no timeline bound. Both caches read
 * `pfa_committed_records`, so the predicate goes there; the next refresh drops such records.
 * The view keeps its columns, so CREATE OR REPLACE works with the materialized views depending on it.
 */
const view = (hideRemoved: boolean) => sql`
    CREATE OR REPLACE VIEW pfa_committed_records AS
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
      ${hideRemoved ? sql`AND m.removed_from_pems_at IS NULL` : sql``}
    UNION ALL
    SELECT m.organization_id, m.id, pfa_text(d -> 'category'), pfa_text(d -> 'source'), pfa_text(d -> 'dor'),
           pfa_money(d -> 'monthlyRate'), pfa_money(d -> 'purchasePrice'),
           pfa_date(d -> 'originalStart'), pfa_date(d -> 'originalEnd'),
           pfa_date(d -> 'forecastStart'), pfa_date(d -> 'forecastEnd'),
           pfa_date(d -> 'actualStart'), pfa_date(d -> 'actualEnd'),
           pfa_bool(d -> 'isActualized'), pfa_bool(d -> 'isDiscontinued')
    FROM pending p
    JOIN pfa_mirror m ON m.organization_id = p.organization_id AND m.id = p.mirror_id
    CROSS JOIN LATERAL (SELECT m.data || p.delta) AS x(d)
    ${hideRemoved ? sql`WHERE m.removed_from_pems_at IS NULL` : sql``}`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await view(true).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await view(false).execute(db);
}
