/**
 * How cost grows with the data (issue 11 goal 5): the pure half of `npm run bench:growth`.
 *
 * From the report.json of one `npm run bench` per record count (bench/.cache/growth-<N>/), builds
 * the growth data (bench/growth.json), the chart (bench/growth.svg, hand-written SVG: median
 * latency per pattern and load req/s against the record count, log-scale x) and the markdown
 * (bench/GROWTH.md; `growthSection()` for REPORT.md). Nothing here runs a benchmark.
 *
 * The reports are read structurally (the few fields used below), so this module does not import
 * bench/report.ts, which includes `growthSection()`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { planOrganizations } from '../src/domain/generator.js';
import { fmt } from './stats.js';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const GROWTH_JSON = path.join(BENCH_DIR, 'growth.json');
export const GROWTH_SVG = 'growth.svg';
export const GROWTH_MD = 'GROWTH.md';
/** The organization every pattern reads (bench/patterns.ts ORG). */
export const GROWTH_ORG = 'HOLNG';
/** A pattern whose median grew by at most this factor from the smallest to the largest size is flat. */
export const FLAT_RATIO = 1.5;

// ------------------------------------------------------------------------------------------ plan

const FULL_SCALE = 1_000_000;
/** Databases other engineers use: only ever run at the reference scale, never with --fresh. */
const SHARED_DATABASES = new Set(['pfa_bench', 'pfa_bench2']);

export const DEFAULT_GROWTH_SIZES = [100_000, 1_000_000, 3_000_000];
/** Grid, KPI and bounds (should stay flat in the organization's size) and the patterns that read more of it. */
export const DEFAULT_GROWTH_PATTERNS = ['grid', 'kpi', 'bounds', 'timeline-bars', 'search', 'deep-page'];

/** The database of one size: pfa_bench at 1,000,000, else pfa_bench_<label> (100k, 3m, 2_5m). */
export function defaultDatabase(records: number): string {
  if (records === FULL_SCALE) return 'pfa_bench';
  return `pfa_bench_${sizeLabel(records).toLowerCase().replace(/\./g, '_')}`;
}

/** Parses --databases "N=name,N=name" (N in plain digits): the database of each size. */
export function parseDatabases(raw: string | undefined): Map<number, string> {
  const out = new Map<number, string>();
  for (const part of (raw ?? '').split(',').filter(Boolean)) {
    const m = /^(\d+)=([a-z_][a-z0-9_]*)$/.exec(part.trim());
    if (!m) throw new Error(`--databases expects N=name[,N=name], got ${part}`);
    out.set(Number(m[1]), m[2] as string);
  }
  return out;
}

/** Why running `records` on `database` must be refused (a shared database at another scale or rebuilt), or null. */
export function databaseProblem(records: number, database: string, fresh: boolean): string | null {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) return `${database} is not a plain identifier`;
  const shared = SHARED_DATABASES.has(database) || !database.startsWith('pfa_bench_');
  if (shared && records !== FULL_SCALE)
    return `${database} is not a per-size database (pfa_bench_*): it may only run at ${FULL_SCALE.toLocaleString('en-US')} records (bench/prepare.ts would rebuild it at ${records.toLocaleString('en-US')})`;
  if (shared && fresh) return `--fresh would rebuild ${database}, which other engineers use`;
  return null;
}

// ------------------------------------------------------------------------------------------ input

interface SummaryLike {
  n: number;
  median: number;
  p95: number;
}

interface PlanLike {
  shape: string;
  seqScans: string[];
  sharedHitBlocks: number;
  sharedReadBlocks: number;
}

/** The fields of a bench/report.ts `PatternResult` this module reads. */
export interface GrowthInputPattern {
  key: string;
  title: string;
  graphql: SummaryLike | null;
  sql: SummaryLike | null;
  rows: number;
  explain: { perStatement: { plan: PlanLike }[] } | null;
  background: { othersPercent: number } | null;
  limiting: string;
}

