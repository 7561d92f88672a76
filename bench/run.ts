/**
 * npm run bench [-- --records N] [--fresh] [--iterations N] [--warmup N] [--load-seconds N]
 *                  [--connections N] [--workers 1,2] [--cpu-prof] [--skip-load] [--only a,b]
 *
 * Prepares (or reuses) the pfa_bench database at scale, starts the service in production mode as
 * a child process, measures every query pattern through HTTP + GraphQL beside the same SQL run
 * directly, loads the grid and the KPIs with autocannon, and writes REPORT.md + report.json
 * (bench/ at full scale, bench/.cache/ for a partial or smaller run unless --report-dir says).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { signToken } from '../src/auth/tokens.js';
import { createDb, createPool } from '../src/db/database.js';
import { DEFAULT_JOB_SETTINGS } from '../src/jobs/job-deps.js';
import { DraftsRepository } from '../src/repositories/drafts.repository.js';
import { DraftsService } from '../src/services/drafts.service.js';
import { WriteBackRepository } from '../src/repositories/write-back.repository.js';
import { captureStatements } from './capture.js';
import { GraphqlClient } from './graphql-client.js';
import { runLoad, type LoadResult } from './load.js';
import { machineInfo, type MachineInfo } from './machine.js';
import {
  AGGREGATE_QUERY,
  BOUNDS_QUERY,
  BULK_MUTATION,
  FIELD_VALUES_QUERY,
  SLIP_FILTER,
  COMMIT_MUTATION,
  GRID_FILTER,
  KPI_QUERY,
  ORG,
  RECORDS_QUERY,
  SEARCH_FILTER,
  SIMPLE_FILTER,
  TIMELINE_BARS_QUERY,
  TIMELINE_QUERY,
  dayBefore,
  forecastWindow,
  type Connection,
  type TimelineBarsAnswer,
} from './patterns.js';
import { BENCH_SESSION_PREFIX, prepareDatabase, removeBenchSessions, type Prepared } from './prepare.js';
import { Meter } from './meter.js';
import { rssMb } from './procstat.js';
import { elapsedSeconds, say } from './progress.js';
import { writeReport, type PatternResult, type Report } from './report.js';
import { startServer, type ServerHandle } from './server-handle.js';
import type { CapturedStatement } from './capture.js';
import { explainSequence, sqlOneLine, timeSequence, toStatements } from './sql-probe.js';
import { fmt, summarize } from './stats.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Thrown to roll a Kysely transaction back on purpose. */
class RolledBack extends Error {}
const FULL_SCALE = 1_000_000;

// ------------------------------------------------------------------------------------------ options

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: String(FULL_SCALE) },
    fresh: { type: 'boolean', default: false },
    iterations: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    'explain-iterations': { type: 'string', default: '10' },
    'load-seconds': { type: 'string', default: '20' },
    connections: { type: 'string', default: '16' },
    workers: { type: 'string', default: '1,2' },
    'cpu-prof': { type: 'boolean', default: false },
    'skip-load': { type: 'boolean', default: false },
    only: { type: 'string' },
    database: { type: 'string', default: process.env.BENCH_DATABASE ?? 'pfa_bench' },
    'report-dir': { type: 'string' },
  },
  strict: true,
});

