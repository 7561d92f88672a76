import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OperationLabels, operationLabels } from '../src/http/metrics.js';
import { startTestApp, type TestApp } from './helpers/app.js';

/**
 * Issue 10.1: the `operation` label of pfa_graphql_request_duration_seconds comes from a bounded
 * set. The probe — 3,000 requests, each with a new operationName — grew /metrics to 87.6 MB; now
 * /metrics holds at most 100 learned names plus `other`, `anonymous` and `unknown`.
 */

describe('OperationLabels', () => {
  it('keeps the first `cap` names, then answers other', () => {
    const labels = new OperationLabels(3);
    expect(['A', 'B', 'A', 'C', 'D', 'B', 'E'].map((n) => labels.label(n))).toEqual([
      'A',
      'B',
      'A',
      'C',
      'other',
      'B',
      'other',
    ]);
    expect(labels.size).toBe(3);
  });

  it('names longer than 64 characters, or not GraphQL names, are other and use no slot', () => {
    const labels = new OperationLabels(100);
    expect(labels.label('x'.repeat(64))).toBe('x'.repeat(64));
    expect(labels.label('x'.repeat(65))).toBe('other');
    expect(labels.label('a b')).toBe('other');
    expect(labels.label('Op"} 1\n')).toBe('other');
    expect(labels.label('1abc')).toBe('other');
    expect(labels.label('naïve')).toBe('other');
    expect(labels.size).toBe(1);
  });

  it('an operation without a name is anonymous', () => {
    const labels = new OperationLabels(1);
    expect(labels.label(null)).toBe('anonymous');
    expect(labels.label(undefined)).toBe('anonymous');
    expect(labels.label('')).toBe('anonymous');
    expect(labels.size).toBe(0);
  });
});

describe('the 3,000-new-operationName probe against a running server', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const scrape = async (): Promise<string> => {
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const operationsIn = (text: string): Set<string> =>
    new Set(
      [...text.matchAll(/^pfa_graphql_request_duration_seconds_count\{operation="([^"]*)"/gm)].map(
        (m) => m[1] as string,
      ),
    );

  it('does not grow /metrics beyond the cap', async () => {
    await app.gql('query KnownBefore { __typename }');
    const before = await scrape();
    const token = await app.token('viewer');
    const send = (i: number) => {
      // Every fourth name is over 64 characters; the rest are new short names.
      const name = i % 4 === 0 ? `Probe_${i}_${'x'.repeat(70)}` : `Probe_${i}`;
      return app.gql(`query ${name} { __typename }`, { token });
    };
    for (let i = 0; i < 3000; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => send(i + j)));
    // A name sent after the cap was reached is `other` too, and a parse failure `unknown`.
    await app.gql('query LateComer { __typename }', { token });
    await app.gql('query Broken {', { token });
    const after = await scrape();

    const ops = operationsIn(after);
    expect(ops.has('KnownBefore')).toBe(true);
    expect(ops.has('other')).toBe(true);
    expect(ops.has('unknown')).toBe(true);
    expect(ops.has('LateComer')).toBe(false);
    const learned = [...ops].filter((o) => !['other', 'anonymous', 'unknown'].includes(o));
    expect(learned.length).toBeLessThanOrEqual(operationLabels.cap);
    expect(operationLabels.size).toBe(operationLabels.cap);
    expect(Math.max(...learned.map((o) => o.length))).toBeLessThanOrEqual(64);
    // 3,000 more series would be ~3,000 × 14 lines; the cap allows about 100 × 14.
    const growth = Buffer.byteLength(after) - Buffer.byteLength(before);
    process.stdout.write(
      `metrics probe: /metrics ${Buffer.byteLength(before)} → ${Buffer.byteLength(after)} bytes, ${ops.size} operation labels\n`,
    );
    expect(growth).toBeLessThan(400_000);

    // A second wave of new names changes nothing: the label set is full.
    for (let i = 3000; i < 3500; i += 50)
      await Promise.all(Array.from({ length: 50 }, (_, j) => send(i + j)));
    const again = await scrape();
    expect(operationsIn(again)).toEqual(ops);
  }, 300_000);
});
