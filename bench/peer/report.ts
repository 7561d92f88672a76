/**
 * The peer comparison's results: their shape (RESULTS.json) and their markdown (RESULTS.md).
 * `peerSection()` is for the main benchmark's report: it renders the last RESULTS.json (or says
 * there is none) at any heading level, so REPORT.md can include it without knowing the details.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadRun } from './load.js';
import type { PatternKey } from './patterns.js';
import { fmt } from '../stats.js';

export const PEER_DIR = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_JSON = path.join(PEER_DIR, 'RESULTS.json');

export type TargetKey = 'oursSession' | 'ours' | 'peer';
export const TARGETS: readonly TargetKey[] = ['oursSession', 'ours', 'peer'];
export const TARGET_LABELS: Record<TargetKey, string> = {
  oursSession: 'ours + session',
  ours: 'ours, no session',
  peer: 'PostGraphile',
};

export interface LatencyCell {
  /** Clean answers timed (warm-ups excluded). */
  n: number;
  median: number | null;
  p95: number | null;
  /** Answers that were not clean (non-2xx or GraphQL `errors`), warm-ups included. */
  errors: number;
  firstError: string | null;
  /** Rows and bytes of the first clean answer. */
  rows: number | null;
  bytes: number | null;
}

export interface LatencyRow {
  pattern: PatternKey;
  title: string;
  targets: Record<TargetKey, LatencyCell>;
  /** Median latency ours / PostGraphile: below 1 means ours answers faster. */
  ratio: { oursSession: number | null; ours: number | null };
}

export interface LoadCell {
  rounds: LoadRun[];
  /** Medians over the rounds. */
  requestsPerSecond: number | null;
  p50: number | null;
  p95: number | null;
  errors: number;
  graphqlErrors: number;
  non2xx: number;
  transportErrors: number;
}

export interface LoadRow {
  pattern: PatternKey;
  title: string;
  targets: Record<TargetKey, LoadCell>;
  /** Clean req/s ours / PostGraphile (medians over the rounds): above 1 means ours serves more. */
  ratio: { oursSession: number | null; ours: number | null };
}

export interface PeerResults {
  kind: 'bench-peer';
  version: 1;
  date: string;
  /** Settings shorter than the defaults: a check of the runner, not a measurement. */
  verification: boolean;
  elapsedSeconds: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    os: string;
    /** 1/5/15-minute load averages before the first and after the last measurement. */
    loadBefore: number[];
    loadAfter: number[];
    commit: string;
    oursNode: string;
    peerNode: string;
    postgres: string;
  };
  settings: {
    database: string;
    warmup: number;
    runs: number;
    connections: number;
    seconds: number;
    rounds: number;
    session: string;
    /** Our exact response cache, MB; null: the service's default (absent in older results). */
    responseCacheMb?: number | null;
  };
  peer: { postgraphile: string; connectionFilter: string; autocannon: string; index: string };
  latency: LatencyRow[];
  load: LoadRow[];
  /** Every unclean answer, latency and load together. */
  errors: number;
}

export function ratio(ours: number | null, peer: number | null): number | null {
  return ours !== null && peer !== null && peer > 0 ? ours / peer : null;
}

