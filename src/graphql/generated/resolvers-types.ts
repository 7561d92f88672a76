import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { MergedRecord } from '../../domain/merged-record.js';
import type { BulkEditResult } from '../../services/drafts.service.js';
import type { DraftView } from '../../domain/draft.js';
import type { HistoryRow } from '../../repositories/mirror.repository.js';
import type { SyncRunRow } from '../../repositories/sync-log.repository.js';
import type { GraphqlContext } from '../context.js';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** A column of a columnar answer: a JSON array of booleans, one entry per row. Output only. */
  BooleanColumn: { input: boolean[]; output: boolean[]; }
  /** An instant, ISO-8601 with time zone. */
  DateTime: { input: Date | string; output: Date | string; }
  /**
   * A column of a columnar answer (`TimelineBarColumns`): a JSON array of record ids (`PfaRecord.id`,
   * strings), one entry per row. Output only. Columns are list scalars rather than `[ID!]` because
   * their arrays run to 50,000 entries, and completing each entry as a GraphQL list item cost more
   * than the rest of the answer.
   */
  IDColumn: { input: string[]; output: string[]; }
  /** Any JSON value. */
  JSON: { input: unknown; output: unknown; }
  /** A JSON object. */
  JSONObject: { input: Record<string, unknown>; output: Record<string, unknown>; }
  /** A calendar date without time, `YYYY-MM-DD`. */
  LocalDate: { input: string; output: string; }
  /**
   * A column of a columnar answer: a JSON array of dates `YYYY-MM-DD` (an entry may be null where the
   * field says so), one entry per row. Output only.
   */
  LocalDateColumn: { input: (string | null)[]; output: (string | null)[]; }
  /** A column of a columnar answer: a JSON array of strings (an entry may be null), one entry per row. Output only. */
  StringColumn: { input: (string | null)[]; output: (string | null)[]; }
};

/** One change in the audit trail. */
export type AuditEvent = {
  __typename?: 'AuditEvent';
  /** What: created, edited, emptied, discarded, committed, conflicted, accepted-theirs, kept-mine, synced, sync-failed, sync-conflict, pems-changed, … */
  action: Scalars['String']['output'];
  /** Values of those fields after (empty when the change was dropped). */
  after: Scalars['JSONObject']['output'];
  /** When it happened. */
  at: Scalars['DateTime']['output'];
  /** Values of those fields before (for a commit or write-back: the values the change was based on). */
  before: Scalars['JSONObject']['output'];
  /** The record fields involved. */
  fields: Array<Scalars['String']['output']>;
  /** The record (`PfaRecord.id`). */
  recordId: Scalars['ID']['output'];
  /** Who: the user id of the token, `system:pems` (PEMS-side change) or `system:write-sync` (write-back). */
  userId: Scalars['String']['output'];
};

/** A page of audit events, newest first. */
export type AuditEventConnection = {
  __typename?: 'AuditEventConnection';
  nodes: Array<AuditEvent>;
  pageInfo: PageInfo;
};

/** A what-if change over every record matching a filter. */
export type BulkUpdatePfaRecordsInput = {
  /** Keys to set on every matching record. */
  changes?: InputMaybe<PfaRecordChangesInput>;
  /** Which records (same language as pfaRecords, on merged values). Required: an empty filter {} means every record. */
  filter: PfaRecordFilter;
  /** Organization code. */
  organizationId: Scalars['ID']['input'];
  /** Why (up to 500 characters). */
  reason?: InputMaybe<Scalars['String']['input']>;
  /** Move forecastStart and forecastEnd by this many days (may be negative, within ±3650). */
  shiftForecastDays?: InputMaybe<Scalars['Int']['input']>;
  /** Move forecastEnd only by this many days (adds to shiftForecastDays when both are given), e.g. 14 extends every matching forecast by two weeks. */
  shiftForecastEndDays?: InputMaybe<Scalars['Int']['input']>;
  /** Move forecastStart only by this many days (adds to shiftForecastDays when both are given). */
  shiftForecastStartDays?: InputMaybe<Scalars['Int']['input']>;
};

/** Result of bulkUpdatePfaRecords. */
export type BulkUpdatePfaRecordsPayload = {
  __typename?: 'BulkUpdatePfaRecordsPayload';
  /** Records whose draft was created, changed or emptied. */
  affectedCount: Scalars['Int']['output'];
  /** The session's drafts this edit created or changed (oldest id first), so a client cache can update without refetching. */
  drafts: Array<Draft>;
};


/** Result of bulkUpdatePfaRecords. */
export type BulkUpdatePfaRecordsPayloadDraftsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** Result of commitDrafts. */
export type CommitDraftsPayload = {
  __typename?: 'CommitDraftsPayload';
  /** Drafts now committed. */
  committed: Array<Draft>;
  /** Drafts that became conflicts. */
  conflicted: Array<Draft>;
};

/** How to settle a conflict. */
export type ConflictResolution =
  /** Drop my values; keep what PEMS / the organization has. */
  | 'ACCEPT_THEIRS'
  /** Commit my values on top of the current record (rebased). */
  | 'KEEP_MINE';

/** Date operators. */
export type DateFilter = {
  /** On. */
  eq?: InputMaybe<Scalars['LocalDate']['input']>;
  /** After. */
  gt?: InputMaybe<Scalars['LocalDate']['input']>;
  /** On or after. */
  gte?: InputMaybe<Scalars['LocalDate']['input']>;
  /** true: has no value; false: has one. */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** Before. */
  lt?: InputMaybe<Scalars['LocalDate']['input']>;
  /** On or before. */
  lte?: InputMaybe<Scalars['LocalDate']['input']>;
};

/** Instant operators (ISO-8601 with time zone, millisecond precision). */
export type DateTimeFilter = {
  /** At exactly. */
  eq?: InputMaybe<Scalars['DateTime']['input']>;
  /** After. */
  gt?: InputMaybe<Scalars['DateTime']['input']>;
  /** At or after. */
  gte?: InputMaybe<Scalars['DateTime']['input']>;
  /** true: has no value; false: has one. */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** Before. */
  lt?: InputMaybe<Scalars['DateTime']['input']>;
  /** At or before. */
  lte?: InputMaybe<Scalars['DateTime']['input']>;
};

/** Result of discardDrafts. */
export type DiscardDraftsPayload = {
  __typename?: 'DiscardDraftsPayload';
  /** Drafts removed. */
  discardedCount: Scalars['Int']['output'];
  /** Ids of the drafts removed (evict them from a client cache). */
  discardedIds: Array<Scalars['ID']['output']>;
  /** Their records as the caller now sees them (without the drafts). */
  records: Array<PfaRecord>;
};

/** A modification of one record by one session: only the changed keys. */
export type Draft = {
  __typename?: 'Draft';
  /** Values of the modified keys when the user started. */
  baseValues: Scalars['JSONObject']['output'];
  /** Mirror version the user started from. */
  baseVersion: Scalars['Int']['output'];
  /** Reason given with the last edit. */
  changeReason?: Maybe<Scalars['String']['output']>;
  /** When it was committed. */
  committedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Per field, the base, theirs and mine values of a conflict (empty when none). */
  conflicts: Array<FieldConflict>;
  /** Created at. */
  createdAt: Scalars['DateTime']['output'];
  /** 1 at creation, +1 per edit; what `expectedVersion` refers to. */
  currentVersion: Scalars['Int']['output'];
  /** Changed keys and their new values. */
  delta: Scalars['JSONObject']['output'];
  /** Draft id (`pfa_modification.id`). */
  id: Scalars['ID']['output'];
  /** Whether the mirror moved since `baseVersion`. */
  isStale: Scalars['Boolean']['output'];
  /** Last write-back error, if any. */
  lastError?: Maybe<Scalars['String']['output']>;
  /** Keys of `delta`. */
  modifiedFields: Array<Scalars['String']['output']>;
  /** The record as the caller sees it now. */
  record: PfaRecord;
  /** Session id. */
  sessionId: Scalars['String']['output'];
  /** Where it is in its life cycle. */
  syncState: SyncState;
  /** Last changed at. */
  updatedAt: Scalars['DateTime']['output'];
  /** User who owns it. */
  userId: Scalars['String']['output'];
};

export type DraftsChangedEvent = {
  __typename?: 'DraftsChangedEvent';
  /** Per-organization event sequence, shared with kpiChanged. */
  changeSeq: Scalars['Int']['output'];
  organizationId: Scalars['ID']['output'];
  /** edit, bulkEdit, commit, discard or resolve */
  reason: Scalars['String']['output'];
  sessionId: Scalars['String']['output'];
};

/** A background job that gave up. */
export type FailedJob = {
  __typename?: 'FailedJob';
  /** Attempts made, the first included. */
  attempts: Scalars['Int']['output'];
  /** The last attempt's error message. */
  error: Scalars['String']['output'];
  /** When the last attempt failed. */
  failedAt: Scalars['DateTime']['output'];
  /** Job id. */
  jobId: Scalars['ID']['output'];
  /** Organization of a sync job; null for jobs over the whole database. */
  organizationId?: Maybe<Scalars['ID']['output']>;
  /** Queue (job) name: `read-sync`, `write-sync`, `refresh-views`, `maintenance` or `sync-sweep`. */
  queue: Scalars['String']['output'];
};

/** One field in conflict. */
export type FieldConflict = {
  __typename?: 'FieldConflict';
  /** Value when the user started. */
  base?: Maybe<Scalars['JSON']['output']>;
  /** Record key. */
  field: Scalars['String']['output'];
  /** The user's value. */
  mine?: Maybe<Scalars['JSON']['output']>;
  /** Value now in PEMS / the organization. */
  theirs?: Maybe<Scalars['JSON']['output']>;
};

/** Number operators. */
export type FloatFilter = {
  /** Equal to. */
  eq?: InputMaybe<Scalars['Float']['input']>;
  /** Greater than. */
  gt?: InputMaybe<Scalars['Float']['input']>;
  /** Greater than or equal to. */
  gte?: InputMaybe<Scalars['Float']['input']>;
  /** One of (at most 1000). */
  in?: InputMaybe<Array<Scalars['Float']['input']>>;
  /** true: has no value; false: has one. */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** Less than. */
  lt?: InputMaybe<Scalars['Float']['input']>;
  /** Less than or equal to. */
  lte?: InputMaybe<Scalars['Float']['input']>;
  /** Not equal to. */
  ne?: InputMaybe<Scalars['Float']['input']>;
};

