import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import { can, type Principal } from '../auth/tokens.js';
import { DomainError, badInput, forbidden, notFound } from '../domain/errors.js';
import type { DraftView } from '../domain/draft.js';
import type { MergedRecord } from '../domain/merged-record.js';
import type { HistoryRow } from '../repositories/mirror.repository.js';
import type { MergeScope } from '../repositories/record-query.js';
import type { Services } from '../services.js';

export const SESSION_HEADER = 'x-session-id';
const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface GraphqlContext {
  requestId: string;
  principal: Principal;
  /** Raw X-Session-Id header (validated when first used). */
  sessionHeader: string | null;
  services: Services;
  log: Logger;
  /** Access checks and session resolution for one organization (cached per request). */
  scope(
    organizationId: string,
    options?: { needSession?: boolean; action?: 'read' | 'edit' | 'admin'; mayBeNew?: boolean },
  ): Promise<MergeScope>;
  loaders: Loaders;
}

/** A draft named by a merged record: its id, and the record and session whose open slot it held. */
export interface DraftKey {
  id: string;
  mirrorId: string;
  sessionId: string | null;
}

export interface Loaders {
  record(scope: MergeScope): DataLoader<string, MergedRecord | null>;
  /**
   * The draft a merged record names, by id. A record read in one statement can name a draft that
   * a write-back conflict folded into another row (or a commit or discard settled) before the
   * next statement loads it: then the loader answers with the session's open modification of
   * that record now, the row that holds the folded values, or null when the slot is empty.
   */
  draft(organizationId: string): DataLoader<DraftKey, DraftView | null, string>;
  history(organizationId: string, first: number): DataLoader<string, HistoryRow[]>;
  organization: DataLoader<string, { id: string; name: string } | null>;
}

function memo<V>(make: (key: string) => V): (key: string) => V {
  const cache = new Map<string, V>();
  return (key: string) => {
    let v = cache.get(key);
    if (!v) {
      v = make(key);
      cache.set(key, v);
    }
    return v;
  };
}

