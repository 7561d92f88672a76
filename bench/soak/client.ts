/** GraphQL over HTTP for the simulated users: every answer classified, nothing thrown. */

export type Outcome<T> =
  | { ok: true; data: T; ms: number }
  | {
      ok: false;
      /** extensions.code, or NETWORK (no HTTP answer), HTTP_<status> (no GraphQL body), TIMEOUT. */
      code: string;
      message: string;
      status: number;
      ms: number;
    };

/** Errors after which the request certainly changed nothing. */
const NO_EFFECT = new Set([
  'VERSION_CONFLICT',
  'BAD_USER_INPUT',
  'FORBIDDEN',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_REQUEST',
]);

export function outcomeUnknown(code: string): boolean {
  return !NO_EFFECT.has(code);
}

export class GraphqlClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly timeoutMs = 60_000,
  ) {}

  async request<T>(
    query: string,
    variables: Record<string, unknown> = {},
    sessionId?: string,
  ): Promise<Outcome<T>> {
    const t0 = performance.now();
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      authorization: `Bearer ${this.token}`,
    };
    if (sessionId) headers['x-session-id'] = sessionId;
    let status = 0;
    let text: string;
    try {
      const res = await fetch(`${this.url}/graphql`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (e) {
      const name = e instanceof Error ? e.name : '';
      return {
        ok: false,
        code: name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK',
        message: e instanceof Error ? `${e.message}${e.cause ? ` (${String(e.cause)})` : ''}` : String(e),
        status,
        ms: performance.now() - t0,
      };
    }
    const ms = performance.now() - t0;
    let body: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return { ok: false, code: `HTTP_${status}`, message: text.slice(0, 300), status, ms };
    }
    const first = body.errors?.[0];
    if (first) {
      return {
        ok: false,
        code: first.extensions?.code ?? `HTTP_${status}`,
        message: first.message,
        status,
        ms,
      };
    }
    if (body.data === undefined || body.data === null) {
      return { ok: false, code: `HTTP_${status}`, message: 'no data', status, ms };
    }
    return { ok: true, data: body.data, ms };
  }
}
