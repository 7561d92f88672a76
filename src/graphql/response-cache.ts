import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import {
  getNamedType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { responseCacheRequests } from '../metrics.js';
import type { MergeScope } from '../repositories/record-query.js';
import type { GraphqlContext } from './context.js';
import { hasHints } from './hints.js';
import { RawJson, stringifyResponse } from './raw-json.js';

/**
 * An exact response cache for the two reads planners repeat most: a grid page (`pfaRecords`) and
 * the KPI summary (`kpiSummary`). An answer is kept with the change token of the caller's view
 * (src/repositories/change-marks.repository.ts) read before its statements ran, and served again
 * only when the token read for the new request is the same — nothing the answer depends on
 * committed in between, in this process or any other. Every hit still costs one small read (the
 * token); it saves the statements, the execution and the serialisation.
 *
 * What can be cached is decided once per document, by rules that keep every input of the answer
 * covered by the token:
 * - a query whose root fields are all `pfaRecords` (without `asOf`, which reads history against a
 *   moving retention horizon) or `kpiSummary`, of one organization;
 * - selections of the listed types' fields only: not `PfaRecord.draft`, `history` or
 *   `organization`, nothing with a directive;
 * - answers without errors or hints.
 * The key is the document's text, the operation name, the variables, and the caller (user, role,
 * organizations, session): the scope checks (organization, session owner) run on every request
 * before the cache is consulted, so a hit never bypasses them.
 *
 * Entries are kept least recently used first, within RESPONSE_CACHE_MB of keys and answer text
 * (counted as UTF-16) and at most MAX_ENTRIES of them.
 */

export interface ResponseCacheStats {
  hits: number;
  misses: number;
  stored: number;
  /** Queries the rules above leave to the normal path. */
  uncacheable: number;
  evicted: number;
  bytes: number;
  entries: number;
}

export interface ResponseCache {
  plugin(): ApolloServerPlugin<GraphqlContext>;
  readonly stats: ResponseCacheStats;
}

/** The fields a cached answer may select, per type. */
const CACHEABLE_ROOTS = new Set(['pfaRecords', 'kpiSummary']);
const EXCLUDED_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  PfaRecord: new Set(['draft', 'history', 'organization']),
};
const CACHEABLE_TYPES = new Set([
  'PfaRecordConnection',
  'PfaRecordEdge',
  'PfaRecord',
  'PageInfo',
  'KpiSummary',
]);

interface Plan {
  /** The organizationId argument of each root field: a literal or a variable's name. */
  organization: { literal: string } | { variable: string };
  /** Whether the answer reads the KPI caches (kpiSummary), whose refreshes then count. */
  kpiCaches: boolean;
}

/** Entries kept at most, whatever their size (each costs a map slot and a token string). */
const MAX_ENTRIES = 20_000;

interface Entry {
  token: string;
  data: RawJson;
  bytes: number;
}

