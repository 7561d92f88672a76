import { GraphQLError, GraphQLScalarType, Kind, type GraphQLResolveInfo } from 'graphql';
import { DateTimeResolver, JSONObjectResolver, JSONResolver, LocalDateResolver } from 'graphql-scalars';
import { badInput, notFound, forbidden } from '../domain/errors.js';
import { costsOf, slipsOf, valuesOf, viewKeyOf, type MergedRecord } from '../domain/merged-record.js';
import type { RecordValues } from '../domain/record-values.js';
import { validateChanges, validateReason } from '../domain/draft-rules.js';
import { parseLocalDate, textProblem } from '../domain/values.js';
import type { DraftView } from '../domain/draft.js';
import type { MergeScope, RecordFilter } from '../repositories/record-query.js';
import { parseOrderBy } from './order-by.js';
import { connectionSelectsRecordData } from './record-selection.js';
import type { CursorBinding } from '../repositories/cursor-codec.js';
import type { Actor } from '../services/drafts.service.js';
import type { GraphqlContext } from './context.js';
import type {
  Resolvers,
  PfaRecordResolvers,
  PfaGroupBy,
  PfaValueField,
  SyncState,
} from './generated/resolvers-types.js';
import {
  GROUP_KEYS,
  VALUE_FIELDS,
  type GroupKey,
  type ValueField,
} from '../repositories/aggregate.repository.js';
import { addHints } from './hints.js';
import { auditEvents, pfaRecordAsOf, pfaRecordsAsOf } from './history-resolvers.js';
import { columnScalars, timelineBars } from './timeline-resolvers.js';
import { completesRawJson, ProjectedRecord, projectedFields } from './projected-record.js';
import { subscriptionResolvers } from '../events/subscription-resolvers.js';

const MAX_FIRST = 1000;

/**
 * LocalDate with a cheap serialize: output dates come from readDate, always canonical YYYY-MM-DD;
 * graphql-scalars re-validates each through a Date (6 per record, 6,000 per page). Input is
 * exactly YYYY-MM-DD within 0001-01-01 … 9999-12-31 (parseLocalDate), the range PostgreSQL's
 * `date` and every path of the service share.
 */
