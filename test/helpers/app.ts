import pino from 'pino';
import { signToken, type Role } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import { createApp, type App } from '../../src/http/server.js';
import { DisabledJobGateway, type JobGateway } from '../../src/jobs/gateway.js';
import { createServices, type Services } from '../../src/services.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_SECRET = 'test-secret-test-secret-test-secret';

export interface TestApp {
  url: string;
  database: TestDatabase;
  services: Services;
  app: App;
  token(role: Role, orgs?: string[], sub?: string): Promise<string>;
  /** POST a GraphQL document; returns the parsed JSON body and status. */
  gql<T = Record<string, unknown>>(
    query: string,
    options?: { variables?: Record<string, unknown>; token?: string | null; session?: string | null },
  ): Promise<{
    status: number;
    data?: T;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  }>;
  close(): Promise<void>;
}

/** A real server on a fresh database (cloned from the migrated template), on a free port. */
export async function startTestApp(
  options: {
    env?: Record<string, string>;
    jobs?: JobGateway;
    database?: TestDatabase;
    defaultToken?: { role: Role; orgs: string[]; sub?: string };
  } = {},
): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    AUTH_JWT_SECRET: TEST_SECRET,
    DATABASE_URL: database.url,
    ...options.env,
  });
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const services = createServices({
    config,
    log,
    pool: database.pool,
    db: database.db,
    jwtSecret: TEST_SECRET,
    jobs: options.jobs ?? new DisabledJobGateway(),
  });
  const app = await createApp(services);
  const url = await app.listen(0, '127.0.0.1');
  const token = (role: Role, orgs: string[] = ['HOLNG'], sub = `user-${role}`) =>
    signToken(TEST_SECRET, { sub, orgs, role });
  const fallback = options.defaultToken
    ? await token(options.defaultToken.role, options.defaultToken.orgs, options.defaultToken.sub)
    : await token('editor', ['HOLNG', 'ORG2', 'ORG3']);
  return {
    url,
    database,
    services,
    app,
    token,
    async gql(query, o = {}) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const t = o.token === undefined ? fallback : o.token;
      if (t) headers.authorization = `Bearer ${t}`;
      if (o.session) headers['x-session-id'] = o.session;
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables: o.variables }),
      });
      const body = (await res.json()) as { data?: never; errors?: never };
      return { status: res.status, ...body };
    },
    async close() {
      await app.close();
      if (!options.database) await database.drop();
    },
  };
}
