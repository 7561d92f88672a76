/**
 * The SQL side of each pattern: the statements the service sent (captured from its pg clients)
 * replayed verbatim through one direct pg connection, timed as round trips, and run under
 * EXPLAIN (ANALYZE, BUFFERS) for the execution time and the plan shape.
 */
import type pg from 'pg';
import type { CapturedStatement } from './capture.js';
import { summarize, type Summary } from './stats.js';

export interface Statement {
  text: string;
  values: unknown[];
}

/** A statement worth replaying: queries and DML, not transaction control (leading comments skipped). */
export function isReplayable(s: { text: string }): boolean {
  return /^\s*(\/\*[^]*?\*\/\s*)*(WITH|SELECT|INSERT|UPDATE|DELETE)\b/i.test(s.text);
}

/**
 * A read the service sends as a named prepared statement with a generic plan allowed (the
 * PREPARED_READ mark of src/db/read-timeout.ts) is replayed the same way, so the raw-SQL time
 * compares like with like: parsed once per connection, planned once it settles on a generic plan.
 */
const PREPARED_MARK = '/* prepared */';
const replayNames = new Map<string, string>();
function replayConfig(s: Statement): pg.QueryConfig {
  if (!s.text.trimStart().startsWith(PREPARED_MARK)) return { text: s.text, values: s.values };
  let name = replayNames.get(s.text);
  if (!name) replayNames.set(s.text, (name = `bench_replay_${replayNames.size + 1}`));
  return { name, text: s.text, values: s.values };
}

export const toStatements = (captured: readonly CapturedStatement[]): Statement[] =>
  captured.filter(isReplayable).map((c) => ({ text: c.text, values: c.values }));

/** Round trip of the whole sequence (statements one after another, as the service sends them). */
export async function timeSequence(
  client: pg.ClientBase,
  statements: readonly Statement[],
  iterations: number,
  warmup: number,
  options: { rollback?: boolean } = {},
): Promise<{ summary: Summary; rows: number[] }> {
  const samples: number[] = [];
  let rows: number[] = [];
  for (let i = 0; i < warmup + iterations; i++) {
    // Data-changing statements run in a transaction rolled back after (BEGIN/ROLLBACK not timed).
    if (options.rollback) await client.query('BEGIN');
    const t0 = performance.now();
    const counts: number[] = [];
    for (const s of statements) {
      const r = await client.query(replayConfig(s));
      counts.push(r.rowCount ?? r.rows.length);
    }
    const ms = performance.now() - t0;
    if (options.rollback) await client.query('ROLLBACK');
    if (i >= warmup) samples.push(ms);
    rows = counts;
  }
  return { summary: summarize(samples), rows };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Alias?: string;
  'Index Name'?: string;
  'Join Type'?: string;
  Strategy?: string;
  'Sort Method'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Actual Total Time'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Temp Read Blocks'?: number;
  'Rows Removed by Filter'?: number;
  'Heap Fetches'?: number;
  Plans?: PlanNode[];
}

interface ExplainOutput {
  Plan: PlanNode;
  'Planning Time': number;
  'Execution Time': number;
  JIT?: { Timing?: { Total?: number } };
  /** AFTER triggers a write fired, with their total time (EXPLAIN ANALYZE of a write). */
  Triggers?: { 'Trigger Name': string; Time: number; Calls: number }[];
}

export interface PlanShape {
  /** The plan tree, top levels, one line. */
  shape: string;
  /** Index name → how it was used (node type on which relation). */
  indexes: string[];
  /** Sequential scans (relation and rows they produced). */
  seqScans: string[];
  sharedHitBlocks: number;
  sharedReadBlocks: number;
  tempBlocks: number;
  jitMs: number;
  planningMs: number;
  /** What makes this plan expensive, read off the plan (large intermediate results, sorts, spills). */
  findings: string[];
}

export interface ExplainResult {
  /** Median EXPLAIN ANALYZE execution time of each statement, and of their sum. */
  executionMs: Summary;
  planningMs: Summary;
  perStatement: {
    sql: string;
    executionMedianMs: number;
    rows: number;
    plan: PlanShape;
    /** The triggers a write fired in the last run, with their time (included in the execution time). */
    triggers: { name: string; ms: number }[];
  }[];
}

function label(node: PlanNode): string {
  let s = node['Node Type'];
  if (node['Join Type'] && node['Join Type'] !== 'Inner') s = `${s} ${node['Join Type']}`;
  if (node.Strategy && node['Node Type'] === 'Aggregate') s = `${node.Strategy} ${s}`;
  if (node['Index Name']) s += ` using ${node['Index Name']}`;
  if (node['Relation Name'])
    s += ` on ${node['Relation Name']}${node.Alias && node.Alias !== node['Relation Name'] ? ` ${node.Alias}` : ''}`;
  if (node['Sort Method']) s += ` (${node['Sort Method']})`;
  const loops = node['Actual Loops'] ?? 1;
  s += ` rows=${node['Actual Rows'] ?? '?'}${loops > 1 ? `×${loops}` : ''}`;
  return s;
}

function render(node: PlanNode, depth: number, maxDepth: number): string {
  const children = node.Plans ?? [];
  if (depth >= maxDepth || children.length === 0)
    return label(node) + (children.length && depth >= maxDepth ? ' …' : '');
  // Subplans (one per correlated expression) can number dozens: show the first few.
  const shown = children.slice(0, 4).map((c) => render(c, depth + 1, maxDepth));
  if (children.length > shown.length) shown.push(`+${children.length - shown.length} more`);
  return `${label(node)} → ${shown.length === 1 ? shown[0] : `[${shown.join(' | ')}]`}`;
}

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  for (const c of node.Plans ?? []) walk(c, visit);
}

