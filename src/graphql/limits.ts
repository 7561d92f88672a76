import {
  GraphQLError,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';

export interface LimitOptions {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxPageSize: number;
}

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

interface Walk {
  variables: Record<string, unknown>;
  fragments: Map<string, FragmentDefinitionNode>;
  aliases: number;
  maxDepth: number;
  badFirst: { field: string; value: number }[];
}

function argValue(node: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!node) return undefined;
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  if (node.kind === Kind.INT) return Number(node.value);
  return undefined;
}

/** Cost of a selection: each field 1, lists multiply their children by their page size. */
function cost(set: SelectionSetNode | undefined, depth: number, w: Walk, seen: Set<string>): number {
  if (!set) return 0;
  let total = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) total += fieldCost(sel, depth, w, seen);
    else if (sel.kind === Kind.INLINE_FRAGMENT) total += cost(sel.selectionSet, depth, w, seen);
    else {
      const frag = w.fragments.get(sel.name.value);
      if (frag && !seen.has(frag.name.value)) {
        seen.add(frag.name.value);
        total += cost(frag.selectionSet, depth, w, seen);
        seen.delete(frag.name.value);
      }
    }
  }
  return total;
}

function fieldCost(field: FieldNode, depth: number, w: Walk, seen: Set<string>): number {
  const name = field.name.value;
  if (name.startsWith('__')) return 0; // introspection: exempt (GraphiQL and the AI assistant need it)
  if (field.alias) w.aliases++;
  w.maxDepth = Math.max(w.maxDepth, depth);
  const firstArg = field.arguments?.find((a) => a.name.value === 'first');
  let multiplier = LIST_SIZE[name] ?? 1;
  if (name in DEFAULT_FIRST) {
    const given = argValue(firstArg?.value, w.variables);
    multiplier = typeof given === 'number' ? given : (DEFAULT_FIRST[name] ?? 1);
    if (name === 'pfaRecords' && typeof given === 'number' && given > 1000)
      w.badFirst.push({ field: name, value: given });
  }
  if (!field.selectionSet) return 1;
  return 1 + Math.max(1, multiplier) * cost(field.selectionSet, depth + 1, w, seen);
}

/** Checks an operation before execution; returns the first problem, or null. */
export function checkLimits(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  options: LimitOptions,
): GraphQLError | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const w: Walk = { variables, fragments, aliases: 0, maxDepth: 0, badFirst: [] };
  const estimated = cost(operation.selectionSet, 1, w, new Set());
  const fail = (code: string, message: string, extra: Record<string, unknown> = {}) =>
    new GraphQLError(message, { extensions: { code, http: { status: 400 }, ...extra } });
  const bad = w.badFirst[0];
  if (bad)
    return fail('BAD_USER_INPUT', `first must be between 1 and ${options.maxPageSize} (got ${bad.value})`, {
      argument: 'first',
    });
  if (w.maxDepth > options.maxDepth)
    return fail(
      'GRAPHQL_VALIDATION_FAILED',
      `query depth ${w.maxDepth} exceeds the limit of ${options.maxDepth}`,
    );
  if (w.aliases > options.maxAliases)
    return fail(
      'GRAPHQL_VALIDATION_FAILED',
      `query uses ${w.aliases} aliases; the limit is ${options.maxAliases}`,
    );
  if (estimated > options.maxCost)
    return fail(
      'GRAPHQL_VALIDATION_FAILED',
      `query cost ${estimated} exceeds the limit of ${options.maxCost} (page sizes multiply through nesting)`,
      {
        cost: estimated,
      },
    );
  return null;
}

/** Apollo plugin: depth, aliases, cost and page size are checked before anything executes. */
export function limitsPlugin<TContext extends object>(options: LimitOptions): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) return;
          const problem = checkLimits(document, operation, request.variables ?? {}, options);
          if (problem) throw problem;
        },
      };
    },
  };
}
