/**
 * SQL you can review: the statements of the hot operations, compiled with fixed sample parameters
 * and written to sql/<operation>.sql (checked in). Nothing is executed: the repositories run
 * against a Kysely instance whose pg pool is a fake that records each statement's text and
 * parameters and answers with canned rows (so the repositories need no change to be compiled).
 *
 *   npm run sql:snapshots   writes sql/*.sql
 *   npm run sql:check       fails (exit 1) when the generated SQL differs from sql/*.sql
 */
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Database } from '../src/db/tables.js';
import type { Db } from '../src/db/database.js';
import { MirrorRepository } from '../src/repositories/mirror.repository.js';
import { KpiRepository } from '../src/repositories/kpi.repository.js';
import { DraftsRepository, type Actor, type Tx } from '../src/repositories/drafts.repository.js';
import { WriteBackRepository } from '../src/repositories/write-back.repository.js';
import { TimelineRepository } from '../src/repositories/timeline.repository.js';

const SQL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'sql');

interface Captured {
  text: string;
  values: readonly unknown[];
}

type Rows = Record<string, unknown>[];

/**
 * A pg pool that never connects: each statement is recorded; the answer is the next canned row set
 * of the operation (transaction control — BEGIN, COMMIT, ROLLBACK — is recorded nowhere and
 * answers nothing).
 */
class CapturingPool implements PostgresPool {
  captured: Captured[] = [];
  private answers: Rows[] = [];

  /** Starts an operation: forgets what was captured and queues the row sets to answer with. */
  reset(answers: Rows[] = []): void {
    this.captured = [];
    this.answers = [...answers];
  }

  async connect(): Promise<PostgresPoolClient> {
    return {
      query: async (text: string, values: readonly unknown[]) => {
        if (/^\s*(begin|commit|rollback|start transaction|savepoint|release)\b/i.test(text)) {
          return { command: 'SELECT', rowCount: 0, rows: [] } as never;
        }
        this.captured.push({ text, values: [...values] });
        const rows = this.answers.shift() ?? [];
        return { command: 'SELECT', rowCount: rows.length, rows } as never;
      },
      release: () => undefined,
    } as unknown as PostgresPoolClient;
  }

  async end(): Promise<void> {}
}

// ---------------------------------------------------------------------------------- samples

const ORG = 'ORG-SAMPLE';
const SESSION = '00000000-0000-4000-8000-000000000001';
const actor: Actor = { organizationId: ORG, sessionId: SESSION, userId: 'planner@example.com' };
const scope = { organizationId: ORG, sessionId: SESSION };
/** The grid's typical filter: a category, a forecast window, not yet actualized. */
const FILTER = {
  category: { in: ['Cranes', 'Generators'] },
  forecastStart: { gte: '2026-01-01', lt: '2027-01-01' },
  isActualized: false,
};
const ORDER_BY = [{ field: 'forecastStart', desc: true }];
/** The grid page as the grid asks for it: typed columns instead of the documents. */
const GRID_REQUEST = {
  filter: {
    category: { eq: 'Cranes' },
    source: { eq: 'Rental' },
    forecastStart: { gte: '2026-01-01' },
    forecastEnd: { lte: '2026-12-31' },
  },
  orderBy: [{ field: 'forecastStart', desc: false }],
  first: 100,
  after: null,
  withData: false,
};
const HELD_SEQ = '41';

interface Operation {
  /** File name under sql/ (without .sql). */
  name: string;
  title: string;
  /** The statements in the order the operation sends them, each with a label. */
  run(db: Db, pool: CapturingPool): Promise<{ label: string; statements: Captured[] }[]>;
}

/** Runs one call and returns what it sent. */
async function capture(
  pool: CapturingPool,
  label: string,
  answers: Rows[],
  call: () => Promise<unknown>,
): Promise<{ label: string; statements: Captured[] }> {
  pool.reset(answers);
  await call();
  return { label, statements: pool.captured };
}

/** Runs `body` inside a Kysely transaction on the capturing pool (as the use cases do). */
const inTx = (db: Db, body: (tx: Tx) => Promise<unknown>) => () => db.transaction().execute(body);

