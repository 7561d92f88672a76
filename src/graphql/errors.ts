import { randomUUID } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { connectionErrorSummary, isConnectionError } from '../db/database.js';
import { DomainError, type ErrorCode } from '../domain/errors.js';

const KNOWN_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'VERSION_CONFLICT',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  'SERVICE_UNAVAILABLE',
]);

/** Inside a GraphQL answer only these codes change the HTTP status (the rest answer 200). */
const HTTP_STATUS: Record<string, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  SERVICE_UNAVAILABLE: 503,
};

/** Seconds a client should wait before retrying a SERVICE_UNAVAILABLE answer. */
const RETRY_AFTER_SECONDS = '1';

/** What a client reads when a request lost (or could not get) its database/Redis connection. */
export const SERVICE_UNAVAILABLE_MESSAGE =
  'Service temporarily unavailable: a database or queue connection was lost or refused; retry the request';

/** Extensions every SERVICE_UNAVAILABLE error carries on the wire (DOMAIN §5). */
const unavailableExtensions = () => ({ code: 'SERVICE_UNAVAILABLE', retryable: true });

/** The HTTP status of a domain error answered outside GraphQL execution (plain HTTP routes). */
export const DOMAIN_HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  VERSION_CONFLICT: 409,
  SERVICE_UNAVAILABLE: 503,
};

/**
 * The wire form of a domain error — its message and extensions (code, details, `retryable` for
 * SERVICE_UNAVAILABLE): the one place domain errors are mapped. GraphQL answers (formatError,
 * toGraphQLError) and plain HTTP answers all take it from here.
 */
export function domainErrorBody(e: DomainError): { message: string; extensions: Record<string, unknown> } {
  return {
    message: e.message,
    extensions: {
      code: e.code,
      ...e.details,
      ...(e.code === 'SERVICE_UNAVAILABLE' ? { retryable: true } : {}),
    },
  };
}

/** A GraphQL error for a domain error (thrown outside execution, where Apollo takes the HTTP status from it). */
export function toGraphQLError(e: DomainError): GraphQLError {
  const { message, extensions } = domainErrorBody(e);
  return new GraphQLError(message, {
    extensions: { ...extensions, ...(HTTP_STATUS[e.code] ? { http: { status: HTTP_STATUS[e.code] } } : {}) },
  });
}

/**
 * SERVICE_UNAVAILABLE (HTTP 503, retryable) for a failure outside execution (context creation,
 * the HTTP layer), where Apollo takes the status from the error itself.
 */
export function serviceUnavailableError(): GraphQLError {
  return new GraphQLError(SERVICE_UNAVAILABLE_MESSAGE, {
    extensions: {
      ...unavailableExtensions(),
      http: { status: 503, headers: new HeaderMap([['retry-after', RETRY_AFTER_SECONDS]]) },
    },
  });
}

/**
 * Is this error of a request "the service is unavailable, retry": a lost or refused
 * PostgreSQL/Redis connection anywhere in its causes, or an error already coded
 * SERVICE_UNAVAILABLE (a domain error, a queue that does not answer)?
 */
export function isServiceUnavailable(error: unknown): boolean {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (original instanceof DomainError) return original.code === 'SERVICE_UNAVAILABLE';
  if (error instanceof GraphQLError && error.extensions?.code === 'SERVICE_UNAVAILABLE') return true;
  if (original instanceof GraphQLError && original.extensions?.code === 'SERVICE_UNAVAILABLE') return true;
  return isConnectionError(original);
}

/**
 * Answers a request with HTTP 503 (and Retry-After) when any of its errors is
 * SERVICE_UNAVAILABLE, so clients and load balancers retry it; formatError gives such errors the
 * code and `retryable: true`. Apollo takes a status only from an error's `extensions.http`, which
 * a resolver's database error has not: hence this hook, which has the last word on the status.
 */
export function serviceUnavailablePlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ errors, response }) {
          if (!errors?.some((e) => isServiceUnavailable(e))) return;
          response.http.status = 503;
          response.http.headers.set('retry-after', RETRY_AFTER_SECONDS);
        },
      };
    },
  };
}

/**
 * Apollo's formatError: expected errors keep their code and message; a lost or refused
 * PostgreSQL/Redis connection becomes SERVICE_UNAVAILABLE with `retryable: true` (the cause is
 * logged at warn level, never sent); anything else becomes INTERNAL_SERVER_ERROR with a
 * correlation id (logged with the cause). Outside development no stack or SQL text leaves the
 * server.
 */
export function createErrorFormatter(log: Logger, development: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof DomainError) {
      const { message, extensions } = domainErrorBody(original);
      return {
        message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions,
      };
    }
    const code = formatted.extensions?.code;
    if (code !== 'SERVICE_UNAVAILABLE' && isConnectionError(original)) {
      const correlationId = randomUUID();
      log.warn(
        { err: connectionErrorSummary(original), correlationId, path: formatted.path },
        'GraphQL request lost its database/queue connection: answered SERVICE_UNAVAILABLE',
      );
      return {
        message: SERVICE_UNAVAILABLE_MESSAGE,
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { ...unavailableExtensions(), correlationId },
      };
    }
    if (code === 'SERVICE_UNAVAILABLE') {
      const { stacktrace, ...extensions } = formatted.extensions ?? {};
      return {
        ...formatted,
        extensions: { ...extensions, ...(development ? { stacktrace } : {}), retryable: true },
      };
    }
    if (
      typeof code === 'string' &&
      KNOWN_CODES.has(code) &&
      !(original instanceof Error && !(original instanceof GraphQLError) && code === 'INTERNAL_SERVER_ERROR')
    ) {
      if (development) return formatted;
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    const correlationId = randomUUID();
    log.error(
      { err: original ?? error, correlationId, path: formatted.path },
      'unexpected error in GraphQL request',
    );
    return {
      message:
        development && original instanceof Error
          ? original.message
          : `Internal server error (correlation id ${correlationId})`,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId },
    };
  };
}
