/** REPORT.md from the measured results (report.json holds the same data, unrounded). */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BENCH_DIR, growthSection } from './growth-report.js';
import { PEER_DIR, peerSection } from './peer/report.js';
import type { LoadResult } from './load.js';
import type { CpuPerRequest } from './meter.js';
import type { BackgroundLoad } from './procstat.js';
import type { MemoryStats } from './ipc.js';
import type { MachineInfo } from './machine.js';
import type { Sizes } from './prepare.js';
import type { ExplainResult } from './sql-probe.js';
import { fmt, type Summary } from './stats.js';

const PEER_NO_CACHE_JSON = path.join(PEER_DIR, 'no-cache', 'RESULTS.json');

export interface PatternResult {
  key: string;
  title: string;
  /** What the seed design claimed for this pattern. */
  claim: string | null;
  /** PostGraphile 5 on the plain mirror, measured on this machine (from the issue). */
  postgraphile: string | null;
  target: { ms: number; label: string } | null;
  warmup: number;
  iterations: number;
  graphql: Summary | null;
  perPage?: { pages: number; graphql: Summary; sqlMedian: number | null };
  rows: number;
  bytes: number | null;
  sql: Summary | null;
  sqlMethod: string;
  explain: ExplainResult | null;
  /** One request's statements as the service timed them. */
  serverStatements: { sql: string; ms: number; rows: number | null }[];
  /** Whether EXPLAIN covered every statement (else the limiting factor uses the service's timings). */
  explainCoversAll: boolean;
  /** How busy the machine was with other work while this pattern was timed. */
  background: BackgroundLoad | null;
  /** CPU one timed run cost the server, the PostgreSQL backends and the client (reads only). */
  cpuPerRun: CpuPerRequest | null;
  /** Every statement of the captured request, verbatim with its parameters (report.json only). */
  capturedSql: { text: string; values: unknown[] }[];
  ratio: number | null;
  met: boolean | null;
  limiting: string;
  notes: string[];
}

export interface Report {
  startedAt: string;
  durationSeconds: number;
  sizes: Sizes;
  prepared: {
    reused: boolean;
    reason: string;
    seconds: number;
    seedPhasesMs: Record<string, number | undefined>;
    seedMs: number;
  };
  machine: MachineInfo;
  options: {
    iterations: number;
    warmup: number;
    explainIterations: number;
    loadSeconds: number;
    connections: number;
    workerCounts: number[];
    only: string[] | null;
  };
  session: { id: string; owner: string; drafts: number };
  server: { mode: string; idleRssMb: number; finalRssMb: number; memory: MemoryStats[] };
  backgroundBefore: BackgroundLoad | null;
  patterns: PatternResult[];
  loads: LoadResult[];
}

