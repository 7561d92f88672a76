import { randomUUID } from 'node:crypto';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { DomainError } from '../domain/errors.js';

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

const HTTP_STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403 };

/** A GraphQL error for a domain error: the one place codes reach the wire. */
export function toGraphQLError(e: DomainError): GraphQLError {
  return new GraphQLError(e.message, {
    extensions: {
      code: e.code,
      ...e.details,
      ...(HTTP_STATUS[e.code] ? { http: { status: HTTP_STATUS[e.code] } } : {}),
    },
  });
}

/**
 * Apollo's formatError: expected errors keep their code and message; anything else becomes
 * INTERNAL_SERVER_ERROR with a correlation id (logged with the cause). Outside development no
 * stack or SQL text leaves the server.
 */
export function createErrorFormatter(log: Logger, development: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof DomainError) {
      return {
        message: original.message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: original.code, ...original.details },
      };
    }
    const code = formatted.extensions?.code;
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
