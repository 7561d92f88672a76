import type { ApolloServerPlugin, GraphQLRequestContext, GraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import {
  defaultFieldResolver,
  getArgumentValues,
  getVariableValues,
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  GraphQLString,
  isAbstractType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  typeFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLLeafType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { COMPLETES_RAW_JSON, RawJson } from './raw-json.js';

/**
 * A faster executor for the read queries that make up nearly all traffic (issue 11), with
 * graphql-js kept as the reference and the fallback.
 *
 * graphql-js completes every field of every object on its own: it looks the field up, builds a
 * resolve-info object, an arguments object and a path entry, dispatches on the type, and
 * serialises the value. A page of 1,000 records of 20 fields is 20,000 of those steps, about half
 * of the server's CPU for such a request. Here a query operation is compiled once per document
 * (the parsed document is cached by Apollo, so the plan lives as long as it does) into one
 * completer per selection set: the fields collected as graphql-js collects them (fragments,
 * literal @skip/@include, same-key merging, order of first appearance), each with its resolver,
 * its arguments and its type's serialiser resolved in advance.
 *
 * The answer must be the one graphql-js gives, or none: anything the compiler does not handle
 * (mutations, subscriptions, abstract types, introspection, @defer, directives other than literal
 * @skip/@include, isTypeOf) is left to graphql-js, and so is every request that meets an error
 * (a resolver throws or rejects, null in a non-null position, a value a scalar refuses, variables
 * that do not coerce). Such a request is then executed again by graphql-js, which writes the
 * errors with their paths and null propagation exactly as always; each root field is replayed to
 * it as its resolver gave it to the fast path (a value, a promise, or an error thrown the same
 * way), so no root resolver — the ones that query the database and add hints — runs twice. The
 * first root field that fails hands over at once, so graphql-js ends the request when it would
 * have alone (a non-null root field), not after the others' hints and errors.
 *
 * A resolver that declares fewer than four parameters cannot see `info` (ours are written
 * `(record) => …`); it gets one resolve-info per field and request instead of one per call. A
 * resolver with four parameters, or with a rest parameter, gets an exact info (path included),
 * as in graphql-js. The default resolver is inlined (a property read; a function property gets
 * an exact info, or graphql-js answers when the plan does not track paths).
 *
 * `FAST_EXECUTION=false` switches it off (every request through graphql-js).
 */

/** Thrown inside the fast path: let graphql-js answer this request. */
class Fallback extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

interface Path {
  readonly prev: Path | undefined;
  readonly key: string | number;
  readonly typename: string | undefined;
}

/** Per-request state of one run of a plan. */
interface Run {
  readonly schema: GraphQLSchema;
  readonly context: unknown;
  readonly variables: Record<string, unknown>;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  readonly operation: OperationDefinitionNode;
  /** Arguments and shared infos per field plan (by its index), made on first use. */
  readonly args: (Record<string, unknown> | undefined)[];
  readonly infos: (GraphQLResolveInfo | undefined)[];
}

type Completer = (value: unknown, run: Run, path: Path | undefined) => unknown;

interface FieldPlan {
  readonly index: number;
  readonly key: string;
  readonly name: string;
  readonly nodes: readonly FieldNode[];
  readonly parentType: GraphQLObjectType;
  readonly def: GraphQLField<unknown, unknown> | null; // null: __typename
  /** The field's own resolver, or null for graphql-js's default (a property read). */
  readonly resolve: GraphQLFieldResolver<unknown, unknown> | null;
  readonly exactInfo: boolean;
  readonly noArgs: boolean;
  complete: Completer;
}

interface Plan {
  readonly roots: readonly FieldPlan[];
  /** The `data` object's keys in order (see shapeOf). */
  readonly shape: Record<string, unknown>;
  /** Some resolver of the tree needs its exact path. */
  readonly paths: boolean;
}

const NO_ARGS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';

/**
 * A completion gave up synchronously (it throws): the promises it had already started for the
 * fields or items before are nobody's any more. One of them may still reject (a resolver's error,
 * a Fallback of its own); unhandled, that rejection would reach the process guard, which exits
 * (src/db/database.ts installProcessGuards). graphql-js answers the request; they are ignored.
 */
function abandon(pending: Promise<void>[] | null): void {
  if (pending) Promise.all(pending).catch(() => undefined);
}

/**
 * What a root resolver gave the fast path, handed to graphql-js's second run as it was: a value,
 * a promise (settled or not), or an error it threw.
 */
type Replay = { value: unknown } | { promise: Promise<unknown> } | { error: unknown };

const ignore = (): undefined => undefined;

/**
 * Sets out[key] to a completed value; a promise is set now and replaced by its value once it
 * settles (tracked in the returned list, which graphql-js-like callers wait for).
 */
function place<K extends string | number>(
  out: Record<K, unknown>,
  key: K,
  value: unknown,
  pending: Promise<void>[] | null,
): Promise<void>[] | null {
  out[key] = value;
  if (!isThenable(value)) return pending;
  (pending ??= []).push(
    Promise.resolve(value).then((settled) => {
      out[key] = settled;
    }),
  );
  return pending;
}

/** Completes a resolver's result, now or once its promise settles. */
const completeEventually = (
  complete: Completer,
  value: unknown,
  run: Run,
  path: Path | undefined,
): unknown =>
  isThenable(value) ? Promise.resolve(value).then((v) => complete(v, run, path)) : complete(value, run, path);

export interface FastExecutor {
  /** Apollo plugin answering supported operations in `responseForOperation`. */
  plugin<T extends object>(): ApolloServerPlugin<T>;
  /** Compiles (or fetches) the plan of an operation; null when graphql-js must run it. */
  planOf(document: DocumentNode, operation: OperationDefinitionNode): Plan | null;
  /** Executes a plan; `null` means "let graphql-js answer" (the replay is then in place). */
  execute(
    plan: Plan,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    rawVariables: Record<string, unknown> | undefined,
    context: object,
  ): Promise<Record<string, unknown> | null>;
  /** Counters since start (tests and metrics). */
  readonly stats: { fast: number; fallback: number; unsupported: number };
}

/**
 * Installs the replay hook on the schema's Query fields (so call once per schema) and returns the
 * executor for it.
 */
export function createFastExecutor(schema: GraphQLSchema): FastExecutor {
  const queryType = schema.getQueryType();
  const replays = new WeakMap<object, Map<FieldNode, Replay>>();
  /** Query fields' resolvers as written (the schema's now consult the replay first). */
  const originals = new Map<GraphQLField<unknown, unknown>, GraphQLFieldResolver<unknown, unknown> | null>();
  if (queryType) {
    for (const field of Object.values(queryType.getFields()) as GraphQLField<unknown, unknown>[]) {
      const original = field.resolve && field.resolve !== defaultFieldResolver ? field.resolve : null;
      originals.set(field, original);
      const own = original ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        const replay = replays.get(context as object)?.get(info.fieldNodes[0] as FieldNode);
        if (replay) {
          if ('error' in replay) throw replay.error;
          return 'promise' in replay ? replay.promise : replay.value;
        }
        return own(source, args, context, info);
      };
    }
  }
  const plans = new WeakMap<OperationDefinitionNode, Plan | null>();
  const stats = { fast: 0, fallback: 0, unsupported: 0 };

  function planOf(document: DocumentNode, operation: OperationDefinitionNode): Plan | null {
    if (plans.has(operation)) return plans.get(operation) ?? null;
    let plan: Plan | null = null;
    try {
      plan = compile(schema, document, operation, originals);
    } catch (e) {
      if (!(e instanceof Fallback)) throw e;
    }
    plans.set(operation, plan);
    return plan;
  }

  async function execute(
    plan: Plan,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    rawVariables: Record<string, unknown> | undefined,
    context: object,
  ): Promise<Record<string, unknown> | null> {
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
    if (coerced.errors) return null;
    const run: Run = {
      schema,
      context,
      variables: coerced.coerced,
      fragments: fragmentsOf(document),
      operation,
      args: [],
      infos: [],
    };
    (context as Record<symbol, unknown>)[COMPLETES_RAW_JSON] = true;
    // Call every root resolver first, as graphql-js does.
    const calls: Replay[] = plan.roots.map((field) => {
      const path: Path = { prev: undefined, key: field.key, typename: field.parentType.name };
      try {
        const value = resolveField(field, undefined, run, path, true);
        if (!isThenable(value)) return { value };
        const promise = Promise.resolve(value);
        promise.catch(ignore); // graphql-js may be the one to read its error (below)
        return { promise };
      } catch (error) {
        return { error };
      }
    });
    // graphql-js answers from here on: each root field gives it what its resolver gave (no
    // resolver runs twice), still running if it is, so its answer is the one it gives alone.
    const fallBack = () => {
      const replay = new Map<FieldNode, Replay>();
      calls.forEach((call, i) => replay.set((plan.roots[i] as FieldPlan).nodes[0] as FieldNode, call));
      replays.set(context, replay);
      stats.fallback += 1;
      return null;
    };
    if (calls.some((call) => 'error' in call)) return fallBack();
    let values: unknown[];
    try {
      // The first root field that fails hands over at once: graphql-js ends the request there
      // when that field is non-null, before other root fields add their hints or meet errors.
      values = await Promise.all(
        calls.map((call) => ('promise' in call ? call.promise : (call as { value: unknown }).value)),
      );
    } catch {
      return fallBack();
    }
    let pending: Promise<void>[] | null = null;
    try {
      const data: Record<string, unknown> = { ...plan.shape };
      values.forEach((value, i) => {
        const field = plan.roots[i] as FieldPlan;
        const path: Path | undefined = plan.paths
          ? { prev: undefined, key: field.key, typename: field.parentType.name }
          : undefined;
        pending = place(data, field.key, field.complete(value, run, path), pending);
      });
      if (pending) await Promise.all(pending);
      stats.fast += 1;
      return data;
    } catch {
      abandon(pending);
      return fallBack();
    }
  }

  return {
    planOf,
    execute,
    stats,
    plugin<T extends object>(): ApolloServerPlugin<T> {
      return {
        async requestDidStart() {
          return {
            async responseForOperation(
              requestContext: GraphQLRequestContext<T>,
            ): Promise<GraphQLResponse | null> {
              const { document, operation, request, contextValue } = requestContext;
              if (!document || !operation || operation.operation !== 'query') return null;
              const plan = planOf(document, operation);
              if (!plan) {
                stats.unsupported += 1;
                return null;
              }
              const data = await execute(plan, document, operation, request.variables, contextValue);
              if (!data) return null;
              return {
                http: { status: undefined, headers: new HeaderMap() },
                body: { kind: 'single', singleResult: { data } },
              };
            },
          };
        },
      };
    },
  };
}

const fragmentCache = new WeakMap<DocumentNode, Record<string, FragmentDefinitionNode>>();
function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  let f = fragmentCache.get(document);
  if (!f) {
    f = Object.create(null) as Record<string, FragmentDefinitionNode>;
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) f[d.name.value] = d;
    fragmentCache.set(document, f);
  }
  return f;
}

