/**
 * npm run import:legacy -- (--sqlite dev.db | --postgres URL) [--user-key username|email|id]
 *                          [--dry-run] [--batch-size N] [--no-refresh] [--verbose]
 * (npm run import:sqlite is the same command; its old `--file` still means `--sqlite`.)
 *
 * Moves the previous PFA Vanguard application's data in: its organizations, records and pending
 * work (committed changes, drafts, conflicts). Prints what it found and, per organization, what
 * was (with --dry-run: would be) inserted, updated, left unchanged, rejected, and how much pending
 * work came over. Safe to run again. Needs DATABASE_URL (migrated).
 */
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { createDb, createPool } from '../db/database.js';
import { pendingMigrations } from '../db/migrator.js';
import { importLegacy, type LegacySourceSpec, type UserKey } from '../jobs/legacy-import.js';
import type { BulkMode } from '../legacy/bulk-load.js';
import { formatReport } from '../legacy/report.js';
import { MaintenanceRepository } from '../repositories/maintenance.repository.js';
import { UsageError, parseFlags, parseOrExit } from './args.js';

const USAGE = `usage: npm run import:legacy -- (--sqlite dev.db | --postgres postgres://…/pfa) [--user-key username|email|id]
                                 [--dry-run] [--batch-size 5000] [--bulk | --no-bulk] [--no-refresh] [--verbose]

  --sqlite FILE     the previous application's SQLite file (tables pfa_records or PfaRecord)
  --postgres URL    its PostgreSQL (pfa_mirror when it has rows, else pfa_records)
  --user-key KEY    which user column becomes our user id, the JWT sub (default username)
  --dry-run         compare and count per organization; write nothing
  --bulk            COPY every organization that has no records here with the indexes dropped
                    (by default: when they bring >= 10,000 records and the mirror holds fewer)
  --no-bulk         never: every record through the normal merge`;

const fmt = (n: number): string => n.toLocaleString('en-US');

interface Args {
  source: LegacySourceSpec;
  userKey: UserKey;
  dryRun: boolean;
  batchSize: number;
  refresh: boolean;
  verbose: boolean;
  bulk: BulkMode;
}

function parseImportArgs(argv: string[]): Args | 'help' {
  const values = parseFlags(argv, {
    sqlite: { type: 'string' },
    file: { type: 'string' },
    postgres: { type: 'string' },
    'user-key': { type: 'string' },
    'dry-run': { type: 'boolean' },
    'batch-size': { type: 'string' },
    'no-refresh': { type: 'boolean' },
    bulk: { type: 'boolean' },
    'no-bulk': { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  const sqlite = (values.sqlite ?? values.file) as string | undefined;
  const postgres = values.postgres as string | undefined;
  if ((sqlite === undefined) === (postgres === undefined))
    throw new UsageError('give exactly one source: --sqlite FILE or --postgres URL');
  let source: LegacySourceSpec;
  if (sqlite !== undefined) {
    if (sqlite === '' || !existsSync(sqlite)) throw new UsageError(`--sqlite ${sqlite}: no such file`);
    source = { sqlite };
  } else {
    if (!/^postgres(ql)?:\/\//.test(postgres ?? ''))
      throw new UsageError('--postgres must be a postgres:// URL');
    source = { postgres: postgres as string };
  }
  const userKey = (values['user-key'] ?? 'username') as string;
  if (userKey !== 'username' && userKey !== 'email' && userKey !== 'id')
    throw new UsageError('--user-key must be username, email or id');
  const batchSize = values['batch-size'] === undefined ? 5_000 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 50_000)
    throw new UsageError('--batch-size must be 1–50000');
  if (values.bulk === true && values['no-bulk'] === true)
    throw new UsageError('give at most one of --bulk and --no-bulk');
  return {
    source,
    userKey,
    bulk: values.bulk === true ? 'always' : values['no-bulk'] === true ? 'never' : 'auto',
    dryRun: values['dry-run'] === true,
    batchSize,
    refresh: values['no-refresh'] !== true,
    verbose: values.verbose === true,
  };
}

async function main(): Promise<void> {
  const args = parseOrExit('import:legacy', USAGE, () => parseImportArgs(process.argv.slice(2)));
  if (!args) return;
  const config = loadConfig();
  if (!config.DATABASE_URL)
    throw new ConfigError('invalid configuration:\n  DATABASE_URL: is required by npm run import:legacy');
  const log = pino({ level: args.verbose ? 'info' : 'warn' }, pino.destination(2));
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: 4,
    applicationName: 'pfa-vanguard-import',
  });
  const db = createDb(pool);
  try {
    const pending = await pendingMigrations(db);
    if (pending.length)
      throw new ConfigError(`the database needs migrations first (npm run migrate): ${pending.join(', ')}`);
    const tty = process.stdout.isTTY === true;
    let last = 0;
    const report = await importLegacy(
      { db, pool, log },
      {
        source: args.source,
        userKey: args.userKey,
        dryRun: args.dryRun,
        batchSize: args.batchSize,
        bulk: args.bulk,
        onProgress: tty
          ? (p) => {
              const now = Date.now();
              if (now - last < 200 && p.done < p.total) return;
              last = now;
              const pct = p.overallTotal ? Math.floor((100 * p.overallDone) / p.overallTotal) : 100;
              process.stdout.write(
                `\r\x1b[2K${p.organizationId}: ${fmt(p.done)}/${fmt(p.total)} rows · all ${pct}% · ${fmt(Math.round(p.rate))} rows/s`,
              );
            }
          : undefined,
        onStep: tty ? (message) => process.stdout.write(`\r\x1b[2K${message}`) : undefined,
      },
    );
    if (tty) process.stdout.write('\r\x1b[2K');
    for (const line of formatReport(report)) console.log(line);
    if (report.changed && args.refresh) {
      const r = await new MaintenanceRepository(db).refreshViews(10 * 60_000);
      console.log(
        r
          ? `KPI views refreshed in ${(r.durationMs / 1000).toFixed(1)} s`
          : 'KPI views: a refresh is already running',
      );
    }
    if (report.unresolved.length || report.pendingProblems.length) process.exitCode = 3;
  } finally {
    await db.destroy();
  }
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof UsageError) console.error(`import:legacy: ${e.message}`);
  else console.error('import:legacy failed:', e instanceof Error ? e.message : e);
  process.exit(1);
});