const CANONICAL_DAY = /^\d{4}-\d{2}-\d{2}$/;
const inputDate = (value: unknown): string => {
  const date = parseLocalDate(value);
  if (date === null)
    throw new GraphQLError('LocalDate must be a date YYYY-MM-DD between 0001-01-01 and 9999-12-31');
  return date;
};
const LocalDate = new GraphQLScalarType({
  ...LocalDateResolver.toConfig(),
  serialize: (value) =>
    typeof value === 'string' && CANONICAL_DAY.test(value) ? value : LocalDateResolver.serialize(value),
  parseValue: inputDate,
  parseLiteral: (ast) => inputDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

function checkFirst(
  first: number | null | undefined,
  fallback: number,
  max = MAX_FIRST,
  name = 'first',
): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw badInput(`${name} must be between 1 and ${max} (got ${n})`, name);
  return n;
}

/** Is `totalCount` among the selected fields of the connection? */
function selects(info: GraphQLResolveInfo, field: string): boolean {
  for (const node of info.fieldNodes) {
    for (const sel of node.selectionSet?.selections ?? []) {
      if (sel.kind === 'Field' && sel.name.value === field) return true;
      if (sel.kind !== 'Field') return true; // fragments: be safe
    }
  }
  return false;
}

/** A record key's typed value (from the typed columns the page was read with, or from `data`). */
const value =
  <K extends keyof RecordValues>(key: K) =>
  (r: MergedRecord): RecordValues[K] =>
    valuesOf(r)[key];
const text = value;
const money = value;
const date = value;
const bool = value;

const pfaRecordResolvers: PfaRecordResolvers<GraphqlContext, MergedRecord> = {
  id: (r) => r.id,
  organizationId: (r) => r.organizationId,
  organization: async (r, _a, ctx) => {
    const org = await ctx.loaders.organization.load(r.organizationId);
    if (!org) throw notFound(`organization ${r.organizationId} not found`);
    return org;
  },
  pfaId: (r) => r.pfaId,
  category: text('category'),
  class: text('class'),
  source: text('source'),
  dor: text('dor'),
  areaSilo: text('areaSilo'),
  manufacturer: text('manufacturer'),
  model: text('model'),
  contract: text('contract'),
  equipment: text('equipment'),
  monthlyRate: money('monthlyRate'),
  purchasePrice: money('purchasePrice'),
  originalStart: date('originalStart'),
  originalEnd: date('originalEnd'),
  forecastStart: date('forecastStart'),
  forecastEnd: date('forecastEnd'),
  actualStart: date('actualStart'),
  actualEnd: date('actualEnd'),
  isActualized: bool('isActualized'),
  hasActuals: bool('hasActuals'),
  hasPlan: bool('hasPlan'),
  isDiscontinued: bool('isDiscontinued'),
  isFundsTransferable: bool('isFundsTransferable'),
  version: (r) => r.version,
  pemsVersion: (r) => r.pemsVersion,
  lastSyncedAt: (r) => r.lastSyncedAt,
  viewKey: (r) => viewKeyOf(r.sessionId),
  removedFromPemsAt: (r) => r.removedFromPemsAt,
  planCost: (r) => costsOf(r).planCost,
  forecastCost: (r) => costsOf(r).forecastCost,
  actualCost: (r) => costsOf(r).actualCost,
  variance: (r) => costsOf(r).variance,
  forecastSlipDays: (r) => slipsOf(r).forecastSlipDays,
  startSlipDays: (r) => slipsOf(r).startSlipDays,
  forecastDurationDays: (r) => slipsOf(r).forecastDurationDays,
  planDurationDays: (r) => slipsOf(r).planDurationDays,
  // Synchronous when the record carries its document (no promise per record of a page).
  data: (r, _a, ctx) => r.data ?? documentOf(r, ctx),
  draft: async (r, _a, ctx) =>
    r.draftId
      ? ctx.loaders.draft(r.organizationId).load({ id: r.draftId, mirrorId: r.id, sessionId: r.sessionId })
      : null,
  history: async (r, args, ctx) =>
    ctx.loaders.history(r.organizationId, checkFirst(args.first, 20, 100)).load(r.id),
};

/**
 * The document of a record read without it (its page's selection did not seem to ask for
 * `data`, and it was reached through another field): read now, one batched statement for the
 * page, and the full record kept for later loads of the request.
 */
async function documentOf(r: MergedRecord, ctx: GraphqlContext): Promise<Record<string, unknown>> {
  const loader = ctx.loaders.record({ organizationId: r.organizationId, sessionId: r.sessionId });
  const full = await loader.clear(r.id).load(r.id);
  if (!full?.data) throw notFound(`record ${r.id} not found`);
  return full.data;
}

async function recordFor(ctx: GraphqlContext, organizationId: string, id: string): Promise<MergedRecord> {
  const scope = await ctx.scope(organizationId);
  ctx.loaders.record(scope).clear(id);
  const record = await ctx.loaders.record(scope).load(id);
  if (!record) throw notFound(`record ${id} not found`);
  return record;
}

function checkId(id: string, name = 'id'): string {
  if (!/^\d{1,18}$/.test(id))
    throw badInput(`${name} must be a record id (digits), got "${id.slice(0, 40)}"`, name);
  return id;
}

function checkIds(ids: readonly string[] | null | undefined): string[] | null {
  if (!ids) return null;
  if (ids.length > 10_000) throw badInput('ids has more than 10000 entries', 'ids');
  return ids.map((id) => checkId(id, 'ids'));
}

/** Draft ids name rows of pfa_modification; a draft of another organization is FORBIDDEN. */
async function orgOfRecord(ctx: GraphqlContext, id: string): Promise<string> {
  const org = await ctx.services.mirror.organizationOf(checkId(id));
  if (!org) throw notFound(`record ${id} not found`);
  if (!ctx.principal.orgs.includes(org)) throw forbidden(`record ${id} belongs to another organization`);
  return org;
}

export const resolvers: Resolvers<GraphqlContext> = {
  LocalDate,
  DateTime: DateTimeResolver,
  JSONObject: JSONObjectResolver,
  JSON: JSONResolver,
  ...columnScalars,

  Query: {
    async pfaRecords(_p, args, ctx, info) {
      if (args.asOf != null)
        return pfaRecordsAsOf({ ...args, asOf: args.asOf }, ctx, selects(info, 'totalCount'));
      const scope = await ctx.scope(args.organizationId);
      const backward = args.last != null || args.before != null;
      if (backward && (args.first != null || args.after != null))
        throw badInput('page either forward (first/after) or backward (last/before), not both', 'last');
      const size = backward ? checkFirst(args.last, 100, MAX_FIRST, 'last') : checkFirst(args.first, 100);
      const filter = (args.filter ?? null) as RecordFilter | null;
      const orderBy = parseOrderBy(args.orderBy);
      // Backward pages read the reversed order from the `before` position, then turn the rows round.
      const ordering = ctx.services.mirror.planOrdering({ filter, orderBy }, backward);
      const binding: CursorBinding = { ...scope, ordering: ordering.signature, filter };
      const from = backward ? args.before : args.after;
      const position = from
        ? ctx.services.cursors.decode(from, binding, ordering.keys.length, backward ? 'before' : 'after')
        : null;
      const wantCount = selects(info, 'totalCount');
      const withData = connectionSelectsRecordData(info);
      // Plain fields only, answered by the compiled executor: untouched records come as JSON.
      const fields = completesRawJson(ctx) ? projectedFields(info) : null;
      const project = fields && { fields, viewKey: viewKeyOf(scope.sessionId) };
      const request = { filter, orderBy, first: size, after: position, withData, project };
      const [page, totalCount] = await Promise.all([
        ctx.services.mirror.findPage(scope, request, ordering),
        wantCount ? ctx.services.mirror.count(scope, filter) : Promise.resolve(0),
      ]);
      const rows = backward ? [...page.rows].reverse() : page.rows;
      const loader = ctx.loaders.record(scope);
      const nodes: MergedRecord[] = rows.map((row) => {
        if (row.json !== undefined) return new ProjectedRecord(row.json, row.id, fields ?? [], scope);
        loader.prime(row.record.id, row.record);
        return row.record;
      });
      // Cursors cost an encryption each: only for the edges a client asked for, and the page's ends.
      const cursor = (row: (typeof rows)[number]) => ctx.services.cursors.encode(binding, row.sortValues);
      const edges = selects(info, 'edges')
        ? rows.map((row, i) => ({ cursor: cursor(row), node: nodes[i] as MergedRecord }))
        : [];
      const firstRow = rows[0];
      const lastRow = rows.at(-1);
      // Nothing on the first page: say which exact values (eq/in) exist nowhere, and what does.
      if (nodes.length === 0 && !from) addHints(ctx, await ctx.services.questions.hints(scope, filter));
      return {
        edges,
        nodes,
        pageInfo: {
          // More rows beyond the page in the direction read; the other direction is known only
          // from the cursor (the record it names lies there).
          hasNextPage: backward ? position !== null : page.hasNextPage,
          hasPreviousPage: backward ? page.hasNextPage : position !== null,
          // Made when selected (the default resolver reads the property): each is an encryption.
          get startCursor() {
            return firstRow ? cursor(firstRow) : null;
          },
          get endCursor() {
            return lastRow ? cursor(lastRow) : null;
          },
        },
        totalCount,
      };
    },
    async node(_p, { id }, ctx) {
      const [record] = await recordsById(ctx, [id]);
      return record ?? null;
    },
    async nodes(_p, { ids }, ctx) {
      if (ids.length > MAX_FIRST) throw badInput(`ids has ${ids.length} ids; at most ${MAX_FIRST}`, 'ids');
      return recordsById(ctx, ids);
    },
    async pfaRecord(_p, { id, asOf }, ctx) {
      if (!/^\d{1,18}$/.test(id))
        throw badInput(
          `id must be a record id (digits, PfaRecord.id), got "${id.slice(0, 40)}"; to open a record by its PEMS identifier use pfaRecordByPfaId(organizationId: ..., pfaId: "${id.slice(0, 40)}")`,
          'id',
        );
      const org = await ctx.services.mirror.organizationOf(checkId(id));
      if (!org) return null;
      if (!ctx.principal.orgs.includes(org)) throw forbidden(`record ${id} belongs to another organization`);
      if (asOf != null) return pfaRecordAsOf(ctx, org, id, asOf);
      const scope = await ctx.scope(org);
      return ctx.loaders.record(scope).load(id);
    },
    async auditEvents(_p, args, ctx) {
      return auditEvents(args, ctx);
    },
    async pfaRecordByPfaId(_p, { organizationId, pfaId }, ctx) {
      const scope = await ctx.scope(organizationId);
      const problem = pfaId.length > 200 ? 'is longer than 200 characters' : textProblem(pfaId);
      if (problem) throw badInput(`pfaId ${problem}`, 'pfaId');
      const id = await ctx.services.mirror.idOfPfaId(organizationId, pfaId);
      return id === null ? null : ctx.loaders.record(scope).load(id);
    },
    async pfaAggregate(_p, args, ctx, info) {
      const scope = await ctx.scope(args.organizationId);
      const filter = (args.filter ?? null) as RecordFilter | null;
      const groupBy = groupKeysOf(args.groupBy);
      const needBounds = selects(info, 'minForecastStart') || selects(info, 'maxForecastEnd');
      const rows = await ctx.services.questions.aggregate(scope, filter, groupBy, needBounds);
      if (rows.every((r) => r.recordCount === 0))
        addHints(ctx, await ctx.services.questions.hints(scope, filter));
      return rows.map((r) => ({
        category: null,
        class: null,
        source: null,
        dor: null,
        areaSilo: null,
        manufacturer: null,
        model: null,
        forecastStartMonth: null,
        forecastStartYear: null,
        ...r.keys,
        recordCount: r.recordCount,
        actualizedCount: r.actualizedCount,
        totalPlanCost: r.totalPlanCost,
        totalForecastCost: r.totalForecastCost,
        totalActualCost: r.totalActualCost,
        totalVariance: r.totalVariance,
        minForecastStart: r.minForecastStart,
        maxForecastEnd: r.maxForecastEnd,
      }));
    },
    async fieldValues(_p, args, ctx) {
      const scope = await ctx.scope(args.organizationId);
      const filter = (args.filter ?? null) as RecordFilter | null;
      const search = args.search ?? null;
      if (search !== null) {
        const problem = search.length > 200 ? 'is longer than 200 characters' : textProblem(search);
        if (problem) throw badInput(`search ${problem}`, 'search');
      }
      const values = await ctx.services.questions.fieldValues(
        scope,
        valueFieldOf(args.field),
        filter,
        search || null,
        checkFirst(args.first, 100),
      );
      if (values.length === 0) addHints(ctx, await ctx.services.questions.hints(scope, filter));
      return values;
    },
    async me(_p, _a, ctx) {
      const { userId, role, orgs } = ctx.principal;
      const found = await ctx.loaders.organization.loadMany(orgs);
      return {
        userId,
        role,
        organizations: orgs.map((id, i) => {
          const org = found[i];
          return org && !(org instanceof Error) ? org : { id, name: id };
        }),
      };
    },
    async kpiSummary(_p, { organizationId }, ctx) {
      return ctx.services.kpi.kpiSummary(await ctx.scope(organizationId));
    },
    async timelineBounds(_p, { organizationId }, ctx) {
      return ctx.services.kpi.timelineBounds(await ctx.scope(organizationId));
    },
    async timelineBars(_p, args, ctx, info) {
      return timelineBars(args, ctx, info);
    },
    async drafts(_p, { organizationId, allSessions, state }, ctx) {
      const scope = await ctx.scope(organizationId);
      if (!allSessions && scope.sessionId === null)
        throw badInput(
          'drafts needs the X-Session-Id header (the session whose drafts to list), or allSessions: true for every session of yours',
          'X-Session-Id',
        );
      const sessions = allSessions
        ? await ctx.services.sessions.sessionsOf(organizationId, ctx.principal.userId)
        : [scope.sessionId as string];
      const drafts = await ctx.services.drafts.listForSessions(
        organizationId,
        sessions,
        ctx.principal.userId,
      );
      const states = state ? new Set<string>(state.map((s: SyncState) => s.toLowerCase())) : null;
      return states ? drafts.filter((d) => states.has(d.syncState)) : drafts;
    },
    async jobQueues(_p, _a, ctx) {
      if (ctx.principal.role !== 'admin') throw forbidden('only admins may see the job queues');
      const counts = await ctx.services.jobs.counts();
      return {
        mode: ctx.services.jobs.mode,
        queues: Object.entries(counts).map(([name, c]) => ({
          name,
          waiting: c?.waiting ?? 0,
          active: c?.active ?? 0,
          delayed: c?.delayed ?? 0,
          failed: c?.failed ?? 0,
        })),
        failedJobs: await ctx.services.jobs.failedJobs(),
      };
    },
    async syncRuns(_p, { organizationId, first }, ctx) {
      await ctx.scope(organizationId);
      return ctx.services.syncLog.recent(organizationId, checkFirst(first, 20, 100));
    },
  },

  Mutation: {
    async createSession(_p, { organizationId }, ctx) {
      await ctx.scope(organizationId, { action: 'edit' });
      const session = await ctx.services.sessions.create(organizationId, ctx.principal.userId);
      ctx.services.sessionOwners.set(`${organizationId}/${session.id}`, ctx.principal.userId);
      return { ...session, organizationId };
    },
    async updatePfaRecord(_p, { input }, ctx) {
      const org = await orgOfRecord(ctx, input.id);
      const scope = await ctx.scope(org, { needSession: true, action: 'edit' });
      if (!Number.isInteger(input.expectedVersion) || input.expectedVersion < 0)
        throw badInput('expectedVersion must be ≥ 0', 'input.expectedVersion');
      const changes = validateChanges(input.changes as Record<string, unknown>, 'input.changes');
      const reason = validateReason(input.reason);
      const result = await ctx.services.draftService.edit(
        actorOf(ctx, scope),
        input.id,
        input.expectedVersion,
        changes,
        reason,
      );
      return { draft: result.draft, record: await recordFor(ctx, org, input.id) };
    },
    async bulkUpdatePfaRecords(_p, { input }, ctx) {
      const scope = await ctx.scope(input.organizationId, { needSession: true, action: 'edit' });
      const changes = validateChanges((input.changes ?? {}) as Record<string, unknown>, 'input.changes');
      const shift = checkShift(input.shiftForecastDays, 'input.shiftForecastDays');
      const startShift = shift + checkShift(input.shiftForecastStartDays, 'input.shiftForecastStartDays');
      const endShift = shift + checkShift(input.shiftForecastEndDays, 'input.shiftForecastEndDays');
      if (startShift === 0 && endShift === 0 && Object.keys(changes).length === 0)
        throw badInput(
          'nothing to change: give shiftForecastDays, shiftForecastStartDays, shiftForecastEndDays and/or changes',
          'input',
        );
      if ((startShift !== 0 && 'forecastStart' in changes) || (endShift !== 0 && 'forecastEnd' in changes))
        throw badInput('give either a shift or the same forecast date in changes, not both', 'input');
      return ctx.services.draftService.bulkEdit(actorOf(ctx, scope), {
        filter: input.filter as RecordFilter,
        shiftStartDays: startShift,
        shiftEndDays: endShift,
        changes,
        reason: validateReason(input.reason),
        max: ctx.services.config.BULK_UPDATE_MAX,
      });
    },
    async commitDrafts(_p, { organizationId, ids }, ctx) {
      const scope = await ctx.scope(organizationId, { needSession: true, action: 'edit' });
      return ctx.services.draftService.commit(actorOf(ctx, scope), checkIds(ids));
    },
    async discardDrafts(_p, { organizationId, ids }, ctx) {
      const scope = await ctx.scope(organizationId, { needSession: true, action: 'edit' });
      const discarded = await ctx.services.draftService.discard(actorOf(ctx, scope), checkIds(ids));
      const loader = ctx.loaders.record(scope);
      const records = await Promise.all(
        [...new Set(discarded.map((d) => d.mirrorId))].map((id) => loader.load(id)),
      );
      return {
        discardedCount: discarded.length,
        discardedIds: discarded.map((d) => d.id),
        records: records.filter((r): r is MergedRecord => r !== null),
      };
    },
    async resolveConflict(_p, { id, resolution }, ctx) {
      const draft = await ctx.services.drafts.findAnywhere(checkId(id));
      if (!draft) throw notFound(`draft ${id} not found`);
      if (!ctx.principal.orgs.includes(draft.organizationId))
        throw forbidden(`draft ${id} belongs to another organization`);
      await ctx.scope(draft.organizationId, { action: 'edit' });
      if (draft.userId !== ctx.principal.userId) throw forbidden(`draft ${id} belongs to another user`);
      const resolved = await ctx.services.draftService.resolve(draft, ctx.principal.userId, resolution);
      return { draft: resolved, record: await recordFor(ctx, draft.organizationId, draft.mirrorId) };
    },
    async refreshKpis(_p, { organizationId }, ctx) {
      await ctx.scope(organizationId, { action: 'admin' });
      return enqueue(ctx, 'refresh-views', organizationId);
    },
    async syncFromPems(_p, { organizationId }, ctx) {
      await ctx.scope(organizationId, { action: 'admin', mayBeNew: true });
      return enqueue(ctx, 'read-sync', organizationId);
    },
    async syncToPems(_p, { organizationId }, ctx) {
      await ctx.scope(organizationId, { action: 'admin' });
      return enqueue(ctx, 'write-sync', organizationId);
    },
  },

  PfaRecord: pfaRecordResolvers,

  Organization: { id: (o) => o.id, name: (o) => o.name },

  PfaRecordVersion: {
    version: (h) => h.version,
    data: (h) => h.data,
    pemsVersion: (h) => h.pemsVersion,
    supersededAt: (h) => h.supersededAt,
  },

  Node: {
    __resolveType: () => 'PfaRecord',
  },

  BulkUpdatePfaRecordsPayload: {
    affectedCount: (p) => p.affectedCount,
    drafts: async (p, { first }, ctx) => {
      const n = checkFirst(first, 100, MAX_FIRST, 'first');
      const drafts = await ctx.services.drafts.byIds(p.organizationId, p.draftIds.slice(0, n));
      return drafts.sort((a, b) => Number(a.id) - Number(b.id));
    },
  },

  Draft: {
    id: (d) => d.id,
    record: async (d, _a, ctx) => {
      const scope = await ctx.scope(d.organizationId);
      const record = await ctx.loaders.record(scope).load(d.mirrorId);
      if (!record) throw notFound(`record ${d.mirrorId} not found`);
      return record;
    },
    delta: (d) => d.delta,
    modifiedFields: (d) => d.modifiedFields,
    baseValues: (d) => d.baseValues,
    baseVersion: (d) => d.baseVersion,
    currentVersion: (d) => d.currentVersion,
    syncState: (d) => d.syncState.toUpperCase() as 'DRAFT',
    isStale: async (d: DraftView, _a, ctx) => {
      const scope = await ctx.scope(d.organizationId);
      const record = await ctx.loaders.record(scope).load(d.mirrorId);
      return record !== null && record.version !== d.baseVersion;
    },
    conflicts: (d) => d.conflicts,
    changeReason: (d) => d.changeReason,
    sessionId: (d) => d.sessionId,
    userId: (d) => d.userId,
    createdAt: (d) => d.createdAt,
    updatedAt: (d) => d.updatedAt,
    committedAt: (d) => d.committedAt,
    lastError: (d) => d.lastError,
  },

  SyncRun: {
    id: (s) => s.id,
    errors: (s) => s.errors,
  },

  Subscription: subscriptionResolvers,
};

/** `FORECAST_START_MONTH` → `forecastStartMonth`; each key at most once. */
function groupKeysOf(values: readonly PfaGroupBy[] | null | undefined): GroupKey[] {
  const keys: GroupKey[] = [];
  for (const v of values ?? []) {
    const key = camelCase(v) as GroupKey;
    if (!GROUP_KEYS.includes(key)) throw badInput(`unknown groupBy value ${v}`, 'groupBy');
    if (keys.includes(key)) throw badInput(`groupBy names ${v} twice`, 'groupBy');
    keys.push(key);
  }
  return keys;
}

function valueFieldOf(value: PfaValueField): ValueField {
  const key = camelCase(value) as ValueField;
  if (!VALUE_FIELDS.includes(key)) throw badInput(`unknown field ${value}`, 'field');
  return key;
}

const camelCase = (constant: string): string =>
  constant.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Records by id, each merged for the caller in its organization's scope, in the order asked (null
 * where there is no such record); FORBIDDEN when one belongs to another organization.
 */
