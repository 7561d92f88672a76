import { describe, expect, it } from '@jest/globals';
import { RawJson, stringifyResponse } from '../src/graphql/raw-json.js';

/**
 * src/graphql/raw-json.ts: JSON text our SQL wrote goes into an answer as it is inside
 * stringifyResponse (Apollo's stringifyResult), and as its parsed value everywhere else.
 */

describe('stringifyResponse', () => {
  it('writes a RawJson as its text, byte for byte (no re-encoding)', () => {
    // json_agg's spacing and escapes survive: proof that the text was not parsed and re-written.
    const column = new RawJson('["a", "b\\u00e9", null, "x\\\\"]');
    const text = stringifyResponse({ data: { bars: { id: column } } });
    expect(text).toBe('{"data":{"bars":{"id":["a", "b\\u00e9", null, "x\\\\"]}}}');
    expect(JSON.parse(text)).toEqual({ data: { bars: { id: ['a', 'bé', null, 'x\\'] } } });
  });

  it('splices several values, nested at any depth, in arrays, and the same value twice', () => {
    const a = new RawJson('[1, 2]');
    const b = new RawJson('{"k": "v"}');
    const value = {
      errors: undefined,
      data: { x: { y: [a, 3, { z: b }] }, again: a, plain: 'text', n: null },
      extensions: { hints: ['h'] },
    };
    const text = stringifyResponse(value);
    expect(text).toBe(
      '{"data":{"x":{"y":[[1, 2],3,{"z":{"k": "v"}}]},"again":[1, 2],"plain":"text","n":null},"extensions":{"hints":["h"]}}',
    );
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
  });

  it('answers exactly JSON.stringify when no RawJson is in the value', () => {
    const value = {
      data: { a: [1, 'two', { three: true }], s: '"@raw-json:x:0"' },
      errors: [{ message: 'm' }],
    };
    expect(stringifyResponse(value)).toBe(JSON.stringify(value));
  });

  it('leaves intact strings that look like placeholders but lack the nonce', () => {
    const lookalikes = [
      '@raw-json:0',
      '@raw-json::0',
      `@raw-json:${'0'.repeat(32)}:0`,
      '@raw-json:deadbeef:1',
    ];
    const value = { data: { before: lookalikes, col: new RawJson('[true, false]'), after: lookalikes } };
    const parsed = JSON.parse(stringifyResponse(value)) as Record<string, unknown>;
    expect(parsed).toEqual({ data: { before: lookalikes, col: [true, false], after: lookalikes } });
  });

  it('is the parsed value outside stringifyResponse: JSON.stringify, toJSON, value()', () => {
    const column = new RawJson('["2025-01-01", null]');
    expect(JSON.stringify({ c: column })).toBe('{"c":["2025-01-01",null]}');
    expect(column.toJSON()).toEqual(['2025-01-01', null]);
    expect(column.value()).toBe(column.value()); // parsed once
    // Also after a stringifyResponse, and after one that threw midway.
    stringifyResponse({ c: column });
    expect(JSON.stringify(column)).toBe('["2025-01-01",null]');
    expect(() => stringifyResponse({ c: column, big: 1n })).toThrow(TypeError);
    expect(JSON.stringify(column)).toBe('["2025-01-01",null]');
  });

  it('nests: a stringifyResponse inside another keeps each its own values', () => {
    const inner = new RawJson('[1, 1]');
    const outer = new RawJson('[2, 2]');
    const value = {
      a: outer,
      b: { toJSON: () => stringifyResponse({ i: inner }) },
      c: outer,
    };
    expect(stringifyResponse(value)).toBe('{"a":[2, 2],"b":"{\\"i\\":[1, 1]}","c":[2, 2]}');
  });
});
