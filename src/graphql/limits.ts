import {
  GraphQLError,
  Kind,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  isEnumType,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { checkLiterals, checkVariables } from './input-guard.js';
import { TIMELINE_BARS_PER_COST_UNIT, TIMELINE_MAX_BARS } from '../domain/timeline.js';

export interface LimitOptions {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxPageSize: number;
}

/**
 * Selection depth allowed inside `__schema` / `__type`: the standard introspection query of
 * graphql-js (what GraphiQL and client tools send) is 14 levels deep with its 9 `ofType` levels.
 * Introspection is exempt from `maxDepth` (DOMAIN §5) but not from this, nor from aliases and cost.
 */
export const MAX_INTROSPECTION_DEPTH = 20;

/**
 * Tokens of one GraphQL document (graphql-js `maxTokens`). Parsing and validation take time
 * linear in the document before any limit below can look at it; the longest documents real
 * clients send (the full introspection query, 20 aliased pages of every field) stay under 1,500.
 * Large lists belong in variables.
 */
export const MAX_DOCUMENT_TOKENS = 10_000;

/** Default page sizes of list fields that take `first` (what a client gets when it omits it). */
const DEFAULT_FIRST: Record<string, number> = { pfaRecords: 100, history: 20, syncRuns: 20 };
/** List fields without `first` and their expected size, for the cost estimate. */
const LIST_SIZE: Record<string, number> = {
  kpiSummary: 50,
  drafts: 100,
  conflicts: 5,
  errors: 10,
  edges: 1,
  nodes: 1,
};

/**
 * Expected sizes of the introspection lists, as averages over this schema: `types` is every type,
 * `fields` the fields of an average type (most types have none), `args` the arguments of an
 * average field, and an `ofType` chain is on average half a level deep. With them the estimate of
 * an introspection selection is close to the number of values its answer really holds.
 */
type IntrospectionSizes = Record<string, number>;
const sizesBySchema = new WeakMap<GraphQLSchema, IntrospectionSizes>();

/** Used without a schema (unit tests of the walk): sizes of a schema like ours. */
const FALLBACK_SIZES: IntrospectionSizes = {
  types: 80,
  fields: 4,
  inputFields: 2,
  enumValues: 2,
  interfaces: 0.1,
  possibleTypes: 0.1,
  args: 0.5,
  directives: 8,
  ofType: 0.5,
};

function introspectionSizes(schema: GraphQLSchema | undefined): IntrospectionSizes {
  if (!schema) return FALLBACK_SIZES;
  const cached = sizesBySchema.get(schema);
  if (cached) return cached;
  const types = Object.values(schema.getTypeMap()) as GraphQLNamedType[];
  let fields = 0;
  let args = 0;
  let inputFields = 0;
  let enumValues = 0;
  let interfaces = 0;
  let possibleTypes = 0;
  for (const t of types) {
    if (isObjectType(t) || isInterfaceType(t)) {
      const fs = Object.values(t.getFields());
      fields += fs.length;
      for (const f of fs) args += f.args.length;
      interfaces += t.getInterfaces().length;
    }
    if (isInterfaceType(t) || isUnionType(t)) possibleTypes += schema.getPossibleTypes(t).length;
    if (isInputObjectType(t)) inputFields += Object.keys(t.getFields()).length;
    if (isEnumType(t)) enumValues += t.getValues().length;
  }
  const directives = schema.getDirectives();
  for (const d of directives) args += d.args.length;
  const n = Math.max(1, types.length);
  const sizes: IntrospectionSizes = {
    types: types.length,
    fields: fields / n,
    inputFields: inputFields / n,
    enumValues: enumValues / n,
    interfaces: interfaces / n,
    possibleTypes: possibleTypes / n,
    args: args / Math.max(1, fields + directives.length),
    directives: directives.length,
    ofType: 0.5,
  };
  sizesBySchema.set(schema, sizes);
  return sizes;
}

interface Walk {
  /** Variables as the request will run with them: the values sent, else the declared defaults. */
  variables: Record<string, unknown>;
  fragments: Map<string, FragmentDefinitionNode>;
  introspection: IntrospectionSizes;
  aliases: number;
  maxDepth: number;
  maxIntrospectionDepth: number;
  /** Size arguments out of range (`max` when it is not the page size). */
  badFirst: { field: string; value: number; argument: string; max?: number }[];
}

function argValue(node: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!node) return undefined;
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  if (node.kind === Kind.INT) return Number(node.value);
  return undefined;
}