function resolveField(
  field: FieldPlan,
  source: unknown,
  run: Run,
  path: Path | undefined,
  root = false,
): unknown {
  if (field.def === null) return field.parentType.name; // __typename
  let args = run.args[field.index];
  if (!args) {
    args = field.noArgs ? NO_ARGS : getArgumentValues(field.def, field.nodes[0] as FieldNode, run.variables);
    run.args[field.index] = args;
  }
  const resolve = field.resolve;
  if (resolve === null) {
    // graphql-js's defaultFieldResolver, inlined.
    if ((source !== null && typeof source === 'object') || typeof source === 'function') {
      const property = (source as Record<string, unknown>)[field.name];
      if (typeof property === 'function') {
        // A method answers the field with an exact info, whose path the plan has only when some
        // resolver of it needs paths: without one, graphql-js answers.
        if (!path) throw new Fallback('a method answers a field, without its path');
        return (property as (...a: unknown[]) => unknown).call(
          source,
          args,
          run.context,
          exactInfo(field, run, path),
        );
      }
      return property;
    }
    return undefined;
  }
  const info = field.exactInfo || root ? exactInfo(field, run, path) : sharedInfo(field, run, path);
  return resolve(source, args, run.context, info);
}

function exactInfo(field: FieldPlan, run: Run, path: Path | undefined): GraphQLResolveInfo {
  const def = field.def as GraphQLField<unknown, unknown>;
  return {
    fieldName: field.name,
    fieldNodes: field.nodes,
    returnType: def.type,
    parentType: field.parentType,
    path: (path ?? {
      prev: undefined,
      key: field.key,
      typename: field.parentType.name,
    }) as GraphQLResolveInfo['path'],
    schema: run.schema,
    fragments: run.fragments,
    rootValue: undefined,
    operation: run.operation,
    variableValues: run.variables,
  };
}

