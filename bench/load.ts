/** Load: autocannon against one GraphQL request, with the server's CPU and memory sampled meanwhile. */
import { createRequire } from 'node:module';
import { sampleResources, type ResourceUsage } from './procstat.js';
import { summarize } from './stats.js';

interface AutocannonHistogram {
  average: number;
  p50: number;
  p90: number;
  p97_5: number;
  p99: number;
  max: number;
}

interface AutocannonResult {
  requests: AutocannonHistogram & { total: number; sent: number };
  latency: AutocannonHistogram;
  throughput: AutocannonHistogram;
  duration: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  '2xx': number;
}

interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}

type Autocannon = ((
  options: Record<string, unknown>,
  callback: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance) & { track?: unknown };

// autocannon is CommonJS without type declarations: loaded through require, typed by the use made here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadOptions {
  title: string;
  url: string;
  headers: Record<string, string>;
  query: string;
  variables: Record<string, unknown>;
  connections: number;
  seconds: number;
  serverPids: readonly number[];
  /** Backends of the benchmark database (the service's pool among them). */
  postgresPids: () => Promise<number[]>;
}

export interface LoadResult {
  title: string;
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { mean: number; p50: number; p95: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  /** 200 responses whose body held GraphQL errors (counted by a body check on every response). */
  graphqlErrors: number;
  bytesPerSecond: number;
  resources: ResourceUsage;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const sampler = await sampleResources(options.serverPids, options.postgresPids);
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: new URL('/graphql', options.url).toString(),
        connections: options.connections,
        duration: options.seconds,
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ query: options.query, variables: options.variables }),
        // Every body is checked: a 200 carrying GraphQL errors counts as a mismatch.
        verifyBody: (body: string) => body.startsWith('{"data":') && !body.includes('"errors":'),
      },
      (error, r) => (error ? reject(error) : resolve(r)),
    );
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms));
  });
  const resources = await sampler.stop();
  const s = summarize(latencies);
  return {
    title: options.title,
    connections: options.connections,
    seconds: result.duration,
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    latencyMs: { mean: s.mean, p50: s.median, p95: s.p95, p99: s.p99, max: s.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors: result.mismatches,
    bytesPerSecond: result.throughput.average,
    resources,
  };
}
