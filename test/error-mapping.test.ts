import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { pino } from 'pino';
import { DomainError, type ErrorCode } from '../src/domain/errors.js';
import {
  DOMAIN_HTTP_STATUS,
  createErrorFormatter,
  domainErrorBody,
  toGraphQLError,
} from '../src/graphql/errors.js';
import { startTestApp, type TestApp } from './helpers/app.js';

/**
 * Domain errors are mapped in one place (domainErrorBody in src/graphql/errors.ts): a resolver's
 * error (formatError), an error before execution (toGraphQLError: the token check) and an error of
 * the plain HTTP layer (the request body) reach the client with the same code and details.
 */

const CODES: ErrorCode[] = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'VERSION_CONFLICT',
  'SERVICE_UNAVAILABLE',
];

describe('domainErrorBody: the one mapping', () => {
  const format = createErrorFormatter(pino({ level: 'silent' }), false);

  it.each(CODES)('%s: formatError, toGraphQLError and the HTTP body agree', (code) => {
    const e = new DomainError(code, `a ${code} error`, { field: 'input.x' });
    const body = domainErrorBody(e);
    expect(body).toEqual({
      message: `a ${code} error`,
      extensions: { code, field: 'input.x', ...(code === 'SERVICE_UNAVAILABLE' ? { retryable: true } : {}) },
    });
    const inResolver = new GraphQLError(e.message, { originalError: e, path: ['pfaRecords'] });
    expect(format(inResolver.toJSON(), inResolver)).toEqual({ ...body, path: ['pfaRecords'] });
    const { http, ...extensions } = toGraphQLError(e).extensions as Record<string, unknown>;
    expect(extensions).toEqual(body.extensions);
    expect(http).toEqual(
      ['UNAUTHENTICATED', 'FORBIDDEN', 'SERVICE_UNAVAILABLE'].includes(code)
        ? { status: DOMAIN_HTTP_STATUS[code] }
        : undefined,
    );
    expect(DOMAIN_HTTP_STATUS[code]).toBeGreaterThanOrEqual(400);
  });
});

describe('on the wire (a running server)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  }, 60_000);
  afterAll(() => app?.close());

  it('a resolver’s domain error: code and details, HTTP 200', async () => {
    const r = await app.gql('{ pfaRecord(id: "not-an-id") { id } }');
    expect(r.status).toBe(200);
    expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(r.errors?.[0]?.extensions?.stacktrace).toBeUndefined();
  });

  it('the token check (before execution): UNAUTHENTICATED, HTTP 401', async () => {
    const r = await app.gql('{ __typename }', { token: 'not-a-token' });
    expect(r.status).toBe(401);
    expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('the HTTP layer (a body over the limit): BAD_USER_INPUT, HTTP 400, the same body shape', async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await app.token('viewer')}` },
      body: JSON.stringify({ query: `{ __typename } # ${'x'.repeat(1_100_000)}` }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors).toEqual([
      domainErrorBody(new DomainError('BAD_USER_INPUT', 'request body larger than 1000000 bytes')),
    ]);
  });
});