function sharedInfo(field: FieldPlan, run: Run, path: Path | undefined): GraphQLResolveInfo {
  let info = run.infos[field.index];
  if (!info) {
    info = exactInfo(field, run, path);
    run.infos[field.index] = info;
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// Compilation

interface Compiler {
  readonly schema: GraphQLSchema;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  readonly originals: Map<GraphQLField<unknown, unknown>, GraphQLFieldResolver<unknown, unknown> | null>;
  next: number;
  paths: boolean;
}

function compile(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  originals: Map<GraphQLField<unknown, unknown>, GraphQLFieldResolver<unknown, unknown> | null>,
): Plan {
  const queryType = schema.getQueryType();
  if (!queryType) throw new Fallback('no Query type');
  if (operation.directives?.length) throw new Fallback('operation directives');
  const compiler: Compiler = { schema, fragments: fragmentsOf(document), originals, next: 0, paths: false };
  const roots = fieldPlans(compiler, queryType, [operation.selectionSet]);
  return { roots, shape: shapeOf(roots), paths: compiler.paths };
}

/** graphql-js's collectFields over several selection sets (the merged nodes of one response key). */
function collect(
  compiler: Compiler,
  type: GraphQLObjectType,
  sets: readonly SelectionSetNode[],
): Map<string, FieldNode[]> {
  const fields = new Map<string, FieldNode[]>();
  const visited = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (!included(selection.directives)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const list = fields.get(key);
        if (list) list.push(selection);
        else fields.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (selection.typeCondition && !conditionMatches(compiler, selection.typeCondition.name.value, type))
          continue;
        walk(selection.selectionSet);
      } else {
        const name = selection.name.value;
        if (visited.has(name)) continue;
        visited.add(name);
        const fragment = compiler.fragments[name];
        if (!fragment) throw new Fallback(`unknown fragment ${name}`);
        if (!conditionMatches(compiler, fragment.typeCondition.name.value, type)) continue;
        walk(fragment.selectionSet);
      }
    }
  };
  for (const set of sets) walk(set);
  return fields;
}