async function recordsById(ctx: GraphqlContext, ids: readonly string[]): Promise<(MergedRecord | null)[]> {
  for (const id of ids) checkId(id);
  const orgs = await ctx.services.mirror.organizationsOf(ids);
  return Promise.all(
    ids.map(async (id) => {
      const org = orgs.get(id);
      if (!org) return null;
      if (!ctx.principal.orgs.includes(org)) throw forbidden(`record ${id} belongs to another organization`);
      return ctx.loaders.record(await ctx.scope(org)).load(id);
    }),
  );
}

/** The caller as the author of draft changes (the scope was checked to carry a session). */
function actorOf(ctx: GraphqlContext, scope: MergeScope): Actor {
  return {
    organizationId: scope.organizationId,
    sessionId: scope.sessionId as string,
    userId: ctx.principal.userId,
  };
}

/** A shift in days for bulk edits: a whole number within ±3650 (0 when absent). */
function checkShift(value: number | null | undefined, path: string): number {
  const days = value ?? 0;
  if (!Number.isInteger(days) || Math.abs(days) > 3650)
    throw badInput(`${path.replace(/^input\./, '')} must be a whole number of days within ±3650`, path);
  return days;
}

async function enqueue(ctx: GraphqlContext, name: 'read-sync' | 'write-sync' | 'refresh-views', org: string) {
  try {
    return await ctx.services.jobs.enqueue(name, org);
  } catch (e) {
    throw new GraphQLError(`cannot queue ${name}: ${e instanceof Error ? e.message : String(e)}`, {
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
  }
}
