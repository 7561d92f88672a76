/**
 * npm run bench:peer — this service and PostGraphile V5 (+ connection-filter) side by side, in one
 * run, on the same database (pfa_bench, prepared once by `npm run bench`), on the same machine,
 * taking turns so that the machine's noise hits both alike. See bench/peer/README.md.
 *
 * Environment (defaults in brackets):
 *   SECS [15]  ROUNDS [2]  CONNS [16]      closed-loop load: seconds per run, rounds, connections
 *   RUNS [30]  WARMUP [3]                  single-client latency: timed runs after the warm-up
 *   BENCH_DATABASE [pfa_bench]            the prepared database (never created or dropped here)
 *   BENCH_ADMIN_URL [postgres://postgres@127.0.0.1:5432/postgres]   server and role to use
 *   READY_TIMEOUT_S [120]                 how long each server may take to answer after its start
 *   PEER_BUILD [head]                      head: build the committed HEAD in the temp dir (once per
 *                                          commit; the shared tree's dist/ and uncommitted work
 *                                          stay out); worktree: `npm run build` here, measure that
 *   PEER_NODE                              a Node >= 22 for PostGraphile (default: bench/peer's)
 *   PEER_OUT [bench/peer]                  where RESULTS.md and RESULTS.json go
 *   RESPONSE_CACHE_MB [service default]    our exact response cache (0: off, to compare without it)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signToken } from '../../src/auth/tokens.js';
import { createPool } from '../../src/db/database.js';
import { commitDescription } from '../machine.js';
import { elapsedSeconds, say } from '../progress.js';
import { fmt, quantile, summarize } from '../stats.js';
import { SingleClient } from './client.js';
import { runLoad, stopLoad, type LoadRun } from './load.js';
import { LATENCY_PATTERNS, LOAD_PATTERNS, PATTERNS, rowsIn, type GraphqlBody } from './patterns.js';
import {
  PEER_DIR,
  TARGET_LABELS,
  TARGETS,
  ratio,
  renderPeerMarkdown,
  type LatencyCell,
  type LatencyRow,
  type LoadCell,
  type LoadRow,
  type PeerResults,
  type TargetKey,
} from './report.js';
import {
  BenchError,
  build,
  buildHeadSnapshot,
  ensurePeerDependencies,
  freePort,
  graphqlAnswers,
  httpOk,
  nodeVersion,
  peerNodeBinary,
  startServer,
  waitReady,
  type RunningServer,
} from './servers.js';

const ROOT = path.resolve(PEER_DIR, '..', '..');
const LOG_DIR = path.join(ROOT, 'bench', '.cache', 'peer');
const SESSION = 'demo-s001';
const ORG = 'HOLNG';
/**
 * Our partial indexes carry our predicate (is_discontinued IS NOT TRUE), which PostGraphile's SQL
 * does not have: without help it sorts the organization's rows for every grid page. A PostGraphile
 * user would add this plain index; it exists for both servers during the run and is dropped after.
 */
const INDEX_NAME = 'peer_grid_full';
/** Pause between two load runs: the answers still in flight when a run ends do not overlap the next. */
const SETTLE_S = 1;
const INDEX_SQL = `CREATE INDEX IF NOT EXISTS ${INDEX_NAME} ON pfa_mirror (organization_id, category, source, forecast_start, id)`;

function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new BenchError(`${name}=${raw}: expected a whole number >= ${min}`);
  return value;
}

function duration(seconds: number): string {
  return seconds < 120 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;
}

function median(values: number[]): number | null {
  return values.length
    ? quantile(
        [...values].sort((a, b) => a - b),
        0.5,
      )
    : null;
}

function loadAvg(): number[] {
  return os.loadavg().map((x) => Math.round(x * 100) / 100);
}

function databaseUrl(adminUrl: string, database: string, applicationName: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  url.searchParams.set('application_name', applicationName);
  return url.toString();
}

