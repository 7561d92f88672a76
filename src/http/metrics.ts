import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import client from 'prom-client';
import type pg from 'pg';
import { jobDuration, jobFailures, registerGauge, registry } from '../metrics.js';

const graphqlDuration = new client.Histogram({
  name: 'pfa_graphql_request_duration_seconds',
  help: 'GraphQL request duration by operation name and outcome',
  labelNames: ['operation', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

// The registry and the job instruments live in src/metrics.ts (jobs record into them too).
export { jobDuration, jobFailures, registerGauge };

export const metrics = { registry, graphqlDuration, jobDuration, jobFailures };

/** Pool gauges read at scrape time. */
export function registerPoolMetrics(pool: pg.Pool): void {
  new client.Gauge({
    name: 'pfa_db_pool_connections',
    help: 'PostgreSQL pool connections by state',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
}

/**
 * Operation-name labels from a bounded set, so clients cannot grow /metrics or memory by inventing
 * names: the first `cap` distinct names seen keep their own label, later ones and names longer
 * than `maxLength` are `other`; no operation name is `anonymous`, an unresolved one `unknown`.
 */
export class OperationLabels {
  private readonly known = new Set<string>();
  constructor(
    readonly cap = 100,
    readonly maxLength = 64,
  ) {}

  label(name: string | null | undefined): string {
    if (name === null || name === undefined || name === '') return 'anonymous';
    // GraphQL names are [_A-Za-z][_0-9A-Za-z]*; anything else did not come from a parsed document.
    if (name.length > this.maxLength || !/^[_A-Za-z][_0-9A-Za-z]*$/.test(name)) return 'other';
    if (this.known.has(name)) return name;
    if (this.known.size >= this.cap) return 'other';
    this.known.add(name);
    return name;
  }

  get size(): number {
    return this.known.size;
  }
}

/** The process's label set: the histogram it bounds is process-wide too. */
export const operationLabels = new OperationLabels();

export function metricsPlugin<T extends object>(
  labels: OperationLabels = operationLabels,
): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      const end = graphqlDuration.startTimer();
      let operation = 'unknown';
      return {
        async didResolveOperation({ operationName }) {
          operation = labels.label(operationName);
        },
        async willSendResponse({ errors }) {
          end({ operation, outcome: errors?.length ? 'error' : 'ok' });
        },
      };
    },
  };
}

/**
 * Loopback peer that did not come through a proxy: a reverse proxy on the same host makes every
 * outside client look like 127.0.0.1, so a forwarding header counts as "not loopback".
 */
export function isDirectLoopback(req: http.IncomingMessage): boolean {
  if (req.headers.forwarded || req.headers['x-forwarded-for'] || req.headers['x-real-ip']) return false;
  const addr = req.socket.remoteAddress ?? '';
  return addr === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(addr);
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time check of `Authorization: Bearer <token>`. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)$/i.exec(header?.trim() ?? '');
  return !!m?.[1] && timingSafeEqual(digest(m[1]), digest(token));
}

export interface MetricsAccess {
  /** When set, every client must send it as a Bearer token. */
  token?: string | undefined;
  /** Without a token: answer only direct loopback clients (the API port); a dedicated listener answers anyone. */
  loopbackOnly: boolean;
}

/** Serves the registry in Prometheus text format, or refuses with as little as possible. */
export async function serveMetrics(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  access: MetricsAccess,
): Promise<void> {
  const refuse = (status: number, error: string, headers: Record<string, string> = {}) => {
    const body = JSON.stringify({ error });
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...headers,
    });
    res.end(body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return refuse(405, 'method not allowed', { allow: 'GET, HEAD' });
  if (access.token !== undefined) {
    if (!bearerMatches(req.headers.authorization, access.token))
      return refuse(401, 'unauthorized', { 'www-authenticate': 'Bearer realm="metrics"' });
  } else if (access.loopbackOnly && !isDirectLoopback(req)) {
    return refuse(403, 'forbidden');
  }
  const text = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType, 'content-length': Buffer.byteLength(text) });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/** The dedicated listener of METRICS_PORT: /metrics only. */
export function createMetricsServer(access: { token?: string | undefined }): http.Server {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'not found' }));
      return;
    }
    serveMetrics(req, res, { token: access.token, loopbackOnly: false }).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}
