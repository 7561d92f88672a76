import client from 'prom-client';

/**
 * The process's one Prometheus registry and the instruments more than one layer records into:
 * `http/` serves the registry and times GraphQL requests, `jobs/` times jobs and adds its gauges.
 * Here, below both, so that jobs do not import the HTTP layer.
 */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const jobDuration = new client.Histogram({
  name: 'pfa_job_duration_seconds',
  help: 'Background job duration by job name and outcome',
  labelNames: ['job', 'outcome'] as const,
  buckets: [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [registry],
});

export const jobFailures = new client.Counter({
  name: 'pfa_job_failures_total',
  help: 'Background job failures by job name',
  labelNames: ['job'] as const,
  registers: [registry],
});

/** The exact response cache's outcomes (src/graphql/response-cache.ts), all apps of the process. */
export const responseCacheRequests = new client.Counter({
  name: 'pfa_response_cache_requests_total',
  help: 'Query requests the exact response cache saw, by outcome (hit, miss, uncacheable)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** A gauge whose value is computed at scrape time (seconds since refresh, queue depth, …). */
export function registerGauge(name: string, help: string, read: () => Promise<number | null>): void {
  new client.Gauge({
    name,
    help,
    registers: [registry],
    async collect() {
      const v = await read().catch(() => null);
      if (v !== null) this.set(v);
    },
  });
}
