/**
 * Closed-loop load with autocannon (bench/peer's own copy): N connections, each sending the next
 * request as soon as the previous answer is in. Every answer's body is checked: a 200 whose body
 * holds `errors` is a GraphQL error, so a server that answers fast with errors cannot look good.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { GraphqlBody } from './patterns.js';
import { summarize } from '../stats.js';

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  stop(): void;
}

interface AutocannonRequest {
  method: 'POST';
  body: string;
  onResponse: (status: number, body: string) => void;
}

type Autocannon = (
  options: {
    url: string;
    connections: number;
    duration: number;
    timeout: number;
    headers: Record<string, string>;
    requests: AutocannonRequest[];
  },
  callback: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

export interface LoadRun {
  seconds: number;
  /** Clean answers (2xx without GraphQL errors) per second. */
  requestsPerSecond: number;
  /** Every answer, clean or not. */
  responses: number;
  ok: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** 2xx answers whose body held GraphQL `errors`. */
  graphqlErrors: number;
  non2xx: number;
  /** Socket errors and timeouts (10 s). */
  transportErrors: number;
  /** graphqlErrors + non2xx + transportErrors. */
  errors: number;
}

export interface LoadOptions {
  graphqlUrl: string;
  headers: Record<string, string>;
  body: GraphqlBody;
  connections: number;
  seconds: number;
  /** bench/peer, whose node_modules holds autocannon. */
  peerDir: string;
}

/** The running instance, so that an interrupt can stop it. */
let current: AutocannonInstance | null = null;

export function stopLoad(): void {
  current?.stop();
}

export async function runLoad(options: LoadOptions): Promise<LoadRun> {
  // Loaded here, not at import: bench/peer's node_modules exists only after the install step.
  const autocannon = createRequire(path.join(options.peerDir, 'package.json'))('autocannon') as Autocannon;
  const latencies: number[] = [];
  let graphqlErrors = 0;
  let ok = 0;
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    current = autocannon(
      {
        url: options.graphqlUrl,
        connections: options.connections,
        duration: options.seconds,
        timeout: 10,
        headers: { ...options.headers, 'content-type': 'application/json', accept: 'application/json' },
        requests: [
          {
            method: 'POST',
            body: JSON.stringify(options.body),
            onResponse: (status, body) => {
              if (status < 200 || status > 299) return; // counted by autocannon as non2xx
              // `"errors":` can only be an object key (inside a JSON string the quote is escaped),
              // and none of the documents selects a field of that name.
              if (String(body).includes('"errors":')) graphqlErrors++;
              else ok++;
            },
          },
        ],
      },
      (error, r) => (error ? reject(error) : resolve(r)),
    );
    current.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  }).finally(() => {
    current = null;
  });
  const s = summarize(latencies);
  const transportErrors = result.errors; // autocannon counts its timeouts among its errors
  return {
    seconds: result.duration,
    requestsPerSecond: result.duration > 0 ? ok / result.duration : 0,
    responses: latencies.length,
    ok,
    latencyMs: { p50: s.median, p95: s.p95, p99: s.p99, max: s.max },
    graphqlErrors,
    non2xx: result.non2xx,
    transportErrors,
    errors: graphqlErrors + result.non2xx + transportErrors,
  };
}
