/**
 * npx tsx bench/grid-load.ts [--seconds 10] [--connections 16] [--cpu-prof DIR] [--query grid|data|bars|kpi]
 *                            [--database pfa_bench] [--session demo-s001] [--env K=V,K=V]
 *
 * One short autocannon load of the grid-100 pattern (bench/patterns.ts RECORDS_QUERY, GRID_FILTER,
 * FORECAST_START_ASC, first 100) against the service started as `npm run bench` starts it
 * (production mode, jobs disabled) on an already prepared database, as the session's owner. Prints
 * req/s, latency and the CPU of the server and of the database's backends (% of one core); with
 * --cpu-prof, writes the server's V8 profile to DIR and prints its summary. For before/after
 * comparisons of the grid request path (issue 11) without the whole benchmark.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { signToken } from '../src/auth/tokens.js';
import { summariseProfile } from './cpu-profile.js';
import { GraphqlClient } from './graphql-client.js';
import { runLoad } from './load.js';
import { GRID_FILTER, KPI_QUERY, ORG, RECORDS_QUERY, TIMELINE_BARS_QUERY } from './patterns.js';
import { startServer } from './server-handle.js';
import { fmt } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    'cpu-prof': { type: 'string' },
    query: { type: 'string', default: 'grid' },
    database: { type: 'string', default: 'pfa_bench' },
    session: { type: 'string', default: 'demo-s001' },
    env: { type: 'string', default: '' },
  },
});

const QUERIES: Record<string, string> = {
  grid: RECORDS_QUERY,
  // The same page with the merged JSON document selected as well.
  data: RECORDS_QUERY.replace('nodes { ', 'nodes { data '),
  // The timeline's Gantt bars of four months (about 20,000 at 1M records), one request.
  bars: TIMELINE_BARS_QUERY,
  // The KPI summary of the organization with the session's drafts.
  kpi: KPI_QUERY,
};
const BARS_VARIABLES = {
  org: ORG,
  from: '2025-01-01',
  to: '2025-04-30',
  filter: { forecastStart: { gte: '2025-01-01', lt: '2025-05-01' } },
  limit: 50000,
};

async function main(): Promise<void> {
  const query = QUERIES[args.query];
  if (!query) throw new Error(`--query must be one of ${Object.keys(QUERIES).join(', ')}`);
  const adminUrl = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const url = new URL(adminUrl);
  url.pathname = `/${args.database}`;
  const direct = new pg.Client({ connectionString: url.toString(), application_name: 'pfa-grid-load' });
  await direct.connect();
  const { rows } = await direct.query<{ owner_user_id: string }>(
    'SELECT owner_user_id FROM pfa_session WHERE organization_id = $1 AND id = $2',
    [ORG, args.session],
  );
  const owner = rows[0]?.owner_user_id;
  if (!owner) throw new Error(`no session ${args.session} in ${ORG}`);
  const orgs = (await direct.query<{ id: string }>('SELECT id FROM organization ORDER BY id')).rows.map(
    (r) => r.id,
  );

  const jwtSecret = randomBytes(24).toString('base64url');
  const env = Object.fromEntries(
    args.env
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const profDir = args['cpu-prof'] ? path.resolve(args['cpu-prof']) : undefined;
  const server = await startServer({
    workers: 1,
    databaseUrl: url.toString(),
    jwtSecret,
    logFile: path.join(HERE, '.cache', 'grid-load-server.log'),
    ...(profDir ? { cpuProfDir: profDir } : {}),
    env: {
      KPI_REFRESH_INTERVAL_MS: '86400000',
      WRITE_SYNC_SWEEP_INTERVAL_MS: '0',
      READ_SYNC_INTERVAL_MS: '0',
      ...env,
    },
  });
  try {
    const token = await signToken(jwtSecret, { sub: owner, orgs, role: 'editor' }, '2h');
    const headers = { authorization: `Bearer ${token}`, 'x-session-id': args.session };
    const variables =
      args.query === 'bars'
        ? BARS_VARIABLES
        : args.query === 'kpi'
          ? { org: ORG }
          : { org: ORG, filter: GRID_FILTER, orderBy: ['FORECAST_START_ASC'], first: 100 };
    const client = new GraphqlClient(server.url, headers);
    for (let i = 0; i < (args.query === 'bars' ? 5 : 50); i++) await client.post(query, variables);
    client.close();
    const r = await runLoad({
      title: args.query === 'bars' ? 'timelineBars, 4 months' : `grid-100 (${args.query})`,
      url: server.url,
      headers,
      query,
      variables,
      connections: Number(args.connections),
      seconds: Number(args.seconds),
      serverPids: server.pids,
      postgresPids: async () =>
        (
          await direct.query<{ pid: number }>(
            'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
          )
        ).rows.map((p) => p.pid),
    });
    const perRequest = (percent: number) => fmt((percent * 10) / r.requestsPerSecond);
    process.stdout.write(
      `${r.title}: ${fmt(r.requestsPerSecond)} req/s (${r.requests} in ${r.seconds} s, ${r.connections} connections), ` +
        `p50 ${fmt(r.latencyMs.p50)} ms, p95 ${fmt(r.latencyMs.p95)} ms, p99 ${fmt(r.latencyMs.p99)} ms, ` +
        `errors ${r.errors + r.timeouts + r.non2xx + r.graphqlErrors}\n` +
        `  server CPU ${fmt(r.resources.serverCpuPercent)}% (${perRequest(r.resources.serverCpuPercent)} ms/req), ` +
        `PostgreSQL CPU ${fmt(r.resources.postgresCpuPercent)}% (${perRequest(r.resources.postgresCpuPercent)} ms/req), ` +
        `client ${fmt(r.resources.clientCpuPercent)}%, other processes ${fmt(r.resources.othersPercent)}% of the machine\n`,
    );
  } finally {
    await server.stop();
    await direct.end();
  }
  if (profDir) {
    const newest = readdirSync(profDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort()
      .at(-1);
    if (newest) process.stdout.write(`${summariseProfile(path.join(profDir, newest), 40)}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
