/**
 * npm run bench:growth [-- --sizes 100000,1000000,3000000] [--only grid,kpi,…] [--load-seconds 10]
 *                         [--workers 1] [--skip-load] [--iterations N] [--warmup N]
 *                         [--explain-iterations N] [--connections N] [--databases N=name,…]
 *                         [--fresh] [--keep-going] [--out-dir bench] [--update-report]
 *                         [--from-reports] [-- <more bench/run.ts options>]
 *
 * How cost grows with the data (issue 11 goal 5): runs `npm run bench` (bench/run.ts) once per
 * record count as a child process — its own database per size (pfa_bench_100k, pfa_bench_3m, …;
 * 1,000,000 uses pfa_bench), report in bench/.cache/growth-<N>/ — with a subset of the patterns
 * and a short load, then writes bench/growth.json, bench/growth.svg (median latency per pattern and
 * load req/s against the record count) and bench/GROWTH.md. bench/REPORT.md includes the section
 * (bench/report.ts → growthSection) the next time it is written; --update-report rewrites it now
 * from bench/report.json.
 *
 * --from-reports runs nothing: it rebuilds the outputs from the bench/.cache/growth-<N>/report.json
 * files already there (every one found, or those of --sizes when given).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  BENCH_DIR,
  DEFAULT_GROWTH_PATTERNS,
  DEFAULT_GROWTH_SIZES,
  databaseProblem,
  defaultDatabase,
  parseDatabases,
  GROWTH_MD,
  GROWTH_SVG,
  growthData,
  readGrowthReports,
  renderGrowthDocument,
  renderGrowthSvg,
  sizeLabel,
  type GrowthData,
  type GrowthInputReport,
} from './growth-report.js';
import { writeReport, type Report } from './report.js';

const ROOT = path.resolve(BENCH_DIR, '..');
const CACHE_DIR = path.join(BENCH_DIR, '.cache');
const FULL_SCALE = 1_000_000;
function parseSizes(raw: string): number[] {
  const sizes = raw
    .split(',')
    .filter(Boolean)
    .map((s) => {
      const n = Number(s.trim().replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 10_000)
        throw new UsageError(`--sizes: whole numbers ≥ 10000, got ${s}`);
      return n;
    });
  if (!sizes.length) throw new UsageError('--sizes is empty');
  return [...new Set(sizes)].sort((a, b) => a - b);
}

const clock = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

function writeOutputs(data: GrowthData, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const files = [
    [path.join(outDir, 'growth.json'), `${JSON.stringify(data, null, 2)}\n`],
    [path.join(outDir, GROWTH_SVG), renderGrowthSvg(data)],
    [path.join(outDir, GROWTH_MD), renderGrowthDocument(data)],
  ] as const;
  for (const [file, text] of files) writeFileSync(file, text);
  return files.map(([file]) => path.relative(process.cwd(), file));
}

/** bench/REPORT.md rewritten from bench/report.json (the reference run), now with the growth section. */
function updateReport(): void {
  const json = path.join(BENCH_DIR, 'report.json');
  if (!existsSync(json)) {
    console.log('growth: --update-report: no bench/report.json, REPORT.md left as is');
    return;
  }
  const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
  if (report.sizes.records !== FULL_SCALE || report.options.only) {
    console.log(
      'growth: --update-report: bench/report.json is not a full reference run, REPORT.md left as is',
    );
    return;
  }
  writeReport(path.join(BENCH_DIR, 'REPORT.md'), report);
  console.log('growth: bench/REPORT.md rewritten from bench/report.json with the growth section');
}

/** A refused plan or bad option: printed without a stack. */
class UsageError extends Error {}

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
}

