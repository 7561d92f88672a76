import { describe, expect, it } from '@jest/globals';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { readFileSync } from 'node:fs';
import { DomainError } from '../src/domain/errors.js';
import { checkFilter, FILTER_LIMITS } from '../src/domain/filter-limits.js';
import { parseLocalDate, textProblem } from '../src/domain/values.js';
import { checkLiterals, checkVariables, INPUT_LIMITS } from '../src/graphql/input-guard.js';

/** The pure input checks: filter bounds (src/domain/filter-limits.ts) and the GraphQL input guard. */

function refusal(fn: () => void): { message: string; argument: unknown } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    const d = e as DomainError;
    expect(d.code).toBe('BAD_USER_INPUT');
    return { message: d.message, argument: d.details.argument };
  }
  throw new Error('expected a refusal');
}

describe('checkFilter', () => {
  it('admits ordinary filters and null', () => {
    expect(() => checkFilter(null)).not.toThrow();
    expect(() =>
      checkFilter({
        and: [{ category: { in: ['Cranes', 'Pumps'] } }, { forecastStart: { gte: '2025-01-01' } }],
        or: [{ search: 'cat 320' }, { dataContains: { manufacturer: 'Caterpillar' } }, { hasDraft: true }],
        not: { monthlyRate: { lt: 100, isNull: false } },
        isActualized: false,
        includeRemoved: true,
      }),
    ).not.toThrow();
  });

  it('counts every branch: empty objects, search, dataContains and hasDraft included', () => {
    const n = FILTER_LIMITS.conditions;
    for (const branch of [{}, { search: 'x' }, { dataContains: { a: 1 } }, { hasDraft: false }]) {
      expect(() => checkFilter({ or: Array.from({ length: n / 2 - 1 }, () => branch) })).not.toThrow();
      expect(refusal(() => checkFilter({ or: Array.from({ length: n }, () => branch) })).message).toMatch(
        /more than 500 conditions/,
      );
    }
    // A huge list is refused without walking it.
    expect(refusal(() => checkFilter({ or: Array.from({ length: 50_000 }, () => ({})) })).argument).toBe(
      'filter.or',
    );
  });

  it('bounds string operands, search words and lists', () => {
    const long = 'a'.repeat(FILTER_LIMITS.stringLength + 1);
    expect(() => checkFilter({ model: { contains: long.slice(1) } })).not.toThrow();
    expect(refusal(() => checkFilter({ model: { contains: long } })).argument).toBe('filter.model.contains');
    expect(refusal(() => checkFilter({ or: [{}, { pfaId: { in: ['a', long] } }] })).argument).toBe(
      'filter.or[1].pfaId.in[1]',
    );
    expect(refusal(() => checkFilter({ search: long })).argument).toBe('filter.search');
    expect(refusal(() => checkFilter({ search: 'a '.repeat(21) })).message).toMatch(/20 words/);
    expect(
      refusal(() => checkFilter({ category: { notIn: Array.from({ length: 1001 }, () => 'x') } })).argument,
    ).toBe('filter.category.notIn');
  });

  it('bounds dataContains in size and depth and weighs it by size', () => {
    expect(() => checkFilter({ dataContains: { a: { b: { c: [1] } } } })).not.toThrow();
    expect(
      refusal(() => checkFilter({ dataContains: { a: { b: { c: { d: { e: 1 } } } } } })).message,
    ).toMatch(/deeper than 4/);
    expect(refusal(() => checkFilter({ dataContains: { a: 'x'.repeat(2000) } })).message).toMatch(
      /2000 characters/,
    );
    expect(refusal(() => checkFilter({ dataContains: [1] })).argument).toBe('filter.dataContains');
    // 1,900 characters weigh 19 conditions: 30 of them are more than 500.
    const big = { model: 'x'.repeat(1890) };
    expect(() =>
      checkFilter({ or: Array.from({ length: 20 }, () => ({ dataContains: big })) }),
    ).not.toThrow();
    expect(() => checkFilter({ or: Array.from({ length: 30 }, () => ({ dataContains: big })) })).toThrow(
      /conditions/,
    );
  });

  it('refuses values PostgreSQL would refuse, naming where they are', () => {
    expect(refusal(() => checkFilter({ category: { eq: 'a\u0000' } })).argument).toBe('filter.category.eq');
    expect(refusal(() => checkFilter({ not: { search: '\ud800x' } })).argument).toBe('filter.not.search');
    expect(refusal(() => checkFilter({ dataContains: { k: ['ok', 'b\u0000'] } })).argument).toBe(
      'filter.dataContains.k[1]',
    );
    expect(refusal(() => checkFilter({ dataContains: { 'k\u0000': 1 } })).message).toMatch(/NUL/);
    expect(refusal(() => checkFilter({ forecastStart: { gte: '0000-01-01' } })).argument).toBe(
      'filter.forecastStart.gte',
    );
    expect(refusal(() => checkFilter({ forecastEnd: { lt: '2025-02-30' } })).message).toMatch(/9999-12-31/);
    expect(refusal(() => checkFilter({ monthlyRate: { gt: Number.POSITIVE_INFINITY } })).message).toMatch(
      /finite/,
    );
    expect(refusal(() => checkFilter({ monthlyRate: { gt: '12' } })).argument).toBe('filter.monthlyRate.gt');
    expect(refusal(() => checkFilter({ isActualized: 'yes' })).argument).toBe('filter.isActualized');
    expect(refusal(() => checkFilter({ category: true })).argument).toBe('filter.category');
    expect(refusal(() => checkFilter({ hasDraft: 1 })).argument).toBe('filter.hasDraft');
    expect(refusal(() => checkFilter({ and: {} })).argument).toBe('filter.and');
    expect(refusal(() => checkFilter({ futureField: { eq: 'x\u0000' } })).argument).toBe(
      'filter.futureField.eq',
    );
  });

  it('refuses deep nesting without recursion, however deep', () => {
    let f: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) f = i % 2 ? { not: f } : { and: [f] };
    expect(refusal(() => checkFilter(f)).message).toMatch(/deeper than 12/);
    let ok: Record<string, unknown> = {};
    for (let i = 0; i < FILTER_LIMITS.nesting; i++) ok = { not: ok };
    expect(() => checkFilter(ok)).not.toThrow();
    expect(() => checkFilter({ not: ok })).toThrow(/deeper/);
  });
});