// ---- what has to be undone, whatever happens -------------------------------------------------
const running: RunningServer[] = [];
let indexUrl: string | null = null;
let cleaning: Promise<void> | null = null;
let interrupted = false;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(running.map((s) => s.stop()));
    if (indexUrl) {
      const pool = createPool({ connectionString: indexUrl, max: 1, applicationName: 'bench-peer' });
      try {
        const client = await pool.connect();
        try {
          await client.query("SET lock_timeout = '30s'");
          await client.query(`DROP INDEX IF EXISTS ${INDEX_NAME}`);
        } finally {
          client.release();
        }
        say(`index: ${INDEX_NAME} dropped`);
      } catch (error) {
        process.stderr.write(
          `could not drop the index ${INDEX_NAME} (${error instanceof Error ? error.message : String(error)}); drop it by hand:\n` +
            `  psql ${indexUrl.replace(/\?.*$/, '')} -c 'DROP INDEX IF EXISTS ${INDEX_NAME}'\n`,
        );
      } finally {
        await pool.end().catch(() => undefined);
      }
    }
  })();
  return cleaning;
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
  ['SIGHUP', 129],
] as const) {
  process.on(signal, () => {
    if (cleaning) return; // a second interrupt while cleaning up: let the cleanup finish
    interrupted = true;
    say(`${signal}: stopping the servers and dropping ${INDEX_NAME}`);
    stopLoad();
    void cleanup().finally(() => process.exit(code));
  });
}

