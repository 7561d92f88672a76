// Starts GraphiQL on the page that src/http/graphiql.ts serves at GET /graphql. A file, not an inline
// script, so that the page's Content-Security-Policy can allow scripts from 'self' only. Its settings
// come from the JSON data block #graphiql-config (a data block is never executed).
/* global React, ReactDOM, GraphiQL */
'use strict';

(() => {
  const config = JSON.parse(document.getElementById('graphiql-config').textContent);
  // A sandbox of this browser's own, so that nobody shares (or squats) a well-known session id.
  if (config.headers.includes('{{browser-session}}')) {
    let id = localStorage.getItem('pfa:session-id');
    if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
      const bytes = crypto.getRandomValues(new Uint8Array(9));
      id = 'sandbox-' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
      localStorage.setItem('pfa:session-id', id);
    }
    config.headers = config.headers.split('{{browser-session}}').join(id);
  }
  // The one <style> element GraphiQL's bundle creates (scroll lock behind dialogs) reads its CSP nonce
  // from this global, as webpack-built code does.
  window.__webpack_nonce__ = config.styleNonce;
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));

  // The headers editor's text as last seen. GraphiQL's first schema fetch can run before its headers
  // editor exists and then carries no headers at all; the fetcher falls back to this text.
  let currentHeaders = config.headers;

  // The server answers plain JSON (no @defer), so no multipart fetcher is needed.
  const newFetcher = () => {
    const http = GraphiQL.createFetcher({ url: config.endpoint, enableIncrementalDelivery: false });
    return (params, opts) => {
      const headers = (opts && opts.headers) || parseObject(currentHeaders) || {};
      const auth = String(headers.Authorization || headers.authorization || '');
      if (params.operationName === 'IntrospectionQuery' && (auth === '' || auth.includes('<token>'))) {
        // Say what to do instead of showing the server's UNAUTHENTICATED.
        return Promise.resolve({
          errors: [
            {
              message:
                'Put a token in the Headers tab (Authorization: Bearer <token>): ' +
                'the schema, docs and completion load as soon as it is there.',
            },
          ],
        });
      }
      return http(params, { ...opts, headers });
    };
  };
  let fetcher = newFetcher();

  // GraphiQL fetches the schema once, on load; every request needs a token, so that first fetch
  // usually has none. When the headers change to valid JSON, a new fetcher makes GraphiQL fetch the
  // schema again with them: completion and docs work as soon as a token is pasted.
  let introspectedWith = config.headers;
  let timer;
  const onEditHeaders = (value) => {
    currentHeaders = value;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (value === introspectedWith || !parseObject(value)) return;
      introspectedWith = value;
      fetcher = newFetcher();
      render();
    }, 400);
  };

  // GraphiQL's history and favourites keep every run's headers, tokens included, whatever
  // shouldPersistHeaders says. A bearer token should not outlive the tab on a shared plant PC, so
  // they are stored without headers.
  const HEADER_KEEPING_KEYS = new Set(['graphiql:queries', 'graphiql:favorites']);
  const storage = {
    getItem: (key) => localStorage.getItem(key),
    setItem: (key, value) =>
      localStorage.setItem(key, HEADER_KEEPING_KEYS.has(key) ? withoutHeaders(value) : value),
    removeItem: (key) => localStorage.removeItem(key),
    get length() {
      return Object.keys(localStorage).filter((key) => key.startsWith('graphiql:')).length;
    },
    clear: () => {
      for (const key of Object.keys(localStorage)) if (key.startsWith('graphiql:')) localStorage.removeItem(key);
    },
  };

  function withoutHeaders(json) {
    try {
      const stored = JSON.parse(json);
      for (const list of Object.values(stored)) {
        if (Array.isArray(list)) for (const entry of list) if (entry && typeof entry === 'object') delete entry.headers;
      }
      return JSON.stringify(stored);
    } catch {
      return json;
    }
  }

  function parseObject(text) {
    try {
      const value = JSON.parse(text);
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
    } catch {
      return null;
    }
  }

  function render() {
    root.render(
      React.createElement(GraphiQL, {
        fetcher,
        storage,
        defaultQuery: config.query,
        defaultHeaders: config.headers,
        defaultEditorToolsVisibility: 'headers',
        isHeadersEditorEnabled: true,
        // Tokens stay out of localStorage (the tabs are stored without their headers).
        shouldPersistHeaders: false,
        onEditHeaders,
      }),
    );
  }

  render();
})();