/** Per-request DataLoaders: one batch query per kind of key, results in key order. */
export function createLoaders(services: Services): Loaders {
  const recordLoaders = memo((key: string) => {
    const scope = JSON.parse(key) as MergeScope;
    return new DataLoader<string, MergedRecord | null>(async (ids) => {
      const rows = await services.mirror.loadMerged(scope, ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  });
  const draftLoaders = memo(
    (org: string) =>
      new DataLoader<DraftKey, DraftView | null, string>(
        async (keys) => {
          const rows = await services.drafts.byIds(
            org,
            keys.map((k) => k.id),
          );
          const byId = new Map(rows.map((r) => [r.id, r]));
          // Gone since the record was read: the session's open modification of the record now.
          const gone = keys.filter((k) => !byId.has(k.id) && k.sessionId !== null);
          const bySlot = new Map<string, DraftView>();
          for (const session of new Set(gone.map((k) => k.sessionId as string))) {
            const open = await services.drafts.openByRecords(
              org,
              session,
              gone.filter((k) => k.sessionId === session).map((k) => k.mirrorId),
            );
            for (const d of open) bySlot.set(`${d.mirrorId}/${session}`, d);
          }
          return keys.map((k) => byId.get(k.id) ?? bySlot.get(`${k.mirrorId}/${k.sessionId}`) ?? null);
        },
        { cacheKeyFn: (k) => k.id },
      ),
  );
  const historyLoaders = memo((key: string) => {
    const [org, first] = JSON.parse(key) as [string, number];
    return new DataLoader<string, HistoryRow[]>(async (ids) => {
      const rows = await services.mirror.history(org, ids, first);
      const byId = new Map<string, HistoryRow[]>();
      for (const r of rows) byId.set(r.mirrorId, [...(byId.get(r.mirrorId) ?? []), r]);
      return ids.map((id) => byId.get(id) ?? []);
    });
  });
  return {
    record: (scope) =>
      recordLoaders(JSON.stringify({ organizationId: scope.organizationId, sessionId: scope.sessionId })),
    draft: (org) => draftLoaders(org),
    history: (org, first) => historyLoaders(JSON.stringify([org, first])),
    organization: new DataLoader(async (ids) => {
      const rows = await services.mirror.organizations(ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

async function organizationExists(services: Services, id: string): Promise<boolean> {
  if (services.organizations.has(id)) return true;
  const rows = await services.mirror.organizations([id]);
  for (const r of rows) services.organizations.set(r.id, r.name);
  return rows.length > 0;
}

export function createContext(args: {
  requestId: string;
  principal: Principal;
  sessionHeader: string | null;
  services: Services;
  log: Logger;
}): GraphqlContext {
  const { principal, services, sessionHeader } = args;
  const scopes = new Map<string, Promise<MergeScope>>();
  const resolveScope = async (organizationId: string): Promise<MergeScope> => {
    if (!principal.orgs.includes(organizationId))
      throw forbidden(`organization ${organizationId} is not among the caller's organizations`);
    if (!(await organizationExists(services, organizationId)))
      throw notFound(`organization ${organizationId} not found`);
    if (sessionHeader === null) return { organizationId, sessionId: null };
    if (!SESSION_ID.test(sessionHeader))
      throw badInput('X-Session-Id must be 1–64 letters, digits, "-" or "_"', 'X-Session-Id');
    const key = `${organizationId}/${sessionHeader}`;
    let owner = services.sessionOwners.get(key);
    if (!owner) {
      // A read never creates a session (DOMAIN §3): an unknown id sees mirror + pending. It is
      // created by the first edit (an editor's), in `scope(…, { needSession: true, action: 'edit' })`.
      const found = await services.sessions.ownerOf(organizationId, sessionHeader);
      if (found) services.sessionOwners.set(key, found);
      owner = found ?? undefined;
    }
    if (owner !== undefined && owner !== principal.userId)
      throw forbidden(`session ${sessionHeader} belongs to another user`);
    // last_used_at (idle sessions are removed by maintenance): at most one write a minute.
    if (owner !== undefined) await services.sessions.touch(organizationId, sessionHeader);
    return { organizationId, sessionId: sessionHeader };
  };
  const createdSessions = new Set<string>();
  /** The session as the caller's sandbox to write in, created (owned by the caller) when new. */
  const claimSession = async (organizationId: string, sessionId: string): Promise<void> => {
    const key = `${organizationId}/${sessionId}`;
    if (createdSessions.has(key) || services.sessionOwners.get(key) === principal.userId) return;
    const owner = await services.sessions.ensure(organizationId, sessionId, principal.userId);
    services.sessionOwners.set(key, owner);
    if (owner !== principal.userId) throw forbidden(`session ${sessionId} belongs to another user`);
    createdSessions.add(key);
  };
  return {
    ...args,
    loaders: createLoaders(services),
    async scope(organizationId, options = {}) {
      const action = options.action ?? 'read';
      if (!can(principal, action))
        throw forbidden(
          `role ${principal.role} may not ${action === 'edit' ? 'edit drafts' : 'run admin operations'}`,
        );
      // A read sync may bring an organization the database does not know yet.
      if (options.mayBeNew) {
        if (!principal.orgs.includes(organizationId))
          throw forbidden(`organization ${organizationId} is not among the caller's organizations`);
        return { organizationId, sessionId: null };
      }
      let p = scopes.get(organizationId);
      if (!p) {
        p = resolveScope(organizationId);
        scopes.set(organizationId, p);
      }
      const scope = await p;
      if (options.needSession && scope.sessionId === null)
        throw badInput(
          'this mutation needs the X-Session-Id header (the sandbox to work in)',
          'X-Session-Id',
        );
      if (options.needSession && action === 'edit' && scope.sessionId !== null)
        await claimSession(organizationId, scope.sessionId);
      return scope;
    },
  };
}

export { DomainError };
