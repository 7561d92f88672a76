import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApolloServer, HeaderMap, type HTTPGraphQLRequest } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLError } from 'graphql';
import { sql } from 'kysely';
import { tokenVerifierFromConfig } from '../auth/tokens.js';
import { pendingMigrations } from '../db/migrator.js';
import { DomainError } from '../domain/errors.js';
import { createContext, SESSION_HEADER, type GraphqlContext } from '../graphql/context.js';
import {
  createErrorFormatter,
  DOMAIN_HTTP_STATUS,
  domainErrorBody,
  isServiceUnavailable,
  serviceUnavailableError,
  serviceUnavailablePlugin,
  SERVICE_UNAVAILABLE_MESSAGE,
  toGraphQLError,
} from '../graphql/errors.js';
import { createFastExecutor, type FastExecutor } from '../graphql/fast-execute.js';
import { hintsPlugin } from '../graphql/hints.js';
import { createResponseCache, type ResponseCacheStats } from '../graphql/response-cache.js';
import { limitsPlugin, MAX_DOCUMENT_TOKENS } from '../graphql/limits.js';
import { stringifyResponse } from '../graphql/raw-json.js';
import { resolvers } from '../graphql/resolvers.js';
import type { Services } from '../services.js';
import { createGraphiqlHandler } from './graphiql.js';
import { createExportHandler } from './export.js';
import { BoundedDocumentStore } from './document-store.js';
import { createMetricsServer, metricsPlugin, serveMetrics } from './metrics.js';
import { createPersistedQueries } from './persisted-queries.js';
import { attachSubscriptions, type Subscriptions } from './subscriptions.js';

export const SCHEMA_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schema.graphql');
const MAX_BODY_BYTES = 1_000_000;
/** /readyz waits this long for PostgreSQL before calling it unreachable. */
const READY_TIMEOUT_MS = 2_000;

export interface App {
  server: http.Server;
  /** The dedicated /metrics listener (METRICS_PORT, on METRICS_HOST or the API's host), when set. */
  metricsServer: http.Server | null;
  /** Apollo's cache of parsed documents, bounded (new documents cannot grow memory without limit). */
  documentStore: BoundedDocumentStore;
  /** graphql-ws on the same port and path (DOMAIN §5.1). */
  subscriptions: Subscriptions;
  /** The compiled executor's counters (null with FAST_EXECUTION=false). */
  fastExecution: FastExecutor['stats'] | null;
  /** The exact response cache's counters (null with RESPONSE_CACHE_MB=0). */
  responseCache: ResponseCacheStats | null;
  listen(port: number, host: string): Promise<string>;
  /** Stops taking requests, lets in-flight ones finish, stops Apollo. */
  close(): Promise<void>;
}