/** Whole-number operators (day counts). */
export type IntFilter = {
  /** Equal to. */
  eq?: InputMaybe<Scalars['Int']['input']>;
  /** Greater than. */
  gt?: InputMaybe<Scalars['Int']['input']>;
  /** Greater than or equal to. */
  gte?: InputMaybe<Scalars['Int']['input']>;
  /** One of (at most 1000). */
  in?: InputMaybe<Array<Scalars['Int']['input']>>;
  /** true: has no value; false: has one. */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** Less than. */
  lt?: InputMaybe<Scalars['Int']['input']>;
  /** Less than or equal to. */
  lte?: InputMaybe<Scalars['Int']['input']>;
  /** Not equal to. */
  ne?: InputMaybe<Scalars['Int']['input']>;
};

/** A queued background job. */
export type JobPayload = {
  __typename?: 'JobPayload';
  /** Job id. */
  jobId: Scalars['ID']['output'];
  /** Job state when the answer was made (`waiting`, `active`, `completed`, …). */
  state: Scalars['String']['output'];
};

export type JobProgressEvent = {
  __typename?: 'JobProgressEvent';
  id: Scalars['ID']['output'];
  processed: Scalars['Int']['output'];
  /** active, completed or failed */
  state: Scalars['String']['output'];
  /** Known once the job has finished (null while a sync runs). */
  total?: Maybe<Scalars['Int']['output']>;
};

/** Jobs of one queue by state. */
export type JobQueue = {
  __typename?: 'JobQueue';
  /** Running now. */
  active: Scalars['Int']['output'];
  /** Waiting for a retry or a schedule. */
  delayed: Scalars['Int']['output'];
  /** Failed for good (kept for inspection). */
  failed: Scalars['Int']['output'];
  /** Queue (job) name. */
  name: Scalars['String']['output'];
  /** Waiting to run. */
  waiting: Scalars['Int']['output'];
};

/** The job runner and its queues. */
export type JobQueues = {
  __typename?: 'JobQueues';
  /**
   * The most recent jobs that gave up — retries exhausted, or a failure retrying cannot fix — with
   * their last error, newest first (at most 50). Committed changes of a write-sync that gave up stay
   * committed: the write-back sweep queues them again.
   */
  failedJobs: Array<FailedJob>;
  /** `bullmq` (Redis), `in-process` (no Redis) or `disabled`. */
  mode: Scalars['String']['output'];
  /** One entry per queue. */
  queues: Array<JobQueue>;
};

export type KpiChangedEvent = {
  __typename?: 'KpiChangedEvent';
  /** Per-organization event sequence, strictly increasing: a gap means events were missed (refetch anyway). */
  changeSeq: Scalars['Int']['output'];
  organizationId: Scalars['ID']['output'];
  /** When the figures changed (the commit, refresh or sync that caused this event). */
  refreshedAt: Scalars['DateTime']['output'];
};

/** KPI totals for one group (DOMAIN §2, §4). */
export type KpiSummary = {
  __typename?: 'KpiSummary';
  /** Actualized records counted. */
  actualizedCount: Scalars['Int']['output'];
  /** Category (null groups records without one). */
  category?: Maybe<Scalars['String']['output']>;
  /** Division of responsibility. */
  dor?: Maybe<Scalars['String']['output']>;
  /** Records counted. */
  recordCount: Scalars['Int']['output'];
  /** When the cache these figures start from was refreshed. */
  refreshedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Source. */
  source?: Maybe<Scalars['String']['output']>;
  /** Sum of actual costs. */
  totalActualCost: Scalars['Float']['output'];
  /** Sum of forecast costs. */
  totalForecastCost: Scalars['Float']['output'];
  /** Sum of plan costs. */
  totalPlanCost: Scalars['Float']['output'];
  /** Sum of forecast − plan. */
  totalVariance: Scalars['Float']['output'];
};

/** The caller, from the token. */
export type Me = {
  __typename?: 'Me';
  /** Organizations the token grants, by code; the name is the code itself for an organization with no data yet. */
  organizations: Array<Organization>;
  /** `viewer` (reads), `editor` (also edits, commits, discards its own drafts) or `admin` (also syncs and refreshes). */
  role: Scalars['String']['output'];
  /** User id (`sub`). */
  userId: Scalars['String']['output'];
};

/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type Mutation = {
  __typename?: 'Mutation';
  /** Shift forecast dates and/or set fields on every record matching a filter, as drafts of the caller's session, in one statement. */
  bulkUpdatePfaRecords: BulkUpdatePfaRecordsPayload;
  /**
   * Submit the session's drafts (all of them, or the given ids). A draft whose fields were changed
   * since its base by PEMS or by another session's pending change to a different value becomes a
   * conflict; the others are committed (rebased onto the current mirror where it moved).
   */
  commitDrafts: CommitDraftsPayload;
  /**
   * A new sandbox of the caller's in this organization, with a random id: send it as the
   * `X-Session-Id` header of later requests. Sessions are also created by the first edit under an id
   * (never by a read). Needs the editor role.
   */
  createSession: Session;
  /** Throw away the session's open drafts and conflicts (all of them, or the given ids). */
  discardDrafts: DiscardDraftsPayload;
  /** Admin: queue a refresh of the KPI and timeline caches. */
  refreshKpis: JobPayload;
  /** Settle a conflict: KEEP_MINE commits the caller's values on top of the current record; ACCEPT_THEIRS drops them. */
  resolveConflict: ResolveConflictPayload;
  /** Admin: queue a read synchronisation from PEMS into the mirror. */
  syncFromPems: JobPayload;
  /** Admin: queue the write-back of committed changes to PEMS. */
  syncToPems: JobPayload;
  /** Edit one record in the caller's session, naming the draft version the caller expects (0 when it has no draft yet). */
  updatePfaRecord: UpdatePfaRecordPayload;
};


/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type MutationBulkUpdatePfaRecordsArgs = {
  input: BulkUpdatePfaRecordsInput;
};


/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type MutationCommitDraftsArgs = {
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  organizationId: Scalars['ID']['input'];
};


/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type MutationCreateSessionArgs = {
  organizationId: Scalars['ID']['input'];
};


/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type MutationDiscardDraftsArgs = {
  ids?: InputMaybe<Array<Scalars['ID']['input']>>;
  organizationId: Scalars['ID']['input'];
};


/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type MutationRefreshKpisArgs = {
  organizationId: Scalars['ID']['input'];
};


/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type MutationResolveConflictArgs = {
  id: Scalars['ID']['input'];
  resolution: ConflictResolution;
};


/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type MutationSyncFromPemsArgs = {
  organizationId: Scalars['ID']['input'];
};


/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type MutationSyncToPemsArgs = {
  organizationId: Scalars['ID']['input'];
};


/**
 * Edits happen in the caller's session (header `X-Session-Id`, required): drafts are private until
 * committed; committed changes are written back to PEMS by a background job.
 */
export type MutationUpdatePfaRecordArgs = {
  input: UpdatePfaRecordInput;
};

/**
 * An object that can be fetched again by its id alone (Relay's Node). Only `PfaRecord` implements
 * it, and its id stays `pfa_mirror.id` (outside tools compare it with SQL).
 */
export type Node = {
  /** The id to pass to `node(id:)`. */
  id: Scalars['ID']['output'];
};

/** An organization (a project portfolio); its code is the id. */
export type Organization = {
  __typename?: 'Organization';
  /** Organization code, e.g. `HOLNG`. */
  id: Scalars['ID']['output'];
  /** Display name. */
  name: Scalars['String']['output'];
};

/** Relay page information. Cursors are opaque and valid only for the same organization, session, filter and orderBy. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Cursor of the last record of the page (null for an empty page): pass it as `after` to continue. */
  endCursor?: Maybe<Scalars['String']['output']>;
  /** Whether records follow this page (when paging backward: true when the page was read before a cursor). */
  hasNextPage: Scalars['Boolean']['output'];
  /** Whether records precede this page (when paging forward: true when the page was read after a cursor). */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** Cursor of the first record of the page (null for an empty page): pass it as `before` to page backward. */
  startCursor?: Maybe<Scalars['String']['output']>;
};

/**
 * Totals of one group of `pfaAggregate`. Group keys not asked for in `groupBy` are null; a grouped
 * key is null for the records without a value.
 */
export type PfaAggregate = {
  __typename?: 'PfaAggregate';
  /** Records in the group whose `isActualized` is true. */
  actualizedCount: Scalars['Int']['output'];
  /** Area / silo (when grouped by AREA_SILO). */
  areaSilo?: Maybe<Scalars['String']['output']>;
  /** Category (when grouped by CATEGORY). */
  category?: Maybe<Scalars['String']['output']>;
  /** Class (when grouped by CLASS). */
  class?: Maybe<Scalars['String']['output']>;
  /** Division of responsibility (when grouped by DOR). */
  dor?: Maybe<Scalars['String']['output']>;
  /** Forecast start month `YYYY-MM` (when grouped by FORECAST_START_MONTH). */
  forecastStartMonth?: Maybe<Scalars['String']['output']>;
  /** Forecast start year (when grouped by FORECAST_START_YEAR). */
  forecastStartYear?: Maybe<Scalars['Int']['output']>;
  /** Manufacturer (when grouped by MANUFACTURER). */
  manufacturer?: Maybe<Scalars['String']['output']>;
  /** Latest forecastEnd in the group (null when none has one). */
  maxForecastEnd?: Maybe<Scalars['LocalDate']['output']>;
  /** Earliest forecastStart in the group (null when none has one). */
  minForecastStart?: Maybe<Scalars['LocalDate']['output']>;
  /** Model (when grouped by MODEL). */
  model?: Maybe<Scalars['String']['output']>;
  /** Records in the group. */
  recordCount: Scalars['Int']['output'];
  /** Source (when grouped by SOURCE). */
  source?: Maybe<Scalars['String']['output']>;
  /** Sum of actualCost (actualized records only contribute). */
  totalActualCost: Scalars['Float']['output'];
  /** Sum of forecastCost. */
  totalForecastCost: Scalars['Float']['output'];
  /** Sum of planCost. */
  totalPlanCost: Scalars['Float']['output'];
  /** Sum of variance (forecast − plan). */
  totalVariance: Scalars['Float']['output'];
};

/** One value of a field and how many records hold it. */
export type PfaFieldValue = {
  __typename?: 'PfaFieldValue';
  /** Records holding it (as `pfaRecords` would count them for the same filter). */
  count: Scalars['Int']['output'];
  /** The value, exactly as stored (use it in `eq` / `in`). */
  value: Scalars['String']['output'];
};

