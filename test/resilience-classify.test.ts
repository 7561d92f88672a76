import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphQLError } from 'graphql';
import pg from 'pg';
import pino from 'pino';
import { isConnectionError } from '../src/db/database.js';
import { DomainError } from '../src/domain/errors.js';
import { createErrorFormatter, isServiceUnavailable } from '../src/graphql/errors.js';

/**
 * Which failures are "the connection is gone, retry" (SERVICE_UNAVAILABLE, 503, retryable) and
 * which stay INTERNAL_SERVER_ERROR: the plain classification the API and the process guard use.
 */

const sqlError = (code: string, message = 'x') =>
  Object.assign(new pg.DatabaseError(message, 0, 'error'), { code });
const sysError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('isConnectionError', () => {
  it.each([
    ['57P01 admin_shutdown', sqlError('57P01', 'terminating connection due to administrator command')],
    ['57P02 crash_shutdown', sqlError('57P02')],
    ['57P03 cannot_connect_now', sqlError('57P03', 'the database system is starting up')],
    ['08006 connection_failure', sqlError('08006')],
    ['08P01 protocol_violation', sqlError('08P01')],
    ['53300 too_many_connections', sqlError('53300')],
    ['ECONNREFUSED', sysError('ECONNREFUSED')],
    ['ECONNRESET', sysError('ECONNRESET')],
    [
      'AggregateError of ECONNREFUSED (localhost: ::1 and 127.0.0.1)',
      new AggregateError([sysError('ECONNREFUSED')]),
    ],
    ['pg: Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['pg-pool: connect timeout', new Error('timeout exceeded when trying to connect')],
    ['pg-pool: connection timeout', new Error('Connection terminated due to connection timeout')],
    ['pg: dead client', new Error('Client has encountered a connection error and is not queryable')],
    ['ioredis: closed', new Error('Connection is closed.')],
    [
      'ioredis: MaxRetriesPerRequestError',
      Object.assign(new Error('Reached the max retries per request limit (which is 2).'), {
        name: 'MaxRetriesPerRequestError',
      }),
    ],
    ['a Redis command that hangs (withTimeout)', new Error('queue write-sync: no answer within 5000 ms')],
    ['a cause chain', new Error('commit failed', { cause: sqlError('57P01') })],
    ['inside a GraphQLError', new GraphQLError('x', { originalError: sysError('ECONNREFUSED') })],
  ])('%s → yes', (_name, error) => {
    expect(isConnectionError(error)).toBe(true);
  });

  it.each([
    ['23505 unique_violation', sqlError('23505')],
    [
      '57014 query_canceled (statement timeout)',
      sqlError('57014', 'canceling statement due to statement timeout'),
    ],
    ['40001 serialization_failure', sqlError('40001')],
    ['22021 bad byte sequence', sqlError('22021')],
    ['TypeError', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a plain Error', new Error('boom')],
    ['not an error', 'Connection terminated unexpectedly'],
    ['null', null],
  ])('%s → no', (_name, error) => {
    expect(isConnectionError(error)).toBe(false);
  });

  it('terminates on a cyclic cause chain', () => {
    const a = new Error('a') as Error & { cause?: unknown };
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isConnectionError(a)).toBe(false);
  });
});

describe('the error formatter', () => {
  const format = createErrorFormatter(pino({ level: 'silent' }), false);
  const asFormatted = (e: GraphQLError) => format(e.toJSON(), e);

  it('answers a lost connection as SERVICE_UNAVAILABLE, retryable, without the cause', () => {
    const error = new GraphQLError('terminating connection due to administrator command', {
      path: ['pfaRecords'],
      originalError: sqlError('57P01', 'terminating connection due to administrator command'),
    });
    const out = asFormatted(error);
    expect(out).toMatchObject({
      path: ['pfaRecords'],
      extensions: { code: 'SERVICE_UNAVAILABLE', retryable: true, correlationId: expect.any(String) },
    });
    expect(out.message).not.toMatch(/administrator|terminat/);
    expect(isServiceUnavailable(error)).toBe(true);
  });

  it('keeps a programming error INTERNAL_SERVER_ERROR', () => {
    const error = new GraphQLError('x', { originalError: new TypeError('undefined is not a function') });
    expect(asFormatted(error).extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR' });
    expect(isServiceUnavailable(error)).toBe(false);
  });

  it('adds retryable to SERVICE_UNAVAILABLE raised as a domain error or a coded GraphQLError', () => {
    const domain = new GraphQLError('x', {
      originalError: new DomainError('SERVICE_UNAVAILABLE', 'queue down'),
    });
    expect(asFormatted(domain).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    const coded = new GraphQLError('cannot queue write-sync', {
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
    expect(asFormatted(coded).extensions).toEqual({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    expect(isServiceUnavailable(domain) && isServiceUnavailable(coded)).toBe(true);
  });
});

describe('the process guard (installProcessGuards, as src/main.ts and src/worker.ts install it)', () => {
  it('logs a connection error at error level and keeps running; exits 1 on any other', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pfa-guard-'));
    const script = path.join(dir, 'guard.mjs');
    writeFileSync(
      script,
      `const { installProcessGuards } = await import(process.env.DB_MODULE);
const line = (level) => (o, msg) => console.log(JSON.stringify({ level, msg, kind: o.kind }));
installProcessGuards({ error: line('error'), fatal: line('fatal') });
setTimeout(() => { throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }); }, 10);
setTimeout(() => void Promise.reject(new Error('Connection terminated unexpectedly')), 20);
setTimeout(() => console.log(JSON.stringify({ level: 'info', msg: 'still serving' })), 40);
setTimeout(() => void Promise.reject(new TypeError('x is not a function')), 60);
setTimeout(() => console.log(JSON.stringify({ level: 'info', msg: 'after the bug' })), 500);
`,
    );
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', script], {
        env: {
          PATH: process.env.PATH ?? '',
          DB_MODULE: fileURLToPath(new URL('../src/db/database.ts', import.meta.url)),
        },
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
        timeout: 60_000,
      });
      const lines = run.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { level: string; msg: string; kind?: string });
      expect(lines.map((l) => [l.level, l.kind ?? l.msg])).toEqual([
        ['error', 'uncaughtException'],
        ['error', 'unhandledRejection'],
        ['info', 'still serving'],
        ['fatal', 'unhandledRejection'],
      ]);
      expect(run.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
