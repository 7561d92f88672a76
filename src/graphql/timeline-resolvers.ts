import type { GraphQLResolveInfo } from 'graphql';
import { checkTimelineLimit, checkTimelineWindow } from '../domain/timeline.js';
import type { RecordFilter } from '../repositories/record-query.js';
import { TimelineRepository } from '../repositories/timeline.repository.js';
import type { Services } from '../services.js';
import type { GraphqlContext } from './context.js';
import type { QueryTimelineBarsArgs, TimelineBars } from './generated/resolvers-types.js';

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
  const { bars, truncated } = await timeline.bars(scope, window, filter, limit);
  const count = bars.id.length;
  const totalCount =
    truncated && selects(info, 'totalCount') ? await timeline.count(scope, window, filter) : count;
  return { from: window.from, to: window.to, count, truncated, totalCount, bars };
}