const int = (name: string, raw: string | undefined, min: number): number => {
  const n = Number(String(raw).replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} must be a whole number ≥ ${min}, got ${raw}`);
  return n;
};

const records = int('records', args.records, 10_000);
const scale = records / FULL_SCALE;
const iterations = int('iterations', args.iterations, 1);
const warmup = int('warmup', args.warmup, 0);
const explainIterations = int('explain-iterations', args['explain-iterations'], 1);
const loadSeconds = int('load-seconds', args['load-seconds'], 1);
const connections = int('connections', args.connections, 1);
const workerCounts = (args.workers ?? '1').split(',').map((w) => int('workers', w, 1));
const only = args.only ? new Set(args.only.split(',')) : null;
const wanted = (key: string): boolean => !only || only.has(key);
const database = args.database ?? 'pfa_bench';
if (!/^[a-z_][a-z0-9_]*$/.test(database))
  throw new Error(`--database must be a plain identifier, got ${database}`);
const adminUrl = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const reportDir = path.resolve(
  args['report-dir'] ?? (records === FULL_SCALE && !only ? HERE : path.join(HERE, '.cache')),
);
const cacheDir = path.join(HERE, '.cache');
const runId = `${Date.now().toString(36)}`;

const sizes = {
  records,
  orgs: 12,
  drafts: Math.round(10_000 * scale),
  committed: Math.round(1_000 * scale),
};

// ------------------------------------------------------------------------------------------ helpers

const JWT_SECRET = randomBytes(24).toString('base64url');

/** Headers of an editor acting as `userId` in session `sessionId`: a signed token and X-Session-Id. */
async function authHeaders(
  userId: string,
  orgs: string[],
  sessionId: string,
): Promise<Record<string, string>> {
  const token = await signToken(JWT_SECRET, { sub: userId, orgs, role: 'editor' }, '2h');
  return { authorization: `Bearer ${token}`, 'x-session-id': sessionId };
}

async function clientFor(
  url: string,
  userId: string,
  orgs: string[],
  sessionId: string,
): Promise<GraphqlClient> {
  return new GraphqlClient(url, await authHeaders(userId, orgs, sessionId));
}

function limitingFactor(r: PatternResult): string {
  const gq = r.graphql?.median ?? null;
  const rt = r.sql?.median ?? null;
  const exec = r.explain?.executionMs.median ?? null;
  const planning = r.explain?.planningMs.median ?? 0;
  if (rt === null) return 'n/a';
  const parts: [string, number][] = [];
  let top = '';
  if (!r.explainCoversAll && r.serverStatements.length) {
    // EXPLAIN covers part of the work only: split by the statements as the service timed them.
    const sqlMs = r.serverStatements.reduce((a, s) => a + s.ms, 0);
    const heaviest = [...r.serverStatements].sort((a, b) => b.ms - a.ms)[0];
    parts.push(['SQL statements (timed in the service)', sqlMs]);
    if (gq !== null)
      parts.push(['HTTP + GraphQL + resolvers + JS between statements', Math.max(0, gq - sqlMs)]);
    if (heaviest) top = `; heaviest statement ${fmt(heaviest.ms)} ms: ${heaviest.sql.slice(0, 70)}…`;
  } else if (exec !== null) {
    parts.push(['SQL execution', exec]);
    parts.push(['planning', planning]);
    parts.push(['wire + driver row parsing', Math.max(0, rt - exec - planning)]);
    if (gq !== null) parts.push(['HTTP + GraphQL + resolvers + JSON', Math.max(0, gq - rt)]);
  } else {
    parts.push(['SQL round trip', rt]);
    if (gq !== null) parts.push(['HTTP + GraphQL + resolvers + JSON', Math.max(0, gq - rt)]);
  }
  const total = parts.reduce((a, [, v]) => a + v, 0) || 1;
  const sorted = [...parts].sort((a, b) => b[1] - a[1]);
  const jit = r.explain?.perStatement.reduce((a, s) => a + s.plan.jitMs, 0) ?? 0;
  const detail = sorted
    .filter(([, v]) => v / total >= 0.05)
    .map(([k, v]) => `${k} ${fmt(v)} ms (${Math.round((100 * v) / total)}%)`)
    .join(', ');
  const findings = [...new Set(r.explain?.perStatement.flatMap((s) => s.plan.findings) ?? [])];
  return `${sorted[0]?.[0] ?? '?'} — ${detail}${top}${jit > 0 ? `; JIT ${fmt(jit)} ms inside execution` : ''}${
    findings.length ? `. Plan: ${findings.join('; ')}` : ''
  }`;
}

function finish(r: PatternResult): PatternResult {
  r.ratio = r.graphql && r.sql ? r.graphql.median / r.sql.median : null;
  if (r.target) {
    const value = r.graphql?.median ?? r.sql?.median ?? null;
    r.met = value === null ? null : value <= r.target.ms;
  }
  r.limiting = limitingFactor(r);
  const g = r.graphql
    ? `GraphQL median ${fmt(r.graphql.median)} ms p95 ${fmt(r.graphql.p95)} ms`
    : 'GraphQL n/a';
  const s = r.sql ? `SQL ${fmt(r.sql.median)} ms` : 'SQL n/a';
  const e = r.explain ? `EXPLAIN ${fmt(r.explain.executionMs.median)} ms` : '';
  say(
    `  ${r.key}: ${g} · ${s} · ${e} · rows ${r.rows}${r.target ? ` · target ≤ ${r.target.ms} ms ${r.met ? 'met' : 'MISSED'}` : ''}`,
  );
  return r;
}

function newResult(init: Pick<PatternResult, 'key' | 'title'> & Partial<PatternResult>): PatternResult {
  return {
    claim: null,
    postgraphile: null,
    target: null,
    warmup,
    iterations,
    graphql: null,
    rows: 0,
    bytes: null,
    sql: null,
    sqlMethod: '',
    explain: null,
    serverStatements: [],
    explainCoversAll: true,
    background: null,
    cpuPerRun: null,
    capturedSql: [],
    ratio: null,
    met: null,
    limiting: '',
    notes: [],
    ...init,
  };
}

const serverView = (captured: readonly CapturedStatement[]) =>
  captured.map((c) => ({ sql: sqlOneLine(c.text, 160), ms: c.ms, rows: c.rows }));

/**
 * Runs of the SQL side within a time budget: as many as the budget allows from an estimate of one
 * run, at least `min`, at most `iterations` (the report states n for every column).
 */
function runsWithin(budgetMs: number, estimateMs: number, min: number): number {
  return Math.max(min, Math.min(iterations, Math.floor(budgetMs / Math.max(1, estimateMs))));
}
const SQL_BUDGET_MS = 8_000;
/** Direct (SQL-side) runs of a mutation: each needs fresh drafts and a clean-up, so a budget of their own. */
const MUTATION_SQL_BUDGET_MS = 20_000;
const EXPLAIN_BUDGET_MS = 5_000;

/** Warm-up, timed iterations, one captured request, then the captured SQL replayed and explained. */
async function measureRead(
  server: ServerHandle,
  direct: pg.Client,
  base: PatternResult,
  once: () => Promise<{ ms: number; rows: number; bytes: number }>,
): Promise<PatternResult> {
  say(`pattern ${base.key}: ${base.title}`);
  const samples: number[] = [];
  let rows = 0;
  let bytes = 0;
  let metering: Awaited<ReturnType<typeof watch.start>> | null = null;
  for (let i = 0; i < warmup + iterations; i++) {
    if (i === warmup) metering = await watch.start();
    const r = await once();
    if (i >= warmup) samples.push(r.ms);
    rows = r.rows;
    bytes = r.bytes;
  }
  const metered = metering ? await metering.stop(iterations) : null;
  const { statements: captured } = await server.capture(once);
  const statements = toStatements(captured);
  const graphql = summarize(samples);
  const sqlRuns = runsWithin(SQL_BUDGET_MS, graphql.median, 5);
  const sql = await timeSequence(direct, statements, sqlRuns, Math.min(warmup, 2));
  const explain = await explainSequence(direct, statements, runsWithin(EXPLAIN_BUDGET_MS, graphql.median, 3));
  return finish({
    ...base,
    graphql,
    rows,
    bytes,
    sql: sql.summary,
    sqlMethod: `${statements.length} statement(s) captured from the service's pg client during one request, replayed verbatim`,
    explain,
    serverStatements: serverView(captured),
    capturedSql: captured.map((c) => ({ text: c.text, values: c.values })),
    background: metered?.background ?? null,
    cpuPerRun: metered?.cpu ?? null,
  });
}