describe('values', () => {
  it('parseLocalDate takes real days from 0001-01-01 to 9999-12-31 only', () => {
    for (const ok of ['0001-01-01', '9999-12-31', '2024-02-29', '2000-02-29'])
      expect(parseLocalDate(ok)).toBe(ok);
    for (const bad of [
      '0000-01-01',
      '0000-12-31',
      '10000-01-01',
      '2023-02-29',
      '1900-02-29',
      '2025-13-01',
      '2025-1-01',
      '2025-01-01T00:00:00Z',
      ' 2025-01-01',
      '+2025-01-01',
      '',
      20250101,
      null,
    ])
      expect(parseLocalDate(bad)).toBeNull();
  });

  it('textProblem finds NUL and unpaired surrogates, and passes any well-formed text', () => {
    expect(textProblem('Größe 😀 ok\u0001')).toBeNull();
    expect(textProblem('a\u0000')).toMatch(/NUL/);
    expect(textProblem('\ud83d')).toMatch(/surrogate/);
    expect(textProblem('x\ude00')).toMatch(/surrogate/);
    expect(textProblem('\ude00\ud83d')).toMatch(/surrogate/);
  });
});

describe('GraphQL input guard', () => {
  const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));
  const op = (source: string) => {
    const document = parse(source);
    return {
      document,
      operation: getOperationAST(document) as NonNullable<ReturnType<typeof getOperationAST>>,
    };
  };
  const records = op(
    `query($f: PfaRecordFilter, $ids: [ID!]) { pfaRecords(organizationId: "HOLNG", filter: $f) { totalCount } }`,
  );
  const update = op(
    `mutation($input: UpdatePfaRecordInput!) { updatePfaRecord(input: $input) { record { id } } }`,
  );

  it('names the path of a NUL in a variable, in a key, in a JSON scalar', () => {
    const check = (o: typeof records, variables: Record<string, unknown>) =>
      checkVariables(schema, o.operation, variables)?.extensions;
    expect(check(records, { f: { or: [{}, { model: { eq: 'a\u0000' } }] } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      argument: 'variables.f.or[1].model.eq',
    });
    expect(check(records, { f: { dataContains: { a: { 'b\u0000': 1 } } } })?.argument).toBe(
      'variables.f.dataContains.a',
    );
    expect(
      check(update, { input: { id: '1', expectedVersion: 0, changes: {}, reason: '\u0000' } })?.argument,
    ).toBe('variables.input.reason');
    expect(check(records, { ids: ['1', '\ud800'] })?.argument).toBe('variables.ids[1]');
    expect(check(records, { f: { model: { eq: 'fine' } }, ids: ['1'] })).toBeUndefined();
  });

  it('checks LocalDate-typed variables, and only those, for the date range', () => {
    expect(
      checkVariables(schema, update.operation, {
        input: {
          id: '1',
          expectedVersion: 0,
          changes: { forecastStart: '0000-01-01', category: '0000-01-01' },
        },
      })?.extensions.argument,
    ).toBe('variables.input.changes.forecastStart');
    expect(
      checkVariables(schema, records.operation, {
        f: { forecastEnd: { in: '0000-01-01' }, model: { eq: '0000-01-01' } },
      }),
    ).toBeNull(); // `in` is not an operator of DateFilter: graphql-js refuses the key itself
  });

  it('refuses deep, long and huge variables', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(checkVariables(schema, records.operation, { ids: deep })?.message).toMatch(/deeper than 32/);
    expect(
      checkVariables(schema, records.operation, {
        ids: Array.from({ length: INPUT_LIMITS.listLength + 1 }, () => '1'),
      })?.message,
    ).toMatch(/at most 10000/);
    const wide = Array.from({ length: 20 }, () => ({
      pfaId: { in: Array.from({ length: 6000 }, () => 'x') },
    }));
    expect(checkVariables(schema, records.operation, { f: { or: wide } })?.message).toMatch(/100000 values/);
  });

  it('names the path of a NUL in a literal argument or a variable default', () => {
    const lit = op(
      `query($s: String = "ok") { pfaRecords(organizationId: "HOLNG", filter: { or: [{}, { search: "a\\u0000" }] }) { totalCount } }`,
    );
    expect(checkLiterals(lit.document, lit.operation)?.extensions.argument).toBe(
      'pfaRecords.filter.or[1].search',
    );
    const def = op(`query($s: String = "\\u0000") { pfaRecords(organizationId: "HOLNG") { totalCount } }`);
    expect(checkLiterals(def.document, def.operation)?.extensions.argument).toBe('$s');
    const frag = op(
      `{ ...F } fragment F on Query { pfaRecords(organizationId: "HO\\u0000") { totalCount } }`,
    );
    expect(checkLiterals(frag.document, frag.operation)?.extensions.argument).toBe(
      'pfaRecords.organizationId',
    );
  });
});
