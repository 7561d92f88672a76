/** Error codes of DOMAIN §5 that domain and repository code may raise. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'VERSION_CONFLICT'
  | 'SERVICE_UNAVAILABLE';

/** An expected failure with a code from a closed set; mapped to a GraphQL error at one edge. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const badInput = (message: string, argument?: string): DomainError =>
  new DomainError('BAD_USER_INPUT', message, argument ? { argument } : {});
export const forbidden = (message: string): DomainError => new DomainError('FORBIDDEN', message);
export const notFound = (message: string): DomainError => new DomainError('NOT_FOUND', message);
