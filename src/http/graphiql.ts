import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

/**
 * GraphiQL for `GET /graphql` from a browser, served entirely by this process: the page works in a
 * plant with no internet access (no CDN, no web fonts, no telemetry) and under a CSP of 'self' only.
 *
 * The editor is graphiql 4's ready-made UMD bundle with React 18's UMD builds, read straight from
 * node_modules (no build step); our own boot script and page CSS live in ./graphiql-assets/.
 */
export interface GraphiqlOptions {
  /** Where the page sends queries; a path on this server, e.g. '/graphql'. */
  endpoint: string;
  /** Prefills the headers editor; a placeholder Authorization header when absent. */
  defaultHeaders?: Record<string, string>;
  /** The query shown to a first-time visitor (GraphiQL keeps the user's own tabs in localStorage). */
  defaultQuery?: string;
  /** Told when the page or a file cannot be served (the client gets a bare 500); console.error by default. */
  onError?: (error: unknown) => void;
}

export type GraphiqlHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

const PAGE_PATH = '/graphql';
const ASSET_PREFIX = '/graphiql/';

/** Replaced in the browser by a random session id kept per browser (see graphiql-assets/boot.js). */
export const BROWSER_SESSION = '{{browser-session}}';

export const PLACEHOLDER_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  Authorization: 'Bearer <token>',
  'X-Session-Id': BROWSER_SESSION,
});

export const EXAMPLE_QUERY = `# PFA Vanguard GraphQL API
#
# Every request needs a token: put it
# in the Headers tab below as
#   "Authorization": "Bearer <token>"
# For development:
#   npm run token -- --sub me \\
#     --orgs HOLNG --role viewer
#
# Run: Ctrl-Enter  Complete: Ctrl-Space
query Example {
  pfaRecords(organizationId: "HOLNG", first: 10) {
    totalCount
    nodes {
      id
      pfaId
      category
      source
      forecastStart
      forecastEnd
      forecastCost
    }
  }
  kpiSummary(organizationId: "HOLNG") {
    category
    source
    recordCount
    totalPlanCost
    totalForecastCost
    totalActualCost
    totalVariance
  }
}
`;

type Kind = 'js' | 'css' | 'map';

const CONTENT_TYPES: Record<Kind, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
};

const require = createRequire(import.meta.url);
const packageFile = (pkg: string, file: string): string =>
  path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
const ownFile = (file: string): string =>
  fileURLToPath(new URL(`./graphiql-assets/${file}`, import.meta.url));

/**
 * Everything served under /graphiql/: URL name → file. Requests are looked up by exact name, so no
 * part of a URL ever reaches the file system (no traversal, no directory listing).
 */
const ASSET_FILES: Readonly<Record<string, { file: string; kind: Kind }>> = {
  'react.production.min.js': { file: packageFile('react', 'umd/react.production.min.js'), kind: 'js' },
  'react-dom.production.min.js': {
    file: packageFile('react-dom', 'umd/react-dom.production.min.js'),
    kind: 'js',
  },
  'graphiql.min.js': { file: packageFile('graphiql', 'dist/index.umd.js'), kind: 'js' },
  // The bundle's own sourceMappingURL; only developer tools ask for it.
  'index.umd.js.map': { file: packageFile('graphiql', 'dist/index.umd.js.map'), kind: 'map' },
  'graphiql.min.css': { file: packageFile('graphiql', 'dist/style.css'), kind: 'css' },
  'page.css': { file: ownFile('page.css'), kind: 'css' },
  'boot.js': { file: ownFile('boot.js'), kind: 'js' },
};

/** In the order the page loads them: React before ReactDOM before GraphiQL before our boot script. */
const PAGE_STYLES = ['graphiql.min.css', 'page.css'];
const PAGE_SCRIPTS = ['react.production.min.js', 'react-dom.production.min.js', 'graphiql.min.js', 'boot.js'];

interface Asset {
  body: Buffer;
  contentType: string;
  /** Short content hash: the `?v=` the page links with, and the ETag. */
  hash: string;
  gzipped?: Promise<Buffer>;
}

const gzipAsync = promisify(gzip);
const YEAR_SECONDS = 365 * 24 * 3600;