/**
 * Cost of a selection: each field 1, lists multiply their children by their (expected) size.
 * `inIntrospection`: below `__schema` / `__type`, where depth has its own ceiling.
 */
function cost(
  set: SelectionSetNode | undefined,
  depth: number,
  w: Walk,
  seen: Set<string>,
  inIntrospection: boolean,
): number {
  if (!set) return 0;
  let total = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) total += fieldCost(sel, depth, w, seen, inIntrospection);
    else if (sel.kind === Kind.INLINE_FRAGMENT)
      total += cost(sel.selectionSet, depth, w, seen, inIntrospection);
    else {
      const frag = w.fragments.get(sel.name.value);
      if (frag && !seen.has(frag.name.value)) {
        seen.add(frag.name.value);
        total += cost(frag.selectionSet, depth, w, seen, inIntrospection);
        seen.delete(frag.name.value);
      }
    }
  }
  return total;
}

function fieldCost(
  field: FieldNode,
  depth: number,
  w: Walk,
  seen: Set<string>,
  inIntrospection: boolean,
): number {
  const name = field.name.value;
  if (field.alias) w.aliases++;
  const introspection = inIntrospection || name === '__schema' || name === '__type';
  if (introspection) {
    w.maxIntrospectionDepth = Math.max(w.maxIntrospectionDepth, depth);
    // Deeper than any legitimate introspection query: stop walking (the request is refused).
    if (depth > MAX_INTROSPECTION_DEPTH) return 1;
    if (!field.selectionSet) return 1;
    const multiplier = inIntrospection ? (w.introspection[name] ?? 1) : 1;
    return 1 + multiplier * cost(field.selectionSet, depth + 1, w, seen, true);
  }
  w.maxDepth = Math.max(w.maxDepth, depth);
  // Past the depth limit the request is refused anyway: no need to walk (or recurse) further.
  if (depth > MAX_INTROSPECTION_DEPTH) return 1;
  if (name === 'timelineBars') return timelineBarsCost(field, depth, w, seen);
  let multiplier = LIST_SIZE[name] ?? 1;
  if (name in DEFAULT_FIRST) {
    // A page is `first` rows, or `last` rows when paging backward (pfaRecords).
    const sizeArgs =
      field.arguments?.filter((a) => a.name.value === 'first' || a.name.value === 'last') ?? [];
    const sizes = sizeArgs
      .map((a) => ({ name: a.name.value, value: argValue(a.value, w.variables) }))
      .filter((a): a is { name: string; value: number } => typeof a.value === 'number');
    const given = sizes.length ? Math.max(...sizes.map((a) => a.value)) : undefined;
    multiplier = given ?? DEFAULT_FIRST[name] ?? 1;
    for (const a of sizes)
      if (name === 'pfaRecords' && a.value > 1000)
        w.badFirst.push({ field: name, value: a.value, argument: a.name });
  }
  if (!field.selectionSet) return 1;
  return 1 + Math.max(1, multiplier) * cost(field.selectionSet, depth + 1, w, seen, false);
}

/**
 * `timelineBars` has its own rule: its answer is up to `limit` bars (50,000 when omitted) written
 * into parallel arrays, so it costs a unit per TIMELINE_BARS_PER_COST_UNIT bars of `limit`
 * (12,500 at the default) plus its selection, whose arrays count once each (they are not
 * multiplied by the bars: a column of bars is far cheaper than a list of objects). A `limit`
 * outside 1–50,000 is BAD_USER_INPUT before anything runs, so no value can lower the estimate.
 */