export interface AppOptions {
  /** Headers GraphiQL starts with (demo mode puts a ready token there). */
  graphiqlHeaders?: Record<string, string>;
  /** Extra readiness facts (e.g. the job runner's mode). */
  readiness?: () => Promise<Record<string, unknown>>;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new DomainError('BAD_USER_INPUT', `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export async function createApp(services: Services, options: AppOptions = {}): Promise<App> {
  const { config, log } = services;
  // Stack traces and internal messages reach a client only when DEBUG_ERRORS asks (any NODE_ENV).
  const debugErrors = config.DEBUG_ERRORS;
  // Outside production a request line is a debug message (LOG_LEVEL=debug shows it): a calm terminal.
  const requestLogLevel = config.NODE_ENV === 'production' ? 'info' : 'debug';
  const schema = makeExecutableSchema<GraphqlContext>({
    typeDefs: readFileSync(SCHEMA_PATH, 'utf8'),
    resolvers,
  });
  // Read queries are answered by the compiled executor when it can (graphql-js otherwise).
  const fast = config.FAST_EXECUTION ? createFastExecutor(schema) : null;
  // Grid pages and KPI summaries served again while the caller's change token stands (0 MB: off).
  const responseCache =
    config.RESPONSE_CACHE_MB > 0
      ? createResponseCache({
          schema,
          maxBytes: config.RESPONSE_CACHE_MB * 1024 * 1024,
          token: (scope, kpiCaches) => services.changeMarks.token(scope, kpiCaches),
        })
      : null;
  const documentStore = new BoundedDocumentStore();
  const persisted = createPersistedQueries(
    config.PERSISTED_QUERIES,
    ...(config.PERSISTED_QUERIES_MANIFEST ? [config.PERSISTED_QUERIES_MANIFEST] : []),
  );
  const formatError = createErrorFormatter(log, debugErrors);
  const apollo = new ApolloServer<GraphqlContext>({
    schema,
    introspection: true, // authenticated callers only: every request needs a token
    includeStacktraceInErrorResponses: debugErrors,
    formatError,
    // apq: Apollo's APQ in its bounded default cache; only/off: src/http/persisted-queries.ts.
    ...(config.PERSISTED_QUERIES === 'apq' ? {} : { persistedQueries: false as const }),
    // Apollo's default is JSON.stringify(value, null, 2): bigger bodies and slower to write.
    stringifyResult: stringifyResponse,
    documentStore,
    // Parsing and validating cost time linear in the document: a bounded document (GRAPHQL_PARSE_FAILED beyond).
    parseOptions: { maxTokens: MAX_DOCUMENT_TOKENS },
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Installed by default, it wraps every field resolver (willResolveField) to compute HTTP cache
      // hints this API never sets: ~10% of the CPU of a 1000-row page.
      ApolloServerPluginCacheControlDisabled(),
      limitsPlugin({ maxDepth: 10, maxAliases: 20, maxCost: config.MAX_QUERY_COST, maxPageSize: 1000 }),
      metricsPlugin(),
      serviceUnavailablePlugin(),
      hintsPlugin(),
      ...(responseCache ? [responseCache.plugin()] : []),
      ...(fast ? [fast.plugin<GraphqlContext>()] : []),
    ],
  });
  await apollo.start();
  const graphiql = createGraphiqlHandler({
    endpoint: '/graphql',
    ...(options.graphiqlHeaders ? { defaultHeaders: options.graphiqlHeaders } : {}),
  });
  const tokens = tokenVerifierFromConfig(config, services.jwtSecret);
  // GET /export: same token and X-Session-Id rules as /graphql (createContext().scope).
  const handleExport = createExportHandler({ services, tokens, schema, log });
  const metricsServer =
    config.METRICS_PORT !== undefined ? createMetricsServer({ token: config.METRICS_TOKEN }) : null;

  const inFlight = new Set<http.ServerResponse>();
  let closing = false;

  async function handleGraphql(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    requestId: string,
  ) {
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    let body: unknown = undefined;
    if (req.method === 'POST') {
      const raw = await readBody(req);
      try {
        body = raw.length ? JSON.parse(raw) : undefined;
      } catch {
        sendJson(res, 400, {
          errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }],
        });
        return;
      }
    }
    const admitted = persisted.admit(body, url.search);
    if ('code' in admitted) {
      sendJson(res, 400, { errors: [{ message: admitted.message, extensions: { code: admitted.code } }] });
      return;
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = {
      method: req.method ?? 'GET',
      headers,
      search: admitted.search,
      body: admitted.body,
    };
    const reqLog = log.child({ requestId });
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      context: async () => {
        let principal;
        try {
          principal = await tokens.verify(req.headers.authorization);
        } catch (e) {
          if (e instanceof DomainError) throw toGraphQLError(e);
          if (isServiceUnavailable(e)) throw serviceUnavailableError();
          throw e;
        }
        const sessionHeader = req.headers[SESSION_HEADER];
        return createContext({
          requestId,
          principal,
          sessionHeader: typeof sessionHeader === 'string' ? sessionHeader : null,
          services,
          log: reqLog,
        });
      },
    });
    const outHeaders: Record<string, string> = { 'x-request-id': requestId };
    for (const [k, v] of response.headers) outHeaders[k] = v;
    res.writeHead(response.status ?? 200, outHeaders);
    if (response.body.kind === 'complete') res.end(response.body.string);
    else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  async function readiness(): Promise<{ ok: boolean; body: Record<string, unknown> }> {
    const body: Record<string, unknown> = {};
    let ok = true;
    // Component states only: the cause of a failure goes to the log, never to this open endpoint.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        sql`SELECT 1`.execute(services.db),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)),
            READY_TIMEOUT_MS,
          );
        }),
      ]);
      body.postgres = 'ok';
      const pending = await pendingMigrations(services.db);
      body.migrations = pending.length ? { pending } : 'current';
      if (pending.length) ok = false;
    } catch (e) {
      ok = false;
      body.postgres = 'unreachable';
      log.warn({ err: e }, 'readiness: PostgreSQL unreachable');
    } finally {
      clearTimeout(timer);
    }
    body.jobs = services.jobs.mode;
    if (options.readiness) Object.assign(body, await options.readiness());
    body.status = ok ? (body.redis && body.redis !== 'ok' ? 'degraded' : 'ok') : 'unavailable';
    return { ok, body };
  }

  const server = http.createServer((req, res) => {
    const requestId =
      (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) ||
      randomUUID();
    inFlight.add(res);
    const started = process.hrtime.bigint();
    res.on('close', () => {
      inFlight.delete(res);
      log[requestLogLevel](
        {
          requestId,
          method: req.method,
          path: req.url?.split('?')[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    if (closing) res.setHeader('connection', 'close');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = async () => {
      if (url.pathname === '/graphql') {
        if (graphiql(req, res)) return;
        if (req.method !== 'POST' && req.method !== 'GET') {
          res.writeHead(405, { allow: 'GET, POST' }).end();
          return;
        }
        await handleGraphql(req, res, url, requestId);
        return;
      }
      if (url.pathname.startsWith('/graphiql/') && graphiql(req, res)) return;
      if (url.pathname === '/export') return handleExport(req, res, url, requestId);
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'alive' });
      if (url.pathname === '/readyz') {
        const r = await readiness();
        return sendJson(res, r.ok ? 200 : 503, r.body);
      }
      // With METRICS_PORT the metrics live on their own listener only.
      if (url.pathname === '/metrics' && !metricsServer)
        return serveMetrics(req, res, { token: config.METRICS_TOKEN, loopbackOnly: true });
      sendJson(res, 404, { error: 'not found', paths: ['/graphql', '/healthz', '/readyz', '/metrics'] });
    };
    route().catch((err: unknown) => {
      if (err instanceof DomainError) {
        if (!res.headersSent) sendJson(res, DOMAIN_HTTP_STATUS[err.code], { errors: [domainErrorBody(err)] });
        return;
      }
      if (isServiceUnavailable(err)) {
        log.warn({ err, requestId }, 'request lost its database/queue connection');
        if (!res.headersSent)
          sendJson(res, 503, {
            errors: [
              {
                message: SERVICE_UNAVAILABLE_MESSAGE,
                extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true },
              },
            ],
          });
        else res.end();
        return;
      }
      const correlationId = randomUUID();
      log.error({ err, requestId, correlationId }, 'request failed');
      if (!res.headersSent) {
        const message =
          err instanceof GraphQLError
            ? err.message
            : `Internal server error (correlation id ${correlationId})`;
        sendJson(res, 500, {
          errors: [{ message, extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId } }],
        });
      } else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  const subscriptions = attachSubscriptions({
    server,
    schema,
    services,
    tokens,
    persisted,
    log,
    formatError,
  });

  return {
    server,
    metricsServer,
    documentStore,
    subscriptions,
    fastExecution: fast?.stats ?? null,
    responseCache: responseCache?.stats ?? null,
    listen: async (port, host) => {
      if (metricsServer) {
        const metricsPort = config.METRICS_PORT ?? 0;
        await new Promise<void>((resolve, reject) => {
          metricsServer.once('error', reject);
          metricsServer.listen(metricsPort, config.METRICS_HOST ?? host, () => resolve());
        });
      }
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server.address();
          resolve(
            typeof address === 'object' && address
              ? `http://${host}:${address.port}`
              : `http://${host}:${port}`,
          );
        });
      });
    },
    async close() {
      closing = true;
      await subscriptions.close().catch((err: unknown) => log.warn({ err }, 'closing subscriptions'));
      if (metricsServer?.listening) {
        metricsServer.close();
        metricsServer.closeAllConnections();
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        const deadline = setTimeout(() => {
          for (const res of inFlight) res.destroy();
          server.closeAllConnections();
        }, 10_000);
        deadline.unref();
      });
      await apollo.stop();
    },
  };
}