/**
 * How busy the machine is with other work while a pattern is timed (the bench, its server
 * processes and the benchmark database's backends are "own", everything else is not), and the
 * CPU each run cost the server, its PostgreSQL backends and the client.
 */
const watch = (() => {
  let meter: Meter | null = null;
  return {
    configure(pids: () => number[], client: pg.Client) {
      meter = new Meter(pids, client);
    },
    async start() {
      if (!meter) throw new Error('watch used before configure');
      return meter.start();
    },
  };
})();

/**
 * Autovacuum is off on this server: without this, every iteration would probe the dead rows of
 * the previous ones (a commit's also in the pending overlay and the KPI log: 64,000 dead overlay
 * rows made commitDrafts of 1,070 drafts 735 ms instead of ~430).
 */
async function vacuumMutated(pool: pg.Pool): Promise<void> {
  await pool.query('VACUUM pfa_modification, pfa_modification_event, pfa_pending_record, pfa_kpi_delta');
}

/** Removes a session's modifications (the session stays), then vacuums. */
async function emptySession(pool: pg.Pool, sessionId: string): Promise<void> {
  await pool.query('DELETE FROM pfa_modification_event WHERE session_id = $1', [sessionId]);
  await pool.query('DELETE FROM pfa_modification WHERE session_id = $1', [sessionId]);
  await vacuumMutated(pool);
}

async function deleteSession(pool: pg.Pool, sessionId: string): Promise<void> {
  await emptySession(pool, sessionId);
  await pool.query('DELETE FROM pfa_session WHERE id = $1', [sessionId]);
}