function times(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(2)}×`;
}

const WARN = '⚠';

function latencyCell(c: LatencyCell): string {
  const base = `${fmt(c.median)} / ${fmt(c.p95)}`;
  return c.errors ? `${base} ${WARN} ${c.errors} errors` : base;
}

function loadErrors(c: LoadCell): string {
  if (!c.errors) return '0';
  return `${WARN} ${c.errors} (GraphQL ${c.graphqlErrors}, non-2xx ${c.non2xx}, transport ${c.transportErrors})`;
}

function loadAvg(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' / ');
}

/** RESULTS.md; `level` is the heading level of its title (2 when it is a section of another report). */
export function renderPeerMarkdown(r: PeerResults, level = 1): string {
  const h = (n: number) => '#'.repeat(level + n);
  const s = r.settings;
  const m = r.machine;
  const lines: string[] = [`${h(0)} Side by side: this service vs PostGraphile V5 on the same database`, ''];
  if (r.verification)
    lines.push(
      `> **Verification run** (settings shorter than the defaults): it checks that the runner works; the numbers are not a measurement.`,
      '',
    );
  lines.push(
    `- date: ${r.date} (${Math.round(r.elapsedSeconds)} s in all)`,
    `- machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}; load average (1/5/15 min) before ${loadAvg(m.loadBefore)}, after ${loadAvg(m.loadAfter)}`,
    `- commit: ${m.commit}; ours on Node ${m.oursNode} (production build, \`node dist/src/main.js\`), PostGraphile ${r.peer.postgraphile} + connection-filter ${r.peer.connectionFilter} on Node ${m.peerNode}`,
    `- database: ${s.database} (${m.postgres}); extra index for the run: \`${r.peer.index}\``,
    `- latency: one client, ${s.warmup} warm-up + ${s.runs} timed requests per server, the three servers taking turns request by request; median / p95 in ms`,
    `- load: autocannon ${r.peer.autocannon}, ${s.connections} connections, closed loop, ${s.seconds} s per run, ${s.rounds} round(s) in the order ours + session, PostGraphile, ours without session; medians over the rounds`,
    `- "ours + session" sends \`x-session-id: ${s.session}\` (that session's drafts are merged into every answer); PostGraphile reads the plain table and the KPI view and merges nothing`,
    `- our exact response cache: ${s.responseCacheMb === 0 ? '**off** (`RESPONSE_CACHE_MB=0`): every request runs its statements' : `on (${s.responseCacheMb ?? 'default'} MB): a repeated request whose change token stands is answered from memory, so the load rows mostly measure hits`}`,
    `- errors: answers that were not clean — non-2xx, or a 200 whose body holds GraphQL \`errors\` — are counted, never timed as good; a pattern with errors is marked ${WARN}`,
    '',
    `${h(1)} Single-client latency (ms, median / p95)`,
    '',
    '| pattern | ours + session | ours, no session | PostGraphile | ratio ours + session / PG | ratio ours, no session / PG | rows (ours / PG) |',
    '| --- | --: | --: | --: | --: | --: | --: |',
  );
  for (const row of r.latency) {
    const t = row.targets;
    const bad = TARGETS.some((k) => t[k].errors > 0);
    lines.push(
      `| ${row.pattern}${bad ? ` ${WARN}` : ''} | ${latencyCell(t.oursSession)} | ${latencyCell(t.ours)} | ${latencyCell(t.peer)} | ${times(row.ratio.oursSession)} | ${times(row.ratio.ours)} | ${t.oursSession.rows ?? 'n/a'} / ${t.peer.rows ?? 'n/a'} |`,
    );
  }
  lines.push(
    '',
    'Ratio below 1: ours answers faster than PostGraphile.',
    '',
    `${h(1)} Closed-loop load (${s.connections} connections, ${s.seconds} s, ${s.rounds} round(s))`,
    '',
    '| pattern | server | req/s (clean) | per round | p50 ms | p95 ms | errors | ratio req/s ours / PG |',
    '| --- | --- | --: | --- | --: | --: | --- | --: |',
  );
  for (const row of r.load) {
    const bad = TARGETS.some((k) => row.targets[k].errors > 0);
    for (const k of ['oursSession', 'peer', 'ours'] as const) {
      const c = row.targets[k];
      const rt = k === 'peer' ? '' : times(row.ratio[k]);
      lines.push(
        `| ${row.pattern}${bad ? ` ${WARN}` : ''} | ${TARGET_LABELS[k]} | ${fmt(c.requestsPerSecond)} | ${c.rounds.map((x) => fmt(x.requestsPerSecond)).join(', ')} | ${fmt(c.p50)} | ${fmt(c.p95)} | ${loadErrors(c)} | ${rt} |`,
      );
    }
  }
  lines.push('', 'Ratio above 1: ours serves more clean requests per second than PostGraphile.', '');
  const errors: string[] = [];
  for (const row of r.latency)
    for (const k of TARGETS) {
      const c = row.targets[k];
      if (c.errors)
        errors.push(`- latency ${row.pattern}, ${TARGET_LABELS[k]}: ${c.errors} × ${c.firstError}`);
    }
  for (const row of r.load)
    for (const k of TARGETS) {
      const c = row.targets[k];
      if (c.errors) errors.push(`- load ${row.pattern}, ${TARGET_LABELS[k]}: ${loadErrors(c)}`);
    }
  if (errors.length) lines.push(`${h(1)} Errors`, '', ...errors, '');
  return `${lines.join('\n')}\n`;
}

export function readPeerResults(file = RESULTS_JSON): PeerResults | null {
  if (!existsSync(file)) return null;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<PeerResults>;
  return parsed.kind === 'bench-peer' && parsed.version === 1 ? (parsed as PeerResults) : null;
}

/** For the main report: the last peer comparison as a section, or a line saying how to make one. */
export function peerSection(level = 2, file = RESULTS_JSON): string {
  const results = readPeerResults(file);
  if (!results)
    return `${'#'.repeat(level)} Side by side with PostGraphile\n\nNot measured yet: \`npm run bench:peer\` (see bench/peer/README.md).\n`;
  return renderPeerMarkdown(results, level);
}
