import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { loadConfig } from '../src/config.js';
import { createApp, type App } from '../src/http/server.js';
import { isDirectLoopback, serveMetrics, type MetricsAccess } from '../src/http/metrics.js';
import { DisabledJobGateway } from '../src/jobs/gateway.js';
import { createServices } from '../src/services.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { TEST_SECRET } from './helpers/app.js';

/**
 * Issue 10.5: /metrics answers only direct loopback clients, unless METRICS_PORT (a listener of its
 * own) or METRICS_TOKEN (a Bearer token) is set.
 */

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

const fakeReq = (remoteAddress: string, headers: Record<string, string> = {}) =>
  ({ socket: { remoteAddress }, headers }) as unknown as http.IncomingMessage;

describe('isDirectLoopback', () => {
  it('is true for 127.0.0.0/8 and ::1 (IPv4-mapped too) without forwarding headers', () => {
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1'])
      expect(isDirectLoopback(fakeReq(a))).toBe(true);
  });

  it('is false for other peers and for anything that came through a proxy', () => {
    for (const a of [
      '10.0.0.5',
      '192.0.2.2',
      '::ffff:10.0.0.1',
      'fd00::2',
      '',
      '1127.0.0.1',
      '127.0.0.1.evil',
    ])
      expect(isDirectLoopback(fakeReq(a))).toBe(false);
    for (const h of [
      { 'x-forwarded-for': '203.0.113.9' },
      { forwarded: 'for=203.0.113.9' },
      { 'x-real-ip': '1.2.3.4' },
    ] as Record<string, string>[])
      expect(isDirectLoopback(fakeReq('127.0.0.1', h))).toBe(false);
  });
});

/** serveMetrics behind a real HTTP server whose peer address the test chooses. */
async function withPeer(
  peer: string | null,
  access: MetricsAccess,
  run: (url: string) => Promise<void>,
): Promise<void> {
  const server = http.createServer((req, res) => {
    if (peer !== null)
      Object.defineProperty(req.socket, 'remoteAddress', { value: peer, configurable: true });
    void serveMetrics(req, res, access);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('serveMetrics', () => {
  it('without a token: a remote peer gets 403 with nothing else, a loopback peer the metrics', async () => {
    await withPeer('203.0.113.7', { loopbackOnly: true }, async (url) => {
      const res = await fetch(url);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({ error: 'forbidden' });
    });
    await withPeer(null, { loopbackOnly: true }, async (url) => {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('process_cpu_user_seconds_total');
      expect((await fetch(url, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status).toBe(403);
      expect((await fetch(url, { method: 'POST', body: '' })).status).toBe(405);
    });
  });

  it('with a token: every peer, loopback included, needs it; a remote peer with it is served', async () => {
    await withPeer('203.0.113.7', { loopbackOnly: true, token: METRICS_TOKEN }, async (url) => {
      expect((await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
      const wrong = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    });
    await withPeer(null, { loopbackOnly: true, token: METRICS_TOKEN }, async (url) => {
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: METRICS_TOKEN } })).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Basic ${METRICS_TOKEN}` } })).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    });
  });
});

describe('the running service', () => {
  const opened: { app: App; database: TestDatabase }[] = [];
  afterAll(async () => {
    for (const { app, database } of opened) {
      await app.close();
      await database.drop();
    }
  });

  async function start(env: Record<string, string>): Promise<{ app: App; url: string }> {
    const database = await createTestDatabase();
    const config = loadConfig({
      NODE_ENV: 'test',
      AUTH_JWT_SECRET: TEST_SECRET,
      DATABASE_URL: database.url,
      ...env,
    });
    const services = createServices({
      config,
      log: pino({ level: 'silent' }),
      pool: database.pool,
      db: database.db,
      jwtSecret: TEST_SECRET,
      jobs: new DisabledJobGateway(),
    });
    const app = await createApp(services);
    opened.push({ app, database });
    return { app, url: await app.listen(0, '127.0.0.1') };
  }

  it('default: /metrics on the API port for loopback clients only', async () => {
    const { app, url } = await start({});
    expect(app.metricsServer).toBeNull();
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } })).status).toBe(
      403,
    );
  });

  it('METRICS_TOKEN: /metrics on the API port wants the Bearer token', async () => {
    const { url } = await start({ METRICS_TOKEN });
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    const ok = await fetch(`${url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}`, 'x-forwarded-for': '203.0.113.7' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('# TYPE pfa_graphql_request_duration_seconds histogram');
  });

  it('METRICS_PORT: /metrics only on its own listener (with the token when one is set)', async () => {
    const { app, url } = await start({ METRICS_PORT: '0' });
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    const port = (app.metricsServer?.address() as AddressInfo).port;
    expect(port).toBeGreaterThan(0);
    const metricsUrl = `http://127.0.0.1:${port}`;
    const res = await fetch(`${metricsUrl}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('pfa_graphql_request_duration_seconds');
    expect((await fetch(`${metricsUrl}/graphql`)).status).toBe(404);

    const guarded = await start({ METRICS_PORT: '0', METRICS_TOKEN });
    const guardedUrl = `http://127.0.0.1:${(guarded.app.metricsServer?.address() as AddressInfo).port}/metrics`;
    expect((await fetch(guardedUrl)).status).toBe(401);
    expect((await fetch(guardedUrl, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(
      200,
    );
  });

  it('close() stops the metrics listener too', async () => {
    const { app } = await start({ METRICS_PORT: '0' });
    expect(app.metricsServer?.listening).toBe(true);
    await app.close();
    opened.splice(
      opened.findIndex((o) => o.app === app),
      1,
    );
    expect(app.metricsServer?.listening).toBe(false);
  });
});
