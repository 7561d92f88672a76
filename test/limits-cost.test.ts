import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildSchema, getIntrospectionQuery, getOperationAST, graphqlSync, parse } from 'graphql';
import {
  checkLimits,
  effectiveVariables,
  MAX_INTROSPECTION_DEPTH,
  type LimitOptions,
} from '../src/graphql/limits.js';

/** The pre-execution limits (src/graphql/limits.ts) on parsed documents, without a server. */

const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
const OPTIONS: LimitOptions = { maxDepth: 10, maxAliases: 20, maxCost: 50_000, maxPageSize: 1000 };

function check(source: string, variables: Record<string, unknown> = {}, options: Partial<LimitOptions> = {}) {
  const document = parse(source);
  const operation = getOperationAST(document);
  if (!operation) throw new Error('no operation');
  return checkLimits(document, operation, variables, { ...OPTIONS, ...options }, schema);
}

/** The estimate, read back from the error of a ceiling of 0. */
function estimate(source: string, variables: Record<string, unknown> = {}): number {
  const e = check(source, variables, { maxCost: 0, maxAliases: 1e9, maxDepth: 1e9 });
  return Number(e?.extensions.cost);
}

const ALL_OPTIONS = {
  descriptions: true,
  specifiedByUrl: true,
  directiveIsRepeatable: true,
  schemaDescription: true,
  inputValueDeprecation: true,
  oneOf: true,
};

describe('introspection', () => {
  it("admits GraphiQL's and graphql-js's standard introspection queries", () => {
    expect(
      check(getIntrospectionQuery({ inputValueDeprecation: false, schemaDescription: false })),
    ).toBeNull();
    expect(check(getIntrospectionQuery(ALL_OPTIONS))).toBeNull();
  });

  it('estimates an introspection close to the number of values its answer holds', () => {
    const query = getIntrospectionQuery(ALL_OPTIONS);
    const result = graphqlSync({ schema, source: query });
    let values = 0;
    const walk = (v: unknown): void => {
      values++;
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(result.data);
    const e = estimate(query);
    expect(e).toBeGreaterThan(values / 2);
    expect(e).toBeLessThan(values * 2);
    // Room to grow: the schema may grow fourfold before a full introspection reaches the ceiling.
    expect(e * 4).toBeLessThan(OPTIONS.maxCost);
  });

  it('counts aliases of __schema, __type and __typename', () => {
    const aliased = (n: number, sel: string) =>
      `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${sel}`).join(' ')} }`;
    expect(check(aliased(20, '__type(name: "PfaRecord") { name }'))).toBeNull();
    expect(check(aliased(21, '__type(name: "PfaRecord") { name }'))?.message).toMatch(/21 aliases/);
    expect(check(aliased(21, '__schema { types { name } }'))?.message).toMatch(/21 aliases/);
    expect(check(aliased(21, '__typename'))?.message).toMatch(/21 aliases/);
  });

  it('counts introspection in the cost', () => {
    const one = estimate('{ __schema { types { name fields { name args { name } } } } }');
    expect(one).toBeGreaterThan(100);
    const page = `pfaRecords(organizationId: "A", first: 1000) { nodes { id pfaId category } }`;
    expect(estimate(`{ ${page} __schema { types { name fields { name args { name } } } } }`)).toBe(
      estimate(`{ ${page} }`) + one,
    );
  });

  it('exempts introspection from maxDepth but not from its own ceiling', () => {
    const chain = (n: number) => `{ __type(name: "X") { ${'ofType { '.repeat(n)} name ${'} '.repeat(n)} } }`;
    expect(check(chain(MAX_INTROSPECTION_DEPTH - 2))).toBeNull();
    expect(check(chain(100))?.message).toMatch(/introspection depth/);
  });
});

describe('the values a request runs with', () => {
  const pages = (first: string, n = 14) =>
    Array.from(
      { length: n },
      (_, i) =>
        `p${i}: pfaRecords(organizationId: "A", first: ${first}) { nodes { id pfaId category class source dor } }`,
    ).join(' ');

  it('uses variable defaults when the variable is not sent', () => {
    expect(check(`query($n: Int = 1000) { ${pages('$n')} }`)?.message).toMatch(/cost/);
    expect(check(`query($n: Int = 10) { ${pages('$n')} }`)).toBeNull();
    // Sent values win over defaults, both ways.
    expect(check(`query($n: Int = 1000) { ${pages('$n')} }`, { n: 10 })).toBeNull();
    expect(check(`query($n: Int = 10) { ${pages('$n')} }`, { n: 1000 })?.message).toMatch(/cost/);
  });

  it('uses the default first (100) of an omitted or null argument', () => {
    const omitted = `{ ${Array.from({ length: 14 }, (_, i) => `p${i}: pfaRecords(organizationId: "A") { nodes { id } }`).join(' ')} }`;
    expect(estimate(omitted)).toBe(14 * (1 + 100 * (1 + 1)));
    expect(
      estimate(`query($n: Int) { pfaRecords(organizationId: "A", first: $n) { nodes { id } } }`, { n: null }),
    ).toBe(1 + 100 * 2);
  });

  it('refuses a first above 1000 from a default as BAD_USER_INPUT', () => {
    const e = check(`query($n: Int = 5000) { pfaRecords(organizationId: "A", first: $n) { nodes { id } } }`);
    expect(e?.extensions.code).toBe('BAD_USER_INPUT');
  });

  it('effectiveVariables fills defaults of variables not sent, keeps explicit nulls', () => {
    const op = getOperationAST(
      parse('query($a: Int = 1, $b: String = "x", $c: [Int] = [1, 2], $d: Int) { __typename }'),
    );
    expect(effectiveVariables(op as never, { b: null })).toEqual({ a: 1, b: null, c: [1, 2] });
  });
});
