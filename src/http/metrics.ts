import type { ApolloServerPlugin } from '@apollo/server';
import client from 'prom-client';
import type pg from 'pg';

/** One Prometheus registry for the process: HTTP/GraphQL, pool, jobs, caches. */
const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const graphqlDuration = new client.Histogram({
  name: 'pfa_graphql_request_duration_seconds',
  help: 'GraphQL request duration by operation name and outcome',
  labelNames: ['operation', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

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

export function metricsPlugin<T extends object>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      const end = graphqlDuration.startTimer();
      let operation = 'unknown';
      return {
        async didResolveOperation({ operationName }) {
          operation = operationName ?? 'anonymous';
        },
        async willSendResponse({ errors }) {
          end({ operation, outcome: errors?.length ? 'error' : 'ok' });
        },
      };
    },
  };
}