// ---- the run ---------------------------------------------------------------------------------
async function main(): Promise<void> {
  process.chdir(ROOT);
  const settings = {
    database: process.env.BENCH_DATABASE?.trim() || 'pfa_bench',
    warmup: intEnv('WARMUP', 3, 0),
    runs: intEnv('RUNS', 30),
    connections: intEnv('CONNS', 16),
    seconds: intEnv('SECS', 15),
    rounds: intEnv('ROUNDS', 2),
    session: SESSION,
    /** Our exact response cache, MB (null: the service's default). */
    responseCacheMb: process.env.RESPONSE_CACHE_MB?.trim() ? intEnv('RESPONSE_CACHE_MB', 0, 0) : null,
  };
  const readyTimeout = intEnv('READY_TIMEOUT_S', 120);
  const adminUrl = process.env.BENCH_ADMIN_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres';
  const outDir = path.resolve(process.env.PEER_OUT?.trim() || PEER_DIR);
  const verification =
    settings.seconds < 15 || settings.rounds < 2 || settings.runs < 30 || settings.warmup < 3;
  const loadRuns = settings.rounds * LOAD_PATTERNS.length * TARGETS.length;
  say(
    `bench:peer: database ${settings.database}; latency ${settings.warmup}+${settings.runs} runs × ${LATENCY_PATTERNS.length} patterns × 3 servers; ` +
      `load ${loadRuns} runs of ${settings.seconds} s (${settings.connections} connections, ${settings.rounds} round(s)), about ${duration(loadRuns * (settings.seconds + SETTLE_S))} of load` +
      (verification ? ' — shorter than the defaults: a verification run' : ''),
  );

  // The database must have been prepared by `npm run bench`; this run never creates or drops it.
  const benchUrl = databaseUrl(adminUrl, settings.database, 'bench-peer');
  const db = createPool({ connectionString: benchUrl, max: 1, applicationName: 'bench-peer' });
  let postgres: string;
  let owner: string;
  try {
    const t = await db
      .query<{ t: string | null }>("SELECT to_regclass('pfa_mirror')::text AS t")
      .catch((error: unknown) => {
        throw new BenchError(
          `cannot query ${settings.database} (${error instanceof Error ? error.message : String(error)}): run \`npm run bench\` once to prepare it`,
        );
      });
    if (!t.rows[0]?.t)
      throw new BenchError(
        `${settings.database} has no pfa_mirror: run \`npm run bench\` once to prepare it`,
      );
    const s = await db.query<{ owner_user_id: string }>(
      'SELECT owner_user_id FROM pfa_session WHERE id = $1 AND organization_id = $2',
      [SESSION, ORG],
    );
    if (!s.rows[0])
      throw new BenchError(
        `${settings.database} has no session ${SESSION} in ${ORG}: prepare it with \`npm run bench\``,
      );
    owner = s.rows[0].owner_user_id;
    const v = await db.query<{ v: string }>("SELECT 'PostgreSQL ' || current_setting('server_version') AS v");
    postgres = v.rows[0]?.v ?? 'unknown';
  } finally {
    await db.end();
  }

  ensurePeerDependencies(PEER_DIR, path.join(LOG_DIR, 'install.log'), say);
  const peerNode = peerNodeBinary(PEER_DIR);
  const peerNodeVersion = nodeVersion(peerNode);
  if (!(Number(peerNodeVersion.replace(/^v/, '').split('.')[0]) >= 22))
    throw new BenchError(`PostGraphile 5 needs Node >= 22; ${peerNode} is ${peerNodeVersion}`);
  const version = (pkg: string): string =>
    (
      JSON.parse(readFileSync(path.join(PEER_DIR, 'node_modules', pkg, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;

  // Ours: a production build, run as `npm run start:prod` runs it (node dist/src/main.js).
  const buildMode = process.env.PEER_BUILD?.trim() || 'head';
  let oursDir: string;
  let commit: string;
  if (buildMode === 'head') {
    const snapshot = buildHeadSnapshot(ROOT, LOG_DIR, say);
    oursDir = snapshot.dir;
    commit = snapshot.commit.slice(0, 7);
  } else if (buildMode === 'worktree') {
    say(`build: npm run build in the work tree (log ${path.join(LOG_DIR, 'build.log')})`);
    build(ROOT, path.join(LOG_DIR, 'build.log'));
    oursDir = ROOT;
    commit = `${commitDescription()}, built from the work tree`;
  } else throw new BenchError(`PEER_BUILD=${buildMode}: expected head or worktree`);

  // Starting the service applies the migrations it knows and the database lacks. On the shared
  // benchmark database that is `npm run bench`'s job (it keeps a record of how the database was
  // prepared): a migration missing here stops the run instead.
  const known = readdirSync(path.join(oursDir, 'dist', 'migrations'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.replace(/\.js$/, ''));
  const appliedPool = createPool({ connectionString: benchUrl, max: 1, applicationName: 'bench-peer' });
  const applied = new Set(
    await appliedPool
      .query<{ name: string }>('SELECT name FROM kysely_migration')
      .then((r) => r.rows.map((row) => row.name))
      .finally(() => appliedPool.end()),
  );
  const missing = known.filter((m) => !applied.has(m));
  if (missing.length)
    throw new BenchError(
      `${settings.database} lacks migration(s) ${missing.join(', ')} of the code to measure; the service would apply them at ` +
        `its start, outside the benchmark's own record of the database. Bring ${settings.database} up to date with ` +
        '`npm run bench` (it applies new migrations on top, or rebuilds), then run this again.',
    );

  // Registered before the index exists, so that any failure from here on drops it.
  indexUrl = benchUrl;
  say(`index: ${INDEX_SQL}`);
  const t0 = performance.now();
  const indexPool = createPool({ connectionString: benchUrl, max: 1, applicationName: 'bench-peer' });
  try {
    await indexPool.query(INDEX_SQL);
    // Both sides start from a fresh KPI cache: PostGraphile reads the materialized view as it
    // is; we add the KPI states logged since its refresh (an earlier run's cleanup leaves some),
    // which the service's own refresh after commits keeps short in production.
    await indexPool.query('SELECT refresh_pfa_materialized_views()');
    // Dead rows of the KPI log lie in the range every KPI read of ours scans (docs/operations.md):
    // on a server with autovacuum off, rows a rolled-back experiment logged stay until a VACUUM
    // (41,766 of them once made kpiSummary 0.30x instead of 0.78x). `npm run bench` vacuums too.
    await indexPool.query(
      'VACUUM (ANALYZE) pfa_kpi_delta, pfa_kpi_summary, pfa_timeline_bounds, pfa_pending_record, pfa_modification',
    );
  } finally {
    await indexPool.end();
  }
  say(`index, fresh KPI cache and vacuum: ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const secret = randomBytes(24).toString('hex');
  const oursPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === oursPort) peerPort = await freePort();
  const ours = startServer({
    name: 'ours',
    // What `npm run start:prod` runs, without npm in between (signals reach the server itself).
    command: process.execPath,
    args: ['dist/src/main.js'],
    cwd: oursDir,
    env: {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl(adminUrl, settings.database, 'bench-peer-ours'),
      AUTH_JWT_SECRET: secret,
      HOST: '127.0.0.1',
      PORT: String(oursPort),
      LOG_LEVEL: 'warn',
      // No scheduled work during the measurement.
      KPI_REFRESH_INTERVAL_MS: '86400000',
      WRITE_SYNC_SWEEP_INTERVAL_MS: '0',
      READ_SYNC_INTERVAL_MS: '0',
      ...(settings.responseCacheMb === null ? {} : { RESPONSE_CACHE_MB: String(settings.responseCacheMb) }),
    },
    logFile: path.join(LOG_DIR, 'ours.log'),
    port: oursPort,
    probe: httpOk('/healthz'),
  });
  running.push(ours);
  const peer = startServer({
    name: 'PostGraphile',
    command: peerNode,
    args: ['server.mjs'],
    cwd: PEER_DIR,
    env: {
      NODE_ENV: 'production',
      GRAPHILE_ENV: 'production',
      PGPEER_DB_URL: databaseUrl(adminUrl, settings.database, 'bench-peer-postgraphile'),
      PGPEER_PORT: String(peerPort),
    },
    logFile: path.join(LOG_DIR, 'postgraphile.log'),
    port: peerPort,
    probe: graphqlAnswers,
  });
  running.push(peer);
  say(`servers: starting ours (pid ${ours.pid}) and PostGraphile (pid ${peer.pid}); logs in ${LOG_DIR}`);
  await waitReady([ours, peer], readyTimeout, say);

  const token = await signToken(secret, { sub: owner, orgs: [ORG], role: 'editor' }, '2h');
  const headers: Record<TargetKey, Record<string, string>> = {
    oursSession: { authorization: `Bearer ${token}`, 'x-session-id': SESSION },
    ours: { authorization: `Bearer ${token}` },
    peer: {},
  };
  const urls: Record<TargetKey, string> = {
    oursSession: ours.graphqlUrl,
    ours: ours.graphqlUrl,
    peer: peer.graphqlUrl,
  };
  const bodyFor = (key: TargetKey, pattern: (typeof PATTERNS)[keyof typeof PATTERNS]): GraphqlBody =>
    key === 'peer' ? pattern.peer : pattern.ours;
  const serverGone = (): void => {
    if (interrupted) throw new BenchError('interrupted');
    for (const s of running)
      if (s.exited() !== null)
        throw new BenchError(`${s.name} ended (${s.exited()}) during the run; see ${s.logFile}`);
  };

  const loadBefore = loadAvg();
  say(`machine: ${os.cpus().length} cores, load average ${loadBefore.join(' / ')} (1/5/15 min)`);

  // ---- single-client latency: the three servers take turns, request by request -------------
  const latency: LatencyRow[] = [];
  for (const key of LATENCY_PATTERNS) {
    const pattern = PATTERNS[key];
    say(`latency ${key}: ${settings.warmup} warm-up + ${settings.runs} runs per server, taking turns`);
    const clients = Object.fromEntries(
      TARGETS.map((k) => [k, new SingleClient(urls[k], headers[k])]),
    ) as Record<TargetKey, SingleClient>;
    const samples: Record<TargetKey, number[]> = { oursSession: [], ours: [], peer: [] };
    const cells = Object.fromEntries(
      TARGETS.map((k) => [
        k,
        {
          n: 0,
          median: null,
          p95: null,
          errors: 0,
          firstError: null,
          rows: null,
          bytes: null,
        } as LatencyCell,
      ]),
    ) as Record<TargetKey, LatencyCell>;
    try {
      for (let i = 0; i < settings.warmup + settings.runs; i++)
        for (const k of TARGETS) {
          const outcome = await clients[k].post(bodyFor(k, pattern)).catch((error: unknown) => {
            serverGone();
            throw error;
          });
          const cell = cells[k];
          if (outcome.error) {
            cell.errors++;
            if (!cell.firstError) {
              cell.firstError = outcome.error;
              say(`  ${TARGET_LABELS[k]}: ERROR ${outcome.error}`);
            }
            continue;
          }
          if (cell.rows === null) {
            cell.rows = rowsIn(outcome.data);
            cell.bytes = outcome.bytes;
          }
          if (i >= settings.warmup) samples[k].push(outcome.ms);
        }
    } finally {
      for (const c of Object.values(clients)) c.close();
    }
    for (const k of TARGETS) {
      const s = summarize(samples[k]);
      Object.assign(cells[k], { n: s.n, median: s.n ? s.median : null, p95: s.n ? s.p95 : null });
    }
    const row: LatencyRow = {
      pattern: key,
      title: pattern.title,
      targets: cells,
      ratio: {
        oursSession: ratio(cells.oursSession.median, cells.peer.median),
        ours: ratio(cells.ours.median, cells.peer.median),
      },
    };
    latency.push(row);
    say(
      `  ${TARGETS.map((k) => `${TARGET_LABELS[k]} ${fmt(cells[k].median)} / ${fmt(cells[k].p95)} ms (${cells[k].rows ?? '?'} rows${cells[k].errors ? `, ${cells[k].errors} ERRORS` : ''})`).join(' | ')}` +
        ` | ours/PG ${fmt(row.ratio.oursSession)}×`,
    );
  }

  // ---- closed-loop load, interleaved: ours + session, PostGraphile, ours without session ------
  const order: TargetKey[] = ['oursSession', 'peer', 'ours'];
  const rounds: Record<string, Record<TargetKey, LoadRun[]>> = {};
  for (const key of LOAD_PATTERNS) rounds[key] = { oursSession: [], ours: [], peer: [] };
  let done = 0;
  for (let r = 1; r <= settings.rounds; r++)
    for (const key of LOAD_PATTERNS)
      for (const k of order) {
        serverGone();
        done++;
        say(
          `load ${done}/${loadRuns}: round ${r}/${settings.rounds}, ${key}, ${TARGET_LABELS[k]} — ${settings.connections} connections, ${settings.seconds} s` +
            ` (${duration((loadRuns - done + 1) * (settings.seconds + SETTLE_S))} of load left)`,
        );
        const run = await runLoad({
          graphqlUrl: urls[k],
          headers: headers[k],
          body: bodyFor(k, PATTERNS[key]),
          connections: settings.connections,
          seconds: settings.seconds,
          peerDir: PEER_DIR,
        });
        (rounds[key] as Record<TargetKey, LoadRun[]>)[k].push(run);
        await new Promise((r) => setTimeout(r, SETTLE_S * 1000));
        say(
          `  ${fmt(run.requestsPerSecond)} req/s, p50 ${fmt(run.latencyMs.p50)} ms, p95 ${fmt(run.latencyMs.p95)} ms, ` +
            (run.errors
              ? `${run.errors} ERRORS (GraphQL ${run.graphqlErrors}, non-2xx ${run.non2xx}, transport ${run.transportErrors})`
              : 'no errors'),
        );
      }
  serverGone();
  const loadAfter = loadAvg();

  const load: LoadRow[] = LOAD_PATTERNS.map((key) => {
    const byTarget = rounds[key] as Record<TargetKey, LoadRun[]>;
    const cell = (runs: LoadRun[]): LoadCell => ({
      rounds: runs,
      requestsPerSecond: median(runs.map((x) => x.requestsPerSecond)),
      p50: median(runs.map((x) => x.latencyMs.p50).filter((x) => !Number.isNaN(x))),
      p95: median(runs.map((x) => x.latencyMs.p95).filter((x) => !Number.isNaN(x))),
      errors: runs.reduce((a, x) => a + x.errors, 0),
      graphqlErrors: runs.reduce((a, x) => a + x.graphqlErrors, 0),
      non2xx: runs.reduce((a, x) => a + x.non2xx, 0),
      transportErrors: runs.reduce((a, x) => a + x.transportErrors, 0),
    });
    const targets = {
      oursSession: cell(byTarget.oursSession),
      ours: cell(byTarget.ours),
      peer: cell(byTarget.peer),
    };
    return {
      pattern: key,
      title: PATTERNS[key].title,
      targets,
      ratio: {
        oursSession: ratio(targets.oursSession.requestsPerSecond, targets.peer.requestsPerSecond),
        ours: ratio(targets.ours.requestsPerSecond, targets.peer.requestsPerSecond),
      },
    };
  });

  const errors =
    latency.reduce((a, row) => a + TARGETS.reduce((b, k) => b + row.targets[k].errors, 0), 0) +
    load.reduce((a, row) => a + TARGETS.reduce((b, k) => b + row.targets[k].errors, 0), 0);
  const cpus = os.cpus();
  const results: PeerResults = {
    kind: 'bench-peer',
    version: 1,
    date: new Date().toISOString(),
    verification,
    elapsedSeconds: Math.round(elapsedSeconds()),
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
      os: `${os.type()} ${os.release()}`,
      loadBefore,
      loadAfter,
      commit,
      oursNode: process.version,
      peerNode: peerNodeVersion,
      postgres,
    },
    settings,
    peer: {
      postgraphile: version('postgraphile'),
      connectionFilter: version('postgraphile-plugin-connection-filter'),
      autocannon: version('autocannon'),
      index: INDEX_SQL,
    },
    latency,
    load,
    errors,
  };

  const markdown = renderPeerMarkdown(results);
  mkdirSync(outDir, { recursive: true });
  const jsonFile = path.join(outDir, 'RESULTS.json');
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(outDir, 'RESULTS.md'), markdown);
  process.stdout.write(`\n${markdown}\n`);
  say(`results: ${path.join(outDir, 'RESULTS.md')} and RESULTS.json`);
  if (errors) say(`WARNING: ${errors} answers were not clean (non-2xx or GraphQL errors): see the ⚠ rows`);
}

try {
  await main();
  await cleanup();
  say(`done in ${Math.round(elapsedSeconds())} s`);
} catch (error) {
  if (interrupted) await new Promise(() => undefined); // the signal handler cleans up and exits
  process.stderr.write(
    `\nbench:peer failed: ${error instanceof BenchError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  await cleanup();
  process.exit(1);
}
