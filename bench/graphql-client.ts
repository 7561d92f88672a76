/**
 * A lean GraphQL-over-HTTP client for latency samples: one keep-alive connection, node:http (no
 * fetch machinery in the measurement), the clock stopped only after the whole body has arrived
 * and JSON.parse has run.
 */
import http from 'node:http';

export interface GraphqlError {
  message: string;
  extensions?: { code?: string };
}

export interface GraphqlResult<T> {
  ms: number;
  bytes: number;
  data: T;
}

export class GraphqlRequestError extends Error {
  override readonly name = 'GraphqlRequestError';
}

export class GraphqlClient {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private readonly endpoint: URL;

  constructor(
    url: string,
    private readonly headers: Record<string, string>,
  ) {
    this.endpoint = new URL('/graphql', url);
  }

  /** POSTs a document; rejects on a non-200 status or any GraphQL error (a benchmark never ignores one). */
  async post<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphqlResult<T>> {
    const payload = JSON.stringify({ query, variables });
    const t0 = performance.now();
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        this.endpoint,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            ...this.headers,
            'content-type': 'application/json',
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
      req.on('error', reject);
      req.end(payload);
    });
    const body = JSON.parse(text) as { data?: T; errors?: GraphqlError[] };
    const ms = performance.now() - t0;
    if (status !== 200 || body.errors?.length || body.data === undefined) {
      const first = body.errors?.[0];
      throw new GraphqlRequestError(
        `HTTP ${status}: ${first ? `${first.extensions?.code ?? ''} ${first.message}` : text.slice(0, 300)}`,
      );
    }
    return { ms, bytes: Buffer.byteLength(text), data: body.data };
  }

  close(): void {
    this.agent.destroy();
  }
}