const OPERATIONS: Operation[] = [
  {
    name: 'pfa-records',
    title: 'pfaRecords(filter, orderBy: FORECAST_START_DESC, first: 50) with a session (X-Session-Id)',
    run: async (db, pool) => {
      const mirror = new MirrorRepository(db);
      const request = { filter: FILTER, orderBy: ORDER_BY, first: 50, after: null };
      const ordering = mirror.planOrdering(request);
      const after = { ...request, after: ['2026-06-30', '123456'] };
      return [
        await capture(pool, 'MirrorRepository.findPage — first page', [], () =>
          mirror.findPage(scope, request, ordering),
        ),
        await capture(pool, 'MirrorRepository.findPage — next page (after a cursor)', [], () =>
          mirror.findPage(scope, after, ordering),
        ),
        // The grid (bench/patterns.ts): no `data` selected, a shape one index serves in order.
        await capture(
          pool,
          'MirrorRepository.findPage — grid page without `data` (category + source, forecast window, FORECAST_START_ASC)',
          [],
          () => mirror.findPage(scope, GRID_REQUEST, mirror.planOrdering(GRID_REQUEST)),
        ),
        // The same page projected (record-json.ts): untouched records as JSON objects of the fields.
        await capture(
          pool,
          'MirrorRepository.findPage — the grid page projected (`nodes { id pfaId category monthlyRate forecastStart planCost }`)',
          [],
          () =>
            mirror.findPage(
              scope,
              {
                ...GRID_REQUEST,
                project: {
                  fields: ['id', 'pfaId', 'category', 'monthlyRate', 'forecastStart', 'planCost'].map(
                    (field) => ({
                      key: field,
                      field,
                    }),
                  ),
                  viewKey: `session:${scope.sessionId}`,
                },
              },
              mirror.planOrdering(GRID_REQUEST),
            ),
        ),
        await capture(pool, 'MirrorRepository.count — totalCount', [[{ n: '0' }]], () =>
          mirror.count(scope, FILTER),
        ),
      ];
    },
  },
  {
    name: 'kpi-summary',
    title: 'kpiSummary with a session: the materialized cache, corrected by the changed records',
    run: async (db, pool) => {
      const kpi = new KpiRepository(db);
      const cached = [{ organization_id: ORG, refresh_seq: HELD_SEQ, refreshed_at: new Date(0) }];
      return [await capture(pool, 'KpiRepository.kpiSummary', [cached, []], () => kpi.kpiSummary(scope))];
    },
  },
  {
    name: 'timeline-bounds',
    title: 'timelineBounds with a session: the cached bounds, corrected; a bound that may retreat recomputed',
    run: async (db, pool) => {
      const kpi = new KpiRepository(db);
      const cached = {
        organization_id: ORG,
        refresh_seq: HELD_SEQ,
        refreshed_at: new Date(0),
        plan_start: '2025-01-01',
        plan_end: '2028-12-31',
        forecast_start: '2025-02-01',
        forecast_end: '2028-11-30',
        actual_start: null,
        actual_end: null,
        total_records: '1000',
        actualized_records: '0',
      };
      // A changed record held planStart: its new value no longer reaches it → the exact bound.
      const delta = [
        { sign: -1, n: '1', actualized: '0', min_os: '2025-01-01' },
        { sign: 1, n: '1', actualized: '0', min_os: '2025-03-01' },
      ];
      return [
        await capture(pool, 'KpiRepository.timelineBounds', [[cached], delta, [{ v: '2025-01-02' }]], () =>
          kpi.timelineBounds(scope),
        ),
      ];
    },
  },
  {
    name: 'timeline-bars',
    title: 'timelineBars(from, to, filter, limit: 50000) with a session: the Gantt bars of a window',
    run: async (db, pool) => {
      const timeline = new TimelineRepository(db);
      const window = { from: '2026-01-01', to: '2026-04-30' };
      const filter = { category: { in: ['Cranes', 'Generators'] } };
      return [
        await capture(pool, 'TimelineRepository.bars', [], () =>
          timeline.bars(scope, window, filter, 50_000),
        ),
        await capture(pool, 'TimelineRepository.count — totalCount when the limit cut', [[{ n: '0' }]], () =>
          timeline.count(scope, window, filter),
        ),
      ];
    },
  },
  {
    name: 'bulk-update-pfa-records',
    title: 'bulkUpdatePfaRecords: shift forecastEnd by 14 days and set a contract on the matching records',
    run: async (db, pool) => {
      const drafts = new DraftsRepository(db);
      const ids = ['101', '102', '103'];
      return [
        await capture(
          pool,
          'DraftsRepository.lockRecords',
          [],
          inTx(db, (tx) => drafts.lockRecords(tx, ORG, ids)),
        ),
        await capture(
          pool,
          'DraftsRepository.bulkEdit',
          [],
          inTx(db, (tx) =>
            drafts.bulkEdit(tx, actor, ids, {
              filter: FILTER,
              shiftStartDays: 0,
              shiftEndDays: 14,
              changes: { contract: 'C-2026-7' },
              reason: 'extension',
            }),
          ),
        ),
      ];
    },
  },
  {
    name: 'commit-drafts',
    title: 'commitDrafts: lock the records, read the drafts with "theirs", mark them committed',
    run: async (db, pool) => {
      const drafts = new DraftsRepository(db);
      const theirs = {
        mirrorId: '102',
        data: { forecastEnd: '2026-09-30' },
        version: 4,
        pemsVersion: 'R-88',
        removedFromPemsAt: null,
      };
      return [
        await capture(
          pool,
          'DraftsRepository.lockRecords',
          [],
          inTx(db, (tx) => drafts.lockRecords(tx, ORG, ['101', '102'])),
        ),
        await capture(
          pool,
          'DraftsRepository.openWithTheirs',
          [],
          inTx(db, (tx) => drafts.openWithTheirs(tx, actor, ['11', '12'])),
        ),
        await capture(
          pool,
          'DraftsRepository.markCommitted — one as based, one rebased on "theirs"',
          [],
          inTx(db, (tx) =>
            drafts.markCommitted(tx, actor, [
              { id: '11', rebase: null, baseValues: null },
              { id: '12', rebase: theirs, baseValues: { forecastEnd: '2026-09-30' } },
            ]),
          ),
        ),
      ];
    },
  },
  {
    name: 'write-back-claim',
    title: 'Write-back claim: up to 100 committed changes in commit order (committed → syncing)',
    run: async (db, pool) => {
      const writeBack = new WriteBackRepository(db);
      return [
        await capture(pool, 'WriteBackRepository.claim', [], () => writeBack.claim(ORG, 100, ['7', '8'])),
      ];
    },
  },
];