/** The fields of a bench/report.ts `LoadResult` this module reads. */
export interface GrowthInputLoad {
  title: string;
  connections: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  graphqlErrors: number;
  resources: { othersPercent: number };
}

/** The fields of a bench/report.ts `Report` (report.json) this module reads. */
export interface GrowthInputReport {
  startedAt: string;
  durationSeconds: number;
  sizes: { records: number; orgs: number; drafts: number; committed: number };
  prepared: { reused: boolean; seconds: number };
  machine: { commit: string; cpus: number };
  options: { iterations: number; warmup: number; loadSeconds: number; connections: number };
  session: { drafts: number };
  backgroundBefore: { othersPercent: number } | null;
  patterns: GrowthInputPattern[];
  loads: GrowthInputLoad[];
}

// ------------------------------------------------------------------------------------------ data

export interface GrowthSize {
  records: number;
  orgs: number;
  /** HOLNG's records at this size (the seed's plan, src/domain/generator.ts planOrganizations). */
  orgRecords: number;
  /** Drafts of the session every read merges. */
  sessionDrafts: number;
  /** Seeded drafts and committed changes over all organizations (they grow with the records). */
  drafts: number;
  committed: number;
  startedAt: string;
  commit: string;
  durationSeconds: number;
  /** Whether the database was reused, else the seconds it took to build. */
  prepared: string;
  iterations: number;
  warmup: number;
  /** Share of both cores other processes used before the patterns (null when not measured). */
  othersPercent: number | null;
}

export interface GrowthCell {
  median: number;
  p95: number;
  n: number;
  /** 'graphql' for patterns measured through the API, 'sql' for SQL-only ones. */
  source: 'graphql' | 'sql';
  rows: number;
  /** Shared buffers one EXPLAIN ANALYZE run touched (hit + read), summed over the statements. */
  buffers: number | null;
  /** Of those, read from outside PostgreSQL's shared buffers. */
  readBlocks: number | null;
  /** Rows each relation read sequentially (rows kept + removed by the filter), summed over its scans. */
  seqScans: Record<string, number>;
  /** The plan's shape without row counts (to tell a changed plan from more rows). */
  plan: string | null;
  othersPercent: number | null;
  limiting: string;
}

export interface GrowthPattern {
  key: string;
  /** Title at the largest size. */
  title: string;
  /** One cell per entry of `GrowthData.sizes` (null: not measured at that size). */
  cells: (GrowthCell | null)[];
}

export interface GrowthLoadCell {
  requestsPerSecond: number;
  p50: number;
  p95: number;
  errors: number;
  connections: number;
  seconds: number;
  othersPercent: number;
}

export interface GrowthLoad {
  /** The load's title: target · deployment (e.g. "grid-100 · 1 process"). */
  key: string;
  cells: (GrowthLoadCell | null)[];
}

export interface GrowthData {
  kind: 'bench-growth';
  version: 1;
  generatedAt: string;
  sizes: GrowthSize[];
  patterns: GrowthPattern[];
  loads: GrowthLoad[];
}

const normalizePlan = (shape: string): string => shape.replace(/ rows=\S+/g, '');

/** "pfa_modification rows=50 removed=60" (bench/sql-probe.ts) → { pfa_modification: 110 }, summed per relation. */
export function seqScanRows(scans: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of scans) {
    const relation = s.split(' ')[0] ?? '?';
    const count = (name: string) => Number(new RegExp(`\\b${name}=(\\d+)`).exec(s)?.[1] ?? 0);
    out[relation] = (out[relation] ?? 0) + count('rows') + count('removed');
  }
  return out;
}

