import { can } from '../auth/tokens.js';
import { forbidden } from '../domain/errors.js';
import type { GraphqlContext } from '../graphql/context.js';
import type {
  DraftsChangedEvent,
  JobProgressEvent,
  KpiChangedEvent,
  SubscriptionResolvers,
} from '../graphql/generated/resolvers-types.js';
import { eventStream } from './stream.js';

/**
 * Subscription.* (DOMAIN §5.1): access is checked once when the subscription starts (the same
 * rules as the queries); the socket itself is closed when the token expires (src/http/subscriptions.ts).
 */
export const subscriptionResolvers: SubscriptionResolvers<GraphqlContext> = {
  kpiChanged: {
    async subscribe(_p, { organizationId }, ctx) {
      await ctx.scope(organizationId);
      return eventStream(ctx.services.events, (e) =>
        e.type === 'kpiChanged' && e.organizationId === organizationId
          ? { kpiChanged: { organizationId, refreshedAt: e.refreshedAt, changeSeq: e.changeSeq } }
          : undefined,
      );
    },
    resolve: (payload: { kpiChanged: KpiChangedEvent }) => payload.kpiChanged,
  },
  draftsChanged: {
    async subscribe(_p, { organizationId }, ctx) {
      const scope = await ctx.scope(organizationId, { needSession: true });
      return eventStream(ctx.services.events, (e) =>
        e.type === 'draftsChanged' && e.organizationId === organizationId && e.sessionId === scope.sessionId
          ? {
              draftsChanged: {
                organizationId,
                sessionId: e.sessionId,
                changeSeq: e.changeSeq,
                reason: e.reason,
              },
            }
          : undefined,
      );
    },
    resolve: (payload: { draftsChanged: DraftsChangedEvent }) => payload.draftsChanged,
  },
  jobProgress: {
    subscribe(_p, { id }, ctx) {
      // Jobs are started by admins (syncs, refreshes); their progress is theirs to watch.
      if (!can(ctx.principal, 'admin')) throw forbidden(`role ${ctx.principal.role} may not watch jobs`);
      const orgs = ctx.principal.orgs;
      return eventStream(ctx.services.events, (e) =>
        e.type === 'jobProgress' &&
        e.id === id &&
        (e.organizationId === null || orgs.includes(e.organizationId))
          ? { jobProgress: { id, state: e.state, processed: e.processed, total: e.total } }
          : undefined,
      );
    },
    resolve: (payload: { jobProgress: JobProgressEvent }) => payload.jobProgress,
  },
};