export function planShape(output: ExplainOutput, maxDepth = 5): PlanShape {
  const indexes = new Set<string>();
  const seqScans: string[] = [];
  walk(output.Plan, (n) => {
    if (n['Index Name'])
      indexes.add(
        `${n['Index Name']} (${n['Node Type']}${n['Relation Name'] ? ` on ${n['Relation Name']}` : ''})`,
      );
    if (n['Node Type'] === 'Seq Scan' && n['Relation Name'])
      seqScans.push(
        `${n['Relation Name']} rows=${(n['Actual Rows'] ?? 0) * (n['Actual Loops'] ?? 1)} removed=${n['Rows Removed by Filter'] ?? 0}`,
      );
  });
  const findings: string[] = [];
  const returned = output.Plan['Actual Rows'] ?? 0;
  let largest: { rows: number; node: PlanNode } | null = null;
  walk(output.Plan, (n) => {
    const rows = (n['Actual Rows'] ?? 0) * (n['Actual Loops'] ?? 1);
    if (!largest || rows > largest.rows) largest = { rows, node: n };
    if (n['Node Type'] === 'Sort') {
      const input = (n.Plans ?? []).reduce(
        (a, c) => a + (c['Actual Rows'] ?? 0) * (c['Actual Loops'] ?? 1),
        0,
      );
      if (input > 2000 && input > 5 * rows) findings.push(`sorts ${input} rows to keep ${rows}`);
    }
    const removed = (n['Rows Removed by Filter'] ?? 0) * (n['Actual Loops'] ?? 1);
    if (n['Index Name'] && removed > 1000 && removed > 10 * rows)
      findings.push(
        `${n['Index Name']} scan discards ${removed} rows by filter for ${rows} kept (condition not an index bound)`,
      );
    if (n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'pfa_mirror')
      findings.push(`sequential scan of pfa_mirror (${rows + (n['Rows Removed by Filter'] ?? 0)} rows read)`);
  });
  const big = largest as { rows: number; node: PlanNode } | null;
  if (big && big.rows > 10_000 && big.rows > 10 * Math.max(1, returned))
    findings.unshift(
      `${big.rows} rows at ${label(big.node).replace(/ rows=.*$/, '')} for ${returned} returned`,
    );
  if ((output.Plan['Temp Read Blocks'] ?? 0) > 0)
    findings.push(`spills ${output.Plan['Temp Read Blocks']} temp blocks (work_mem)`);
  if (output.JIT?.Timing?.Total) findings.push(`JIT compilation ${output.JIT.Timing.Total.toFixed(0)} ms`);
  return {
    findings,
    shape: render(output.Plan, 0, maxDepth),
    indexes: [...indexes],
    seqScans,
    sharedHitBlocks: output.Plan['Shared Hit Blocks'] ?? 0,
    sharedReadBlocks: output.Plan['Shared Read Blocks'] ?? 0,
    tempBlocks: output.Plan['Temp Read Blocks'] ?? 0,
    jitMs: output.JIT?.Timing?.Total ?? 0,
    planningMs: output['Planning Time'],
  };
}

/** One line of SQL for the report (whitespace collapsed, cut). */
export function sqlOneLine(text: string, max = 240): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of each statement, `iterations` times, each inside a transaction
 * that is rolled back, so data-changing statements leave the database as it was.
 */
export async function explainSequence(
  client: pg.ClientBase,
  statements: readonly Statement[],
  iterations: number,
  /** Run between iterations (e.g. VACUUM, so rolled-back inserts leave no dead rows for the next one). */
  between?: () => Promise<void>,
): Promise<ExplainResult> {
  const perStatementTimes: number[][] = statements.map(() => []);
  const totals: number[] = [];
  const planning: number[] = [];
  const last: (ExplainOutput | null)[] = statements.map(() => null);
  for (let i = 0; i < iterations; i++) {
    let total = 0;
    let plan = 0;
    for (const [k, s] of statements.entries()) {
      // Always in a transaction rolled back after: EXPLAIN ANALYZE really executes writes.
      await client.query('BEGIN');
      try {
        const { rows } = await client.query<{ 'QUERY PLAN': ExplainOutput[] }>(
          `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${s.text}`,
          s.values,
        );
        const output = rows[0]?.['QUERY PLAN'][0];
        if (!output) throw new Error('EXPLAIN returned nothing');
        perStatementTimes[k]?.push(output['Execution Time']);
        total += output['Execution Time'];
        plan += output['Planning Time'];
        last[k] = output;
      } finally {
        await client.query('ROLLBACK');
      }
    }
    totals.push(total);
    planning.push(plan);
    if (between) await between();
  }
  return {
    executionMs: summarize(totals),
    planningMs: summarize(planning),
    perStatement: statements.map((s, k) => {
      const output = last[k] as ExplainOutput;
      return {
        sql: sqlOneLine(s.text),
        executionMedianMs: summarize(perStatementTimes[k] ?? []).median,
        rows: output.Plan['Actual Rows'] ?? 0,
        plan: planShape(output),
        triggers: (output.Triggers ?? []).map((t) => ({ name: t['Trigger Name'], ms: t.Time })),
      };
    }),
  };
}