function cellOf(p: GrowthInputPattern): GrowthCell | null {
  const summary = p.graphql ?? p.sql;
  if (!summary || !Number.isFinite(summary.median)) return null;
  const plans = p.explain?.perStatement.map((s) => s.plan) ?? [];
  return {
    median: summary.median,
    p95: summary.p95,
    n: summary.n,
    source: p.graphql ? 'graphql' : 'sql',
    rows: p.rows,
    buffers: plans.length ? plans.reduce((a, s) => a + s.sharedHitBlocks + s.sharedReadBlocks, 0) : null,
    readBlocks: plans.length ? plans.reduce((a, s) => a + s.sharedReadBlocks, 0) : null,
    seqScans: seqScanRows(plans.flatMap((s) => s.seqScans)),
    plan: plans.length ? plans.map((s) => normalizePlan(s.shape)).join(' ; ') : null,
    othersPercent: p.background?.othersPercent ?? null,
    limiting: p.limiting,
  };
}

function holngRecords(records: number, orgs: number): number {
  try {
    return planOrganizations(records, orgs).find((o) => o.id === GROWTH_ORG)?.records ?? 0;
  } catch {
    return 0;
  }
}

/**
 * The growth data of several bench reports: sorted by record count (one report per count: the
 * latest when two share one), patterns and loads in the order the reports list them.
 */
export function growthData(reports: readonly GrowthInputReport[], generatedAt = new Date()): GrowthData {
  const bySize = new Map<number, GrowthInputReport>();
  for (const r of reports) {
    const seen = bySize.get(r.sizes.records);
    if (!seen || seen.startedAt < r.startedAt) bySize.set(r.sizes.records, r);
  }
  const ordered = [...bySize.values()].sort((a, b) => a.sizes.records - b.sizes.records);
  const patternKeys: string[] = [];
  const loadKeys: string[] = [];
  for (const r of ordered) {
    for (const p of r.patterns) if (!patternKeys.includes(p.key)) patternKeys.push(p.key);
    for (const l of r.loads) if (!loadKeys.includes(l.title)) loadKeys.push(l.title);
  }
  return {
    kind: 'bench-growth',
    version: 1,
    generatedAt: generatedAt.toISOString(),
    sizes: ordered.map((r) => ({
      records: r.sizes.records,
      orgs: r.sizes.orgs,
      orgRecords: holngRecords(r.sizes.records, r.sizes.orgs),
      sessionDrafts: r.session.drafts,
      drafts: r.sizes.drafts,
      committed: r.sizes.committed,
      startedAt: r.startedAt,
      commit: r.machine.commit,
      durationSeconds: r.durationSeconds,
      prepared: r.prepared.reused ? 'reused' : `built in ${fmt(r.prepared.seconds)} s`,
      iterations: r.options.iterations,
      warmup: r.options.warmup,
      othersPercent: r.backgroundBefore?.othersPercent ?? null,
    })),
    patterns: patternKeys.map((key) => {
      const found = ordered.map((r) => r.patterns.find((p) => p.key === key) ?? null);
      return {
        key,
        title: found.filter((p) => p !== null).at(-1)?.title ?? key,
        cells: found.map((p) => (p ? cellOf(p) : null)),
      };
    }),
    loads: loadKeys.map((key) => ({
      key,
      cells: ordered.map((r) => {
        const l = r.loads.find((x) => x.title === key);
        return l
          ? {
              requestsPerSecond: l.requestsPerSecond,
              p50: l.latencyMs.p50,
              p95: l.latencyMs.p95,
              errors: l.errors + l.timeouts + l.non2xx + l.graphqlErrors,
              connections: l.connections,
              seconds: l.seconds,
              othersPercent: l.resources.othersPercent,
            }
          : null;
      }),
    })),
  };
}

