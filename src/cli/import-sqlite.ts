/**
 * npm run import:sqlite -- --file dev.db [--batch-size N] [--no-refresh]
 *
 * Imports the previous system's SQLite database (table PfaRecord) into pfa_mirror through the
 * sync's staging/upsert path, and prints source and target counts per organization. Safe to run
 * twice: unchanged records are not written again. Needs DATABASE_URL (migrated).
 */
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { createDb, createPool } from '../db/database.js';
import { pendingMigrations } from '../db/migrator.js';
import { importLegacySqlite } from '../jobs/legacy-import.js';
import { MaintenanceRepository } from '../repositories/maintenance.repository.js';
import { UsageError, parseFlags, parseOrExit } from './args.js';

const USAGE = `usage: npm run import:sqlite -- --file dev.db [--batch-size 5000] [--no-refresh] [--verbose]`;

const fmt = (n: number): string => n.toLocaleString('en-US');

function parse(
  argv: string[],
): { file: string; batchSize: number; refresh: boolean; verbose: boolean } | 'help' {
  const values = parseFlags(argv, {
    file: { type: 'string' },
    'batch-size': { type: 'string' },
    'no-refresh': { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  const file = values.file;
  if (typeof file !== 'string' || file === '') throw new UsageError('--file is required');
  if (!existsSync(file)) throw new UsageError(`--file ${file}: no such file`);
  const batchSize = values['batch-size'] === undefined ? 5_000 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 50_000)
    throw new UsageError('--batch-size must be 1–50000');
  return { file, batchSize, refresh: values['no-refresh'] !== true, verbose: values.verbose === true };
}

async function main(): Promise<void> {
  const args = parseOrExit('import:sqlite', USAGE, () => parse(process.argv.slice(2)));
  if (!args) return;
  const config = loadConfig();
  if (!config.DATABASE_URL)
    throw new ConfigError('invalid configuration:\n  DATABASE_URL: is required by npm run import:sqlite');
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
    const report = await importLegacySqlite(
      { db, pool, log },
      {
        file: args.file,
        batchSize: args.batchSize,
        onProgress: tty
          ? (p) => process.stdout.write(`\r\x1b[2K${p.organizationId}: ${fmt(p.done)}/${fmt(p.total)} rows`)
          : undefined,
      },
    );
    if (tty) process.stdout.write('\r\x1b[2K');
    console.log(`organization   source   target   inserted   updated  unchanged  rejected`);
    for (const o of report.organizations) {
      console.log(
        `${o.organizationId.padEnd(12)} ${fmt(o.source).padStart(8)} ${fmt(o.target).padStart(8)} ${fmt(o.inserted).padStart(10)} ` +
          `${fmt(o.updated).padStart(9)} ${fmt(o.unchanged).padStart(10)} ${fmt(o.rejected).padStart(9)}` +
          (o.duplicates ? `   (${fmt(o.duplicates)} duplicate pfaIds: the last row won)` : ''),
      );
    }
    if (report.unassigned)
      console.log(`${fmt(report.unassigned)} rows had no usable organizationId and were not imported`);
    for (const e of report.errors.slice(0, 20))
      console.log(`  rejected ${e.pfaId ?? '(no pfaId)'}: ${e.reason}`);
    if (report.errors.length > 20)
      console.log(`  … ${report.errors.length - 20} more in pfa_sync_log.errors`);
    console.log(`done in ${(report.durationMs / 1000).toFixed(1)} s`);
    if (report.changed && args.refresh) {
      const r = await new MaintenanceRepository(db).refreshViews(10 * 60_000);
      console.log(
        r
          ? `KPI views refreshed in ${(r.durationMs / 1000).toFixed(1)} s`
          : 'KPI views: a refresh is already running',
      );
    }
  } finally {
    await db.destroy();
  }
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof UsageError) console.error(`import:sqlite: ${e.message}`);
  else console.error('import:sqlite failed:', e instanceof Error ? e.message : e);
  process.exit(1);
});