/** @skip/@include with literal arguments only; any other directive (or a variable) is unsupported. */
function included(directives: FieldNode['directives']): boolean {
  if (!directives?.length) return true;
  let keep = true;
  for (const d of directives) {
    const name = d.name.value;
    if (name !== 'skip' && name !== 'include') throw new Fallback(`directive @${name}`);
    const arg = d.arguments?.find((a) => a.name.value === 'if');
    if (!arg || arg.value.kind !== Kind.BOOLEAN) throw new Fallback(`@${name} without a literal`);
    if (name === 'skip' && arg.value.value) keep = false;
    if (name === 'include' && !arg.value.value) keep = false;
  }
  return keep;
}

function conditionMatches(compiler: Compiler, condition: string, type: GraphQLObjectType): boolean {
  const conditionType = typeFromAST(compiler.schema, {
    kind: Kind.NAMED_TYPE,
    name: { kind: Kind.NAME, value: condition },
  });
  if (!conditionType) throw new Fallback(`unknown type ${condition}`);
  if (conditionType === type) return true;
  if (isAbstractType(conditionType)) return compiler.schema.isSubType(conditionType, type);
  return false;
}

function fieldPlans(
  compiler: Compiler,
  type: GraphQLObjectType,
  sets: readonly SelectionSetNode[],
): FieldPlan[] {
  if (type.isTypeOf) throw new Fallback(`${type.name} has isTypeOf`);
  const plans: FieldPlan[] = [];
  for (const [key, nodes] of collect(compiler, type, sets)) {
    const first = nodes[0] as FieldNode;
    const name = first.name.value;
    if (name === '__typename') {
      plans.push({
        index: compiler.next++,
        key,
        name,
        nodes,
        parentType: type,
        def: null,
        resolve: null,
        exactInfo: false,
        noArgs: true,
        complete: (v) => v,
      });
      continue;
    }
    if (name.startsWith('__')) throw new Fallback(`introspection field ${name}`);
    const def = type.getFields()[name] as GraphQLField<unknown, unknown> | undefined;
    if (!def) throw new Fallback(`unknown field ${type.name}.${name}`);
    const written = compiler.originals.has(def) ? compiler.originals.get(def) : def.resolve;
    const resolve = written && written !== defaultFieldResolver ? written : null;
    // `(record) => …` cannot read info; four parameters or a rest parameter may.
    const exact = resolve !== null && (resolve.length >= 4 || resolve.length === 0);
    if (exact) compiler.paths = true;
    const plan: FieldPlan = {
      index: compiler.next++,
      key,
      name,
      nodes,
      parentType: type,
      def,
      resolve,
      exactInfo: exact,
      noArgs: def.args.length === 0,
      complete: () => undefined,
    };
    const subSets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    plan.complete = completer(compiler, def.type, subSets);
    plans.push(plan);
  }
  return plans;
}