/** The report.json of every bench/.cache/growth-<N>/ directory under `cacheDir` (optionally only some sizes). */
export function readGrowthReports(
  cacheDir: string,
  sizes?: readonly number[],
): { file: string; report: GrowthInputReport }[] {
  if (!existsSync(cacheDir)) return [];
  const out: { file: string; report: GrowthInputReport }[] = [];
  for (const name of readdirSync(cacheDir)) {
    const m = /^growth-(\d+)$/.exec(name);
    if (!m) continue;
    if (sizes && !sizes.includes(Number(m[1]))) continue;
    const file = path.join(cacheDir, name, 'report.json');
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8')) as GrowthInputReport;
    if (!report.sizes || !Array.isArray(report.patterns) || !Array.isArray(report.loads))
      throw new Error(`${file} is not a bench report`);
    out.push({ file, report });
  }
  return out.sort((a, b) => a.report.sizes.records - b.report.sizes.records);
}

// ------------------------------------------------------------------------------------------ labels

/** 100000 → "100K", 1000000 → "1M", 2500000 → "2.5M", 30000 → "30K". */
export function sizeLabel(records: number): string {
  const short = (v: number) => String(Number(v.toPrecision(3)));
  if (records >= 1_000_000) return `${short(records / 1_000_000)}M`;
  if (records >= 1_000) return `${short(records / 1_000)}K`;
  return String(records);
}

const num = (v: number): string => v.toLocaleString('en-US');
const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

// ------------------------------------------------------------------------------------------ verdicts

export interface GrowthVerdict {
  /** Median at the largest size over the median at the smallest (both measured), or null. */
  ratio: number | null;
  /** Exponent e of median ∝ (organization size)^e between those two sizes, or null. */
  exponent: number | null;
  flat: boolean | null;
  note: string;
}

/** Whether a pattern stayed flat from the smallest to the largest size it was measured at, and the evidence. */
export function patternVerdict(data: GrowthData, pattern: GrowthPattern): GrowthVerdict {
  const measured = pattern.cells
    .map((c, i) => ({ c, size: data.sizes[i] }))
    .filter((x): x is { c: GrowthCell; size: GrowthSize } => x.c !== null && x.size !== undefined);
  const first = measured[0];
  const last = measured.at(-1);
  if (!first || !last || first === last)
    return { ratio: null, exponent: null, flat: null, note: 'measured at one size only' };
  const ratio = last.c.median / first.c.median;
  const orgRatio = first.size.orgRecords > 0 ? last.size.orgRecords / first.size.orgRecords : null;
  const exponent = orgRatio && orgRatio > 1 ? Math.log(ratio) / Math.log(orgRatio) : null;
  const flat = ratio <= FLAT_RATIO;
  const from = sizeLabel(first.size.records);
  const to = sizeLabel(last.size.records);
  const grew = orgRatio ? ` while ${GROWTH_ORG} grew ×${fmt(orgRatio)}` : '';
  const parts: string[] = [];
  if (flat)
    parts.push(`flat: median ${fmt(first.c.median)} → ${fmt(last.c.median)} ms (×${fmt(ratio)})${grew}`);
  else {
    const kind =
      exponent === null
        ? 'grows'
        : exponent >= 0.8
          ? 'grows with the organization (about linearly)'
          : exponent >= 0.4
            ? 'grows with the organization (sublinearly)'
            : 'grows slowly';
    parts.push(
      `**${kind}**: median ${fmt(first.c.median)} → ${fmt(last.c.median)} ms (×${fmt(ratio)})${grew}${exponent === null ? '' : `, ≈ size^${exponent.toFixed(2)}`}`,
    );
  }
  // The evidence for why (or why not), read off the reports.
  if (first.c.rows !== last.c.rows) parts.push(`answers ${num(first.c.rows)} → ${num(last.c.rows)} rows`);
  if (first.c.buffers !== null && last.c.buffers !== null && first.c.buffers > 0) {
    const b = last.c.buffers / first.c.buffers;
    const why =
      b <= 1.25
        ? 'the same work per request'
        : orgRatio && b >= Math.sqrt(orgRatio)
          ? 'the plan reads more of the data as it grows'
          : 'somewhat more work per request';
    parts.push(
      `EXPLAIN touches ${num(first.c.buffers)} → ${num(last.c.buffers)} buffers (×${fmt(b)}): ${why}`,
    );
  }
  if (last.c.readBlocks && last.c.buffers && last.c.readBlocks / last.c.buffers >= 0.05)
    parts.push(`at ${to} ${num(last.c.readBlocks)} of them come from outside shared buffers (cache misses)`);
  // Sequential scans at the largest size, and how many rows they read at the smallest.
  const scans = Object.entries(last.c.seqScans)
    .filter(([, rows]) => rows > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([relation, rows]) => {
      const before = first.c.seqScans[relation];
      return `${relation} ${before === undefined ? `(not at ${from}) ` : `${num(before)} → `}${num(rows)} rows`;
    });
  if (scans.length) parts.push(`sequential scans read ${scans.join(', ')}`);
  if (first.c.plan !== null && last.c.plan !== null && first.c.plan !== last.c.plan)
    parts.push(`the plan differs between ${from} and ${to} (see their reports)`);
  const busy = measured.filter((x) => (x.c.othersPercent ?? 0) >= 10).map((x) => sizeLabel(x.size.records));
  if (busy.length)
    parts.push(
      `other work used ≥ 10% of the machine while it was timed at ${busy.join(', ')}: wall time inflated`,
    );
  return { ratio, exponent, flat, note: parts.join('; ') };
}

