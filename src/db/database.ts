import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './tables.js';

// DATE stays a YYYY-MM-DD string (no time-zone shifts); NUMERIC and BIGINT stay exact strings.
pg.types.setTypeParser(pg.types.builtins.DATE, (value: string) => value);

export type Db = Kysely<Database>;

/** The logger createPool reports lost connections to (a pino logger fits). */
export interface PoolLog {
  warn(obj: object, msg: string): void;
}

export interface DbOptions {
  connectionString: string;
  max?: number;
  statementTimeoutMs?: number;
  applicationName?: string;
  /** How long acquiring a new connection may take before the request fails (default 10 s). */
  connectTimeoutMs?: number;
  /** Where lost connections are reported (warn level: the request that used one gets the error). */
  log?: PoolLog;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A pg pool that survives lost connections. pg emits 'error' on a client whose backend went away
 * (pg_terminate_backend, a restart, a failover, an idle-connection killer); the pool listens on
 * idle clients only, and an 'error' event without a listener ends the process. So every client
 * gets a listener for its whole life when it connects, and the pool's own 'error' (an idle client
 * failed; the pool has already dropped it) is handled too. A dead client is never reused: pg marks
 * it not queryable and the pool discards it on release. The query that was running on it fails
 * with the connection error, which the API answers as SERVICE_UNAVAILABLE (src/graphql/errors.ts).
 */
export function createPool(options: DbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'pfa-vanguard',
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // Finds a peer that vanished without a FIN (failover, a dropped network path).
    keepAlive: true,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  const lost = (err: Error) =>
    options.log?.warn(
      { err: connectionErrorSummary(err) },
      'PostgreSQL connection lost; the pool opens a new one when needed',
    );
  // An idle client that fails: the pool drops it and re-emits here (already logged below).
  pool.on('error', () => undefined);
  // Every client, idle or checked out, for its whole life (pg may emit twice: FATAL, then end).
  pool.on('connect', (client) => {
    let reported = false;
    client.on('error', (err: Error) => {
      if (!reported) lost(err);
      reported = true;
    });
  });
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** SQLSTATEs that mean "the connection is gone or none can be had": 08xxx, shutdowns, too many. */
const CONNECTION_SQLSTATE = /^(08...|57P0[123]|53300)$/;
/** System errors of a socket that could not be opened or was cut. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);
/** Messages pg, pg-pool, kysely and ioredis use for a lost or unobtainable connection. */
const CONNECTION_MESSAGES = [
  /^Connection terminated/, // pg: "… unexpectedly", "… due to connection timeout"
  /^timeout exceeded when trying to connect$/, // pg-pool connectionTimeoutMillis
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Connection is closed\.?$/, // ioredis
  /^Reached the max retries per request limit/, // ioredis MaxRetriesPerRequestError
  /^Stream isn't writeable and enableOfflineQueue options is false/, // ioredis
  /: no answer within \d+ ms$/, // withTimeout (src/jobs/queues.ts): a Redis command that hangs
];

function looksLikeConnectionLoss(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, message, name } = e as { code?: unknown; message?: unknown; name?: unknown };
  if (typeof code === 'string' && (CONNECTION_SQLSTATE.test(code) || NETWORK_CODES.has(code))) return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.some((re) => re.test(message));
}

/**
 * Is this error (or its cause, or one of an AggregateError's errors) a lost or unobtainable
 * connection to PostgreSQL or Redis? Such a failure is retryable: the same request may succeed
 * once the server accepts connections again. Anything else is not classified here.
 */
export function isConnectionError(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const e = pending.pop();
    if (e === null || e === undefined || seen.has(e) || seen.size > 20) continue;
    seen.add(e);
    if (looksLikeConnectionLoss(e)) return true;
    if (typeof e === 'object') {
      const { cause, errors, originalError } = e as {
        cause?: unknown;
        errors?: unknown;
        originalError?: unknown;
      };
      pending.push(cause, originalError);
      if (Array.isArray(errors)) pending.push(...(errors as unknown[]));
    }
  }
  return false;
}

/** What a log line should carry of a connection error: code and message, not the whole object. */
export function connectionErrorSummary(error: unknown): { message: string; code?: string } {
  if (typeof error !== 'object' || error === null) return { message: String(error) };
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text =
    typeof message === 'string' && message
      ? message
      : error instanceof AggregateError
        ? error.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ')
        : String(error);
  return typeof code === 'string' ? { message: text, code } : { message: text };
}

/** The logger installProcessGuards reports to (a pino logger fits). */
export interface GuardLog {
  error(obj: object, msg: string): void;
  fatal(obj: object, msg: string): void;
}

/**
 * Process-level last line of defence, for the API and the worker.
 *
 * - A lost PostgreSQL/Redis connection that still reaches `uncaughtException` or
 *   `unhandledRejection` (a listener missed somewhere, a library's own socket) is logged at error
 *   level and the process keeps serving: the pools and ioredis reconnect by themselves.
 * - Anything else is a programming error whose effects are unknown: it is logged at fatal level
 *   and the process exits with status 1 (Node's own default for both events), so a supervisor
 *   restarts it rather than letting it serve from a broken state.
 *
 * Returns a function that removes the handlers (tests).
 */
export function installProcessGuards(log: GuardLog, onFatal: () => void = () => process.exit(1)): () => void {
  const handle = (kind: 'uncaughtException' | 'unhandledRejection') => (error: unknown) => {
    if (isConnectionError(error)) {
      log.error(
        { err: error, kind },
        'lost database/Redis connection reached the process level: still serving',
      );
      return;
    }
    log.fatal({ err: error, kind }, `${kind}: exiting (a supervisor restarts the process)`);
    onFatal();
  };
  const onException = handle('uncaughtException');
  const onRejection = handle('unhandledRejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