// ------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const startedAt = new Date();
  say(
    `bench: ${records.toLocaleString('en-US')} records (${sizes.drafts} drafts, ${sizes.committed} committed), ` +
      `${iterations} iterations after ${warmup} warm-up, database ${database}`,
  );
  const prepared: Prepared = await prepareDatabase({
    adminUrl,
    database,
    fresh: args.fresh ?? false,
    ...sizes,
  });
  const url = prepared.url;

  const direct = new pg.Client({ connectionString: url, application_name: 'pfa-bench-sql' });
  await direct.connect();
  const pool = createPool({ connectionString: url, max: 2, applicationName: 'pfa-bench-setup' });
  const db = createDb(pool);
  const servers: ServerHandle[] = [];
  try {
    const machine: MachineInfo = await machineInfo(direct);
    say(
      `machine: ${machine.cpus} cores, ${machine.memoryGiB} GiB, ${machine.postgres.split(' on ')[0]}, commit ${machine.commit}`,
    );

    // The session whose drafts every read sees: the organization's first seeded session and its owner.
    const { rows: sessionRows } = await direct.query<{ id: string; owner_user_id: string; drafts: string }>(
      `SELECT s.id, s.owner_user_id, count(d.id) AS drafts FROM pfa_session s
       JOIN pfa_modification d ON d.organization_id = s.organization_id AND d.session_id = s.id AND d.sync_state = 'draft'
       WHERE s.organization_id = $1 AND s.id NOT LIKE $2 GROUP BY s.id, s.owner_user_id ORDER BY s.id LIMIT 1`,
      [ORG, `${BENCH_SESSION_PREFIX}%`],
    );
    const session = sessionRows[0];
    if (!session) throw new Error(`no seeded session with drafts in ${ORG}`);
    const { rows: orgRows } = await direct.query<{ id: string; n: string }>(
      'SELECT organization_id AS id, count(*) AS n FROM pfa_mirror GROUP BY 1 ORDER BY 2 DESC',
    );
    const orgs = orgRows.map((o) => o.id);
    const orgRecords = Number(orgRows.find((o) => o.id === ORG)?.n ?? 0);
    say(
      `session: ${session.id} of ${session.owner_user_id} in ${ORG} (${session.drafts} drafts); ${ORG} has ${orgRecords} records`,
    );

    const timelineTarget = Math.min(20_000, Math.floor(orgRecords / 10));
    const bulkTarget = Math.min(20_000, Math.floor(orgRecords / 10));
    const commitTarget = Math.min(1_000, Math.floor(orgRecords / 100));
    const timelineWindow = await forecastWindow(direct, '2025-01-01', timelineTarget);
    const bulkWindow = await forecastWindow(direct, '2026-01-01', bulkTarget);
    const commitWindow = await forecastWindow(direct, '2026-09-01', commitTarget);

    const server = await startServer({
      workers: 1,
      databaseUrl: url,
      jwtSecret: JWT_SECRET,
      logFile: path.join(cacheDir, 'server-1.log'),
      ...(args['cpu-prof'] ? { cpuProfDir: path.join(cacheDir, `prof-${runId}`) } : {}),
    });
    servers.push(server);
    say(
      `server: 1 process (pid ${server.pids.join(', ')}) at ${server.url}, NODE_ENV=production, jobs disabled`,
    );
    watch.configure(() => servers.flatMap((s) => s.pids), direct);
    const idleMeter = await watch.start();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const idle = (await idleMeter.stop(1)).background;
    say(
      `machine before the patterns: ${fmt(idle?.machineBusyPercent)}% busy over 3 s (other processes ${fmt(idle?.othersPercent)}%)`,
    );
    if (idle && idle.othersPercent >= 10)
      say('WARNING: the machine is busy with other work: latencies will be inflated');
    const reader = await clientFor(server.url, session.owner_user_id, orgs, session.id);
    const results: PatternResult[] = [];
    const records1 = (variables: Record<string, unknown>) => async () => {
      const r = await reader.post<Connection>(RECORDS_QUERY, { org: ORG, ...variables });
      return { ms: r.ms, rows: r.data.pfaRecords.nodes.length, bytes: r.bytes };
    };

    // ---------------------------------------------------------------- 1. grid
    if (wanted('grid'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'grid',
            title: `Grid: ${ORG} + category + source + forecast range, FORECAST_START_ASC, first 1000, 20 fields`,
            claim: '32 ms',
            postgraphile: '56 ms',
            target: { ms: 40, label: '≤ 40 ms median; GraphQL/SQL ≤ 2×' },
          }),
          records1({ filter: GRID_FILTER, orderBy: ['FORECAST_START_ASC'], first: 1000 }),
        ),
      );

    // ---------------------------------------------------------------- 2. simple filter
    if (wanted('simple'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'simple',
            title: `Simple filter: ${ORG} + category + source, default order (id), first 1000, 20 fields`,
            claim: '~30 ms (seed table)',
          }),
          records1({ filter: SIMPLE_FILTER, first: 1000 }),
        ),
      );

    // ---------------------------------------------------------------- 3. timeline viewport
    if (wanted('timeline')) {
      const filter = { forecastStart: { gte: timelineWindow.gte, lt: timelineWindow.lt } };
      const pageTimes: number[] = [];
      let lastPages: number[] = [];
      const walk = async () => {
        let after: string | null = null;
        let rows = 0;
        let bytes = 0;
        let ms = 0;
        const pages: number[] = [];
        for (;;) {
          const r: Awaited<ReturnType<typeof reader.post<Connection>>> = await reader.post<Connection>(
            TIMELINE_QUERY,
            {
              org: ORG,
              filter,
              after,
            },
          );
          pages.push(r.ms);
          ms += r.ms;
          rows += r.data.pfaRecords.nodes.length;
          bytes += r.bytes;
          after = r.data.pfaRecords.pageInfo.endCursor;
          if (!r.data.pfaRecords.pageInfo.hasNextPage) break;
        }
        lastPages = pages;
        return { ms, rows, bytes };
      };
      const timed = async () => {
        const r = await walk();
        pageTimes.push(...lastPages);
        return r;
      };
      const result = await measureRead(
        server,
        direct,
        newResult({
          key: 'timeline',
          title: `Timeline viewport: ${ORG}, forecastStart in [${timelineWindow.gte}, ${timelineWindow.lt}) (${timelineWindow.expected} live records), slim fields, keyset pages of 1000`,
          claim: '85 ms (20,000 records)',
        }),
        timed,
      );
      // Per page: from the timed walks only (warm-up walks excluded).
      const perWalk = lastPages.length;
      const measuredPages = pageTimes.slice(warmup * perWalk, (warmup + iterations) * perWalk);
      result.perPage = {
        pages: perWalk,
        graphql: summarize(measuredPages),
        sqlMedian: result.sql ? result.sql.median / perWalk : null,
      };
      result.notes.push(
        `${perWalk} pages per walk; the GraphQL and SQL columns are the whole walk; per page: GraphQL median ${fmt(result.perPage.graphql.median)} ms, p95 ${fmt(result.perPage.graphql.p95)} ms; SQL ${fmt(result.perPage.sqlMedian)} ms`,
      );
      say(
        `  timeline per page: median ${fmt(result.perPage.graphql.median)} ms, p95 ${fmt(result.perPage.graphql.p95)} ms over ${perWalk} pages`,
      );
      results.push(result);
    }

    // ---------------------------------------------------------------- 3b. timelineBars (issue 11)
    // The same 20K bars in one request: the window is the viewport, the filter keeps the records
    // the timeline pattern reads (forecast start inside it), so both answer the same bars.
    const barsOnce = (variables: Record<string, unknown>) => async () => {
      const r = await reader.post<TimelineBarsAnswer>(TIMELINE_BARS_QUERY, { org: ORG, ...variables });
      return { ms: r.ms, rows: r.data.timelineBars.count, bytes: r.bytes };
    };
    const viewport = { from: timelineWindow.gte, to: dayBefore(timelineWindow.lt) };
    if (wanted('timeline-bars'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'timeline-bars',
            title: `timelineBars(${ORG}, ${viewport.from} … ${viewport.to}, forecastStart in [${timelineWindow.gte}, ${timelineWindow.lt})) — the timeline's ${timelineWindow.expected} bars in one request, columnar, 10 fields`,
            claim: '85 ms (20,000 records)',
            target: { ms: 85, label: '≤ 85 ms median (issue 11)' },
          }),
          barsOnce({
            ...viewport,
            filter: { forecastStart: { gte: timelineWindow.gte, lt: timelineWindow.lt } },
          }),
        ),
      );
    // Every bar overlapping the viewport (records that started earlier too): more than the
    // maximum at full scale, so this reads the first 50,000 by forecast start (truncated).
    if (wanted('timeline-bars-overlap'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'timeline-bars-overlap',
            title: `timelineBars(${ORG}, ${viewport.from} … ${viewport.to}), no filter: every bar overlapping the viewport, up to the 50,000 maximum, columnar, 10 fields`,
          }),
          barsOnce(viewport),
        ),
      );

    // ---------------------------------------------------------------- 4. KPI
    const kpiOnce = async () => {
      const r = await reader.post<{ kpiSummary: unknown[] }>(KPI_QUERY, { org: ORG });
      return { ms: r.ms, rows: r.data.kpiSummary.length, bytes: r.bytes };
    };
    if (wanted('kpi'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'kpi',
            title: `kpiSummary(${ORG}) with session ${session.id} (${session.drafts} drafts)`,
            claim: '18 ms',
            target: { ms: 15, label: '≤ 15 ms median' },
          }),
          kpiOnce,
        ),
      );

    // ---------------------------------------------------------------- 5. timeline bounds
    if (wanted('bounds'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'bounds',
            title: `timelineBounds(${ORG}) with session ${session.id}`,
            claim: '~10 ms',
            target: { ms: 10, label: '≤ 10 ms median' },
          }),
          async () => {
            const r = await reader.post<{ timelineBounds: unknown }>(BOUNDS_QUERY, { org: ORG });
            return { ms: r.ms, rows: r.data.timelineBounds ? 1 : 0, bytes: r.bytes };
          },
        ),
      );

    // ---------------------------------------------------------------- 5b. questions (issue 12)
    if (wanted('aggregate'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'aggregate',
            title: `pfaAggregate(${ORG}, grid filter, groupBy [CATEGORY]) with session ${session.id} (${session.drafts} drafts)`,
            target: { ms: 50, label: '≤ 50 ms median' },
          }),
          async () => {
            const r = await reader.post<{ pfaAggregate: unknown[] }>(AGGREGATE_QUERY, {
              org: ORG,
              filter: GRID_FILTER,
              groupBy: ['CATEGORY'],
            });
            return { ms: r.ms, rows: r.data.pfaAggregate.length, bytes: r.bytes };
          },
        ),
      );
    if (wanted('field-values'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'field-values',
            title: `fieldValues(${ORG}, CATEGORY), no filter, with session ${session.id}`,
            target: { ms: 30, label: '≤ 30 ms median' },
          }),
          async () => {
            const r = await reader.post<{ fieldValues: unknown[] }>(FIELD_VALUES_QUERY, {
              org: ORG,
              field: 'CATEGORY',
            });
            return { ms: r.ms, rows: r.data.fieldValues.length, bytes: r.bytes };
          },
        ),
      );
    if (wanted('field-values-filtered'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'field-values-filtered',
            title: `fieldValues(${ORG}, MANUFACTURER, filter category + source) with session ${session.id}`,
          }),
          async () => {
            const r = await reader.post<{ fieldValues: unknown[] }>(FIELD_VALUES_QUERY, {
              org: ORG,
              field: 'MANUFACTURER',
              filter: SIMPLE_FILTER,
            });
            return { ms: r.ms, rows: r.data.fieldValues.length, bytes: r.bytes };
          },
        ),
      );
    if (wanted('slip-grid'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'slip-grid',
            title: `Grid with a slip filter: ${ORG} + forecastSlipDays > 30 + forecast range, FORECAST_START_ASC, first 1000, 20 fields`,
            target: { ms: 40, label: '≤ 40 ms median (the grid target)' },
          }),
          records1({ filter: SLIP_FILTER, orderBy: ['FORECAST_START_ASC'], first: 1000 }),
        ),
      );

    // ---------------------------------------------------------------- 6. write-sync selection (SQL only)
    if (wanted('write-sync')) {
      // No GraphQL query reads it: the write-back job claims a batch with WriteBackRepository.claim
      // (committed → syncing, commit order, SKIP LOCKED). Its statement is captured from one call in
      // a rolled-back transaction, then replayed the same way.
      const batch = DEFAULT_JOB_SETTINGS.writeConcurrency * 4;
      say(
        `pattern write-sync: WriteBackRepository.claim(${ORG}, ${batch}) in a rolled-back transaction (SQL only)`,
      );
      const { statements: captured } = await captureStatements(() =>
        db
          .transaction()
          .execute(async (tx) => {
            await new WriteBackRepository(tx).claim(ORG, batch, []);
            throw new RolledBack();
          })
          .catch((error: unknown) => {
            if (!(error instanceof RolledBack)) throw error;
          }),
      );
      const statements = toStatements(captured);
      const metering = await watch.start();
      const sql = await timeSequence(direct, statements, iterations, warmup, { rollback: true });
      const { background } = await metering.stop(iterations + warmup);
      const explain = await explainSequence(direct, statements, explainIterations);
      results.push(
        finish(
          newResult({
            key: 'write-sync',
            title: `Write-sync selection: claim of ${ORG}'s next ${batch} committed changes in commit order (WriteBackRepository.claim), SQL only — no GraphQL query exists for it`,
            claim: '12 ms',
            rows: sql.rows[0] ?? 0,
            sql: sql.summary,
            sqlMethod:
              'the claim statement captured from WriteBackRepository.claim called in the bench process, replayed verbatim, each run inside a rolled-back transaction (BEGIN/ROLLBACK not timed)',
            explain,
            background,
          }),
        ),
      );
    }

    // ---------------------------------------------------------------- 7. JSONB containment search
    if (wanted('search'))
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: 'search',
            title: `dataContains {manufacturer: Caterpillar, category: Earthmoving} in ${ORG}, FORECAST_START_ASC, first 100, 20 fields`,
            claim: '142 ms',
            postgraphile: '89 ms',
            target: { ms: 20, label: '≤ 20 ms median' },
          }),
          records1({ filter: SEARCH_FILTER, orderBy: ['FORECAST_START_ASC'], first: 100 }),
        ),
      );

    // ---------------------------------------------------------------- 8. deep page
    for (const variant of [
      { key: 'deep-page', orderBy: ['FORECAST_START_ASC'], label: 'FORECAST_START_ASC' },
      { key: 'deep-page-id', orderBy: [] as string[], label: 'default order (id)' },
    ]) {
      if (!wanted(variant.key)) continue;
      // Walk 49 pages by their cursors (untimed), then time page 50 itself.
      let after: string | null = null;
      for (let page = 1; page < 50; page++) {
        const r: Awaited<ReturnType<typeof reader.post<Connection>>> = await reader.post<Connection>(
          RECORDS_QUERY,
          {
            org: ORG,
            orderBy: variant.orderBy,
            first: 100,
            after,
          },
        );
        after = r.data.pfaRecords.pageInfo.endCursor;
      }
      results.push(
        await measureRead(
          server,
          direct,
          newResult({
            key: variant.key,
            title: `Deep page: page 50 (rows 4,901–5,000) of ${ORG}'s records by keyset, ${variant.label}, first 100, 20 fields`,
            claim: null,
            target: { ms: 40, label: '≤ 40 ms median' },
          }),
          records1({ orderBy: variant.orderBy, first: 100, after }),
        ),
      );
    }

    // ---------------------------------------------------------------- load (read-only, before any mutation)
    const loads: LoadResult[] = [];
    let idleRssMb = rssMb(server.pids);
    if (!args['skip-load']) {
      const loadTargets = [
        {
          key: 'grid-100',
          query: RECORDS_QUERY,
          variables: { org: ORG, filter: GRID_FILTER, orderBy: ['FORECAST_START_ASC'], first: 100 },
        },
        { key: 'kpiSummary', query: KPI_QUERY, variables: { org: ORG } },
      ];
      // Each process count with the response cache off (the query path), then one process with it
      // on: the load patterns repeat one request, so those rows measure cache hits.
      const deployments = [
        ...workerCounts.map((workers) => ({ workers, cache: false })),
        ...(workerCounts.includes(1) ? [{ workers: 1, cache: true }] : []),
      ];
      for (const { workers, cache } of deployments) {
        const own = workers !== 1 || cache;
        const target = own
          ? await startServer({
              workers,
              databaseUrl: url,
              jwtSecret: JWT_SECRET,
              logFile: path.join(cacheDir, `server-${workers}${cache ? '-cache' : ''}.log`),
              ...(cache ? { env: { RESPONSE_CACHE_MB: '32' } } : {}),
            })
          : server;
        const deployment = `${workers === 1 ? '1 process' : `cluster of ${workers}`}${cache ? ', response cache on' : ''}`;
        if (own) servers.push(target);
        const headers = await authHeaders(session.owner_user_id, orgs, session.id);
        const loader = new GraphqlClient(target.url, headers);
        for (const t of loadTargets) {
          // Warm every worker and its pool before the clock starts (excluded).
          for (let i = 0; i < 5 * workers; i++) await loader.post(t.query, t.variables);
          say(`load: ${t.key}, ${connections} connections, ${loadSeconds} s, ${deployment}`);
          const r = await runLoad({
            title: `${t.key} · ${deployment}`,
            url: target.url,
            headers,
            query: t.query,
            variables: t.variables,
            connections,
            seconds: loadSeconds,
            serverPids: target.pids,
            postgresPids: async () =>
              (
                await direct.query<{ pid: number }>(
                  'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
                )
              ).rows.map((r) => r.pid),
          });
          loads.push(r);
          say(
            `  ${r.title}: ${fmt(r.requestsPerSecond)} req/s, p50 ${fmt(r.latencyMs.p50)} ms, p95 ${fmt(r.latencyMs.p95)} ms, p99 ${fmt(r.latencyMs.p99)} ms, ` +
              `errors ${r.errors + r.timeouts + r.non2xx + r.graphqlErrors}, server CPU ${fmt(r.resources.serverCpuPercent)}%, PostgreSQL CPU ${fmt(r.resources.postgresCpuPercent)}%, other processes ${fmt(r.resources.othersPercent)}% of the machine, ` +
              `RSS max ${fmt(r.resources.serverRssMaxMb)} MB`,
          );
        }
        loader.close();
        if (own) {
          await target.stop();
          servers.splice(servers.indexOf(target), 1);
        }
      }
      idleRssMb = rssMb(server.pids);
    }

    // ---------------------------------------------------------------- 9. mutations, on fresh sessions
    const editorFor = (sessionId: string) => clientFor(server.url, session.owner_user_id, orgs, sessionId);
    const bulkInput = (window: { gte: string; lt: string }) => ({
      organizationId: ORG,
      filter: { forecastStart: { gte: window.gte, lt: window.lt } },
      shiftForecastDays: 7,
      reason: 'bench: forecast slip',
    });
    if (wanted('bulk')) {
      const title = `bulkUpdatePfaRecords: shift forecast +7 days of ${ORG} records with forecastStart in [${bulkWindow.gte}, ${bulkWindow.lt}) (${bulkWindow.expected}), fresh session each run`;
      say(`pattern bulk: ${title}`);
      const samples: number[] = [];
      let affected = 0;
      const bulkOnce = async (sessionId: string, capture: boolean) => {
        const editor = await editorFor(sessionId);
        const run = () =>
          editor.post<{ bulkUpdatePfaRecords: { affectedCount: number } }>(BULK_MUTATION, {
            input: bulkInput(bulkWindow),
          });
        const out = capture ? await server.capture(run) : { result: await run(), statements: [] };
        editor.close();
        affected = out.result.data.bulkUpdatePfaRecords.affectedCount;
        return out;
      };
      const metering = await watch.start();
      for (let i = 0; i < 2 + iterations; i++) {
        const sessionId = `${BENCH_SESSION_PREFIX}bulk-${runId}-${i}`;
        const { result } = await bulkOnce(sessionId, false);
        if (i >= 2) samples.push(result.ms);
        await deleteSession(pool, sessionId);
      }
      // Setup and clean-up run inside the loop: only the background load is reported, not CPU per run.
      const { background } = await metering.stop(2 + iterations);
      // One more run with the SQL captured; its statement is then replayed on the same (emptied) session.
      const captureSession = `${BENCH_SESSION_PREFIX}bulk-${runId}-capture`;
      const { statements: captured } = await bulkOnce(captureSession, true);
      await emptySession(pool, captureSession);
      const statements = toStatements(captured);
      const sqlSamples: number[] = [];
      const mutationSqlRuns = runsWithin(MUTATION_SQL_BUDGET_MS, summarize(samples).median, 5);
      for (let i = 0; i < mutationSqlRuns; i++) {
        const t0 = performance.now();
        for (const s of statements) await direct.query(s.text, s.values);
        sqlSamples.push(performance.now() - t0);
        await emptySession(pool, captureSession);
      }
      const explain = await explainSequence(direct, statements, Math.min(explainIterations, 5), () =>
        vacuumMutated(pool),
      );
      await deleteSession(pool, captureSession);
      results.push(
        finish(
          newResult({
            key: 'bulk',
            title,
            warmup: 2,
            target: { ms: 1000, label: '≤ 1 s median' },
            graphql: summarize(samples),
            rows: affected,
            sql: summarize(sqlSamples),
            sqlMethod:
              'the statement captured from the service, replayed verbatim (autocommit) on the same session emptied before each run; EXPLAIN inside a rolled-back transaction',
            explain,
            serverStatements: serverView(captured),
            background,
          }),
        ),
      );
    }

    if (wanted('commit')) {
      const title = `commitDrafts of ${commitWindow.expected} drafts (made by a bulk shift of forecastStart in [${commitWindow.gte}, ${commitWindow.lt})), fresh session each run`;
      say(`pattern commit: ${title}`);
      const setup = async (sessionId: string) => {
        const editor = await editorFor(sessionId);
        const r = await editor.post<{ bulkUpdatePfaRecords: { affectedCount: number } }>(BULK_MUTATION, {
          input: bulkInput(commitWindow),
        });
        return { editor, drafts: r.data.bulkUpdatePfaRecords.affectedCount };
      };
      const commitOnce = async (sessionId: string, capture: boolean) => {
        const { editor, drafts } = await setup(sessionId);
        const run = () =>
          editor.post<{ commitDrafts: { committed: unknown[]; conflicted: unknown[] } }>(COMMIT_MUTATION, {
            org: ORG,
          });
        const out = capture ? await server.capture(run) : { result: await run(), statements: [] };
        editor.close();
        const { committed, conflicted } = out.result.data.commitDrafts;
        if (committed.length !== drafts || conflicted.length !== 0)
          throw new Error(
            `commit of ${drafts} drafts: ${committed.length} committed, ${conflicted.length} conflicted`,
          );
        return { ...out, drafts };
      };
      const samples: number[] = [];
      let committedCount = 0;
      const metering = await watch.start();
      for (let i = 0; i < 2 + iterations; i++) {
        const sessionId = `${BENCH_SESSION_PREFIX}commit-${runId}-${i}`;
        const { result, drafts } = await commitOnce(sessionId, false);
        if (i >= 2) samples.push(result.ms);
        committedCount = drafts;
        // The commit made these visible to the whole organization: remove them so every run (and every
        // later pattern) sees the prepared data.
        await deleteSession(pool, sessionId);
      }
      const { background } = await metering.stop(2 + iterations);
      const captureSession = `${BENCH_SESSION_PREFIX}commit-${runId}-capture`;
      const { statements: captured } = await commitOnce(captureSession, true);
      await deleteSession(pool, captureSession);
      // SQL side: the repository's commit (the same statements; its ids differ per run) from this
      // process over a direct pg pool, on drafts made the same way.
      const drafts = new DraftsService(db, new DraftsRepository(db));
      const sqlSamples: number[] = [];
      const mutationSqlRuns = runsWithin(MUTATION_SQL_BUDGET_MS, summarize(samples).median, 5);
      for (let i = 0; i < mutationSqlRuns; i++) {
        const sessionId = `${BENCH_SESSION_PREFIX}commit-${runId}-sql-${i}`;
        const { editor } = await setup(sessionId);
        editor.close();
        const t0 = performance.now();
        const r = await drafts.commit(
          { organizationId: ORG, sessionId, userId: session.owner_user_id },
          null,
        );
        sqlSamples.push(performance.now() - t0);
        if (r.committed.length !== committedCount)
          throw new Error(`direct commit: ${r.committed.length} committed`);
        await deleteSession(pool, sessionId);
      }
      // EXPLAIN of the statements that do not name per-run ids: the locking read of the session's drafts.
      const explainSession = `${BENCH_SESSION_PREFIX}commit-${runId}-explain`;
      const lockingRead = toStatements(captured).filter((s) => /FOR UPDATE/i.test(s.text));
      const { editor } = await setup(explainSession);
      editor.close();
      const explain = await explainSequence(
        direct,
        lockingRead.map((s) => ({
          text: s.text,
          values: s.values.map((v) => (v === captureSession ? explainSession : v)),
        })),
        Math.min(explainIterations, 5),
      );
      await deleteSession(pool, explainSession);
      results.push(
        finish(
          newResult({
            key: 'commit',
            title,
            warmup: 2,
            target: { ms: 500, label: '≤ 500 ms median' },
            graphql: summarize(samples),
            rows: committedCount,
            sql: summarize(sqlSamples),
            sqlMethod:
              "DraftsService.commit (the service's statements; draft ids differ per run) called from the bench process over a direct pg pool; EXPLAIN of its locking read only",
            explain,
            explainCoversAll: false,
            serverStatements: serverView(captured),
            background,
          }),
        ),
      );
    }

    // ---------------------------------------------------------------- 10. refresh
    if (wanted('refresh')) {
      say('pattern refresh: SELECT refresh_pfa_materialized_views()');
      const refreshIterations = Math.min(iterations, 5);
      const metering = await watch.start();
      const sql = await timeSequence(
        direct,
        [{ text: 'SELECT refresh_pfa_materialized_views()', values: [] }],
        refreshIterations,
        1,
      );
      const { background, cpu } = await metering.stop(refreshIterations + 1);
      // The views' defining queries (what the refresh computes; CONCURRENTLY then diffs the result).
      const defs = await direct.query<{ def: string }>(
        `SELECT pg_get_viewdef(c.oid) AS def FROM pg_class c WHERE c.relname IN ('pfa_kpi_summary', 'pfa_timeline_bounds') ORDER BY c.relname`,
      );
      const explain = await explainSequence(
        direct,
        defs.rows.map((r) => ({ text: r.def.replace(/;\s*$/, ''), values: [] })),
        3,
      );
      results.push(
        finish(
          newResult({
            key: 'refresh',
            title:
              'refresh_pfa_materialized_views() (both caches, CONCURRENTLY), SQL only — refreshKpis only queues a job',
            claim: '~5 s (seed: "5s refresh time")',
            warmup: 1,
            iterations: refreshIterations,
            rows: 1,
            sql: sql.summary,
            sqlMethod: `the function called directly (${refreshIterations} runs after 1 warm-up); EXPLAIN of the two views' defining queries`,
            explain,
            explainCoversAll: false,
            background,
            cpuPerRun: cpu,
          }),
        ),
      );
    }

    // ---------------------------------------------------------------- 11. a read-sync page (SQL only)
    if (wanted('sync-page')) {
      // What a read sync page does to the mirror when PEMS changed its records: one UPDATE of
      // SYNC_PAGE rows (the default page size of the read sync), whose statement triggers keep the
      // pending overlay and the KPI log (migration 20261206T0700: they once paired old and new
      // rows in a nested loop, 291 s for 20,000 records). Each record's forecast end moves a day,
      // so every record's KPI state moves; rolled back after each run.
      const SYNC_PAGE = 5_000;
      say(
        `pattern sync-page: UPDATE of ${SYNC_PAGE} ${ORG} records' data, as a read sync page (rolled back)`,
      );
      const statements = [
        {
          text: `UPDATE pfa_mirror m
            SET data = jsonb_set(m.data, '{forecastEnd}', to_jsonb((m.forecast_end + 1)::text)),
                pems_version = m.pems_version || '+', last_synced_at = now()
            WHERE m.organization_id = $1 AND m.id IN (
              SELECT id FROM pfa_mirror WHERE organization_id = $1 AND removed_from_pems_at IS NULL
                AND forecast_end IS NOT NULL ORDER BY id LIMIT $2)`,
          values: [ORG, SYNC_PAGE],
        },
      ];
      const syncIterations = Math.min(iterations, 5);
      const metering = await watch.start();
      const sql = await timeSequence(direct, statements, syncIterations, 1, { rollback: true });
      const { background } = await metering.stop(syncIterations + 1);
      const explain = await explainSequence(direct, statements, Math.min(explainIterations, 3));
      const triggers = (explain.perStatement[0]?.triggers ?? [])
        .map((t) => `${t.name} ${fmt(t.ms)} ms`)
        .join(', ');
      results.push(
        finish(
          newResult({
            key: 'sync-page',
            title: `Read-sync page: UPDATE of ${SYNC_PAGE} ${ORG} records whose data PEMS changed (forecastEnd + 1 day each), with the triggers that keep the pending overlay and the KPI log, SQL only — rolled back`,
            warmup: 1,
            iterations: syncIterations,
            target: { ms: 2000, label: '≤ 2 s median (linear in the page: ~0.4 ms per record)' },
            rows: SYNC_PAGE,
            sql: sql.summary,
            sqlMethod: `the statement run over a direct connection in a rolled-back transaction (BEGIN/ROLLBACK not timed); triggers in the last EXPLAIN: ${triggers || 'none reported'}`,
            explain,
            background,
          }),
        ),
      );
      // Rolled-back rows are dead rows in the ranges later reads scan (this machine may run without
      // autovacuum): cleared now.
      await direct.query('VACUUM (ANALYZE) pfa_mirror, pfa_kpi_delta, pfa_pending_record, pfa_org_change');
    }

    // ---------------------------------------------------------------- report
    const finalRssMb = rssMb(server.pids);
    const memory = await server.memory();
    for (const s of servers.splice(0)) await s.stop();
    reader.close();
    const removed = await removeBenchSessions(pool);
    if (removed > 0) say(`cleanup: removed ${removed} leftover modifications`);

    const report: Report = {
      startedAt: startedAt.toISOString(),
      durationSeconds: elapsedSeconds(),
      sizes,
      prepared: {
        reused: prepared.reused,
        reason: prepared.reason,
        seconds: prepared.seconds,
        seedPhasesMs: prepared.seedPhasesMs ?? prepared.marker.seedPhasesMs,
        seedMs: prepared.marker.seedMs,
      },
      machine,
      options: {
        iterations,
        warmup,
        explainIterations,
        loadSeconds,
        connections,
        workerCounts,
        only: only ? [...only] : null,
      },
      session: { id: session.id, owner: session.owner_user_id, drafts: Number(session.drafts) },
      server: {
        mode: 'child process (bench/server.ts), NODE_ENV=production, DisabledJobGateway',
        idleRssMb,
        finalRssMb,
        memory,
      },
      backgroundBefore: idle,
      patterns: results,
      loads,
    };
    mkdirSync(reportDir, { recursive: true });
    writeFileSync(path.join(reportDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeReport(path.join(reportDir, 'REPORT.md'), report);
    say(
      `report: ${path.relative(process.cwd(), path.join(reportDir, 'REPORT.md'))} and report.json (${fmt(elapsedSeconds())} s in all)`,
    );
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    await direct.end().catch(() => undefined);
    await db.destroy().catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