// ------------------------------------------------------------------------------------------ markdown

/** The growth section as markdown; `level` is the heading level of its title, `svgHref` the chart's link. */
export function renderGrowthMarkdown(data: GrowthData, level = 2, svgHref = GROWTH_SVG): string {
  const h = (d: number) => '#'.repeat(level + d);
  const sizes = data.sizes;
  const out: string[] = [];
  out.push(`${h(0)} How cost grows with the data`, '');
  if (!sizes.length) {
    out.push('No growth runs yet: `npm run bench:growth` (bench/growth.ts).', '');
    return `${out.join('\n')}\n`;
  }
  const first = sizes[0] as GrowthSize;
  const last = sizes.at(-1) as GrowthSize;
  const commits = [...new Set(sizes.map((s) => s.commit))];
  out.push(
    `Generated by \`npm run bench:growth\` (bench/growth.ts): one \`npm run bench\` per record count (${sizes.map((s) => num(s.records)).join(', ')}), ` +
      `each on its own database, ${sizes.map((s) => s.startedAt.slice(0, 16).replace('T', ' ')).join(' / ')} UTC, commit ${commits.map((c) => `\`${c}\``).join(', ')}. ` +
      `Every read is of ${GROWTH_ORG}, ${fmt((100 * first.orgRecords) / Math.max(1, first.records))}% of the records at every size, so the organization grows with the data. ` +
      `A pattern is flat when its median grew at most ×${FLAT_RATIO} from ${sizeLabel(first.records)} to ${sizeLabel(last.records)}; "size^e" is the exponent of median ∝ (${GROWTH_ORG}'s records)^e between the two.`,
    '',
    `![Median latency per pattern and load throughput against the record count](${svgHref})`,
    '',
    `| records | ${GROWTH_ORG} records | drafts / committed (all organizations) | session drafts | runs (warm-up) | database | other work before | duration |`,
    '|---|---|---|---|---|---|---|---|',
    ...sizes.map(
      (s) =>
        `| ${num(s.records)} | ${num(s.orgRecords)} | ${num(s.drafts)} / ${num(s.committed)} | ${num(s.sessionDrafts)} | ${s.iterations} (${s.warmup}) | ${s.prepared} | ${s.othersPercent === null ? 'n/a' : `${fmt(s.othersPercent)}%`} | ${fmt(s.durationSeconds)} s |`,
    ),
    '',
    `${h(1)} Latency per pattern`,
    '',
    'Median / p95 in ms (GraphQL, or SQL for SQL-only patterns).',
    '',
    `| pattern | ${sizes.map((s) => sizeLabel(s.records)).join(' | ')} | ${sizeLabel(last.records)} / ${sizeLabel(first.records)} median | flat? |`,
    `|---|${sizes.map(() => '---|').join('')}---|---|`,
  );
  const verdicts = data.patterns.map((p) => ({ p, v: patternVerdict(data, p) }));
  for (const { p, v } of verdicts)
    out.push(
      `| **${p.key}**${p.cells.some((c) => c?.source === 'sql') ? ' (SQL)' : ''} | ${p.cells
        .map((c) => (c ? `${fmt(c.median)} / ${fmt(c.p95)}` : '—'))
        .join(
          ' | ',
        )} | ${v.ratio === null ? '—' : `×${fmt(v.ratio)}`} | ${v.flat === null ? '—' : v.flat ? 'flat' : '**no**'} |`,
    );
  if (data.loads.length) {
    out.push(
      '',
      `${h(1)} Load`,
      '',
      'Requests per second (p95 latency) under autocannon; errors when any.',
      '',
      `| load | ${sizes.map((s) => sizeLabel(s.records)).join(' | ')} | ${sizeLabel(last.records)} / ${sizeLabel(first.records)} req/s |`,
      `|---|${sizes.map(() => '---|').join('')}---|`,
    );
    for (const l of data.loads) {
      const measured = l.cells.filter((c): c is GrowthLoadCell => c !== null);
      const a = measured[0];
      const b = measured.at(-1);
      out.push(
        `| ${cell(l.key)} | ${l.cells
          .map((c) =>
            c
              ? `${fmt(c.requestsPerSecond)} (${fmt(c.p95)} ms)${c.errors ? `, **${c.errors} errors**` : ''}`
              : '—',
          )
          .join(
            ' | ',
          )} | ${a && b && a !== b && a.requestsPerSecond > 0 ? `×${fmt(b.requestsPerSecond / a.requestsPerSecond)}` : '—'} |`,
      );
    }
    const c0 = data.loads.flatMap((l) => l.cells).find((c) => c !== null);
    if (c0) out.push('', `${c0.connections} connections, ${Math.round(c0.seconds)} s per run.`);
  }
  out.push('', `${h(1)} Flat or not, per pattern`, '');
  for (const { p, v } of verdicts) out.push(`- **${p.key}** — ${v.note}.`);
  const largest = verdicts
    .map(({ p }) => ({ p, c: p.cells.at(-1) }))
    .filter((x): x is { p: GrowthPattern; c: GrowthCell } => x.c !== null && x.c !== undefined);
  if (largest.length) {
    out.push('', `Limiting factor at ${num(last.records)} records, from its report:`, '');
    for (const { p, c } of largest) out.push(`- **${p.key}**: ${cell(c.limiting.slice(0, 300))}`);
  }
  out.push('');
  return `${out.join('\n')}\n`;
}

