import type { ColumnType, Generated, GeneratedAlways } from 'kysely';
import type { SyncState } from '../domain/draft.js';

/** JSON object as stored in JSONB columns; values are unknown until validated. */
export type JsonObject = Record<string, unknown>;
export type { SyncState };

type Gen<T> = GeneratedAlways<T>;
/** bigint ids come back from pg as strings (exact), go in as numbers or strings. */
type BigId = ColumnType<string, string | number, string | number>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GenTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface OrganizationTable {
  id: string;
  name: string;
  created_at: GenTimestamp;
}

export interface PfaMirrorTable {
  id: ColumnType<string, string | number | undefined, never>;
  organization_id: string;
  pfa_id: string;
  data: ColumnType<JsonObject, string, string>;
  version: Generated<number>;
  pems_version: string | null;
  last_synced_at: GenTimestamp;
  sync_batch_id: string | null;
  removed_from_pems_at: Timestamp | null;
  category: Gen<string | null>;
  class: Gen<string | null>;
  source: Gen<string | null>;
  dor: Gen<string | null>;
  area_silo: Gen<string | null>;
  manufacturer: Gen<string | null>;
  model: Gen<string | null>;
  contract: Gen<string | null>;
  equipment: Gen<string | null>;
  monthly_rate: Gen<string | null>;
  purchase_price: Gen<string | null>;
  original_start: Gen<string | null>;
  original_end: Gen<string | null>;
  forecast_start: Gen<string | null>;
  forecast_end: Gen<string | null>;
  actual_start: Gen<string | null>;
  actual_end: Gen<string | null>;
  is_actualized: Gen<boolean | null>;
  has_actuals: Gen<boolean | null>;
  has_plan: Gen<boolean | null>;
  is_discontinued: Gen<boolean | null>;
  is_funds_transferable: Gen<boolean | null>;
  search_text: Gen<string | null>;
}

export interface PfaMirrorHistoryTable {
  id: Generated<string>;
  organization_id: string;
  mirror_id: BigId;
  version: number;
  data: ColumnType<JsonObject, string, string>;
  pems_version: string | null;
  superseded_at: GenTimestamp;
}

export interface PfaSessionTable {
  organization_id: string;
  id: string;
  owner_user_id: string;
  created_at: GenTimestamp;
  last_used_at: GenTimestamp;
}

export interface PfaModificationTable {
  id: Generated<string>;
  organization_id: string;
  mirror_id: BigId;
  session_id: string;
  user_id: string;
  delta: ColumnType<JsonObject, string, string>;
  modified_fields: ColumnType<string[], string[], string[]>;
  base_values: ColumnType<JsonObject, string, string>;
  base_version: number;
  base_pems_version: string | null;
  current_version: Generated<number>;
  sync_state: ColumnType<SyncState, SyncState | undefined, SyncState>;
  conflicts: ColumnType<unknown[] | null, string | null, string | null>;
  change_reason: string | null;
  created_at: GenTimestamp;
  updated_at: GenTimestamp;
  committed_at: Timestamp | null;
  committed_by: string | null;
  commit_xid: string | null;
  synced_at: Timestamp | null;
  sync_attempts: Generated<number>;
  last_error: string | null;
}

export interface PfaModificationEventTable {
  id: Generated<string>;
  organization_id: string;
  modification_id: BigId;
  mirror_id: BigId;
  session_id: string;
  user_id: string;
  action: string;
  reason: string | null;
  old_delta: ColumnType<JsonObject | null, string | null, string | null>;
  new_delta: ColumnType<JsonObject | null, string | null, string | null>;
  from_state: SyncState | null;
  to_state: SyncState | null;
  at: GenTimestamp;
}

export interface PfaModificationArchiveTable extends Omit<PfaModificationTable, 'id'> {
  id: BigId;
  archived_at: GenTimestamp;
}

export interface PfaSyncLogTable {
  id: Generated<string>;
  organization_id: string;
  direction: 'read' | 'write';
  mode: Generated<string>;
  status: Generated<'running' | 'succeeded' | 'failed' | 'partial'>;
  job_id: string | null;
  started_at: GenTimestamp;
  finished_at: Timestamp | null;
  duration_ms: number | null;
  inserted: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  rejected: Generated<number>;
  removed: Generated<number>;
  synced: Generated<number>;
  conflicted: Generated<number>;
  failed: Generated<number>;
  watermark: string | null;
  errors: ColumnType<unknown[], string | undefined, string>;
  message: string | null;
}

export interface PfaViewRefreshTable {
  id: Generated<string>;
  refreshed_at: Timestamp;
  duration_ms: number;
}

export interface PfaKpiSummaryView {
  organization_id: string;
  category: string | null;
  source: string | null;
  dor: string | null;
  group_key: string;
  total_plan_cost: string;
  total_forecast_cost: string;
  total_actual_cost: string;
  total_variance: string;
  record_count: string;
  actualized_count: string;
  refreshed_at: Date;
  refresh_seq: string;
}

export interface PfaTimelineBoundsView {
  organization_id: string;
  plan_start: string | null;
  plan_end: string | null;
  forecast_start: string | null;
  forecast_end: string | null;
  actual_start: string | null;
  actual_end: string | null;
  total_records: string;
  actualized_records: string;
  refreshed_at: Date;
  refresh_seq: string;
}

export interface Database {
  organization: OrganizationTable;
  pfa_mirror: PfaMirrorTable;
  pfa_mirror_history: PfaMirrorHistoryTable;
  pfa_session: PfaSessionTable;
  pfa_modification: PfaModificationTable;
  pfa_modification_event: PfaModificationEventTable;
  pfa_modification_archive: PfaModificationArchiveTable;
  pfa_sync_log: PfaSyncLogTable;
  pfa_view_refresh: PfaViewRefreshTable;
  pfa_kpi_summary: PfaKpiSummaryView;
  pfa_timeline_bounds: PfaTimelineBoundsView;
}