async function main(): Promise<void> {
  const { values: args, positionals } = parseArgs({
    options: {
      sizes: { type: 'string' },
      only: { type: 'string', default: DEFAULT_GROWTH_PATTERNS.join(',') },
      'load-seconds': { type: 'string', default: '10' },
      workers: { type: 'string', default: '1' },
      'skip-load': { type: 'boolean', default: false },
      iterations: { type: 'string' },
      warmup: { type: 'string' },
      'explain-iterations': { type: 'string' },
      connections: { type: 'string' },
      databases: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      'keep-going': { type: 'boolean', default: false },
      'out-dir': { type: 'string', default: BENCH_DIR },
      'update-report': { type: 'boolean', default: false },
      'from-reports': { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const outDir = path.resolve(args['out-dir'] ?? BENCH_DIR);
  const explicitSizes = args.sizes ? parseSizes(args.sizes) : null;

  if (args['from-reports']) {
    const found = readGrowthReports(CACHE_DIR, explicitSizes ?? undefined);
    if (!found.length)
      throw new UsageError(
        `no bench/.cache/growth-<N>/report.json${explicitSizes ? ` for ${explicitSizes.join(', ')}` : ''}: run npm run bench:growth first`,
      );
    for (const f of found) console.log(`growth: ${path.relative(process.cwd(), f.file)}`);
    const written = writeOutputs(growthData(found.map((f) => f.report)), outDir);
    console.log(`growth: wrote ${written.join(', ')}`);
    if (args['update-report']) updateReport();
    return;
  }

  const sizes = explicitSizes ?? DEFAULT_GROWTH_SIZES;
  const overrides = parseDatabases(args.databases);
  const plan = sizes.map((records) => ({
    records,
    database: overrides.get(records) ?? defaultDatabase(records),
    reportDir: path.join(CACHE_DIR, `growth-${records}`),
  }));
  for (const p of plan) {
    const problem = databaseProblem(p.records, p.database, args.fresh ?? false);
    if (problem) throw new UsageError(`refused: ${problem}`);
  }
  // Options after `--` go to bench/run.ts as they are, except those growth decides per size.
  const owned = positionals.find((p) => /^--(records|database|report-dir|fresh)(=|$)/.test(p));
  if (owned) throw new UsageError(`refused: ${owned} after -- (bench:growth sets it per size)`);
  const only = (args.only ?? '').split(',').filter(Boolean);
  const passThrough: string[] = [
    '--only',
    only.join(','),
    '--load-seconds',
    args['load-seconds'] ?? '10',
    '--workers',
    args.workers ?? '1',
    ...(args['skip-load'] ? ['--skip-load'] : []),
    ...(args.fresh ? ['--fresh'] : []),
    ...(['iterations', 'warmup', 'explain-iterations', 'connections'] as const).flatMap((k) =>
      args[k] !== undefined ? [`--${k}`, String(args[k])] : [],
    ),
    ...positionals,
  ];
  console.log(
    `growth: ${plan.map((p) => `${p.records.toLocaleString('en-US')} → ${p.database}`).join(', ')}; bench options ${passThrough.join(' ')}`,
  );

  const started = performance.now();
  let current: ReturnType<typeof spawn> | null = null;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    stopping = true;
    console.log(`\ngrowth: ${signal}: stopping after the current size`);
    current?.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const reports: GrowthInputReport[] = [];
  const failed: string[] = [];
  const durations: string[] = [];
  for (const [i, p] of plan.entries()) {
    if (stopping) break;
    const label = sizeLabel(p.records);
    const sizeStarted = performance.now();
    const prefix = () =>
      `[growth ${i + 1}/${plan.length} ${label} ${clock(performance.now() - sizeStarted)} · total ${clock(performance.now() - started)}]`;
    // A failed run must not leave the previous run's numbers to be taken for its own.
    rmSync(path.join(p.reportDir, 'report.json'), { force: true });
    const childArgs = [
      '--import',
      'tsx',
      path.join(BENCH_DIR, 'run.ts'),
      '--records',
      String(p.records),
      '--database',
      p.database,
      '--report-dir',
      p.reportDir,
      ...passThrough,
    ];
    console.log(`${prefix()} npm run bench -- ${childArgs.slice(3).join(' ')}`);
    const child = spawn(process.execPath, childArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let lastOutput = performance.now();
    const relay = (stream: NodeJS.ReadableStream, to: NodeJS.WriteStream) =>
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        lastOutput = performance.now();
        to.write(`${prefix()} ${line}\n`);
      });
    if (child.stdout) relay(child.stdout, process.stdout);
    if (child.stderr) relay(child.stderr, process.stderr);
    const heartbeat = setInterval(() => {
      if (performance.now() - lastOutput >= 60_000) {
        console.log(`${prefix()} (still running, no output for ${clock(performance.now() - lastOutput)})`);
        lastOutput = performance.now();
      }
    }, 5_000);
    const result = await new Promise<Child>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    clearInterval(heartbeat);
    current = null;
    const took = clock(performance.now() - sizeStarted);
    const file = path.join(p.reportDir, 'report.json');
    if (result.code !== 0 || !existsSync(file)) {
      const why = result.signal ? `signal ${result.signal}` : `exit ${result.code}`;
      console.log(`${prefix()} FAILED (${why}) after ${took}`);
      failed.push(`${label} (${why})`);
      if (!args['keep-going']) break;
      continue;
    }
    const report = JSON.parse(readFileSync(file, 'utf8')) as GrowthInputReport;
    const missing = only.filter((k) => !report.patterns.some((r) => r.key === k));
    if (missing.length)
      console.log(`${prefix()} note: bench/run.ts has no pattern ${missing.join(', ')} (ignored by --only)`);
    reports.push(report);
    durations.push(`${label} ${took}`);
    // After every size, so a long run shows its chart as it goes.
    const written = writeOutputs(growthData(reports), outDir);
    console.log(`${prefix()} done in ${took}; wrote ${written.join(', ')}`);
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  console.log(
    `growth: ${reports.length}/${plan.length} sizes in ${clock(performance.now() - started)} (${durations.join(', ') || 'none'})${failed.length ? `; failed: ${failed.join(', ')}` : ''}`,
  );
  if (reports.length && args['update-report']) updateReport();
  if (failed.length || stopping) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `\ngrowth failed: ${error instanceof UsageError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
