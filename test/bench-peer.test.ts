/**
 * bench/peer (issue 11): a GraphQL error inside an HTTP 200 is an error, not a fast answer. Against a
 * local server that answers clean, 200-with-errors and 500 in turn, the load and the single client
 * count each kind apart, req/s counts clean answers only, and the table marks the pattern.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SingleClient } from '../bench/peer/client.js';
import { runLoad } from '../bench/peer/load.js';
import { PEER_DIR, renderPeerMarkdown, type LatencyCell, type PeerResults } from '../bench/peer/report.js';

const CLEAN = JSON.stringify({ data: { pfaRecords: { nodes: [{ id: '1' }, { id: '2' }] } } });
const GRAPHQL_ERROR = JSON.stringify({ errors: [{ message: 'boom' }], data: null });

let served = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    // The single client names the answer it wants; the load gets the three in turn.
    const wanted = ['clean', 'error', '500'].indexOf(String(req.headers['x-answer']));
    const turn = wanted >= 0 ? wanted : served++ % 3;
    res.writeHead(turn === 2 ? 500 : 200, { 'content-type': 'application/json' });
    res.end(turn === 0 ? CLEAN : GRAPHQL_ERROR);
  });
});
let url = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('bench/peer error counting', () => {
  it('the load checks every body: 200 with errors and non-2xx are errors, req/s counts clean answers', async () => {
    const run = await runLoad({
      graphqlUrl: url,
      headers: {},
      body: { query: '{ __typename }' },
      connections: 2,
      seconds: 1,
      peerDir: PEER_DIR,
    });
    expect(run.ok).toBeGreaterThan(0);
    expect(run.graphqlErrors).toBeGreaterThan(0);
    expect(run.non2xx).toBeGreaterThan(0);
    // Every answer falls in exactly one bucket (the 500 carries `errors` too but counts as non-2xx).
    expect(run.ok + run.graphqlErrors + run.non2xx).toBe(run.responses);
    expect(run.errors).toBe(run.graphqlErrors + run.non2xx + run.transportErrors);
    expect(run.requestsPerSecond).toBeCloseTo(run.ok / run.seconds, 6);
  });

  it('the single client reports each kind of unclean answer', async () => {
    const ask = async (answer: string) => {
      const client = new SingleClient(url, { 'x-answer': answer });
      try {
        return await client.post({ query: '{ __typename }' });
      } finally {
        client.close();
      }
    };
    const clean = await ask('clean');
    const inside200 = await ask('error');
    const status500 = await ask('500');
    expect(clean).toMatchObject({ status: 200, error: null });
    expect(inside200.status).toBe(200);
    expect(inside200.error).toContain('boom');
    expect(status500.status).toBe(500);
    expect(status500.error).toMatch(/HTTP 500/);
  });

  it('marks the pattern that had errors in RESULTS.md', () => {
    const cell = (errors: number): LatencyCell => ({
      n: 5,
      median: 10,
      p95: 12,
      errors,
      firstError: errors ? 'HTTP 200: boom' : null,
      rows: 100,
      bytes: 1000,
    });
    const loadCell = (graphqlErrors: number) => ({
      rounds: [],
      requestsPerSecond: 100,
      p50: 10,
      p95: 20,
      errors: graphqlErrors,
      graphqlErrors,
      non2xx: 0,
      transportErrors: 0,
    });
    const results: PeerResults = {
      kind: 'bench-peer',
      version: 1,
      date: '2026-01-01T00:00:00.000Z',
      verification: true,
      elapsedSeconds: 1,
      machine: {
        cpus: 2,
        cpuModel: 'cpu',
        memoryGiB: 1,
        os: 'os',
        loadBefore: [1, 1, 1],
        loadAfter: [1, 1, 1],
        commit: 'abc1234',
        oursNode: 'v20',
        peerNode: 'v22',
        postgres: 'PostgreSQL',
      },
      settings: { database: 'db', warmup: 3, runs: 5, connections: 2, seconds: 1, rounds: 1, session: 's' },
      peer: { postgraphile: '5', connectionFilter: '4', autocannon: '9', index: 'CREATE INDEX x' },
      latency: [
        {
          pattern: 'grid100',
          title: 't',
          targets: { oursSession: cell(0), ours: cell(0), peer: cell(3) },
          ratio: { oursSession: 1, ours: 1 },
        },
        {
          pattern: 'kpi',
          title: 't',
          targets: { oursSession: cell(0), ours: cell(0), peer: cell(0) },
          ratio: { oursSession: 1, ours: 1 },
        },
      ],
      load: [
        {
          pattern: 'kpi',
          title: 't',
          targets: { oursSession: loadCell(0), ours: loadCell(0), peer: loadCell(7) },
          ratio: { oursSession: 1, ours: 1 },
        },
      ],
      errors: 10,
    };
    const md = renderPeerMarkdown(results).split('\n');
    expect(md.find((l) => l.startsWith('| grid100'))).toMatch(/^\| grid100 ⚠ .*⚠ 3 errors/);
    expect(md.find((l) => l.startsWith('| kpi') && l.includes('10.0 / 12.0'))).not.toContain('⚠');
    expect(md.find((l) => l.startsWith('| kpi ⚠ | PostGraphile'))).toContain('⚠ 7 (GraphQL 7');
    expect(md).toContain('- latency grid100, PostGraphile: 3 × HTTP 200: boom');
  });
});