function completer(
  compiler: Compiler,
  type: GraphQLOutputType,
  sets: readonly SelectionSetNode[],
): Completer {
  if (isNonNullType(type)) {
    const inner = presentCompleter(compiler, type.ofType, sets);
    return (value, run, path) => {
      if (value === null || value === undefined) throw new Fallback('null in a non-null position');
      return inner(value, run, path);
    };
  }
  const inner = presentCompleter(compiler, type, sets);
  return (value, run, path) => (value === null || value === undefined ? null : inner(value, run, path));
}

/** Completes a value known not to be null or undefined (may return a promise). */
function presentCompleter(
  compiler: Compiler,
  type: GraphQLOutputType,
  sets: readonly SelectionSetNode[],
): Completer {
  if (isNonNullType(type)) throw new Fallback('nested non-null');
  if (isListType(type)) {
    const item = completer(compiler, type.ofType, sets);
    return (value, run, path) => {
      if (!Array.isArray(value)) throw new Fallback('a list that is not an array');
      const out = new Array<unknown>(value.length);
      let pending: Promise<void>[] | null = null;
      try {
        for (let i = 0; i < value.length; i++) {
          const itemPath: Path | undefined = path && { prev: path, key: i, typename: undefined };
          // An item may be a promise (graphql-js waits for it, then completes it).
          pending = place(out, i, completeEventually(item, value[i], run, itemPath), pending);
        }
      } catch (e) {
        abandon(pending);
        throw e;
      }
      return pending ? Promise.all(pending).then(() => out) : out;
    };
  }
  if (isLeafType(type)) {
    const serialize = leafSerializer(type);
    return (value) => {
      if (value instanceof Error) throw new Fallback('a resolver returned an error');
      return serialize(value);
    };
  }
  if (isObjectType(type)) {
    if (sets.length === 0) throw new Fallback('object without selection');
    const fields = fieldPlans(compiler, type, sets);
    const typename = type.name;
    const template = shapeOf(fields);
    const complete = (source: unknown, run: Run, path: Path | undefined): unknown => {
      // An object its resolver already wrote as JSON (the run's context says it may: raw-json.ts).
      if (source instanceof RawJson) return source;
      if (source instanceof Error) throw new Fallback('a resolver returned an error');
      // Every object of this selection set starts as a copy of one template: one hidden class,
      // its properties in the answer's order (JSON.stringify's fast path, no dictionary objects).
      const out = { ...template };
      let pending: Promise<void>[] | null = null;
      try {
        for (const f of fields) {
          const fieldPath: Path | undefined = path && { prev: path, key: f.key, typename };
          const v = resolveField(f, source, run, fieldPath);
          pending = place(out, f.key, completeEventually(f.complete, v, run, fieldPath), pending);
        }
      } catch (e) {
        abandon(pending);
        throw e;
      }
      return pending ? Promise.all(pending).then(() => out) : out;
    };
    return complete;
  }
  throw new Fallback(`abstract type ${String(type)}`);
}

/**
 * An object with the response keys of a selection set, in order (values null until set). A key
 * `__proto__` would set the prototype of a plain object: such documents go to graphql-js.
 */
function shapeOf(fields: readonly FieldPlan[]): Record<string, unknown> {
  const shape: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.key === '__proto__') throw new Fallback('a response key __proto__');
    shape[f.key] = null;
  }
  return shape;
}

/** A leaf type's serialize; built-in scalars' common cases without a call. */
function leafSerializer(type: GraphQLLeafType): (value: unknown) => unknown {
  const checked = (value: unknown): unknown => {
    let out: unknown;
    try {
      out = type.serialize(value);
    } catch {
      throw new Fallback(`${type.name} refused a value`);
    }
    if (out === null || out === undefined) throw new Fallback(`${type.name} serialised to nothing`);
    return out;
  };
  if (type === GraphQLString || type === GraphQLID)
    return (value) => (typeof value === 'string' ? value : checked(value));
  if (type === GraphQLBoolean) return (value) => (typeof value === 'boolean' ? value : checked(value));
  if (type === GraphQLInt)
    return (value) =>
      typeof value === 'number' && Number.isInteger(value) && value <= 2147483647 && value >= -2147483648
        ? value
        : checked(value);
  if (type === GraphQLFloat)
    return (value) => (typeof value === 'number' && Number.isFinite(value) ? value : checked(value));
  return checked;
}