export function createResponseCache(options: {
  schema: GraphQLSchema;
  maxBytes: number;
  token: (scope: MergeScope, kpiCaches: boolean) => Promise<string>;
}): ResponseCache {
  const { schema, maxBytes } = options;
  const stats: ResponseCacheStats = {
    hits: 0,
    misses: 0,
    stored: 0,
    uncacheable: 0,
    evicted: 0,
    bytes: 0,
    entries: 0,
  };
  const entries = new Map<string, Entry>();
  const plans = new WeakMap<OperationDefinitionNode, Plan | null>();

  const planOf = (document: DocumentNode, operation: OperationDefinitionNode): Plan | null => {
    let plan = plans.get(operation);
    if (plan === undefined) {
      plan = analyse(schema, document, operation);
      plans.set(operation, plan);
    }
    return plan;
  };

  const store = (key: string, entry: Entry): void => {
    const old = entries.get(key);
    if (old) {
      entries.delete(key);
      stats.bytes -= old.bytes;
    }
    // One answer never takes most of the cache.
    if (entry.bytes <= maxBytes / 4) {
      entries.set(key, entry);
      stats.bytes += entry.bytes;
      stats.stored += 1;
      for (const [k, e] of entries) {
        if (stats.bytes <= maxBytes && entries.size <= MAX_ENTRIES) break;
        entries.delete(k);
        stats.bytes -= e.bytes;
        stats.evicted += 1;
      }
    }
    stats.entries = entries.size;
  };

  return {
    stats,
    plugin() {
      return {
        async requestDidStart() {
          let pending: { key: string; token: string } | null = null;
          return {
            async responseForOperation(
              requestContext: GraphQLRequestContext<GraphqlContext>,
            ): Promise<GraphQLResponse | null> {
              const { document, operation, request, contextValue, source } = requestContext;
              if (!document || !operation || operation.operation !== 'query' || source === undefined)
                return null;
              const plan = planOf(document, operation);
              if (!plan) {
                stats.uncacheable += 1;
                responseCacheRequests.inc({ outcome: 'uncacheable' });
                return null;
              }
              const variables = request.variables ?? {};
              const organizationId =
                'literal' in plan.organization
                  ? plan.organization.literal
                  : variables[plan.organization.variable];
              if (typeof organizationId !== 'string') return null;
              let scope: MergeScope;
              try {
                scope = await contextValue.scope(organizationId);
              } catch {
                return null; // the normal path answers with the same error
              }
              const { principal } = contextValue;
              const key = JSON.stringify([
                source,
                request.operationName ?? null,
                variables,
                principal.userId,
                principal.role,
                principal.orgs,
                scope.organizationId,
                scope.sessionId,
              ]);
              // Read before any statement of the answer runs: an answer computed after it holds at
              // least what the token stands for.
              let token: string;
              try {
                token = await options.token(scope, plan.kpiCaches);
              } catch {
                return null; // the database is away: the normal path answers (503, retryable)
              }
              const entry = entries.get(key);
              if (entry && entry.token === token) {
                stats.hits += 1;
                responseCacheRequests.inc({ outcome: 'hit' });
                entries.delete(key);
                entries.set(key, entry); // most recently used last
                return {
                  http: { status: undefined, headers: new HeaderMap() },
                  body: {
                    kind: 'single',
                    singleResult: { data: entry.data as unknown as Record<string, unknown> },
                  },
                };
              }
              stats.misses += 1;
              responseCacheRequests.inc({ outcome: 'miss' });
              pending = { key, token };
              return null;
            },
            async willSendResponse({ response, contextValue }) {
              if (!pending || response.body.kind !== 'single') return;
              const { data, errors, extensions } = response.body.singleResult;
              if (errors?.length || extensions || hasHints(contextValue) || !data) return;
              if (response.http.status !== undefined && response.http.status !== 200) return;
              const raw = new RawJson(stringifyResponse(data));
              // The answer goes out as the text just written (Apollo's stringifyResult splices it)
              // instead of being encoded a second time.
              response.body.singleResult.data = raw as unknown as Record<string, unknown>;
              // Key and answer both count (UTF-16): many small answers with long keys (a filter may be
              // large) stay within the budget too.
              const bytes = 2 * (raw.text.length + pending.key.length);
              store(pending.key, { token: pending.token, data: raw, bytes });
            },
          };
        },
      };
    },
  };
}

/** Whether an operation's answer is covered by the change token (see above); null when not. */
function analyse(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): Plan | null {
  const queryType = schema.getQueryType();
  if (!queryType || operation.directives?.length) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  let organization: Plan['organization'] | null = null;
  let kpiCaches = false;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return null;
    if (selection.name.value === '__typename') continue;
    if (!CACHEABLE_ROOTS.has(selection.name.value) || selection.directives?.length) return null;
    const args = new Map((selection.arguments ?? []).map((a) => [a.name.value, a.value]));
    if (args.has('asOf')) return null;
    const org = orgArgument(args.get('organizationId'));
    if (!org) return null;
    if (organization && JSON.stringify(organization) !== JSON.stringify(org)) return null;
    organization = org;
    if (selection.name.value === 'kpiSummary') kpiCaches = true;
    const field = queryType.getFields()[selection.name.value];
    if (!field || !selection.selectionSet) return null;
    if (!coveredSelection(getNamedType(field.type), selection.selectionSet, fragments, new Set()))
      return null;
  }
  return organization ? { organization, kpiCaches } : null;
}

function orgArgument(value: ValueNode | undefined): Plan['organization'] | null {
  if (!value) return null;
  if (value.kind === Kind.STRING) return { literal: value.value };
  if (value.kind === Kind.VARIABLE) return { variable: value.name.value };
  return null;
}

function coveredSelection(
  type: GraphQLNamedType,
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): boolean {
  if (!isObjectType(type) || !CACHEABLE_TYPES.has(type.name)) return false;
  const fields = type.getFields();
  for (const selection of selectionSet.selections) {
    if (selection.directives?.length) return false;
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name === '__typename') continue;
      const field = fields[name];
      if (!field || EXCLUDED_FIELDS[type.name]?.has(name)) return false;
      const named = getNamedType(field.type);
      if (selection.selectionSet) {
        if (!coveredSelection(named, selection.selectionSet, fragments, visiting)) return false;
      } else if (isObjectType(named)) return false;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selection.typeCondition && selection.typeCondition.name.value !== type.name) return false;
      if (!coveredSelection(type, selection.selectionSet, fragments, visiting)) return false;
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || visiting.has(name) || fragment.typeCondition.name.value !== type.name) return false;
      visiting.add(name);
      const ok = coveredSelection(type, fragment.selectionSet, fragments, visiting);
      visiting.delete(name);
      if (!ok) return false;
    }
  }
  return true;
}