/** GROWTH.md: the section as a document of its own. */
export function renderGrowthDocument(data: GrowthData): string {
  return `<!-- Generated by npm run bench:growth (bench/growth.ts) from bench/.cache/growth-*/report.json; do not edit. -->\n\n${renderGrowthMarkdown(data, 1)}`;
}

export function readGrowthData(file = GROWTH_JSON): GrowthData | null {
  if (!existsSync(file)) return null;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<GrowthData>;
    return parsed.kind === 'bench-growth' && parsed.version === 1 ? (parsed as GrowthData) : null;
  } catch {
    return null;
  }
}

/**
 * For bench/REPORT.md: the last growth run (bench/growth.json) as a section whose chart link is
 * relative to `reportDir`, or null when there is none.
 */
export function growthSection(reportDir = BENCH_DIR, file = GROWTH_JSON, level = 2): string | null {
  const data = readGrowthData(file);
  if (!data?.sizes.length) return null;
  const href = path
    .relative(reportDir, path.join(path.dirname(file), GROWTH_SVG))
    .split(path.sep)
    .join('/');
  return renderGrowthMarkdown(data, level, href);
}

// ------------------------------------------------------------------------------------------ SVG

const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r2 = (v: number): string => String(Math.round(v * 100) / 100);

export interface Series {
  key: string;
  /** One value per size (null: not measured). */
  values: (number | null)[];
}