/** Group keys of `pfaAggregate` (merged values the caller sees). */
export type PfaGroupBy =
  /** Area / silo. */
  | 'AREA_SILO'
  /** Equipment category. */
  | 'CATEGORY'
  /** Equipment class. */
  | 'CLASS'
  /** Division of responsibility. */
  | 'DOR'
  /** Month of forecastStart, `YYYY-MM`. */
  | 'FORECAST_START_MONTH'
  /** Year of forecastStart. */
  | 'FORECAST_START_YEAR'
  /** Manufacturer. */
  | 'MANUFACTURER'
  /** Model. */
  | 'MODEL'
  /** `Rental` / `Purchase`. */
  | 'SOURCE';

/**
 * One PFA record as the caller sees it (mirror + pending commits + the caller's own draft).
 * A session's view of a record is a different object from the baseline view: cache it under
 * `id` + `viewKey` (Apollo: `typePolicies: { PfaRecord: { keyFields: ['id', 'viewKey'] } }`).
 */
export type PfaRecord = Node & {
  __typename?: 'PfaRecord';
  /** Cost over the actual dates when actualized, else 0. */
  actualCost: Scalars['Float']['output'];
  /** Actual end (PEMS). */
  actualEnd?: Maybe<Scalars['LocalDate']['output']>;
  /** Actual start (PEMS). */
  actualStart?: Maybe<Scalars['LocalDate']['output']>;
  /** Area / silo. Existing values: `fieldValues(field: AREA_SILO)`. */
  areaSilo?: Maybe<Scalars['String']['output']>;
  /** Equipment category, e.g. `Cranes`. Existing values: `fieldValues(field: CATEGORY)`. */
  category?: Maybe<Scalars['String']['output']>;
  /** Equipment class. Existing values: `fieldValues(field: CLASS)`. */
  class?: Maybe<Scalars['String']['output']>;
  /** Contract. Existing values: `fieldValues(field: CONTRACT)`. */
  contract?: Maybe<Scalars['String']['output']>;
  /** The merged JSON object, including keys PEMS sends that have no field here. */
  data: Scalars['JSONObject']['output'];
  /** Division of responsibility. Existing values: `fieldValues(field: DOR)`. */
  dor?: Maybe<Scalars['String']['output']>;
  /** The caller's session's open draft of this record, or null. */
  draft?: Maybe<Draft>;
  /** Equipment tag. Existing values: `fieldValues(field: EQUIPMENT)`. */
  equipment?: Maybe<Scalars['String']['output']>;
  /** Cost over the forecast dates (purchase price for purchases). */
  forecastCost: Scalars['Float']['output'];
  /** Forecast length in days (forecastEnd − forecastStart); null when either date is missing. */
  forecastDurationDays?: Maybe<Scalars['Int']['output']>;
  /** Forecast end (editable). */
  forecastEnd?: Maybe<Scalars['LocalDate']['output']>;
  /** Days the forecast end lies after the planned end (forecastEnd − originalEnd; negative = earlier); null when either date is missing. Filter with `forecastSlipDays: {gt: 0}` for records whose forecast end slipped past plan. */
  forecastSlipDays?: Maybe<Scalars['Int']['output']>;
  /** Forecast start (editable). */
  forecastStart?: Maybe<Scalars['LocalDate']['output']>;
  /** Whether the record has actuals (PEMS). */
  hasActuals?: Maybe<Scalars['Boolean']['output']>;
  /** Whether the record has a plan (PEMS). */
  hasPlan?: Maybe<Scalars['Boolean']['output']>;
  /** Superseded mirror versions of this record, newest first. */
  history: Array<PfaRecordVersion>;
  /** Record id (`pfa_mirror.id`). */
  id: Scalars['ID']['output'];
  /** Whether actuals are final (PEMS). */
  isActualized?: Maybe<Scalars['Boolean']['output']>;
  /** Discontinued records count in no KPI; missing means false. */
  isDiscontinued?: Maybe<Scalars['Boolean']['output']>;
  /** Whether funds may be transferred. */
  isFundsTransferable?: Maybe<Scalars['Boolean']['output']>;
  /** When the mirror last took this record from PEMS. */
  lastSyncedAt: Scalars['DateTime']['output'];
  /** Manufacturer. Existing values: `fieldValues(field: MANUFACTURER)`. */
  manufacturer?: Maybe<Scalars['String']['output']>;
  /** Model. Existing values: `fieldValues(field: MODEL)`. */
  model?: Maybe<Scalars['String']['output']>;
  /** Monthly rental rate (money); null when missing or not a valid amount. */
  monthlyRate?: Maybe<Scalars['Float']['output']>;
  /** The organization. */
  organization: Organization;
  /** Organization code. */
  organizationId: Scalars['ID']['output'];
  /** Planned end (PEMS). */
  originalEnd?: Maybe<Scalars['LocalDate']['output']>;
  /** Planned start (PEMS). */
  originalStart?: Maybe<Scalars['LocalDate']['output']>;
  /** PEMS's own update counter (EAM `recordid`), opaque. */
  pemsVersion?: Maybe<Scalars['String']['output']>;
  /** PEMS identifier, unique within the organization. */
  pfaId: Scalars['String']['output'];
  /** Cost over the planned dates (purchase price for purchases). */
  planCost: Scalars['Float']['output'];
  /** Planned length in days (originalEnd − originalStart); null when either date is missing. */
  planDurationDays?: Maybe<Scalars['Int']['output']>;
  /** Purchase price (money); null when missing or not a valid amount. */
  purchasePrice?: Maybe<Scalars['Float']['output']>;
  /** When a full read sync found the record gone from PEMS; null while PEMS has it. Removed records are left out of lists, aggregates, KPIs and bounds unless a filter sets `includeRemoved`; single-record lookups still return them. */
  removedFromPemsAt?: Maybe<Scalars['DateTime']['output']>;
  /** `Rental` or `Purchase`. Existing values: `fieldValues(field: SOURCE)`. */
  source?: Maybe<Scalars['String']['output']>;
  /** Days the forecast start lies after the planned start (forecastStart − originalStart); null when either date is missing. */
  startSlipDays?: Maybe<Scalars['Int']['output']>;
  /** forecastCost − planCost. */
  variance: Scalars['Float']['output'];
  /** Mirror version: starts at 1, +1 on every change of the mirrored data. */
  version: Scalars['Int']['output'];
  /**
   * Which view of the record this is: `base` (no session: mirror + pending commits) or
   * `session:<X-Session-Id>` (that session's view, its drafts included). The same record seen in two
   * sessions has two view keys, so client caches keep both.
   */
  viewKey: Scalars['String']['output'];
};


/**
 * One PFA record as the caller sees it (mirror + pending commits + the caller's own draft).
 * A session's view of a record is a different object from the baseline view: cache it under
 * `id` + `viewKey` (Apollo: `typePolicies: { PfaRecord: { keyFields: ['id', 'viewKey'] } }`).
 */
export type PfaRecordHistoryArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
};

/** Editable keys of a record (DOMAIN §1). Omit a key to leave it; null is not allowed. */
export type PfaRecordChangesInput = {
  /** Area / silo. */
  areaSilo?: InputMaybe<Scalars['String']['input']>;
  /** Equipment category. */
  category?: InputMaybe<Scalars['String']['input']>;
  /** Equipment class. */
  class?: InputMaybe<Scalars['String']['input']>;
  /** Contract. */
  contract?: InputMaybe<Scalars['String']['input']>;
  /** Division of responsibility. */
  dor?: InputMaybe<Scalars['String']['input']>;
  /** Equipment tag. */
  equipment?: InputMaybe<Scalars['String']['input']>;
  /** Forecast end (≥ forecastStart on the merged record). */
  forecastEnd?: InputMaybe<Scalars['LocalDate']['input']>;
  /** Forecast start. */
  forecastStart?: InputMaybe<Scalars['LocalDate']['input']>;
  /** Discontinued. */
  isDiscontinued?: InputMaybe<Scalars['Boolean']['input']>;
  /** Funds transferable. */
  isFundsTransferable?: InputMaybe<Scalars['Boolean']['input']>;
  /** Manufacturer. */
  manufacturer?: InputMaybe<Scalars['String']['input']>;
  /** Model. */
  model?: InputMaybe<Scalars['String']['input']>;
  /** Monthly rate, ≥ 0, at most 2 decimals. */
  monthlyRate?: InputMaybe<Scalars['Float']['input']>;
  /** Purchase price, ≥ 0, at most 2 decimals. */
  purchasePrice?: InputMaybe<Scalars['Float']['input']>;
  /** `Rental` or `Purchase`. */
  source?: InputMaybe<Scalars['String']['input']>;
};

/** Relay connection of records. */
export type PfaRecordConnection = {
  __typename?: 'PfaRecordConnection';
  /** Records with their cursors. */
  edges: Array<PfaRecordEdge>;
  /** The records of this page. */
  nodes: Array<PfaRecord>;
  /** Whether more records follow, and the cursor to continue after. */
  pageInfo: PageInfo;
  /** How many records match the filter in all (computed only when selected). */
  totalCount: Scalars['Int']['output'];
};

/** A record and its cursor. */
export type PfaRecordEdge = {
  __typename?: 'PfaRecordEdge';
  /** Opaque position of this record in the ordering. */
  cursor: Scalars['String']['output'];
  /** The record. */
  node: PfaRecord;
};

/**
 * Filter over merged record values. Fields inside one object combine with AND; `and`, `or`, `not`
 * nest. Discontinued records are excluded unless `isDiscontinued` is named anywhere.
 */
