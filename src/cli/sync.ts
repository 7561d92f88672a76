/**
 * npm run sync -- --org HOLNG --direction read|write [--full] [--page-size N] [--no-refresh]
 *
 * Runs one synchronisation now, in this process, for operators: the same processors as the
 * background jobs (with their pfa_sync_log row), progress and rates on the terminal, then the
 * KPI views refreshed when data changed. --org takes a list (A,B) or `all` (every organization
 * in the database). Needs DATABASE_URL and PEMS_URL.
 */
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { createDb, createPool } from '../db/database.js';
import { executeJob } from '../jobs/execute.js';
import { createJobHandlers } from '../jobs/handlers.js';
import { DEFAULT_JOB_SETTINGS, createPemsClient } from '../jobs/job-deps.js';
import type { JobProgress, ReadSyncResult, WriteSyncResult } from '../jobs/registry.js';
import { UsageError, parseFlags, parseOrExit } from './args.js';

const USAGE = `usage: npm run sync -- --org HOLNG[,RIVBR…|all] --direction read|write [--full] [--page-size N] [--no-refresh] [--verbose]

  --org          organization code(s), comma-separated, or "all" (every organization in the database)
  --direction    read: PEMS → mirror; write: committed changes → PEMS
  --full         read everything (else incremental from the last run's watermark)
  --page-size    rows per PEMS page (default ${DEFAULT_JOB_SETTINGS.readPageSize})
  --no-refresh   do not refresh the KPI views afterwards

DATABASE_URL and PEMS_URL (PEMS_TENANT, PEMS_API_KEY, …) come from the environment.`;

interface Args {
  orgs: string[] | 'all';
  direction: 'read' | 'write';
  full: boolean;
  pageSize: number;
  refresh: boolean;
  verbose: boolean;
}

function parse(argv: string[]): Args | 'help' {
  const values = parseFlags(argv, {
    org: { type: 'string' },
    direction: { type: 'string' },
    full: { type: 'boolean' },
    'page-size': { type: 'string' },
    'no-refresh': { type: 'boolean' },
    verbose: { type: 'boolean', short: 'v' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  const org = values.org;
  if (typeof org !== 'string' || org.trim() === '') throw new UsageError('--org is required');
  const orgs =
    org === 'all'
      ? 'all'
      : org
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean);
  if (orgs !== 'all') {
    const bad = orgs.find((o) => !/^[A-Za-z0-9_-]{1,32}$/.test(o));
    if (bad !== undefined) throw new UsageError(`--org: "${bad}" is not an organization code`);
  }
  const direction = values.direction;
  if (direction !== 'read' && direction !== 'write')
    throw new UsageError('--direction must be read or write');
  if (values.full && direction !== 'read') throw new UsageError('--full applies to --direction read only');
  const rawSize = values['page-size'];
  const pageSize = rawSize === undefined ? DEFAULT_JOB_SETTINGS.readPageSize : Number(rawSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 10_000)
    throw new UsageError('--page-size must be 1–10000');
  return {
    orgs,
    direction,
    full: values.full === true,
    pageSize,
    refresh: values['no-refresh'] !== true,
    verbose: values.verbose === true,
  };
}

const tty = process.stdout.isTTY === true;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function progressPrinter(org: string, direction: string): (p: JobProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (now - last < (tty ? 200 : 5_000)) return;
    last = now;
    const line = `${org} ${direction}: ${fmt(p.done)} ${direction === 'read' ? 'rows' : 'changes'}  ${fmt(p.ratePerSecond ?? 0)}/s`;
    if (tty) process.stdout.write(`\r\x1b[2K${line}`);
    else console.log(line);
  };
}

function endLine(): void {
  if (tty) process.stdout.write('\r\x1b[2K');
}

async function main(): Promise<void> {
  const args = parseOrExit('sync', USAGE, () => parse(process.argv.slice(2)));
  if (!args) return;
  const config = loadConfig();
  if (!config.DATABASE_URL)
    throw new ConfigError('invalid configuration:\n  DATABASE_URL: is required by npm run sync');
  const pems = createPemsClient(config);
  if (!pems) throw new ConfigError('invalid configuration:\n  PEMS_URL: is required by npm run sync');
  const log = pino({ level: args.verbose ? 'info' : 'warn' }, pino.destination(2));
  const pool = createPool({
    connectionString: config.DATABASE_URL,
    max: 12,
    applicationName: 'pfa-vanguard-sync',
  });
  const db = createDb(pool);
  let refreshWanted = false;
  const handlers = createJobHandlers({
    db,
    pool,
    log,
    pems,
    requestRefresh: () => {
      refreshWanted = true;
    },
    settings: { ...DEFAULT_JOB_SETTINGS, readPageSize: args.pageSize },
  });
  let failed = false;
  try {
    const orgs =
      args.orgs === 'all'
        ? (await db.selectFrom('organization').select('id').orderBy('id').execute()).map((o) => o.id)
        : args.orgs;
    if (orgs.length === 0) throw new UsageError('no organizations in the database (name them with --org)');
    for (const org of orgs) {
      const run = {
        jobId: `cli:${process.pid}`,
        attempt: 1,
        log,
        progress: progressPrinter(org, args.direction),
      };
      try {
        if (args.direction === 'read') {
          const r: ReadSyncResult = await executeJob(
            handlers,
            'read-sync',
            { organizationId: org, full: args.full },
            run,
          );
          endLine();
          console.log(
            `${org} read (${r.mode}): ${fmt(r.read)} rows in ${(r.durationMs / 1000).toFixed(1)} s (${fmt(r.recordsPerSecond)}/s) — ` +
              `${fmt(r.inserted)} inserted, ${fmt(r.updated)} updated, ${fmt(r.unchanged)} unchanged, ${fmt(r.rejected)} rejected, ` +
              `${fmt(r.removed)} removed  [run ${r.runId}]`,
          );
        } else {
          const r: WriteSyncResult = await executeJob(handlers, 'write-sync', { organizationId: org }, run);
          endLine();
          console.log(
            `${org} write: ${fmt(r.synced)} synced, ${fmt(r.conflicted)} conflicts, ${fmt(r.failed)} left committed in ` +
              `${(r.durationMs / 1000).toFixed(1)} s  [run ${r.runId}]`,
          );
        }
      } catch (e) {
        endLine();
        failed = true;
        console.error(`${org} ${args.direction}: failed — ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (refreshWanted && args.refresh) {
      const r = await executeJob(
        handlers,
        'refresh-views',
        { reason: 'cli' },
        { jobId: 'cli', attempt: 1, log },
      );
      console.log(
        r.refreshed
          ? `KPI views refreshed in ${(r.durationMs / 1000).toFixed(1)} s`
          : 'KPI views: a refresh is already running',
      );
    }
  } finally {
    await db.destroy();
  }
  if (failed) process.exitCode = 1;
}

main().catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof UsageError) console.error(`sync: ${e.message}`);
  else console.error('sync failed:', e);
  process.exit(1);
});