function timelineBarsCost(field: FieldNode, depth: number, w: Walk, seen: Set<string>): number {
  const arg = field.arguments?.find((a) => a.name.value === 'limit');
  const value = argValue(arg?.value, w.variables);
  const limit = typeof value === 'number' ? value : TIMELINE_MAX_BARS;
  if (!Number.isInteger(limit) || limit < 1 || limit > TIMELINE_MAX_BARS)
    w.badFirst.push({ field: field.name.value, value: limit, argument: 'limit', max: TIMELINE_MAX_BARS });
  const bars = Math.min(Math.max(1, limit), TIMELINE_MAX_BARS);
  return (
    1 + Math.ceil(bars / TIMELINE_BARS_PER_COST_UNIT) + cost(field.selectionSet, depth + 1, w, seen, false)
  );
}

/** The variables an operation runs with: those sent, and the declared default of any not sent. */
export function effectiveVariables(
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...variables };
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (!Object.prototype.hasOwnProperty.call(variables, name) && def.defaultValue)
      out[name] = valueFromASTUntyped(def.defaultValue);
  }
  return out;
}

/**
 * Checks an operation before execution; returns the first problem, or null. `schema` gives the
 * introspection lists their real expected sizes (without it, sizes of a schema like ours).
 */
export function checkLimits(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  options: LimitOptions,
  schema?: GraphQLSchema,
): GraphQLError | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const w: Walk = {
    variables: effectiveVariables(operation, variables),
    fragments,
    introspection: introspectionSizes(schema),
    aliases: 0,
    maxDepth: 0,
    maxIntrospectionDepth: 0,
    badFirst: [],
  };
  const estimated = Math.ceil(cost(operation.selectionSet, 1, w, new Set(), false));
  const fail = (code: string, message: string, extra: Record<string, unknown> = {}) =>
    new GraphQLError(message, { extensions: { code, http: { status: 400 }, ...extra } });
  const bad = w.badFirst[0];
  if (bad)
    return fail(
      'BAD_USER_INPUT',
      `${bad.argument} must be between 1 and ${bad.max ?? options.maxPageSize} (got ${bad.value})`,
      { argument: bad.argument },
    );
  if (w.maxDepth > options.maxDepth)
    return fail(
      'GRAPHQL_VALIDATION_FAILED',
      `query depth ${w.maxDepth} exceeds the limit of ${options.maxDepth}`,
    );
  if (w.maxIntrospectionDepth > MAX_INTROSPECTION_DEPTH)
    return fail(
      'GRAPHQL_VALIDATION_FAILED',
      `introspection depth exceeds the limit of ${MAX_INTROSPECTION_DEPTH}`,
    );
  if (w.aliases > options.maxAliases)
    return fail(
      'GRAPHQL_VALIDATION_FAILED',
      `query uses ${w.aliases} aliases; the limit is ${options.maxAliases}`,
    );
  if (estimated > options.maxCost)
    return fail(
      'GRAPHQL_VALIDATION_FAILED',
      `query cost ${estimated} exceeds the limit of ${options.maxCost} (page sizes multiply through nesting; introspection counts)`,
      {
        cost: estimated,
      },
    );
  return null;
}

/**
 * Apollo's own errors for a persisted query that does not fit (hash of another query, a version
 * other than 1, a malformed extension) carry no code, so they would surface as
 * INTERNAL_SERVER_ERROR: they are the client's, BAD_REQUEST.
 */
const PERSISTED_QUERY_MESSAGES = new Set([
  'provided sha does not match query',
  'Unsupported persisted query version',
]);

/**
 * Apollo plugin: the values a client sends (variables and literals: NUL, unpaired surrogates,
 * dates out of range, depth and size) and the shape of the operation (depth, aliases, cost, page
 * size) are checked before anything executes.
 */
export function limitsPlugin<TContext extends object>(options: LimitOptions): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, schema }) {
          if (!operation) return;
          const variables = request.variables ?? {};
          const problem =
            checkVariables(schema, operation, variables) ??
            checkLiterals(document, operation) ??
            checkLimits(document, operation, variables, options, schema);
          if (problem) throw problem;
        },
        async didEncounterErrors({ errors, document }) {
          if (document) return; // only errors before parsing are Apollo's request-level ones
          for (const e of errors)
            if (!e.extensions.code && PERSISTED_QUERY_MESSAGES.has(e.message))
              (e.extensions as Record<string, unknown>).code = 'BAD_REQUEST';
        },
      };
    },
  };
}