export type PfaRecordFilter = {
  /** Actual cost. */
  actualCost?: InputMaybe<FloatFilter>;
  /** Actual end. */
  actualEnd?: InputMaybe<DateFilter>;
  /** Actual start. */
  actualStart?: InputMaybe<DateFilter>;
  /** All of these. */
  and?: InputMaybe<Array<PfaRecordFilter>>;
  /** Area / silo; exact values from `fieldValues(field: AREA_SILO)`. */
  areaSilo?: InputMaybe<StringFilter>;
  /** Category; `eq`/`in` match exactly (case matters): list existing values with `fieldValues(field: CATEGORY)`, or use `contains`. */
  category?: InputMaybe<StringFilter>;
  /** Class; exact values from `fieldValues(field: CLASS)`. */
  class?: InputMaybe<StringFilter>;
  /** Contract; exact values from `fieldValues(field: CONTRACT)`. */
  contract?: InputMaybe<StringFilter>;
  /** JSONB containment on the merged data, e.g. `{"manufacturer": "Caterpillar"}`. */
  dataContains?: InputMaybe<Scalars['JSONObject']['input']>;
  /** Division of responsibility; exact values from `fieldValues(field: DOR)`. */
  dor?: InputMaybe<StringFilter>;
  /** Equipment tag; exact values from `fieldValues(field: EQUIPMENT)`. */
  equipment?: InputMaybe<StringFilter>;
  /** Forecast cost. */
  forecastCost?: InputMaybe<FloatFilter>;
  /** forecastEnd − forecastStart in days. */
  forecastDurationDays?: InputMaybe<IntFilter>;
  /** Forecast end. */
  forecastEnd?: InputMaybe<DateFilter>;
  /** forecastEnd − originalEnd in days (e.g. `{gt: 0}`: forecast end slipped past plan end); records missing either date match only `isNull: true`. */
  forecastSlipDays?: InputMaybe<IntFilter>;
  /** Forecast start. */
  forecastStart?: InputMaybe<DateFilter>;
  /** Has actuals (a missing flag is false). */
  hasActuals?: InputMaybe<Scalars['Boolean']['input']>;
  /** The caller's session has an open draft of the record. */
  hasDraft?: InputMaybe<Scalars['Boolean']['input']>;
  /** Has a plan (a missing flag is false). */
  hasPlan?: InputMaybe<Scalars['Boolean']['input']>;
  /** Also return records removed from PEMS (see `PfaRecord.removedFromPemsAt`); they are left out by default. Top level of the filter only. */
  includeRemoved?: InputMaybe<Scalars['Boolean']['input']>;
  /** Actualized (a missing flag is false). */
  isActualized?: InputMaybe<Scalars['Boolean']['input']>;
  /** Discontinued (a missing flag is false). Naming it includes discontinued records. */
  isDiscontinued?: InputMaybe<Scalars['Boolean']['input']>;
  /** Funds transferable (a missing flag is false). */
  isFundsTransferable?: InputMaybe<Scalars['Boolean']['input']>;
  /** Manufacturer; exact values from `fieldValues(field: MANUFACTURER)`. */
  manufacturer?: InputMaybe<StringFilter>;
  /** Model; exact values from `fieldValues(field: MODEL)`. */
  model?: InputMaybe<StringFilter>;
  /** Monthly rate. */
  monthlyRate?: InputMaybe<FloatFilter>;
  /** Not this. */
  not?: InputMaybe<PfaRecordFilter>;
  /** Any of these. */
  or?: InputMaybe<Array<PfaRecordFilter>>;
  /** Planned end. */
  originalEnd?: InputMaybe<DateFilter>;
  /** Planned start. */
  originalStart?: InputMaybe<DateFilter>;
  /** PEMS identifier (open one record with `pfaRecordByPfaId`). */
  pfaId?: InputMaybe<StringFilter>;
  /** Plan cost. */
  planCost?: InputMaybe<FloatFilter>;
  /** originalEnd − originalStart in days. */
  planDurationDays?: InputMaybe<IntFilter>;
  /** Purchase price. */
  purchasePrice?: InputMaybe<FloatFilter>;
  /** When a full read sync found the record gone from PEMS. Removed records are left out unless `includeRemoved: true` is also given, so without it only `isNull: true` can match. */
  removedFromPemsAt?: InputMaybe<DateTimeFilter>;
  /** Words separated by whitespace; each must appear (ignoring case) in pfaId, category, class, manufacturer, model, equipment or contract. */
  search?: InputMaybe<Scalars['String']['input']>;
  /** Source (`Rental`, `Purchase`); exact values from `fieldValues(field: SOURCE)`. */
  source?: InputMaybe<StringFilter>;
  /** forecastStart − originalStart in days. */
  startSlipDays?: InputMaybe<IntFilter>;
  /** Variance (forecast − plan). */
  variance?: InputMaybe<FloatFilter>;
};

/** Sort keys (NULLs last in both directions). */
export type PfaRecordOrderBy =
  | 'ACTUAL_COST_ASC'
  | 'ACTUAL_COST_DESC'
  | 'ACTUAL_END_ASC'
  | 'ACTUAL_END_DESC'
  | 'ACTUAL_START_ASC'
  | 'ACTUAL_START_DESC'
  | 'AREA_SILO_ASC'
  | 'AREA_SILO_DESC'
  | 'CATEGORY_ASC'
  | 'CATEGORY_DESC'
  | 'CLASS_ASC'
  | 'CLASS_DESC'
  | 'CONTRACT_ASC'
  | 'CONTRACT_DESC'
  | 'DOR_ASC'
  | 'DOR_DESC'
  | 'EQUIPMENT_ASC'
  | 'EQUIPMENT_DESC'
  | 'FORECAST_COST_ASC'
  | 'FORECAST_COST_DESC'
  | 'FORECAST_DURATION_DAYS_ASC'
  | 'FORECAST_DURATION_DAYS_DESC'
  | 'FORECAST_END_ASC'
  | 'FORECAST_END_DESC'
  | 'FORECAST_SLIP_DAYS_ASC'
  | 'FORECAST_SLIP_DAYS_DESC'
  | 'FORECAST_START_ASC'
  | 'FORECAST_START_DESC'
  | 'ID_ASC'
  | 'ID_DESC'
  | 'MANUFACTURER_ASC'
  | 'MANUFACTURER_DESC'
  | 'MODEL_ASC'
  | 'MODEL_DESC'
  | 'MONTHLY_RATE_ASC'
  | 'MONTHLY_RATE_DESC'
  | 'ORIGINAL_END_ASC'
  | 'ORIGINAL_END_DESC'
  | 'ORIGINAL_START_ASC'
  | 'ORIGINAL_START_DESC'
  | 'PFA_ID_ASC'
  | 'PFA_ID_DESC'
  | 'PLAN_COST_ASC'
  | 'PLAN_COST_DESC'
  | 'PLAN_DURATION_DAYS_ASC'
  | 'PLAN_DURATION_DAYS_DESC'
  | 'PURCHASE_PRICE_ASC'
  | 'PURCHASE_PRICE_DESC'
  | 'REMOVED_FROM_PEMS_AT_ASC'
  | 'REMOVED_FROM_PEMS_AT_DESC'
  | 'SOURCE_ASC'
  | 'SOURCE_DESC'
  | 'START_SLIP_DAYS_ASC'
  | 'START_SLIP_DAYS_DESC'
  | 'VARIANCE_ASC'
  | 'VARIANCE_DESC';

/** A superseded version of a mirror record. */
export type PfaRecordVersion = {
  __typename?: 'PfaRecordVersion';
  /** The record's data at that version. */
  data: Scalars['JSONObject']['output'];
  /** PEMS recordid at that version. */
  pemsVersion?: Maybe<Scalars['String']['output']>;
  /** When this version was replaced. */
  supersededAt: Scalars['DateTime']['output'];
  /** The version number this data had. */
  version: Scalars['Int']['output'];
};

/** Text fields whose values `fieldValues` lists. */
export type PfaValueField =
  /** Area / silo. */
  | 'AREA_SILO'
  /** Equipment category. */
  | 'CATEGORY'
  /** Equipment class. */
  | 'CLASS'
  /** Contract. */
  | 'CONTRACT'
  /** Division of responsibility. */
  | 'DOR'
  /** Equipment tag. */
  | 'EQUIPMENT'
  /** Manufacturer. */
  | 'MANUFACTURER'
  /** Model. */
  | 'MODEL'
  /** `Rental` / `Purchase`. */
  | 'SOURCE';

