/**
 * One client, one keep-alive connection per target (node:http, no fetch machinery in the
 * measurement). The clock stops after the whole body has arrived and JSON.parse has run. A
 * non-2xx answer or a body with `errors` is counted as an error, not thrown: the table marks it.
 */
import http from 'node:http';
import type { GraphqlBody } from './patterns.js';

export interface Outcome {
  ms: number;
  status: number;
  bytes: number;
  /** Set when the answer is not a clean GraphQL result (non-2xx, `errors`, no data, not JSON). */
  error: string | null;
  data: unknown;
}

interface Body {
  data?: unknown;
  errors?: { message?: string }[];
}

function parseBody(text: string): Body | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Body) : null;
  } catch {
    return null;
  }
}

export class SingleClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly endpoint: URL;

  constructor(
    graphqlUrl: string,
    private readonly headers: Record<string, string>,
  ) {
    this.endpoint = new URL(graphqlUrl);
  }

  /** Rejects only when no HTTP answer came (connection refused or reset): the server is gone. */
  async post(body: GraphqlBody): Promise<Outcome> {
    const payload = JSON.stringify(body);
    const t0 = performance.now();
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        this.endpoint,
        {
          method: 'POST',
          agent: this.agent,
          timeout: 60_000,
          headers: {
            ...this.headers,
            'content-type': 'application/json',
            accept: 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
      req.on('error', reject);
      req.end(payload);
    });
    const parsed = parseBody(text);
    const ms = performance.now() - t0;
    const bytes = Buffer.byteLength(text);
    let error: string | null = null;
    if (!parsed) error = `HTTP ${status}, not JSON: ${text.slice(0, 200)}`;
    else if (parsed.errors?.length)
      error = `HTTP ${status}: ${parsed.errors[0]?.message ?? JSON.stringify(parsed.errors[0])}`;
    else if (status < 200 || status > 299) error = `HTTP ${status}: ${text.slice(0, 200)}`;
    else if (parsed.data === undefined || parsed.data === null) error = `HTTP ${status}: no data`;
    return { ms, status, bytes, error, data: parsed?.data ?? null };
  }

  close(): void {
    this.agent.destroy();
  }
}