const ms = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${fmt(v)} ms`);
const yesNo = (v: boolean | null): string => (v === null ? '—' : v ? '**met**' : '**missed**');
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

interface TargetLine {
  what: string;
  target: string;
  measured: string;
  met: boolean | null;
}

export function targetLines(report: Report): TargetLine[] {
  const lines: TargetLine[] = [];
  const p = (key: string) => report.patterns.find((r) => r.key === key);
  for (const r of report.patterns) {
    if (!r.target) continue;
    lines.push({
      what: r.key,
      target: `${r.target.ms} ms median`,
      measured: ms(r.graphql?.median ?? r.sql?.median),
      met: r.met,
    });
  }
  const grid = p('grid');
  if (grid?.ratio !== null && grid?.ratio !== undefined)
    lines.push({
      what: 'grid GraphQL/SQL',
      target: '≤ 2×',
      measured: `${grid.ratio.toFixed(2)}×`,
      met: grid.ratio <= 2,
    });
  const rpsTargets: Record<string, number> = { 'grid-100': 350, kpiSummary: 700 };
  for (const l of report.loads) {
    const [what = '', deployment = ''] = l.title.split(' · ');
    const rps = rpsTargets[what];
    if (rps === undefined) continue;
    const errors = l.errors + l.timeouts + l.non2xx + l.graphqlErrors;
    lines.push({
      what: `load ${what} (${deployment})`,
      target: `≥ ${rps} req/s at ${l.connections} connections, 0 errors`,
      measured: `${fmt(l.requestsPerSecond)} req/s, ${errors} errors`,
      met: l.requestsPerSecond >= rps && errors === 0,
    });
  }
  // Memory per deployment: every process of the server (a cluster's primary included).
  const deployments = new Map<string, number>();
  for (const l of report.loads) {
    const deployment = l.title.split(' · ')[1] ?? '?';
    deployments.set(deployment, Math.max(deployments.get(deployment) ?? 0, l.resources.serverRssMaxMb));
  }
  deployments.set('1 process', Math.max(deployments.get('1 process') ?? 0, report.server.finalRssMb));
  for (const [deployment, rss] of deployments)
    lines.push({
      what: `server RSS, ${deployment} (max during any run)`,
      target: '≤ 400 MB',
      measured: `${fmt(rss)} MB`,
      met: rss <= 400,
    });
  return lines;
}

export function writeReport(file: string, report: Report): void {
  const m = report.machine;
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines);
  const scaleNote =
    report.sizes.records === 1_000_000
      ? ''
      : ` — **not the reference scale (1,000,000); numbers are not comparable to the targets**`;
  push(
    '# PFA Vanguard benchmark report',
    '',
    `Generated by \`npm run bench\` (bench/run.ts) on ${report.startedAt.slice(0, 19).replace('T', ' ')} UTC, commit \`${m.commit}\`, in ${fmt(report.durationSeconds)} s.`,
    '',
    `Data: ${report.sizes.records.toLocaleString('en-US')} records over ${report.sizes.orgs} organizations, ${report.sizes.drafts.toLocaleString('en-US')} drafts over ${Math.ceil(report.sizes.drafts / 50)} sessions, ${report.sizes.committed.toLocaleString('en-US')} committed${scaleNote}. ` +
      `Database ${report.prepared.reused ? `${report.prepared.reason}` : `built in ${fmt(report.prepared.seconds)} s (${report.prepared.reason}; seed ${fmt(report.prepared.seedMs / 1000)} s)`}.`,
    '',
    '## Machine',
    '',
    ...(report.backgroundBefore
      ? [
          `- Before the patterns, the machine was ${fmt(report.backgroundBefore.machineBusyPercent)}% busy over 3 s, ${fmt(report.backgroundBefore.othersPercent)}% of it other processes${report.backgroundBefore.othersPercent >= 10 ? ' — **the machine was shared with other work: wall-clock latencies are inflated; see CPU per run**' : ''}.`,
        ]
      : []),
    `- ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB memory, ${m.os}, Node ${m.node}`,
    `- ${m.postgres} on the same machine (127.0.0.1)`,
    "- PostgreSQL settings that differ from the built-in defaults (`pg_settings` seen by a benchmark connection, `source` other than default/client/session). The bench sets those with source `database` (ALTER DATABASE, bench/prepare.ts `DATABASE_SETTINGS`); the others are the server's configuration file:",
    '',
    '| setting | value | unit | source |',
    '|---|---|---|---|',
    ...m.pgSettings.map((s) => `| ${s.name} | ${cell(s.setting)} | ${s.unit ?? ''} | ${s.source} |`),
    '',
    '## Method',
    '',
    `- The service runs as a child process (bench/server.ts), assembled like src/main.ts: \`NODE_ENV=production\`, \`AUTH_JWT_SECRET\` and \`DATABASE_URL\` set, pool of \`DB_POOL_MAX\` (10) connections, jobs disabled (\`DisabledJobGateway\`), queries through ${process.env.FAST_EXECUTION === 'false' ? 'graphql-js only (\`FAST_EXECUTION=false\`)' : 'the compiled executor (\`FAST_EXECUTION\` default; graphql-js for what it does not handle)'}. Single-request latency is measured on one process; the load runs on one process and on a cluster of ${report.options.workerCounts.filter((w) => w > 1).join('/') || '—'} (node:cluster), both reported.`,
    `- Client: one keep-alive HTTP connection from the bench process; every request is a GraphQL POST with an editor token (HS256, signed with the server's secret) of ${report.session.owner} and \`X-Session-Id: ${report.session.id}\` (a seeded session of HOLNG with ${report.session.drafts} drafts), so every read goes through the session merge. The clock stops after the whole body is received and \`JSON.parse\`d; any HTTP or GraphQL error aborts the run. No response caching exists in the product or the bench.`,
    `- Reads: ${report.options.warmup} warm-up runs excluded, then ${report.options.iterations} timed runs. Mutations: 2 warm-up runs excluded, then ${report.options.iterations} runs, each on a fresh session, its rows deleted (and the table vacuumed) between runs so every run starts from the same data.`,
    `- SQL: the statements the service sent for one request, captured by wrapping its pg client's \`query\`, replayed verbatim (same text, same parameters) on one direct pg connection from the bench process — round trip including the driver's row parsing, up to ${report.options.iterations} runs within a time budget per pattern (at least 5) after warm-up — and under \`EXPLAIN (ANALYZE, BUFFERS)\` (up to ${report.options.explainIterations} runs, at least 3; median execution time, inside a rolled-back transaction). The run counts are in the details. Exceptions are stated per pattern.`,
    `- Load: autocannon, ${report.options.connections} connections, ${report.options.loadSeconds} s per run, after warm-up requests; every body is checked for GraphQL errors; p95 is computed from every response time. CPU and RSS of the server processes from /proc, sampled every 250 ms; PostgreSQL CPU is the benchmark database\'s backends; client CPU is the bench process (autocannon shares the two cores); "other processes" is the rest of the machine\'s busy time.`,
    '',
    '## Results',
    '',
    '| # | pattern | seed claimed | GraphQL median | GraphQL p95 | raw SQL median | EXPLAIN median | GraphQL/SQL | rows | target | met? |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  report.patterns.forEach((r, i) => {
    push(
      `| ${i + 1} | **${r.key}** — ${cell(r.title)} | ${r.claim ?? '—'}${r.postgraphile ? ` (PostGraphile ${r.postgraphile})` : ''} | ${ms(r.graphql?.median)}${r.perPage ? `<br>per page ${ms(r.perPage.graphql.median)}` : ''} | ${ms(r.graphql?.p95)}${r.perPage ? `<br>per page ${ms(r.perPage.graphql.p95)}` : ''} | ${ms(r.sql?.median)}${r.perPage?.sqlMedian ? `<br>per page ${ms(r.perPage.sqlMedian)}` : ''} | ${ms(r.explain?.executionMs.median)} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} | ${r.rows.toLocaleString('en-US')} | ${r.target?.label ?? '—'} | ${yesNo(r.met)} |`,
    );
  });
  push(
    '',
    'Raw SQL and EXPLAIN run counts adapt to a time budget per pattern (at least 5 and 3 runs; n is in the details below).',
    '',
    '### CPU per run and other work on the machine',
    '',
    'CPU is measured from /proc while the timed runs execute, divided by the number of runs: it does not grow when other processes compete for the cores, wall time does. "Other processes" is the share of both cores used by processes that are neither the bench, its server nor the benchmark database\'s backends.',
    '',
    '| pattern | server CPU / run | PostgreSQL CPU / run | client CPU / run | machine busy | other processes |',
    '|---|---|---|---|---|---|',
  );
  for (const r of report.patterns) {
    const c = r.cpuPerRun;
    const b = r.background;
    push(
      `| ${r.key} | ${c ? ms(c.serverMs) : '—'} | ${c ? ms(c.postgresMs) : '—'} | ${c ? ms(c.clientMs) : '—'} | ${b ? `${fmt(b.machineBusyPercent)}%` : '—'} | ${b ? `${fmt(b.othersPercent)}%` : '—'} |`,
    );
  }
  push('', '### Targets', '', '| what | target | measured | met? |', '|---|---|---|---|');
  for (const t of targetLines(report)) push(`| ${t.what} | ${t.target} | ${t.measured} | ${yesNo(t.met)} |`);

  push(
    '',
    '## Load',
    '',
    '| request | server | req/s | p50 | p95 | p99 | errors | non-2xx | GraphQL errors | server CPU | PostgreSQL CPU | client CPU | machine busy | other processes | server RSS max |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const l of report.loads) {
    const [what, server] = l.title.split(' · ');
    push(
      `| ${what} | ${server} | ${fmt(l.requestsPerSecond)} | ${ms(l.latencyMs.p50)} | ${ms(l.latencyMs.p95)} | ${ms(l.latencyMs.p99)} | ${l.errors + l.timeouts} | ${l.non2xx} | ${l.graphqlErrors} | ${fmt(l.resources.serverCpuPercent)}% | ${fmt(l.resources.postgresCpuPercent)}% | ${fmt(l.resources.clientCpuPercent)}% | ${fmt(l.resources.machineBusyPercent)}% | ${fmt(l.resources.othersPercent)}% | ${fmt(l.resources.serverRssMaxMb)} MB |`,
    );
  }
  push(
    '',
    "CPU columns are % of one core (200% = both cores): server = its processes, PostgreSQL = the benchmark database's backends, client = the bench process running autocannon. Machine busy and other processes (work that is not the benchmark's) are % of both cores. For scale: PostGraphile V5 on the same database and machine, in the side-by-side section below.",
    `Server RSS: ${fmt(report.server.idleRssMb)} MB after the load runs, ${fmt(report.server.finalRssMb)} MB at the end (single process).`,
  );
  // bench/REPORT.md only (not the partial reports under bench/.cache/): the last `npm run bench:growth`.
  const main = path.resolve(path.dirname(file)) === BENCH_DIR;
  // ... and the last `npm run bench:peer` (this service beside PostGraphile, interleaved rounds).
  if (main) push('', peerSection(2).trimEnd());
  // ... and, when there is one, the same run with our response cache off (every request runs its
  // statements): `RESPONSE_CACHE_MB=0 PEER_OUT=bench/peer/no-cache npm run bench:peer`.
  if (main && existsSync(PEER_NO_CACHE_JSON)) push('', peerSection(2, PEER_NO_CACHE_JSON).trimEnd());
  const growth = main ? growthSection() : null;
  if (growth) push('', growth.trimEnd());
  push(
    '',
    '## Per pattern: limiting factor and plan',
    '',
    'The limiting factor splits the GraphQL median into: SQL execution (EXPLAIN ANALYZE), planning, wire + driver (raw round trip minus both), and HTTP + GraphQL + resolvers + JSON (GraphQL median minus the raw round trip).',
  );
  for (const r of report.patterns) {
    push('', `### ${r.key}`, '', r.title, '', `- **Limiting factor:** ${r.limiting}`);
    push(`- SQL measured as: ${r.sqlMethod}`);
    if (r.graphql)
      push(
        `- GraphQL: median ${ms(r.graphql.median)}, p95 ${ms(r.graphql.p95)}, min ${ms(r.graphql.min)}, max ${ms(r.graphql.max)} (${r.graphql.n} runs after ${r.warmup} warm-up)${r.bytes ? `, ${Math.round(r.bytes / 1024)} KiB response` : ''}`,
      );
    if (r.sql)
      push(`- Raw SQL round trip: median ${ms(r.sql.median)}, p95 ${ms(r.sql.p95)} (${r.sql.n} runs)`);
    for (const n of r.notes) push(`- ${n}`);
    if (r.explain) {
      push(
        `- EXPLAIN ANALYZE: execution median ${ms(r.explain.executionMs.median)}, planning median ${ms(r.explain.planningMs.median)} (${r.explain.executionMs.n} runs)`,
      );
      for (const s of r.explain.perStatement) {
        push(
          `  - \`${cell(s.sql.slice(0, 160))}\` — ${ms(s.executionMedianMs)}, ${s.rows} rows; buffers hit ${s.plan.sharedHitBlocks}, read ${s.plan.sharedReadBlocks}${s.plan.tempBlocks ? `, temp ${s.plan.tempBlocks}` : ''}${s.plan.jitMs ? `; JIT ${fmt(s.plan.jitMs)} ms` : ''}`,
          `    - plan: ${cell(s.plan.shape)}`,
          `    - indexes: ${s.plan.indexes.length ? s.plan.indexes.join(', ') : 'none'}${s.plan.seqScans.length ? `; seq scans: ${s.plan.seqScans.join(', ')}` : ''}`,
        );
      }
    }
    if (r.serverStatements.length) {
      push(`- Statements of one request as the service timed them:`);
      for (const s of r.serverStatements)
        push(`  - ${ms(s.ms)} (${s.rows ?? '?'} rows) \`${cell(s.sql.slice(0, 120))}\``);
    }
  }
  push('');
  writeFileSync(file, out.join('\n'));
}