// ---------------------------------------------------------------------------------- formatting

/** Trailing blanks off, blank lines dropped, the common indentation of continuation lines removed. */
export function formatSql(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.trim() !== '');
  const rest = lines.slice(1);
  const indent = Math.min(...rest.map((l) => /^ */.exec(l)?.[0].length ?? 0), Infinity);
  const first = (lines[0] ?? '').trim();
  const body = rest.map((l) => l.slice(Number.isFinite(indent) ? indent : 0));
  // A first line that closes nothing but opens a block (e.g. "SELECT ..." then an indented FROM)
  // keeps the relative indentation of the rest.
  return [first, ...body].join('\n');
}

const formatValue = (v: unknown): string => {
  if (v instanceof Date) return `'${v.toISOString()}'`;
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (Array.isArray(v)) return `ARRAY[${v.map(formatValue).join(', ')}]`;
  return `'${JSON.stringify(v)}'`;
};

function render(op: Operation, parts: { label: string; statements: Captured[] }[]): string {
  const out = [
    '-- GENERATED by `npm run sql:snapshots` (bench/sql-snapshots.ts): do not edit by hand.',
    '-- `npm run sql:check` (CI) fails when the SQL the repositories build differs from this file.',
    `-- ${op.title}`,
    '',
  ];
  for (const part of parts) {
    part.statements.forEach((s, i) => {
      const suffix = part.statements.length > 1 ? ` (statement ${i + 1} of ${part.statements.length})` : '';
      out.push(`-- ${part.label}${suffix}`);
      if (s.values.length === 0) out.push('-- (no parameters)');
      s.values.forEach((v, n) => out.push(`-- $${n + 1} = ${formatValue(v)}`));
      out.push(`${formatSql(s.text)};`, '');
    });
  }
  return out.join('\n');
}

export async function generate(): Promise<Map<string, string>> {
  const pool = new CapturingPool();
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const files = new Map<string, string>();
  try {
    for (const op of OPERATIONS) files.set(`${op.name}.sql`, render(op, await op.run(db, pool)));
  } finally {
    await db.destroy();
  }
  return files;
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const files = await generate();
  if (!check) {
    await mkdir(SQL_DIR, { recursive: true });
    for (const [name, text] of files) await writeFile(join(SQL_DIR, name), text);
    console.log(`wrote ${files.size} files to sql/: ${[...files.keys()].join(', ')}`);
    return;
  }
  const present = new Set(
    (await readdir(SQL_DIR).catch(() => [] as string[])).filter((f) => f.endsWith('.sql')),
  );
  const problems: string[] = [];
  for (const [name, text] of files) {
    const current = await readFile(join(SQL_DIR, name), 'utf8').catch(() => null);
    if (current === null) problems.push(`sql/${name} is missing`);
    else if (current !== text)
      problems.push(`sql/${name} differs from the SQL the code builds${firstDiff(current, text)}`);
    present.delete(name);
  }
  for (const extra of present) problems.push(`sql/${extra} is not generated by any operation`);
  if (problems.length) {
    console.error(problems.join('\n'));
    console.error('Review the change, then run `npm run sql:snapshots` and commit sql/.');
    process.exitCode = 1;
    return;
  }
  console.log(`sql/ is current (${files.size} files)`);
}

function firstDiff(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i])
      return `\n  line ${i + 1}\n  - ${x[i] ?? '(end of file)'}\n  + ${y[i] ?? '(end of file)'}`;
  }
  return '';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
