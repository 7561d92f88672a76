import { GraphQLError, GraphQLScalarType, type GraphQLResolveInfo } from 'graphql';
import { checkTimelineLimit, checkTimelineWindow } from '../domain/timeline.js';
import type { RecordFilter } from '../repositories/record-query.js';
import { TimelineRepository } from '../repositories/timeline.repository.js';
import type { Services } from '../services.js';
import type { GraphqlContext } from './context.js';
import type { QueryTimelineBarsArgs, TimelineBarColumns, TimelineBars } from './generated/resolvers-types.js';
import { RawJson } from './raw-json.js';

/** Issue 11: the bars of a Gantt viewport in one request (kept apart from resolvers.ts). */

const repositories = new WeakMap<Services, TimelineRepository>();
function repository(services: Services): TimelineRepository {
  let r = repositories.get(services);
  if (!r) {
    // A client-shaped read: under READ_STATEMENT_TIMEOUT_MS like pfaRecords.
    r = new TimelineRepository(services.readDb);
    repositories.set(services, r);
  }
  return r;
}

/**
 * The column scalars of TimelineBarColumns: one array per column, written as it is. 20,000 bars
 * of 10 columns as GraphQL lists meant 200,000 list items for graphql-js to complete one by one
 * (about 20 ms of the server's CPU per answer, measured on pfa_bench); as a scalar a column is
 * one value. timelineBars gives each column as a RawJson (the JSON array text PostgreSQL wrote),
 * which stringifyResponse writes into the answer without parsing it; an array is accepted too.
 */
function columnScalar(name: string): GraphQLScalarType {
  const outputOnly = (): never => {
    throw new GraphQLError(`${name} is an output type`);
  };
  return new GraphQLScalarType({
    name,
    serialize: (value) => {
      if (!(value instanceof RawJson) && !Array.isArray(value))
        throw new GraphQLError(`${name} must be an array`);
      return value;
    },
    parseValue: outputOnly,
    parseLiteral: outputOnly,
  });
}

export const columnScalars = {
  IDColumn: columnScalar('IDColumn'),
  StringColumn: columnScalar('StringColumn'),
  LocalDateColumn: columnScalar('LocalDateColumn'),
  BooleanColumn: columnScalar('BooleanColumn'),
};

/** Is `field` selected directly under timelineBars (fragments count as yes)? */
function selects(info: GraphQLResolveInfo, field: string): boolean {
  return info.fieldNodes.some((node) =>
    (node.selectionSet?.selections ?? []).some((s) => s.kind !== 'Field' || s.name.value === field),
  );
}

/** `timelineBars(organizationId, from, to, filter, limit)`. */
export async function timelineBars(
  args: QueryTimelineBarsArgs,
  ctx: GraphqlContext,
  info: GraphQLResolveInfo,
): Promise<TimelineBars> {
  const scope = await ctx.scope(args.organizationId);
  const window = checkTimelineWindow(args.from, args.to);
  const limit = checkTimelineLimit(args.limit);
  const filter = (args.filter ?? null) as RecordFilter | null;
  const timeline = repository(ctx.services);
  const { bars, count, truncated } = await timeline.bars(scope, window, filter, limit);
  const totalCount =
    truncated && selects(info, 'totalCount') ? await timeline.count(scope, window, filter) : count;
  const columns = Object.fromEntries(
    Object.entries(bars).map(([column, text]) => [column, new RawJson(text)]),
  );
  // The column scalars write RawJson values (the generated types say arrays: what the client reads).
  return {
    from: window.from,
    to: window.to,
    count,
    truncated,
    totalCount,
    bars: columns as unknown as TimelineBarColumns,
  };
}
