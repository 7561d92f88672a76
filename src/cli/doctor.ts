/**
 * npm run doctor [-- --brief]
 *
 * The operational queries for this schema (slow statements, index usage and unused indexes,
 * sizes, bloat, invalid indexes, KPI cache freshness, pending work per organization, the oldest
 * unsynced change): each printed, then run read-only against DATABASE_URL with its result as a
 * table. Maintenance statements (REINDEX CONCURRENTLY of the grid index, VACUUM) are printed,
 * never run. --brief leaves out the SQL text.
 */
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../config.js';
import { createDb, createPool, type Db } from '../db/database.js';
import {
  DOCTOR_CHECKS,
  DoctorRepository,
  GRID_INDEX,
  MAINTENANCE_STATEMENTS,
} from '../repositories/doctor.repository.js';
import { parseFlags, parseOrExit } from './args.js';

const USAGE = `usage: npm run doctor [-- --brief]

  --brief   results only (without the SQL text of each query)

DATABASE_URL comes from the environment. Every query runs in a READ ONLY transaction.`;

const MAX_CELL = 100;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString().replace('.000Z', 'Z');
  if (typeof value === 'object') {
    // node-postgres interval: { hours, minutes, seconds, … }
    const parts = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => typeof v === 'number' && v !== 0)
      .map(([k, v]) => `${v}${k === 'milliseconds' ? 'ms' : k[0]}`);
    if (parts.length || Object.keys(value).length === 0) return parts.join(' ') || '0s';
    return JSON.stringify(value);
  }
  const text = String(value).replace(/\s+/g, ' ');
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

/** Rows as an aligned text table (column names from the first row), or "(no rows)". */
export function formatTable(rows: readonly Record<string, unknown>[]): string {
  const first = rows[0];
  if (!first) return '  (no rows)';
  const columns = Object.keys(first);
  const body = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((r) => (r[i] ?? '').length)));
  const numeric = columns.map((c) =>
    rows.every((r) => r[c] === null || /^-?\d+(\.\d+)?$/.test(String(r[c]))),
  );
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .map((l) => `    ${l.replace(/^ {6}/, '')}`)
    .join('\n');

/** The whole report as text. */
export async function doctorReport(db: Db, options: { brief?: boolean } = {}): Promise<string> {
  const repo = new DoctorRepository(db);
  const extensions = await repo.installedExtensions();
  const out: string[] = [];
  const server = await repo.serverInfo();
  out.push(`PFA Vanguard doctor — database ${server.database} (PostgreSQL ${server.version})`);
  for (const ext of ['pg_stat_statements', 'pgstattuple'] as const) {
    out.push(`  ${ext}: ${extensions.has(ext) ? 'installed' : 'not installed'}`);
  }
  for (const [i, check] of DOCTOR_CHECKS.entries()) {
    out.push('', `== ${i + 1}. ${check.title}`);
    if (!options.brief) out.push(indent(repo.text(check)), '');
    const result = await repo.run(check, extensions);
    if (result.skipped) out.push(`  skipped: ${result.skipped}`);
    else out.push(formatTable(result.rows));
    if (check.note) out.push(`  note: ${check.note}`);
  }
  const gridExists = await repo.indexExists(GRID_INDEX);
  out.push('', '== Maintenance (printed, not run)');
  for (const m of MAINTENANCE_STATEMENTS) {
    out.push(`  -- ${m.title}`, `    ${m.statement}`, `    -- ${m.note}`);
  }
  out.push(
    gridExists
      ? `  ${GRID_INDEX}: present`
      : `  WARNING: ${GRID_INDEX} does not exist in this database (migrations not applied?)`,
  );
  return out.join('\n');
}

async function main(): Promise<void> {
  const args = parseOrExit('doctor', USAGE, () => {
    const values = parseFlags(process.argv.slice(2), {
      brief: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    return values.help ? 'help' : { brief: values.brief === true };
  });
  if (!args) return;
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new ConfigError('DATABASE_URL is required: the database to examine');
  const db = createDb(
    createPool({ connectionString: config.DATABASE_URL, max: 1, applicationName: 'pfa-vanguard-doctor' }),
  );
  try {
    process.stdout.write(`${await doctorReport(db, args)}\n`);
  } finally {
    await db.destroy();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await main();
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