/** Geometry of one panel's plot area. */
export const PANEL = { width: 480, left: 64, right: 16, top: 44, plotHeight: 250 } as const;

/** Log-scale x position of `records` inside a plot area of `width`, for the sizes' range. */
export function xScale(records: readonly number[], width: number): (v: number) => number {
  const lo = Math.log(Math.min(...records));
  const hi = Math.log(Math.max(...records));
  // Some room on both sides; one size alone sits in the middle.
  const pad = hi > lo ? (hi - lo) * 0.08 : 1;
  return (v) => ((Math.log(v) - (lo - pad)) / (hi - lo + 2 * pad)) * width;
}

/** Ticks 1-2-5 (or `steps`) per decade within [min, max]. */
export function logTicks(min: number, max: number, steps: readonly number[] = [1, 2, 5]): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++)
    for (const m of steps) {
      const t = m * 10 ** e;
      if (t >= min && t <= max) ticks.push(Number(t.toPrecision(3)));
    }
  return ticks;
}

const tickLabel = (t: number): string => (t >= 1000 ? num(t) : String(Number(t.toPrecision(3))));

function niceCeil(v: number): number {
  if (v <= 0) return 1;
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}

interface PanelSpec {
  title: string;
  yLabel: string;
  log: boolean;
  unit: string;
  series: Series[];
}

function panel(
  spec: PanelSpec,
  records: readonly number[],
  orgRecords: readonly number[],
  offsetX: number,
  name: string,
): string {
  const { left, top, plotHeight } = PANEL;
  const plotWidth = PANEL.width - left - PANEL.right;
  const x = xScale(records, plotWidth);
  const values = spec.series.flatMap((s) => s.values).filter((v): v is number => v !== null && v > 0);
  let y: (v: number) => number;
  let ticks: number[];
  if (spec.log) {
    const lo = values.length ? Math.min(...values) / 1.3 : 1;
    const hi = values.length ? Math.max(...values) * 1.3 : 10;
    const a = Math.log(lo);
    const b = Math.log(hi > lo ? hi : lo * 10);
    y = (v) => plotHeight - ((Math.log(v) - a) / (b - a)) * plotHeight;
    ticks = logTicks(lo, Math.exp(b));
    // A narrow range: every integer multiple of the decade instead of 1-2-5.
    if (ticks.length < 4) ticks = logTicks(lo, Math.exp(b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  } else {
    const hi = niceCeil(values.length ? Math.max(...values) * 1.1 : 1);
    y = (v) => plotHeight - (v / hi) * plotHeight;
    ticks = [0, 1, 2, 3, 4, 5].map((i) => Number(((hi * i) / 5).toPrecision(3)));
  }
  const out: string[] = [];
  out.push(`<g class="panel" data-panel="${name}" transform="translate(${offsetX},0)">`);
  out.push(`<text x="${left}" y="22" class="title">${esc(spec.title)}</text>`);
  out.push(`<g transform="translate(${left},${top})">`);
  out.push(`<rect x="0" y="0" width="${plotWidth}" height="${plotHeight}" class="plot"/>`);
  for (const t of ticks) {
    const ty = r2(y(t));
    out.push(
      `<line x1="0" x2="${plotWidth}" y1="${ty}" y2="${ty}" class="grid"/><text x="-6" y="${ty}" class="ytick">${esc(tickLabel(t))}</text>`,
    );
  }
  records.forEach((rec, i) => {
    const tx = r2(x(rec));
    const org = orgRecords[i];
    out.push(
      `<line x1="${tx}" x2="${tx}" y1="0" y2="${plotHeight}" class="grid"/><text x="${tx}" y="${plotHeight + 16}" class="xtick">${esc(sizeLabel(rec))}</text>`,
      ...(org
        ? [`<text x="${tx}" y="${plotHeight + 29}" class="xsub">${GROWTH_ORG} ${esc(sizeLabel(org))}</text>`]
        : []),
    );
  });
  out.push(
    `<text x="${r2(plotWidth / 2)}" y="${plotHeight + 46}" class="axis">records (log scale)</text>`,
    `<text transform="translate(-48,${r2(plotHeight / 2)}) rotate(-90)" class="axis">${esc(spec.yLabel)}</text>`,
  );
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    let d = '';
    let pen = false;
    const dots: string[] = [];
    s.values.forEach((v, j) => {
      const rec = records[j];
      if (v === null || v <= 0 || rec === undefined) {
        pen = false;
        return;
      }
      const px = r2(x(rec));
      const py = r2(y(v));
      d += `${pen ? 'L' : 'M'}${px},${py}`;
      pen = true;
      dots.push(
        `<circle cx="${px}" cy="${py}" r="3.5" fill="${color}" data-records="${rec}" data-value="${r2(v)}"><title>${esc(`${s.key} at ${num(rec)} records: ${fmt(v)} ${spec.unit}`)}</title></circle>`,
      );
    });
    out.push(
      `<g class="series" data-series="${esc(s.key)}">`,
      ...(d ? [`<path d="${d}" stroke="${color}" class="line"/>`] : []),
      ...dots,
      '</g>',
    );
  });
  out.push('</g>');
  // Legend under the plot, two columns.
  const legendTop = top + plotHeight + 66;
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length] as string;
    const lx = left + (i % 2) * 205;
    const ly = legendTop + Math.floor(i / 2) * 18;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2.5"/><text x="${lx + 24}" y="${ly}" class="legend">${esc(s.key)}</text>`,
    );
  });
  out.push('</g>');
  return out.join('\n');
}

