import {
  GraphQLError,
  Kind,
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  typeFromAST,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { parseLocalDate, textProblem } from '../domain/values.js';

/**
 * Checks every value a client hands over — variables (against their declared types) and the
 * argument literals of the document — before graphql-js coerces them and before any resolver
 * runs: no value that PostgreSQL would refuse (NUL, unpaired surrogates, dates outside
 * 0001-01-01 … 9999-12-31) and no variable so deep or so big that coercing or walking it costs
 * more than the request is worth. Iterative throughout: a value nested 100,000 levels deep is a
 * BAD_USER_INPUT, not a stack overflow.
 */
export const INPUT_LIMITS = Object.freeze({
  /** Object/list levels of one variable. */
  depth: 32,
  /** Entries of one list. */
  listLength: 10_000,
  /** Values (scalars, objects, list entries) in all variables of a request together. */
  values: 100_000,
});

const DATE_SCALARS = new Set(['LocalDate']);

function refuse(message: string, argument: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', argument, http: { status: 400 } },
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

interface Item {
  value: unknown;
  /** Declared type, or undefined inside JSON scalars and keys the type does not know. */
  type: GraphQLInputType | undefined;
  path: string;
  depth: number;
}

/** The first problem with the request's variables, or null. */
export function checkVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): GraphQLError | null {
  let values = 0;
  const stack: Item[] = [];
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (!Object.prototype.hasOwnProperty.call(variables, name)) continue;
    const type = typeFromAST(schema, def.type) as GraphQLInputType | undefined;
    stack.push({ value: variables[name], type, path: `variables.${name}`, depth: 0 });
  }
  while (stack.length > 0) {
    const { value, type: declared, path, depth } = stack.pop() as Item;
    if (value === null || value === undefined) continue;
    if (++values > INPUT_LIMITS.values)
      return refuse(`variables hold more than ${INPUT_LIMITS.values} values in all`, path);
    const type = declared && isNonNullType(declared) ? declared.ofType : declared;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) return refuse(`${path} ${problem}`, path);
      if (type && isScalarType(type) && DATE_SCALARS.has(type.name) && parseLocalDate(value) === null)
        return refuse(
          `${path} must be a date YYYY-MM-DD between 0001-01-01 and 9999-12-31 (got "${value.slice(0, 40)}")`,
          path,
        );
      continue;
    }
    if (typeof value !== 'object') continue;
    if (depth >= INPUT_LIMITS.depth)
      return refuse(`${path} nests deeper than ${INPUT_LIMITS.depth} levels`, path);
    if (Array.isArray(value)) {
      if (value.length > INPUT_LIMITS.listLength)
        return refuse(`${path} has ${value.length} entries; at most ${INPUT_LIMITS.listLength}`, path);
      const itemType = type && isListType(type) ? (type.ofType as GraphQLInputType) : undefined;
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], type: itemType, path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    if (!isRecord(value)) continue;
    // A single value where a list is declared is coerced to a list of one (GraphQL's rule).
    const objectType = type && isListType(type) ? getNamedType(type) : type;
    const fields = objectType && isInputObjectType(objectType) ? objectType.getFields() : undefined;
    const entries = Object.entries(value);
    if (entries.length > INPUT_LIMITS.listLength)
      return refuse(`${path} has ${entries.length} keys; at most ${INPUT_LIMITS.listLength}`, path);
    for (const [key, v] of entries) {
      const problem = textProblem(key);
      if (problem) return refuse(`${path} has a key that ${problem}`, path);
      const fieldType = fields?.[key]?.type;
      stack.push({ value: v, type: fieldType, path: `${path}.${key}`, depth: depth + 1 });
    }
    // Objects under JSON scalars (dataContains) are walked generically: their strings are checked too.
  }
  return null;
}

/**
 * The first string literal in the operation's arguments (or variable defaults) that the database
 * would refuse, or null. Literal dates are left to the LocalDate scalar (a validation error).
 */
export function checkLiterals(
  document: DocumentNode,
  operation: OperationDefinitionNode,
): GraphQLError | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const values: { node: ValueNode; path: string }[] = [];
  for (const def of operation.variableDefinitions ?? [])
    if (def.defaultValue) values.push({ node: def.defaultValue, path: `$${def.variable.name.value}` });
  const sets: { set: SelectionSetNode; prefix: string }[] = [{ set: operation.selectionSet, prefix: '' }];
  const seen = new Set<string>();
  while (sets.length > 0) {
    const { set, prefix } = sets.pop() as { set: SelectionSetNode; prefix: string };
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const name = `${prefix}${sel.alias?.value ?? sel.name.value}`;
        for (const arg of sel.arguments ?? [])
          values.push({ node: arg.value, path: `${name}.${arg.name.value}` });
        for (const dir of sel.directives ?? [])
          for (const arg of dir.arguments ?? [])
            values.push({ node: arg.value, path: `${name}@${dir.name.value}.${arg.name.value}` });
        if (sel.selectionSet) sets.push({ set: sel.selectionSet, prefix: `${name}.` });
      } else if (sel.kind === Kind.INLINE_FRAGMENT) sets.push({ set: sel.selectionSet, prefix });
      else {
        const frag = fragments.get(sel.name.value);
        if (frag && !seen.has(frag.name.value)) {
          seen.add(frag.name.value);
          sets.push({ set: frag.selectionSet, prefix });
        }
      }
    }
  }
  while (values.length > 0) {
    const { node, path } = values.pop() as { node: ValueNode; path: string };
    switch (node.kind) {
      case Kind.STRING: {
        const problem = textProblem(node.value);
        if (problem) return refuse(`${path} ${problem}`, path);
        break;
      }
      case Kind.LIST:
        node.values.forEach((v, i) => values.push({ node: v, path: `${path}[${i}]` }));
        break;
      case Kind.OBJECT:
        for (const f of node.fields) {
          const problem = textProblem(f.name.value);
          if (problem) return refuse(`${path} has a key that ${problem}`, path);
          values.push({ node: f.value, path: `${path}.${f.name.value}` });
        }
        break;
      default:
        break;
    }
  }
  return null;
}
