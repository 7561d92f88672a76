import { badInput, forbidden } from '../domain/errors.js';
import type { MergedRecord } from '../domain/merged-record.js';
import { AuditRepository, type AuditEventRow } from '../repositories/audit.repository.js';
import type { CursorBinding } from '../repositories/cursor-codec.js';
import { HistoryRepository } from '../repositories/history.repository.js';
import { planOrdering, type RecordFilter } from '../repositories/record-query.js';
import { parseOrderBy } from './order-by.js';
import type { Services } from '../services.js';
import type { GraphqlContext } from './context.js';

/** Issue 12 point 7: as-of reads and the audit trail (kept apart from resolvers.ts). */

const repositories = new WeakMap<Services, { history: HistoryRepository; audit: AuditRepository }>();
function repos(services: Services): { history: HistoryRepository; audit: AuditRepository } {
  let r = repositories.get(services);
  if (!r) {
    r = {
      history: new HistoryRepository(services.db, services.config.HISTORY_RETENTION_DAYS),
      audit: new AuditRepository(services.db),
    };
    repositories.set(services, r);
  }
  return r;
}

const toDate = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

function pageSize(first: number | null | undefined): number {
  const n = first ?? 100;
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw badInput('first must be 1–1000', 'first');
  return n;
}

interface AsOfArgs {
  organizationId: string;
  filter?: unknown;
  orderBy?: readonly string[] | null;
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  asOf: Date | string;
}

/** `pfaRecords(asOf:)`: the mirror in transaction time, forward paging. */
export async function pfaRecordsAsOf(input: AsOfArgs, ctx: GraphqlContext, wantCount: boolean) {
  const args = { ...input, asOf: toDate(input.asOf) };
  const scope = await ctx.scope(args.organizationId);
  if (args.last != null || args.before != null)
    throw badInput('asOf pages forward only (first/after)', 'asOf');
  const { history } = repos(ctx.services);
  await history.checkAsOf(args.asOf);
  const size = pageSize(args.first);
  const filter = (args.filter ?? null) as RecordFilter | null;
  if (filter && JSON.stringify(filter).includes('"hasDraft"'))
    throw badInput('hasDraft has no meaning with asOf (an as-of read shows no drafts)', 'filter');
  const ordering = planOrdering(parseOrderBy(args.orderBy), filter);
  const binding: CursorBinding = {
    organizationId: scope.organizationId,
    sessionId: null,
    ordering: `asOf:${args.asOf.toISOString()}|${ordering.signature}`,
    filter,
  };
  const position = args.after ? ctx.services.cursors.decode(args.after, binding, ordering.keys.length) : null;
  const [page, totalCount] = await Promise.all([
    history.findPage(scope.organizationId, args.asOf, filter, ordering, size, position),
    wantCount ? history.count(scope.organizationId, args.asOf, filter) : Promise.resolve(0),
  ]);
  const cursor = (row: { sortValues: unknown[] }) => ctx.services.cursors.encode(binding, row.sortValues);
  const firstRow = page.rows[0];
  const lastRow = page.rows.at(-1);
  return {
    edges: page.rows.map((row) => ({ cursor: cursor(row), node: row.record })),
    nodes: page.rows.map((row) => row.record),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: position !== null,
      startCursor: firstRow ? cursor(firstRow) : null,
      endCursor: lastRow ? cursor(lastRow) : null,
    },
    totalCount,
  };
}

/** `pfaRecord(id:, asOf:)`, for a record of an organization already checked. */
export async function pfaRecordAsOf(
  ctx: GraphqlContext,
  organizationId: string,
  id: string,
  asOf: Date | string,
): Promise<MergedRecord | null> {
  await ctx.scope(organizationId);
  const { history } = repos(ctx.services);
  const t = toDate(asOf);
  await history.checkAsOf(t);
  return history.load(organizationId, t, id);
}

interface AuditArgs {
  organizationId: string;
  recordId?: string | null;
  userId?: string | null;
  since?: Date | string | null;
  until?: Date | string | null;
  first?: number | null;
  after?: string | null;
}

export async function auditEvents(args: AuditArgs, ctx: GraphqlContext) {
  const scope = await ctx.scope(args.organizationId);
  if (!ctx.principal.orgs.includes(scope.organizationId))
    throw forbidden(`organization ${scope.organizationId} is not among the caller's organizations`);
  if (args.recordId != null && !/^\d{1,18}$/.test(args.recordId))
    throw badInput('recordId must be a record id (digits, PfaRecord.id)', 'recordId');
  const size = pageSize(args.first);
  const filter = { recordId: args.recordId, userId: args.userId, since: args.since, until: args.until };
  const binding: CursorBinding = {
    organizationId: scope.organizationId,
    sessionId: ctx.principal.userId,
    ordering: 'audit:at-desc',
    filter,
  };
  const after = args.after
    ? (ctx.services.cursors.decode(args.after, binding, 3) as [string, number, string])
    : null;
  const { audit } = repos(ctx.services);
  const page = await audit.page({
    organizationId: scope.organizationId,
    callerId: ctx.principal.userId,
    recordId: args.recordId ?? null,
    userId: args.userId ?? null,
    since: args.since != null ? toDate(args.since) : null,
    until: args.until != null ? toDate(args.until) : null,
    first: size,
    after,
  });
  const cursor = (e: AuditEventRow) => ctx.services.cursors.encode(binding, e.position);
  const firstRow = page.rows[0];
  const lastRow = page.rows.at(-1);
  return {
    nodes: page.rows.map(({ position: _p, ...e }) => e),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: after !== null,
      startCursor: firstRow ? cursor(firstRow) : null,
      endCursor: lastRow ? cursor(lastRow) : null,
    },
  };
}