/** The chart: median latency per pattern (ms, log y) and load req/s per load target, both against records (log x). */
export function renderGrowthSvg(data: GrowthData): string {
  const records = data.sizes.map((s) => s.records);
  const orgRecords = data.sizes.map((s) => s.orgRecords);
  const latency: Series[] = data.patterns.map((p) => ({
    key: p.key,
    values: p.cells.map((c) => c?.median ?? null),
  }));
  const load: Series[] = data.loads.map((l) => ({
    key: l.key,
    values: l.cells.map((c) => c?.requestsPerSecond ?? null),
  }));
  const rows = Math.ceil(Math.max(latency.length, load.length, 1) / 2);
  const height = PANEL.top + PANEL.plotHeight + 66 + rows * 18 + 8;
  const width = 2 * PANEL.width;
  const sizesText = data.sizes.map((s) => `${sizeLabel(s.records)} (${GROWTH_ORG} ${num(s.orgRecords)})`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>PFA Vanguard bench: cost against record count — ${esc(sizesText.join(', '))}</title>`,
    '<style>.title{font-size:14px;font-weight:bold}.plot{fill:#fff;stroke:#999}.grid{stroke:#e3e3e3}' +
      '.ytick{text-anchor:end;dominant-baseline:middle;fill:#444}.xtick{text-anchor:middle;fill:#444}' +
      '.xsub{text-anchor:middle;fill:#888;font-size:10px}' +
      '.axis{text-anchor:middle;fill:#222}.legend{dominant-baseline:auto;fill:#222}.line{fill:none;stroke-width:2}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    panel(
      {
        title: 'Median latency per pattern',
        yLabel: 'ms (log scale)',
        log: true,
        unit: 'ms',
        series: latency,
      },
      records,
      orgRecords,
      0,
      'latency',
    ),
    panel(
      {
        title: 'Load throughput per target',
        yLabel: 'requests / s',
        log: false,
        unit: 'req/s',
        series: load,
      },
      records,
      orgRecords,
      PANEL.width,
      'load',
    ),
    '</svg>',
    '',
  ].join('\n');
}