/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type Query = {
  __typename?: 'Query';
  /**
   * Who changed what, newest first: commits, conflict resolutions, write-backs and PEMS-side changes
   * of the organization, plus draft events (created, edited, emptied, discarded, conflicted) of the
   * caller's own sessions only. PEMS changes have `userId` `system:pems` and action `pems-changed`.
   */
  auditEvents: AuditEventConnection;
  /**
   * The caller's modifications: open drafts and conflicts, and committed changes still being
   * written back. Only the current session's (header `X-Session-Id`, BAD_USER_INPUT without it)
   * unless `allSessions` is true. "Which of my drafts conflict": `drafts(organizationId: "HOLNG",
   * allSessions: true, state: [CONFLICT])`.
   */
  drafts: Array<Draft>;
  /**
   * The values a text field takes in the caller's view of the organization, most frequent first
   * (ties by value), with how many records hold each. Use it to discover what to put in an `eq`/`in`
   * filter (e.g. the category is `Cranes`, not `Crane`). Counts follow `pfaRecords` for the same
   * filter and session (drafts included; discontinued and removed records left out by default).
   * Records without a value are not listed. Without a filter, CATEGORY, SOURCE and DOR are counted
   * from the KPI cache corrected live for commits and the caller's drafts (as `kpiSummary` is):
   * changes from PEMS count once the refresh that every sync triggers has run.
   */
  fieldValues: Array<PfaFieldValue>;
  /** Admin: the background job queues (read sync, write-back, KPI refresh, maintenance) and how many jobs each holds per state. */
  jobQueues: JobQueues;
  /**
   * Cost totals per category × source × dor, from the KPI cache corrected live for commits made
   * after its refresh and for the caller's own drafts. A group appears only when at least one record counts in it.
   */
  kpiSummary: Array<KpiSummary>;
  /** Who the caller is: user id, role and the organizations the token grants (use their `id` as `organizationId`). */
  me: Me;
  /** Relay: the object with this id (a `PfaRecord`, as `pfaRecord(id:)` returns it), or null. */
  node?: Maybe<Node>;
  /** Relay: the objects with these ids, in the same order (null where none); at most 1000 ids. */
  nodes: Array<Maybe<Node>>;
  /**
   * Totals over every record the filter returns (exactly the records `pfaRecords` would list for the
   * same filter and session: the caller's drafts included, discontinued records only when the filter
   * names `isDiscontinued`, removed records only with `includeRemoved`), grouped by the given keys.
   * Without `groupBy`: one row for the whole filter (with `recordCount` 0 when nothing matches).
   * Rows are ordered by the group keys ascending, nulls last; a group appears only when a record is
   * in it. Costs follow the KPI rules (DOMAIN §2), unrounded.
   * Example: "forecast cost of rented cranes in HOLNG per month" →
   * `pfaAggregate(organizationId: "HOLNG", filter: {category: {eq: "Cranes"}, source: {eq: "Rental"}},
   * groupBy: [FORECAST_START_MONTH]) { forecastStartMonth recordCount totalForecastCost }`.
   * How it is computed: one SQL aggregate over the caller's merged view, with the filter applied
   * inside both halves of the merge, so untouched records are read through the mirror's indexes
   * (e.g. `category` + `source` + forecast window walk the grid index) and only the records with a
   * pending change or a draft of this session are re-evaluated on their merged values. Without a
   * filter, grouped by nothing or by CATEGORY / SOURCE / DOR, and with `minForecastStart` and
   * `maxForecastEnd` not selected, the totals come from the KPI cache corrected live for commits and
   * the caller's drafts (as `kpiSummary`; PEMS changes count once the refresh every sync triggers has run).
   */
  pfaAggregate: Array<PfaAggregate>;
  /**
   * One record by its id (digits, `PfaRecord.id`), merged for the caller; FORBIDDEN when it belongs
   * to another organization. To open a record by the identifier users quote (e.g. `HOLNG-PFA-0000003`),
   * use `pfaRecordByPfaId`.
   */
  pfaRecord?: Maybe<PfaRecord>;
  /**
   * One record by its PEMS identifier (`pfaId`, what users quote, e.g. `HOLNG-PFA-0000003`), merged
   * for the caller; null when the organization has no such record. Like `pfaRecord`, it also returns
   * discontinued records and records removed from PEMS.
   */
  pfaRecordByPfaId?: Maybe<PfaRecord>;
  /**
   * A page of the organization's records, filtered and ordered on the merged values the caller sees.
   * Discontinued records are left out unless the filter names `isDiscontinued`.
   */
  pfaRecords: PfaRecordConnection;
  /** Recent PEMS synchronisation runs of the organization, newest first. */
  syncRuns: Array<SyncRun>;
  /**
   * The bars of a Gantt chart for a date window, in one request: every record whose forecast span
   * [forecastStart, forecastEnd] (merged values, as the caller sees them: pending commits and the
   * caller's own drafts included) overlaps [from, to], both days inclusive. Records without a
   * forecast start or end draw no bar. The filter has the language and defaults of `pfaRecords`
   * (discontinued records only when it names `isDiscontinued`, removed ones only with
   * `includeRemoved`). Bars come ordered by forecastStart, then id; at most `limit` of them
   * (`truncated` says when the limit cut the list). The answer is columnar (`TimelineBarColumns`:
   * one array per field) because that is several times cheaper to produce and to parse than one
   * object per bar. BAD_USER_INPUT (naming the argument) when `to` is before `from`, the window holds
   * more than 1,096 days (three years), or `limit` is outside 1–50,000. Cost: see the API guide
   * (each bar of `limit` counts a quarter, 12,501 at the default limit).
   */
  timelineBars: TimelineBars;
  /** Earliest and latest plan, forecast and actual dates of the organization, as the caller sees them. */
  timelineBounds?: Maybe<TimelineBounds>;
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryAuditEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  first?: InputMaybe<Scalars['Int']['input']>;
  organizationId: Scalars['ID']['input'];
  recordId?: InputMaybe<Scalars['ID']['input']>;
  since?: InputMaybe<Scalars['DateTime']['input']>;
  until?: InputMaybe<Scalars['DateTime']['input']>;
  userId?: InputMaybe<Scalars['String']['input']>;
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryDraftsArgs = {
  allSessions?: InputMaybe<Scalars['Boolean']['input']>;
  organizationId: Scalars['ID']['input'];
  state?: InputMaybe<Array<SyncState>>;
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryFieldValuesArgs = {
  field: PfaValueField;
  filter?: InputMaybe<PfaRecordFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  organizationId: Scalars['ID']['input'];
  search?: InputMaybe<Scalars['String']['input']>;
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryKpiSummaryArgs = {
  organizationId: Scalars['ID']['input'];
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryNodeArgs = {
  id: Scalars['ID']['input'];
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryNodesArgs = {
  ids: Array<Scalars['ID']['input']>;
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryPfaAggregateArgs = {
  filter?: InputMaybe<PfaRecordFilter>;
  groupBy?: InputMaybe<Array<PfaGroupBy>>;
  organizationId: Scalars['ID']['input'];
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryPfaRecordArgs = {
  asOf?: InputMaybe<Scalars['DateTime']['input']>;
  id: Scalars['ID']['input'];
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryPfaRecordByPfaIdArgs = {
  organizationId: Scalars['ID']['input'];
  pfaId: Scalars['String']['input'];
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryPfaRecordsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  asOf?: InputMaybe<Scalars['DateTime']['input']>;
  before?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<PfaRecordFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
  last?: InputMaybe<Scalars['Int']['input']>;
  orderBy?: InputMaybe<Array<PfaRecordOrderBy>>;
  organizationId: Scalars['ID']['input'];
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QuerySyncRunsArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
  organizationId: Scalars['ID']['input'];
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryTimelineBarsArgs = {
  filter?: InputMaybe<PfaRecordFilter>;
  from: Scalars['LocalDate']['input'];
  limit?: InputMaybe<Scalars['Int']['input']>;
  organizationId: Scalars['ID']['input'];
  to: Scalars['LocalDate']['input'];
};


/**
 * Reads over PFA records (Plan / Forecast / Actual equipment lines) as the caller sees them: the
 * PEMS mirror, overlaid by every committed change of the organization not yet written back, overlaid
 * by the caller's own open drafts (session from the `X-Session-Id` header). Other sessions' drafts are
 * never visible.
 */
export type QueryTimelineBoundsArgs = {
  organizationId: Scalars['ID']['input'];
};

/** Result of resolveConflict. */
export type ResolveConflictPayload = {
  __typename?: 'ResolveConflictPayload';
  /** The committed draft (KEEP_MINE), or null (ACCEPT_THEIRS). */
  draft?: Maybe<Draft>;
  /** The record as the caller now sees it. */
  record: PfaRecord;
};

/** A user's sandbox (what-if) in one organization. */
export type Session = {
  __typename?: 'Session';
  /** When the session was created. */
  createdAt: Scalars['DateTime']['output'];
  /** The id to send as the `X-Session-Id` header. */
  id: Scalars['ID']['output'];
  /** Organization code. */
  organizationId: Scalars['ID']['output'];
};

/** String operators; `contains` and `startsWith` ignore case. */
export type StringFilter = {
  /** Contains, ignoring case. */
  contains?: InputMaybe<Scalars['String']['input']>;
  /** Equal to. */
  eq?: InputMaybe<Scalars['String']['input']>;
  /** One of (at most 1000). */
  in?: InputMaybe<Array<Scalars['String']['input']>>;
  /** true: has no value; false: has one. */
  isNull?: InputMaybe<Scalars['Boolean']['input']>;
  /** Not equal to (records without a value do not match). */
  ne?: InputMaybe<Scalars['String']['input']>;
  /** None of (at most 1000; records without a value do not match). */
  notIn?: InputMaybe<Array<Scalars['String']['input']>>;
  /** Starts with, ignoring case. */
  startsWith?: InputMaybe<Scalars['String']['input']>;
};

/**
 * Live updates over graphql-ws on the same port and path (`ws://host:port/graphql`). The connection's
 * `connectionParams` carry `authorization` ("Bearer <JWT>", the same token rules as HTTP) and
 * `x-session-id`; the socket is closed with 4401 when the token expires. Each event means "refetch
 * what you show"; events go out after the commit, from any API process.
 */
export type Subscription = {
  __typename?: 'Subscription';
  /** After the caller's session (connectionParams x-session-id) gained, changed, committed or lost drafts. */
  draftsChanged: DraftsChangedEvent;
  /** Progress of a sync or refresh job (the jobId a job mutation returned); admin role. */
  jobProgress: JobProgressEvent;
  /** After a commit, a conflict resolution, a KPI refresh or a read sync changed the organization's figures. */
  kpiChanged: KpiChangedEvent;
};


/**
 * Live updates over graphql-ws on the same port and path (`ws://host:port/graphql`). The connection's
 * `connectionParams` carry `authorization` ("Bearer <JWT>", the same token rules as HTTP) and
 * `x-session-id`; the socket is closed with 4401 when the token expires. Each event means "refetch
 * what you show"; events go out after the commit, from any API process.
 */
export type SubscriptionDraftsChangedArgs = {
  organizationId: Scalars['ID']['input'];
};


/**
 * Live updates over graphql-ws on the same port and path (`ws://host:port/graphql`). The connection's
 * `connectionParams` carry `authorization` ("Bearer <JWT>", the same token rules as HTTP) and
 * `x-session-id`; the socket is closed with 4401 when the token expires. Each event means "refetch
 * what you show"; events go out after the commit, from any API process.
 */
export type SubscriptionJobProgressArgs = {
  id: Scalars['ID']['input'];
};


/**
 * Live updates over graphql-ws on the same port and path (`ws://host:port/graphql`). The connection's
 * `connectionParams` carry `authorization` ("Bearer <JWT>", the same token rules as HTTP) and
 * `x-session-id`; the socket is closed with 4401 when the token expires. Each event means "refetch
 * what you show"; events go out after the commit, from any API process.
 */
export type SubscriptionKpiChangedArgs = {
  organizationId: Scalars['ID']['input'];
};

/** One synchronisation run with PEMS. */
export type SyncRun = {
  __typename?: 'SyncRun';
  /** Changes that became conflicts. */
  conflicted: Scalars['Int']['output'];
  /** `read` (PEMS → mirror) or `write` (commits → PEMS). */
  direction: Scalars['String']['output'];
  /** Duration in milliseconds. */
  durationMs?: Maybe<Scalars['Int']['output']>;
  /** Per rejected record or failed change: what went wrong. */
  errors: Array<Scalars['JSON']['output']>;
  /** Changes whose write-back failed for now. */
  failed: Scalars['Int']['output'];
  /** Finished at. */
  finishedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Run id. */
  id: Scalars['ID']['output'];
  /** Records inserted. */
  inserted: Scalars['Int']['output'];
  /** Summary. */
  message?: Maybe<Scalars['String']['output']>;
  /** `full` or `incremental`. */
  mode: Scalars['String']['output'];
  /** Records rejected (quarantined). */
  rejected: Scalars['Int']['output'];
  /** Records no longer in PEMS. */
  removed: Scalars['Int']['output'];
  /** Started at. */
  startedAt: Scalars['DateTime']['output'];
  /** `running`, `succeeded`, `partial` or `failed`. */
  status: Scalars['String']['output'];
  /** Changes written back. */
  synced: Scalars['Int']['output'];
  /** Records unchanged. */
  unchanged: Scalars['Int']['output'];
  /** Records updated. */
  updated: Scalars['Int']['output'];
};

/** States of a modification (DOMAIN §3). */
export type SyncState =
  /** Submitted; visible to the whole organization; waiting for write-back. */
  | 'COMMITTED'
  /** Open; PEMS or another session changed the same fields; needs resolveConflict. */
  | 'CONFLICT'
  /** Open, private to its session. */
  | 'DRAFT'
  /** Written back; done. */
  | 'SYNCED'
  /** Being written back to PEMS. */
  | 'SYNCING';

/**
 * Gantt bars as parallel arrays (entry i of every array is bar i), each a column scalar (a JSON
 * array). Select only the arrays the chart draws; each is as long as `TimelineBars.count`. Values are
 * merged as the caller sees them.
 */
export type TimelineBarColumns = {
  __typename?: 'TimelineBarColumns';
  /** Actual end (null entries where missing). */
  actualEnd: Scalars['LocalDateColumn']['output'];
  /** Actual start (null entries where missing). */
  actualStart: Scalars['LocalDateColumn']['output'];
  /** Category (null entries where the record has none). */
  category: Scalars['StringColumn']['output'];
  /** Forecast end: where the bar ends, inclusive (never null). */
  forecastEnd: Scalars['LocalDateColumn']['output'];
  /** Forecast start: where the bar begins (never null). */
  forecastStart: Scalars['LocalDateColumn']['output'];
  /** Whether the caller's session holds an open draft of the record (the bar shows a what-if). */
  hasDraft: Scalars['BooleanColumn']['output'];
  /** `PfaRecord.id` of each bar. */
  id: Scalars['IDColumn']['output'];
  /** Planned end (null entries where missing). */
  originalEnd: Scalars['LocalDateColumn']['output'];
  /** Planned start (null entries where missing), for a baseline bar. */
  originalStart: Scalars['LocalDateColumn']['output'];
  /** PEMS identifier of each bar. */
  pfaId: Scalars['StringColumn']['output'];
};

/**
 * The bars of `timelineBars`: the window asked for, how many bars there are, and the bars themselves
 * as parallel arrays.
 */
export type TimelineBars = {
  __typename?: 'TimelineBars';
  /** The bars, one array per field: bar i is entry i of every array, ordered by forecastStart, then id. */
  bars: TimelineBarColumns;
  /** Bars returned: the length of every array of `bars`. */
  count: Scalars['Int']['output'];
  /** First day of the window (as asked). */
  from: Scalars['LocalDate']['output'];
  /** Last day of the window (as asked). */
  to: Scalars['LocalDate']['output'];
  /**
   * Bars overlapping the window in all, the ones the limit cut included. Equal to `count` unless
   * `truncated`; then an extra count runs, only when this field is selected.
   */
  totalCount: Scalars['Int']['output'];
  /** True when more bars overlap the window than `limit` allowed: `bars` holds the first `limit` of them. */
  truncated: Scalars['Boolean']['output'];
};

/** Date bounds of an organization's non-discontinued records. */
export type TimelineBounds = {
  __typename?: 'TimelineBounds';
  /** Latest actual end of actualized records. */
  actualEnd?: Maybe<Scalars['LocalDate']['output']>;
  /** Earliest actual start of actualized records. */
  actualStart?: Maybe<Scalars['LocalDate']['output']>;
  /** Actualized records counted. */
  actualizedRecords: Scalars['Int']['output'];
  /** Latest forecast end. */
  forecastEnd?: Maybe<Scalars['LocalDate']['output']>;
  /** Earliest forecast start. */
  forecastStart?: Maybe<Scalars['LocalDate']['output']>;
  /** Latest planned end. */
  planEnd?: Maybe<Scalars['LocalDate']['output']>;
  /** Earliest planned start. */
  planStart?: Maybe<Scalars['LocalDate']['output']>;
  /** When the cache these figures start from was refreshed. */
  refreshedAt?: Maybe<Scalars['DateTime']['output']>;
  /** Records counted. */
  totalRecords: Scalars['Int']['output'];
};

/** An edit of one record. */
export type UpdatePfaRecordInput = {
  /** Keys to change. */
  changes: PfaRecordChangesInput;
  /** `currentVersion` of the session's open draft of this record, 0 when there is none yet. */
  expectedVersion: Scalars['Int']['input'];
  /** `PfaRecord.id`. */
  id: Scalars['ID']['input'];
  /** Why (up to 500 characters); kept in the audit trail. */
  reason?: InputMaybe<Scalars['String']['input']>;
};

/** Result of updatePfaRecord. */
export type UpdatePfaRecordPayload = {
  __typename?: 'UpdatePfaRecordPayload';
  /** The session's draft after the edit; null when the edit emptied it (draft removed). */
  draft?: Maybe<Draft>;
  /** The record as the caller now sees it. */
  record: PfaRecord;
};



export type ResolverTypeWrapper<T> = Promise<T> | T;


export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;




/** Mapping of interface types */
export type ResolversInterfaceTypes<_RefType extends Record<string, unknown>> = {
  Node: ( MergedRecord );
};

/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = {
  AuditEvent: ResolverTypeWrapper<AuditEvent>;
  AuditEventConnection: ResolverTypeWrapper<AuditEventConnection>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  BooleanColumn: ResolverTypeWrapper<Scalars['BooleanColumn']['output']>;
  BulkUpdatePfaRecordsInput: BulkUpdatePfaRecordsInput;
  BulkUpdatePfaRecordsPayload: ResolverTypeWrapper<BulkEditResult>;
  CommitDraftsPayload: ResolverTypeWrapper<Omit<CommitDraftsPayload, 'committed' | 'conflicted'> & { committed: Array<ResolversTypes['Draft']>, conflicted: Array<ResolversTypes['Draft']> }>;
  ConflictResolution: ConflictResolution;
  DateFilter: DateFilter;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  DateTimeFilter: DateTimeFilter;
  DiscardDraftsPayload: ResolverTypeWrapper<Omit<DiscardDraftsPayload, 'records'> & { records: Array<ResolversTypes['PfaRecord']> }>;
  Draft: ResolverTypeWrapper<DraftView>;
  DraftsChangedEvent: ResolverTypeWrapper<DraftsChangedEvent>;
  FailedJob: ResolverTypeWrapper<FailedJob>;
  FieldConflict: ResolverTypeWrapper<FieldConflict>;
  Float: ResolverTypeWrapper<Scalars['Float']['output']>;
  FloatFilter: FloatFilter;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  IDColumn: ResolverTypeWrapper<Scalars['IDColumn']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  IntFilter: IntFilter;
  JSON: ResolverTypeWrapper<Scalars['JSON']['output']>;
  JSONObject: ResolverTypeWrapper<Scalars['JSONObject']['output']>;
  JobPayload: ResolverTypeWrapper<JobPayload>;
  JobProgressEvent: ResolverTypeWrapper<JobProgressEvent>;
  JobQueue: ResolverTypeWrapper<JobQueue>;
  JobQueues: ResolverTypeWrapper<JobQueues>;
  KpiChangedEvent: ResolverTypeWrapper<KpiChangedEvent>;
  KpiSummary: ResolverTypeWrapper<KpiSummary>;
  LocalDate: ResolverTypeWrapper<Scalars['LocalDate']['output']>;
  LocalDateColumn: ResolverTypeWrapper<Scalars['LocalDateColumn']['output']>;
  Me: ResolverTypeWrapper<Me>;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Node: ResolverTypeWrapper<ResolversInterfaceTypes<ResolversTypes>['Node']>;
  Organization: ResolverTypeWrapper<Organization>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  PfaAggregate: ResolverTypeWrapper<PfaAggregate>;
  PfaFieldValue: ResolverTypeWrapper<PfaFieldValue>;
  PfaGroupBy: PfaGroupBy;
  PfaRecord: ResolverTypeWrapper<MergedRecord>;
  PfaRecordChangesInput: PfaRecordChangesInput;
  PfaRecordConnection: ResolverTypeWrapper<Omit<PfaRecordConnection, 'edges' | 'nodes'> & { edges: Array<ResolversTypes['PfaRecordEdge']>, nodes: Array<ResolversTypes['PfaRecord']> }>;
  PfaRecordEdge: ResolverTypeWrapper<Omit<PfaRecordEdge, 'node'> & { node: ResolversTypes['PfaRecord'] }>;
  PfaRecordFilter: PfaRecordFilter;
  PfaRecordOrderBy: PfaRecordOrderBy;
  PfaRecordVersion: ResolverTypeWrapper<HistoryRow>;
  PfaValueField: PfaValueField;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  ResolveConflictPayload: ResolverTypeWrapper<Omit<ResolveConflictPayload, 'draft' | 'record'> & { draft?: Maybe<ResolversTypes['Draft']>, record: ResolversTypes['PfaRecord'] }>;
  Session: ResolverTypeWrapper<Session>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  StringColumn: ResolverTypeWrapper<Scalars['StringColumn']['output']>;
  StringFilter: StringFilter;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
  SyncRun: ResolverTypeWrapper<SyncRunRow>;
  SyncState: SyncState;
  TimelineBarColumns: ResolverTypeWrapper<TimelineBarColumns>;
  TimelineBars: ResolverTypeWrapper<TimelineBars>;
  TimelineBounds: ResolverTypeWrapper<TimelineBounds>;
  UpdatePfaRecordInput: UpdatePfaRecordInput;
  UpdatePfaRecordPayload: ResolverTypeWrapper<Omit<UpdatePfaRecordPayload, 'draft' | 'record'> & { draft?: Maybe<ResolversTypes['Draft']>, record: ResolversTypes['PfaRecord'] }>;
};

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = {
  AuditEvent: AuditEvent;
  AuditEventConnection: AuditEventConnection;
  Boolean: Scalars['Boolean']['output'];
  BooleanColumn: Scalars['BooleanColumn']['output'];
  BulkUpdatePfaRecordsInput: BulkUpdatePfaRecordsInput;
  BulkUpdatePfaRecordsPayload: BulkEditResult;
  CommitDraftsPayload: Omit<CommitDraftsPayload, 'committed' | 'conflicted'> & { committed: Array<ResolversParentTypes['Draft']>, conflicted: Array<ResolversParentTypes['Draft']> };
  DateFilter: DateFilter;
  DateTime: Scalars['DateTime']['output'];
  DateTimeFilter: DateTimeFilter;
  DiscardDraftsPayload: Omit<DiscardDraftsPayload, 'records'> & { records: Array<ResolversParentTypes['PfaRecord']> };
  Draft: DraftView;
  DraftsChangedEvent: DraftsChangedEvent;
  FailedJob: FailedJob;
  FieldConflict: FieldConflict;
  Float: Scalars['Float']['output'];
  FloatFilter: FloatFilter;
  ID: Scalars['ID']['output'];
  IDColumn: Scalars['IDColumn']['output'];
  Int: Scalars['Int']['output'];
  IntFilter: IntFilter;
  JSON: Scalars['JSON']['output'];
  JSONObject: Scalars['JSONObject']['output'];
  JobPayload: JobPayload;
  JobProgressEvent: JobProgressEvent;
  JobQueue: JobQueue;
  JobQueues: JobQueues;
  KpiChangedEvent: KpiChangedEvent;
  KpiSummary: KpiSummary;
  LocalDate: Scalars['LocalDate']['output'];
  LocalDateColumn: Scalars['LocalDateColumn']['output'];
  Me: Me;
  Mutation: Record<PropertyKey, never>;
  Node: ResolversInterfaceTypes<ResolversParentTypes>['Node'];
  Organization: Organization;
  PageInfo: PageInfo;
  PfaAggregate: PfaAggregate;
  PfaFieldValue: PfaFieldValue;
  PfaRecord: MergedRecord;
  PfaRecordChangesInput: PfaRecordChangesInput;
  PfaRecordConnection: Omit<PfaRecordConnection, 'edges' | 'nodes'> & { edges: Array<ResolversParentTypes['PfaRecordEdge']>, nodes: Array<ResolversParentTypes['PfaRecord']> };
  PfaRecordEdge: Omit<PfaRecordEdge, 'node'> & { node: ResolversParentTypes['PfaRecord'] };
  PfaRecordFilter: PfaRecordFilter;
  PfaRecordVersion: HistoryRow;
  Query: Record<PropertyKey, never>;
  ResolveConflictPayload: Omit<ResolveConflictPayload, 'draft' | 'record'> & { draft?: Maybe<ResolversParentTypes['Draft']>, record: ResolversParentTypes['PfaRecord'] };
  Session: Session;
  String: Scalars['String']['output'];
  StringColumn: Scalars['StringColumn']['output'];
  StringFilter: StringFilter;
  Subscription: Record<PropertyKey, never>;
  SyncRun: SyncRunRow;
  TimelineBarColumns: TimelineBarColumns;
  TimelineBars: TimelineBars;
  TimelineBounds: TimelineBounds;
  UpdatePfaRecordInput: UpdatePfaRecordInput;
  UpdatePfaRecordPayload: Omit<UpdatePfaRecordPayload, 'draft' | 'record'> & { draft?: Maybe<ResolversParentTypes['Draft']>, record: ResolversParentTypes['PfaRecord'] };
};

export type AuditEventResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['AuditEvent'] = ResolversParentTypes['AuditEvent']> = {
  action?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  after?: Resolver<ResolversTypes['JSONObject'], ParentType, ContextType>;
  at?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  before?: Resolver<ResolversTypes['JSONObject'], ParentType, ContextType>;
  fields?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  recordId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  userId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type AuditEventConnectionResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['AuditEventConnection'] = ResolversParentTypes['AuditEventConnection']> = {
  nodes?: Resolver<Array<ResolversTypes['AuditEvent']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
};

export interface BooleanColumnScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['BooleanColumn'], any> {
  name: 'BooleanColumn';
}

export type BulkUpdatePfaRecordsPayloadResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['BulkUpdatePfaRecordsPayload'] = ResolversParentTypes['BulkUpdatePfaRecordsPayload']> = {
  affectedCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  drafts?: Resolver<Array<ResolversTypes['Draft']>, ParentType, ContextType, RequireFields<BulkUpdatePfaRecordsPayloadDraftsArgs, 'first'>>;
};

export type CommitDraftsPayloadResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['CommitDraftsPayload'] = ResolversParentTypes['CommitDraftsPayload']> = {
  committed?: Resolver<Array<ResolversTypes['Draft']>, ParentType, ContextType>;
  conflicted?: Resolver<Array<ResolversTypes['Draft']>, ParentType, ContextType>;
};

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type DiscardDraftsPayloadResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['DiscardDraftsPayload'] = ResolversParentTypes['DiscardDraftsPayload']> = {
  discardedCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  discardedIds?: Resolver<Array<ResolversTypes['ID']>, ParentType, ContextType>;
  records?: Resolver<Array<ResolversTypes['PfaRecord']>, ParentType, ContextType>;
};

export type DraftResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['Draft'] = ResolversParentTypes['Draft']> = {
  baseValues?: Resolver<ResolversTypes['JSONObject'], ParentType, ContextType>;
  baseVersion?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  changeReason?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  committedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  conflicts?: Resolver<Array<ResolversTypes['FieldConflict']>, ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  currentVersion?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  delta?: Resolver<ResolversTypes['JSONObject'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  isStale?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  lastError?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  modifiedFields?: Resolver<Array<ResolversTypes['String']>, ParentType, ContextType>;
  record?: Resolver<ResolversTypes['PfaRecord'], ParentType, ContextType>;
  sessionId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  syncState?: Resolver<ResolversTypes['SyncState'], ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  userId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type DraftsChangedEventResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['DraftsChangedEvent'] = ResolversParentTypes['DraftsChangedEvent']> = {
  changeSeq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  organizationId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  reason?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  sessionId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type FailedJobResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['FailedJob'] = ResolversParentTypes['FailedJob']> = {
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  error?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  failedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  jobId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  organizationId?: Resolver<Maybe<ResolversTypes['ID']>, ParentType, ContextType>;
  queue?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type FieldConflictResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['FieldConflict'] = ResolversParentTypes['FieldConflict']> = {
  base?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  field?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  mine?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
  theirs?: Resolver<Maybe<ResolversTypes['JSON']>, ParentType, ContextType>;
};

export interface IdColumnScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['IDColumn'], any> {
  name: 'IDColumn';
}

export interface JsonScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['JSON'], any> {
  name: 'JSON';
}

export interface JsonObjectScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['JSONObject'], any> {
  name: 'JSONObject';
}

export type JobPayloadResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['JobPayload'] = ResolversParentTypes['JobPayload']> = {
  jobId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  state?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type JobProgressEventResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['JobProgressEvent'] = ResolversParentTypes['JobProgressEvent']> = {
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  processed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  state?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  total?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type JobQueueResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['JobQueue'] = ResolversParentTypes['JobQueue']> = {
  active?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  delayed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  failed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  waiting?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type JobQueuesResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['JobQueues'] = ResolversParentTypes['JobQueues']> = {
  failedJobs?: Resolver<Array<ResolversTypes['FailedJob']>, ParentType, ContextType>;
  mode?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  queues?: Resolver<Array<ResolversTypes['JobQueue']>, ParentType, ContextType>;
};

export type KpiChangedEventResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['KpiChangedEvent'] = ResolversParentTypes['KpiChangedEvent']> = {
  changeSeq?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  organizationId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  refreshedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
};

export type KpiSummaryResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['KpiSummary'] = ResolversParentTypes['KpiSummary']> = {
  actualizedCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  category?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  dor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  recordCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  refreshedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  source?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  totalActualCost?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  totalForecastCost?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  totalPlanCost?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  totalVariance?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
};

export interface LocalDateScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['LocalDate'], any> {
  name: 'LocalDate';
}

export interface LocalDateColumnScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['LocalDateColumn'], any> {
  name: 'LocalDateColumn';
}

export type MeResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['Me'] = ResolversParentTypes['Me']> = {
  organizations?: Resolver<Array<ResolversTypes['Organization']>, ParentType, ContextType>;
  role?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  userId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type MutationResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = {
  bulkUpdatePfaRecords?: Resolver<ResolversTypes['BulkUpdatePfaRecordsPayload'], ParentType, ContextType, RequireFields<MutationBulkUpdatePfaRecordsArgs, 'input'>>;
  commitDrafts?: Resolver<ResolversTypes['CommitDraftsPayload'], ParentType, ContextType, RequireFields<MutationCommitDraftsArgs, 'organizationId'>>;
  createSession?: Resolver<ResolversTypes['Session'], ParentType, ContextType, RequireFields<MutationCreateSessionArgs, 'organizationId'>>;
  discardDrafts?: Resolver<ResolversTypes['DiscardDraftsPayload'], ParentType, ContextType, RequireFields<MutationDiscardDraftsArgs, 'organizationId'>>;
  refreshKpis?: Resolver<ResolversTypes['JobPayload'], ParentType, ContextType, RequireFields<MutationRefreshKpisArgs, 'organizationId'>>;
  resolveConflict?: Resolver<ResolversTypes['ResolveConflictPayload'], ParentType, ContextType, RequireFields<MutationResolveConflictArgs, 'id' | 'resolution'>>;
  syncFromPems?: Resolver<ResolversTypes['JobPayload'], ParentType, ContextType, RequireFields<MutationSyncFromPemsArgs, 'organizationId'>>;
  syncToPems?: Resolver<ResolversTypes['JobPayload'], ParentType, ContextType, RequireFields<MutationSyncToPemsArgs, 'organizationId'>>;
  updatePfaRecord?: Resolver<ResolversTypes['UpdatePfaRecordPayload'], ParentType, ContextType, RequireFields<MutationUpdatePfaRecordArgs, 'input'>>;
};

export type NodeResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['Node'] = ResolversParentTypes['Node']> = {
  __resolveType: TypeResolveFn<'PfaRecord', ParentType, ContextType>;
};

export type OrganizationResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['Organization'] = ResolversParentTypes['Organization']> = {
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type PageInfoResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = {
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  hasPreviousPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  startCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type PfaAggregateResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['PfaAggregate'] = ResolversParentTypes['PfaAggregate']> = {
  actualizedCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  areaSilo?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  category?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  class?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  dor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  forecastStartMonth?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  forecastStartYear?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  manufacturer?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  maxForecastEnd?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  minForecastStart?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  model?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  recordCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  source?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  totalActualCost?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  totalForecastCost?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  totalPlanCost?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  totalVariance?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
};

export type PfaFieldValueResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['PfaFieldValue'] = ResolversParentTypes['PfaFieldValue']> = {
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type PfaRecordResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['PfaRecord'] = ResolversParentTypes['PfaRecord']> = {
  actualCost?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  actualEnd?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  actualStart?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  areaSilo?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  category?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  class?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  contract?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  data?: Resolver<ResolversTypes['JSONObject'], ParentType, ContextType>;
  dor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  draft?: Resolver<Maybe<ResolversTypes['Draft']>, ParentType, ContextType>;
  equipment?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  forecastCost?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  forecastDurationDays?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  forecastEnd?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  forecastSlipDays?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  forecastStart?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  hasActuals?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  hasPlan?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  history?: Resolver<Array<ResolversTypes['PfaRecordVersion']>, ParentType, ContextType, RequireFields<PfaRecordHistoryArgs, 'first'>>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  isActualized?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  isDiscontinued?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  isFundsTransferable?: Resolver<Maybe<ResolversTypes['Boolean']>, ParentType, ContextType>;
  lastSyncedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  manufacturer?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  model?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  monthlyRate?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  organization?: Resolver<ResolversTypes['Organization'], ParentType, ContextType>;
  organizationId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  originalEnd?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  originalStart?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  pemsVersion?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  pfaId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  planCost?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  planDurationDays?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  purchasePrice?: Resolver<Maybe<ResolversTypes['Float']>, ParentType, ContextType>;
  removedFromPemsAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  source?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  startSlipDays?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  variance?: Resolver<ResolversTypes['Float'], ParentType, ContextType>;
  version?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  viewKey?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  __isTypeOf?: IsTypeOfResolverFn<ParentType, ContextType>;
};

export type PfaRecordConnectionResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['PfaRecordConnection'] = ResolversParentTypes['PfaRecordConnection']> = {
  edges?: Resolver<Array<ResolversTypes['PfaRecordEdge']>, ParentType, ContextType>;
  nodes?: Resolver<Array<ResolversTypes['PfaRecord']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type PfaRecordEdgeResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['PfaRecordEdge'] = ResolversParentTypes['PfaRecordEdge']> = {
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['PfaRecord'], ParentType, ContextType>;
};

export type PfaRecordVersionResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['PfaRecordVersion'] = ResolversParentTypes['PfaRecordVersion']> = {
  data?: Resolver<ResolversTypes['JSONObject'], ParentType, ContextType>;
  pemsVersion?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  supersededAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  version?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type QueryResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = {
  auditEvents?: Resolver<ResolversTypes['AuditEventConnection'], ParentType, ContextType, RequireFields<QueryAuditEventsArgs, 'organizationId'>>;
  drafts?: Resolver<Array<ResolversTypes['Draft']>, ParentType, ContextType, RequireFields<QueryDraftsArgs, 'allSessions' | 'organizationId'>>;
  fieldValues?: Resolver<Array<ResolversTypes['PfaFieldValue']>, ParentType, ContextType, RequireFields<QueryFieldValuesArgs, 'field' | 'first' | 'organizationId'>>;
  jobQueues?: Resolver<ResolversTypes['JobQueues'], ParentType, ContextType>;
  kpiSummary?: Resolver<Array<ResolversTypes['KpiSummary']>, ParentType, ContextType, RequireFields<QueryKpiSummaryArgs, 'organizationId'>>;
  me?: Resolver<ResolversTypes['Me'], ParentType, ContextType>;
  node?: Resolver<Maybe<ResolversTypes['Node']>, ParentType, ContextType, RequireFields<QueryNodeArgs, 'id'>>;
  nodes?: Resolver<Array<Maybe<ResolversTypes['Node']>>, ParentType, ContextType, RequireFields<QueryNodesArgs, 'ids'>>;
  pfaAggregate?: Resolver<Array<ResolversTypes['PfaAggregate']>, ParentType, ContextType, RequireFields<QueryPfaAggregateArgs, 'organizationId'>>;
  pfaRecord?: Resolver<Maybe<ResolversTypes['PfaRecord']>, ParentType, ContextType, RequireFields<QueryPfaRecordArgs, 'id'>>;
  pfaRecordByPfaId?: Resolver<Maybe<ResolversTypes['PfaRecord']>, ParentType, ContextType, RequireFields<QueryPfaRecordByPfaIdArgs, 'organizationId' | 'pfaId'>>;
  pfaRecords?: Resolver<ResolversTypes['PfaRecordConnection'], ParentType, ContextType, RequireFields<QueryPfaRecordsArgs, 'organizationId'>>;
  syncRuns?: Resolver<Array<ResolversTypes['SyncRun']>, ParentType, ContextType, RequireFields<QuerySyncRunsArgs, 'first' | 'organizationId'>>;
  timelineBars?: Resolver<ResolversTypes['TimelineBars'], ParentType, ContextType, RequireFields<QueryTimelineBarsArgs, 'from' | 'organizationId' | 'to'>>;
  timelineBounds?: Resolver<Maybe<ResolversTypes['TimelineBounds']>, ParentType, ContextType, RequireFields<QueryTimelineBoundsArgs, 'organizationId'>>;
};

export type ResolveConflictPayloadResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['ResolveConflictPayload'] = ResolversParentTypes['ResolveConflictPayload']> = {
  draft?: Resolver<Maybe<ResolversTypes['Draft']>, ParentType, ContextType>;
  record?: Resolver<ResolversTypes['PfaRecord'], ParentType, ContextType>;
};

export type SessionResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['Session'] = ResolversParentTypes['Session']> = {
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  organizationId?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
};

export interface StringColumnScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['StringColumn'], any> {
  name: 'StringColumn';
}

export type SubscriptionResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = {
  draftsChanged?: SubscriptionResolver<ResolversTypes['DraftsChangedEvent'], "draftsChanged", ParentType, ContextType, RequireFields<SubscriptionDraftsChangedArgs, 'organizationId'>>;
  jobProgress?: SubscriptionResolver<ResolversTypes['JobProgressEvent'], "jobProgress", ParentType, ContextType, RequireFields<SubscriptionJobProgressArgs, 'id'>>;
  kpiChanged?: SubscriptionResolver<ResolversTypes['KpiChangedEvent'], "kpiChanged", ParentType, ContextType, RequireFields<SubscriptionKpiChangedArgs, 'organizationId'>>;
};

export type SyncRunResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['SyncRun'] = ResolversParentTypes['SyncRun']> = {
  conflicted?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  direction?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  durationMs?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  errors?: Resolver<Array<ResolversTypes['JSON']>, ParentType, ContextType>;
  failed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  finishedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  inserted?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  message?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  mode?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  rejected?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  removed?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  startedAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  synced?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  unchanged?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  updated?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type TimelineBarColumnsResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['TimelineBarColumns'] = ResolversParentTypes['TimelineBarColumns']> = {
  actualEnd?: Resolver<ResolversTypes['LocalDateColumn'], ParentType, ContextType>;
  actualStart?: Resolver<ResolversTypes['LocalDateColumn'], ParentType, ContextType>;
  category?: Resolver<ResolversTypes['StringColumn'], ParentType, ContextType>;
  forecastEnd?: Resolver<ResolversTypes['LocalDateColumn'], ParentType, ContextType>;
  forecastStart?: Resolver<ResolversTypes['LocalDateColumn'], ParentType, ContextType>;
  hasDraft?: Resolver<ResolversTypes['BooleanColumn'], ParentType, ContextType>;
  id?: Resolver<ResolversTypes['IDColumn'], ParentType, ContextType>;
  originalEnd?: Resolver<ResolversTypes['LocalDateColumn'], ParentType, ContextType>;
  originalStart?: Resolver<ResolversTypes['LocalDateColumn'], ParentType, ContextType>;
  pfaId?: Resolver<ResolversTypes['StringColumn'], ParentType, ContextType>;
};

export type TimelineBarsResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['TimelineBars'] = ResolversParentTypes['TimelineBars']> = {
  bars?: Resolver<ResolversTypes['TimelineBarColumns'], ParentType, ContextType>;
  count?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  from?: Resolver<ResolversTypes['LocalDate'], ParentType, ContextType>;
  to?: Resolver<ResolversTypes['LocalDate'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  truncated?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type TimelineBoundsResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['TimelineBounds'] = ResolversParentTypes['TimelineBounds']> = {
  actualEnd?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  actualStart?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  actualizedRecords?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  forecastEnd?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  forecastStart?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  planEnd?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  planStart?: Resolver<Maybe<ResolversTypes['LocalDate']>, ParentType, ContextType>;
  refreshedAt?: Resolver<Maybe<ResolversTypes['DateTime']>, ParentType, ContextType>;
  totalRecords?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type UpdatePfaRecordPayloadResolvers<ContextType = GraphqlContext, ParentType extends ResolversParentTypes['UpdatePfaRecordPayload'] = ResolversParentTypes['UpdatePfaRecordPayload']> = {
  draft?: Resolver<Maybe<ResolversTypes['Draft']>, ParentType, ContextType>;
  record?: Resolver<ResolversTypes['PfaRecord'], ParentType, ContextType>;
};

export type Resolvers<ContextType = GraphqlContext> = {
  AuditEvent?: AuditEventResolvers<ContextType>;
  AuditEventConnection?: AuditEventConnectionResolvers<ContextType>;
  BooleanColumn?: GraphQLScalarType;
  BulkUpdatePfaRecordsPayload?: BulkUpdatePfaRecordsPayloadResolvers<ContextType>;
  CommitDraftsPayload?: CommitDraftsPayloadResolvers<ContextType>;
  DateTime?: GraphQLScalarType;
  DiscardDraftsPayload?: DiscardDraftsPayloadResolvers<ContextType>;
  Draft?: DraftResolvers<ContextType>;
  DraftsChangedEvent?: DraftsChangedEventResolvers<ContextType>;
  FailedJob?: FailedJobResolvers<ContextType>;
  FieldConflict?: FieldConflictResolvers<ContextType>;
  IDColumn?: GraphQLScalarType;
  JSON?: GraphQLScalarType;
  JSONObject?: GraphQLScalarType;
  JobPayload?: JobPayloadResolvers<ContextType>;
  JobProgressEvent?: JobProgressEventResolvers<ContextType>;
  JobQueue?: JobQueueResolvers<ContextType>;
  JobQueues?: JobQueuesResolvers<ContextType>;
  KpiChangedEvent?: KpiChangedEventResolvers<ContextType>;
  KpiSummary?: KpiSummaryResolvers<ContextType>;
  LocalDate?: GraphQLScalarType;
  LocalDateColumn?: GraphQLScalarType;
  Me?: MeResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  Node?: NodeResolvers<ContextType>;
  Organization?: OrganizationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  PfaAggregate?: PfaAggregateResolvers<ContextType>;
  PfaFieldValue?: PfaFieldValueResolvers<ContextType>;
  PfaRecord?: PfaRecordResolvers<ContextType>;
  PfaRecordConnection?: PfaRecordConnectionResolvers<ContextType>;
  PfaRecordEdge?: PfaRecordEdgeResolvers<ContextType>;
  PfaRecordVersion?: PfaRecordVersionResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  ResolveConflictPayload?: ResolveConflictPayloadResolvers<ContextType>;
  Session?: SessionResolvers<ContextType>;
  StringColumn?: GraphQLScalarType;
  Subscription?: SubscriptionResolvers<ContextType>;
  SyncRun?: SyncRunResolvers<ContextType>;
  TimelineBarColumns?: TimelineBarColumnsResolvers<ContextType>;
  TimelineBars?: TimelineBarsResolvers<ContextType>;
  TimelineBounds?: TimelineBoundsResolvers<ContextType>;
  UpdatePfaRecordPayload?: UpdatePfaRecordPayloadResolvers<ContextType>;
};