/**
 * Builds the request handler. It answers (and returns true for) `GET|HEAD /graphql` when the Accept
 * header prefers HTML, and everything under /graphiql/; any other request is left to the caller
 * (returns false) — in particular the GraphQL requests themselves.
 */
export function createGraphiqlHandler(options: GraphiqlOptions): GraphiqlHandler {
  const missing = Object.values(ASSET_FILES).filter((a) => !existsSync(a.file));
  if (missing.length > 0) {
    throw new Error(`GraphiQL assets missing (npm ci?): ${missing.map((a) => a.file).join(', ')}`);
  }
  const onError = options.onError ?? ((error: unknown) => console.error('GraphiQL:', error));
  let loaded: Promise<Map<string, Asset>> | undefined;
  // Read once, on the first request for the page or an asset: processes that never serve GraphiQL pay nothing.
  const load = (): Promise<Map<string, Asset>> => {
    if (!loaded) {
      loaded = loadAssets();
      // A failed read (a file removed under us) is retried on the next request rather than remembered.
      void loaded.catch(() => (loaded = undefined));
    }
    return loaded;
  };

  return (req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const pathname = queryAt < 0 ? url : url.slice(0, queryAt);
    const method = req.method ?? 'GET';

    if (pathname === PAGE_PATH) {
      if ((method !== 'GET' && method !== 'HEAD') || !prefersHtml(req.headers.accept)) return false;
      serve(res, onError, async () => {
        const styleNonce = randomBytes(16).toString('base64');
        const page = Buffer.from(renderPage(options, await load(), styleNonce));
        res.writeHead(200, {
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Length': page.length,
          // Never stored: it carries a fresh nonce each time, and maybe a development token in its headers.
          'Cache-Control': 'no-store',
          Vary: 'Accept',
          'Content-Security-Policy': contentSecurityPolicy(options.endpoint, styleNonce),
          'X-Content-Type-Options': 'nosniff',
          'X-Frame-Options': 'DENY',
          'Referrer-Policy': 'no-referrer',
          'Cross-Origin-Opener-Policy': 'same-origin',
        });
        res.end(method === 'HEAD' ? undefined : page);
      });
      return true;
    }

    if (pathname === '/graphiql' || pathname === '/graphiql/') {
      // Relative, so it also works behind a proxy that mounts the service under a path prefix.
      res.writeHead(302, {
        Location: pathname === '/graphiql' ? 'graphql' : '../graphql',
        'Content-Length': 0,
      });
      res.end();
      return true;
    }

    if (!pathname.startsWith(ASSET_PREFIX)) return false;
    if (method !== 'GET' && method !== 'HEAD') {
      sendText(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      return true;
    }
    const name = pathname.slice(ASSET_PREFIX.length);
    if (!Object.hasOwn(ASSET_FILES, name)) {
      sendText(res, 404, 'Not Found');
      return true;
    }
    serve(res, onError, async () => {
      const asset = (await load()).get(name);
      if (!asset) throw new Error(`asset ${name} not loaded`);
      const version = queryAt < 0 ? null : new URLSearchParams(url.slice(queryAt + 1)).get('v');
      const useGzip = asset.body.length > 1024 && acceptsGzip(req.headers['accept-encoding']);
      const etag = `"${asset.hash}${useGzip ? '-gz' : ''}"`;
      const headers: http.OutgoingHttpHeaders = {
        'Content-Type': asset.contentType,
        // Linked with ?v=<content hash>, so a URL names exactly one content: cache it for good. Any
        // other URL (no or an old version) must revalidate, which the ETag makes cheap.
        'Cache-Control': version === asset.hash ? `public, max-age=${YEAR_SECONDS}, immutable` : 'no-cache',
        ETag: etag,
        Vary: 'Accept-Encoding',
        'X-Content-Type-Options': 'nosniff',
        'Cross-Origin-Resource-Policy': 'same-origin',
      };
      if (etagMatches(req.headers['if-none-match'], etag)) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      const body = useGzip ? await (asset.gzipped ??= gzipAsync(asset.body, { level: 9 })) : asset.body;
      res.writeHead(200, {
        ...headers,
        'Content-Length': body.length,
        ...(useGzip && { 'Content-Encoding': 'gzip' }),
      });
      res.end(method === 'HEAD' ? undefined : body);
    });
    return true;
  };
}

/** Runs an async response and turns a failure into a 500 (the handler itself must stay synchronous). */
function serve(
  res: http.ServerResponse,
  onError: (error: unknown) => void,
  respond: () => Promise<void>,
): void {
  respond().catch((error: unknown) => {
    onError(error);
    if (res.headersSent) {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    } else {
      sendText(res, 500, 'GraphiQL is unavailable');
    }
  });
}

function sendText(
  res: http.ServerResponse,
  status: number,
  text: string,
  extra: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(text);
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const entries = await Promise.all(
    Object.entries(ASSET_FILES).map(async ([name, { file, kind }]): Promise<[string, Asset]> => {
      const body = await readFile(file);
      const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
      return [name, { body, contentType: CONTENT_TYPES[kind], hash }];
    }),
  );
  return new Map(entries);
}

function renderPage(options: GraphiqlOptions, assets: Map<string, Asset>, styleNonce: string): string {
  // Relative URLs: the page lives at /graphql, its files at /graphiql/…, behind any path prefix.
  const href = (name: string): string => escapeHtml(`graphiql/${name}?v=${assets.get(name)?.hash ?? ''}`);
  const config = {
    endpoint: options.endpoint,
    headers: JSON.stringify(options.defaultHeaders ?? PLACEHOLDER_HEADERS, null, 2),
    query: options.defaultQuery ?? EXAMPLE_QUERY,
    styleNonce,
  };
  // A JSON data block is not executed, so 'self'-only CSP does not forbid it; "<" is escaped so no
  // value can close the element.
  const configJson = JSON.stringify(config).replace(/</g, '\\u003c');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex">',
    '<title>PFA Vanguard · GraphiQL</title>',
    // An empty icon: stops the browser asking for /favicon.ico.
    '<link rel="icon" href="data:,">',
    ...PAGE_STYLES.map((name) => `<link rel="stylesheet" href="${href(name)}">`),
    '</head>',
    '<body>',
    '<div id="graphiql"><p class="graphiql-loading">Loading GraphiQL…</p></div>',
    '<noscript>GraphiQL needs JavaScript.</noscript>',
    `<script type="application/json" id="graphiql-config">${configJson}</script>`,
    ...PAGE_SCRIPTS.map((name) => `<script src="${href(name)}"></script>`),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * Same-origin only. Fonts and a few icons are data: URLs inside graphiql's CSS. GraphiQL and CodeMirror
 * style elements through the CSSOM, which style-src does not restrict; the one <style> element the
 * bundle creates (scroll lock while a dialog is open, react-remove-scroll) carries the per-response
 * nonce that boot.js hands it. No 'unsafe-inline', no 'unsafe-eval'.
 */
function contentSecurityPolicy(endpoint: string, styleNonce: string): string {
  let connect = "'self'";
  if (/^https?:\/\//i.test(endpoint)) connect += ` ${new URL(endpoint).origin}`;
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${styleNonce}'`,
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * True when the Accept header ranks text/html above the GraphQL response types, as browsers'
 * navigation requests do. A tie (e.g. `*\/*` from curl) goes to JSON, the API's own answer.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = parseAccept(accept);
  const html = quality(ranges, 'text/html');
  return (
    html > 0 &&
    html > quality(ranges, 'application/json') &&
    html > quality(ranges, 'application/graphql-response+json')
  );
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): MediaRange[] {
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [mediaType = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const [type, subtype] = mediaType.split('/');
    if (!type || !subtype) continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=').map((s) => s.trim());
      if (key === 'q' && value !== undefined) q = Number.isFinite(Number(value)) ? Number(value) : 0;
    }
    ranges.push({ type, subtype, q });
  }
  return ranges;
}

/** The q of the most specific range that matches (exact over type/* over *\/*), 0 when none does. */
function quality(ranges: MediaRange[], mediaType: string): number {
  const [type, subtype] = mediaType.split('/');
  let best: { specificity: number; q: number } = { specificity: 0, q: 0 };
  for (const r of ranges) {
    const specificity =
      r.type === type && r.subtype === subtype
        ? 3
        : r.type === type && r.subtype === '*'
          ? 2
          : r.type === '*'
            ? 1
            : 0;
    if (specificity > best.specificity) best = { specificity, q: r.q };
  }
  return best.q;
}

function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [coding = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
