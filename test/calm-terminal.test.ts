/**
 * A calm terminal: request lines are debug messages outside production (info in production),
 * GraphQL error responses carry no stack trace unless DEBUG_ERRORS asks, whatever NODE_ENV says,
 * and the start banner is the last thing `src/main.ts` prints at start.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { createApp, type App } from '../src/http/server.js';
import { DisabledJobGateway } from '../src/jobs/gateway.js';
import { createServices } from '../src/services.js';
import { TEST_SECRET } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

/** A server with the given environment whose log lines are collected. */
async function serve(env: Record<string, string>, level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as never);
      done();
    },
  });
  const config = loadConfig({ AUTH_JWT_SECRET: TEST_SECRET, DATABASE_URL: database.url, ...env });
  const log = pino({ level }, sink);
  const services = createServices({
    config,
    log,
    pool: database.pool,
    db: database.db,
    jwtSecret: TEST_SECRET,
    jobs: new DisabledJobGateway(),
  });
  const app: App = await createApp(services);
  const url = await app.listen(0, '127.0.0.1');
  const unauthenticated = async () => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    return {
      status: res.status,
      body: (await res.json()) as { errors: { extensions: Record<string, unknown> }[] },
    };
  };
  return { lines, unauthenticated, close: () => app.close() };
}

const requestLines = (lines: Record<string, unknown>[]) => lines.filter((l) => l.msg === 'request');

describe('error responses', () => {
  it.each(['development', 'test', 'production'])(
    'carry no stack trace under NODE_ENV=%s without DEBUG_ERRORS',
    async (nodeEnv) => {
      const s = await serve({ NODE_ENV: nodeEnv }, 'silent');
      try {
        const r = await s.unauthenticated();
        expect(r.status).toBe(401);
        expect(r.body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
        expect(r.body.errors[0]?.extensions).not.toHaveProperty('stacktrace');
      } finally {
        await s.close();
      }
    },
  );

  it('carry the stack trace when DEBUG_ERRORS=1', async () => {
    const s = await serve({ NODE_ENV: 'development', DEBUG_ERRORS: '1' }, 'silent');
    try {
      const r = await s.unauthenticated();
      expect(r.body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
      expect(Array.isArray(r.body.errors[0]?.extensions.stacktrace)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('DEBUG_ERRORS accepts true/false words and rejects anything else', () => {
    expect(loadConfig({}).DEBUG_ERRORS).toBe(false);
    expect(loadConfig({ DEBUG_ERRORS: 'true' }).DEBUG_ERRORS).toBe(true);
    expect(loadConfig({ DEBUG_ERRORS: '0' }).DEBUG_ERRORS).toBe(false);
    expect(() => loadConfig({ DEBUG_ERRORS: 'maybe' })).toThrow(/DEBUG_ERRORS/);
  });
});

describe('request log lines', () => {
  it('are hidden at the default level outside production', async () => {
    const s = await serve({ NODE_ENV: 'development' }, 'info');
    try {
      await s.unauthenticated();
      await new Promise((r) => setImmediate(r));
      expect(requestLines(s.lines)).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('show at LOG_LEVEL=debug outside production, as debug messages', async () => {
    const s = await serve({ NODE_ENV: 'development' }, 'debug');
    try {
      await s.unauthenticated();
      await new Promise((r) => setImmediate(r));
      const lines = requestLines(s.lines);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 20, status: 401, path: '/graphql' });
    } finally {
      await s.close();
    }
  });

  it('stay at info in production', async () => {
    const s = await serve({ NODE_ENV: 'production' }, 'info');
    try {
      await s.unauthenticated();
      await new Promise((r) => setImmediate(r));
      const lines = requestLines(s.lines);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 30, status: 401 });
    } finally {
      await s.close();
    }
  });
});

describe('the start banner', () => {
  it('is the last thing printed at start, also when stdout is a pipe', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        NODE_ENV: 'development',
        DATABASE_URL: database.url,
        AUTH_JWT_SECRET: TEST_SECRET,
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'info',
        KPI_REFRESH_INTERVAL_MS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The banner ends with the Jobs line and a blank line; stop the service as soon as it is out.
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (/ {2}Jobs: .*\n\n/.test(out)) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
      void exited.then((code) => {
        clearInterval(poll);
        reject(new Error(`src/main.ts exited (${code}) before its banner:\n${out}${err}`));
      });
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const bannerStart = out.indexOf('  GraphQL + GraphiQL:');
    const bannerEnd = out.indexOf('\n\n', out.indexOf('  Jobs: ')) + 2;
    const before = out.slice(0, bannerStart).split('\n').filter(Boolean);
    const after = out.slice(bannerEnd).split('\n').filter(Boolean);
    // Every start-up line comes before the banner; after it, only what SIGTERM caused.
    expect(before.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain('PFA Vanguard is up');
    expect((JSON.parse(after[0] ?? '{}') as { msg?: string }).msg).toBe(
      'shutting down: finishing in-flight requests',
    );
  }, 120_000);
});
