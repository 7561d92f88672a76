import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from './helpers/app.js';
import { insertRecords } from './helpers/fixtures.js';

/**
 * GraphiQL in a real browser with the network cut off: GET /graphql on the real app must give a
 * working IDE that loads nothing from anywhere but this server, under its own CSP, and runs the
 * preloaded query against the real API.
 */

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => !!p && existsSync(p),
);
if (!CHROMIUM) {
  console.warn(
    'graphiql.browser.test: browser tests SKIPPED, no Chromium found (set CHROMIUM_PATH or `apt-get install -y chromium`)',
  );
}
const describeInBrowser = CHROMIUM ? describe : describe.skip;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const SCREENSHOT = process.env.GRAPHIQL_SCREENSHOT; // e.g. /tmp/graphiql.png, to look at the page

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
  // The example query reads organization HOLNG.
  await insertRecords(app.database.db, 'HOLNG', 25);
});

afterAll(async () => {
  await app?.close();
});

describe('GraphiQL over HTTP', () => {
  const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

  it('serves the page with a self-only CSP to a browser, and nothing to API clients', async () => {
    const page = await fetch(`${app.url}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('vary')).toMatch(/accept/i);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toMatch(/style-src 'self' 'nonce-[\w+/=]+'/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe-(inline|eval)|https?:/);
    const html = await page.text();
    // Everything the page references is relative to this server.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('Bearer \\u003ctoken>');

    for (const accept of ['application/json', '*/*', 'application/graphql-response+json, text/html;q=0.5']) {
      const api = await fetch(`${app.url}/graphql`, { headers: { accept } });
      expect(api.headers.get('content-type') ?? '').not.toContain('text/html');
      await api.body?.cancel();
    }
  });

  it('serves its files with cache headers and gzip, and nothing else under /graphiql/', async () => {
    const html = await (await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    const src = /src="(graphiql\/graphiql\.min\.js\?v=[\w-]+)"/.exec(html)?.[1];
    expect(src).toBeDefined();

    const versioned = await fetch(`${app.url}/${src}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(versioned.status).toBe(200);
    expect(versioned.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(versioned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(versioned.headers.get('content-encoding')).toBe('gzip');
    expect((await versioned.text()).length).toBeGreaterThan(100_000);

    const unversioned = await fetch(`${app.url}/graphiql/graphiql.min.css`);
    expect(unversioned.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(unversioned.headers.get('cache-control')).toBe('no-cache');
    const etag = unversioned.headers.get('etag');
    expect(etag).toBeTruthy();
    await unversioned.body?.cancel();
    const revalidated = await fetch(`${app.url}/graphiql/graphiql.min.css`, {
      headers: { 'if-none-match': etag! },
    });
    expect(revalidated.status).toBe(304);

    const probes: [string, number][] = [
      ['/graphiql/../package.json', 404],
      ['/graphiql/%2e%2e/package.json', 404],
      ['/graphiql/..%2fpackage.json', 404],
      ['/graphiql/react', 404],
      ['/graphiql/constructor', 404],
      ['/graphiql/graphiql.min.js/', 404],
      ['/graphiql/', 302],
    ];
    for (const [probe, expected] of probes) {
      expect([probe, await rawGetStatus(app.url, probe)]).toEqual([probe, expected]);
    }
    const post = await fetch(`${app.url}/graphiql/boot.js`, { method: 'POST' });
    expect(post.status).toBe(405);
  });
});

describeInBrowser(`GraphiQL in Chromium${CHROMIUM ? '' : ' (skipped: no Chromium binary found)'}`, () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // Belt and braces: no host name but localhost resolves, whoever asks.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('works offline: loads only from this server, runs the preloaded query, introspects with the token', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const outside: string[] = [];
    const problems: string[] = [];
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if ((url.protocol === 'http:' || url.protocol === 'https:') && !LOOPBACK.has(url.hostname)) {
        outside.push(url.href);
        await route.abort('blockedbyclient');
      } else {
        await route.continue();
      }
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A 401 from the API before the token is in is the server's business; anything else is ours.
      const text = message.text();
      if (message.type() === 'error' && !/Failed to load resource.*40[13]/.test(text)) problems.push(text);
    });

    const response = await page.goto(`${app.url}/graphql`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");

    // The editors are there, prefilled, with the headers editor open.
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
    const headersEditor = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror');
    await headersEditor.waitFor();
    expect(await editorText(page, '.graphiql-query-editor .CodeMirror')).toMatch(
      /pfaRecords\(organizationId: "HOLNG", first: 10\)[\s\S]*kpiSummary/,
    );
    const prefilled = JSON.parse(
      await editorText(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror'),
    );
    // The session id is this browser's own random sandbox, the same on every visit.
    expect(prefilled).toEqual({
      Authorization: 'Bearer <token>',
      'X-Session-Id': expect.stringMatching(/^sandbox-[0-9a-f]{18}$/),
    });
    const sessionId = prefilled['X-Session-Id'] as string;
    await page.reload();
    await page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror').waitFor();
    expect(
      JSON.parse(await editorText(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')),
    ).toMatchObject({ 'X-Session-Id': sessionId });

    // A user pastes a token: GraphiQL fetches the schema with it (docs and completion work) …
    const introspected = page.waitForResponse(
      (r) => r.request().method() === 'POST' && (r.request().postData() ?? '').includes('IntrospectionQuery'),
    );
    const token = await app.token('viewer', ['HOLNG']);
    await headersEditor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.insertText(
      JSON.stringify(
        {
          Authorization: `Bearer ${token}`,
          'X-Session-Id': sessionId,
        },
        null,
        2,
      ),
    );
    const schema = (await (await introspected).json()) as {
      data?: { __schema?: { queryType?: { name: string } } };
    };
    expect(schema.data?.__schema?.queryType?.name).toBe('Query');

    // … and runs the preloaded query with Ctrl-Enter.
    await page.locator('.graphiql-query-editor .CodeMirror').click();
    await page.keyboard.press('Control+Enter');
    const resultEditor = '.graphiql-response .result-window .CodeMirror';
    await page.waitForFunction(
      (selector) => {
        // Runs in the page (this project's TypeScript lib has no DOM types).
        const { document } = globalThis as unknown as { document: { querySelector(s: string): unknown } };
        const el = document.querySelector(selector) as { CodeMirror?: { getValue(): string } } | null;
        return el?.CodeMirror?.getValue().includes('totalCount') ?? false;
      },
      resultEditor,
      { timeout: 15_000 },
    );
    const shown = await editorText(page, resultEditor);
    const body = JSON.parse(shown) as {
      data?: { pfaRecords?: { totalCount: number; nodes: { pfaId: string }[] }; kpiSummary?: unknown[] };
    };
    expect(body).not.toHaveProperty('errors');
    // Some generated records are discontinued, which the API leaves out by default.
    expect(body.data?.pfaRecords?.totalCount).toBeGreaterThan(10);
    expect(body.data?.pfaRecords?.nodes).toHaveLength(10);
    expect(Array.isArray(body.data?.kpiSummary)).toBe(true);

    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT });

    // The docs explorer lists the API's fields: introspection works through the page.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const docs = page.locator('.graphiql-doc-explorer');
    await docs.getByText('Query', { exact: true }).first().click();
    await docs.getByText('pfaRecords', { exact: true }).first().waitFor();

    // Tokens are not left behind in localStorage (GraphiQL's history would keep them).
    const stored = await page.evaluate(() =>
      JSON.stringify({ ...(globalThis as unknown as { localStorage: object }).localStorage }),
    );
    expect(stored).toContain('pfaRecords');
    expect(stored).not.toContain(token);

    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});

/** The full text of a CodeMirror 5 editor (its DOM shows only the visible lines). */
async function editorText(page: Page, selector: string): Promise<string> {
  return page
    .locator(selector)
    .evaluate((el) => (el as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
}

/** GET with the path sent exactly as written (fetch would normalise "..", the attack being tested). */
async function rawGetStatus(base: string, rawPath: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
