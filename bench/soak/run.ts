/**
 * npm run soak -- --users 20 --minutes 5 [--records 20000] [--orgs 2] [--seed N] [--keep]
 *                 [--drain-seconds 120] [--sweep-seconds 45] [--kills 4]
 * Needs DATABASE_URL (a server where it may create and drop `pfa_soak_<pid>`) and redis-server on
 * PATH (else REDIS_URL). Exits 0 when every invariant held, 1 on any violation, 2 on bad flags.
 */
import { UsageError, parseFlags, parseOrExit } from '../../src/cli/args.js';
import { formatReport, runSoak, type SoakOptions } from './harness.js';

const USAGE = `usage: npm run soak -- [--users 20] [--minutes 5] [--records 20000] [--orgs 2] [--seed N] [--keep]
                      [--drain-seconds 120] [--sweep-seconds 45] [--kills 4] [--hot 30] [--private 5]`;

function num(
  values: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n =
    typeof raw === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(raw.replace(/_/g, ''))
      ? Number(raw.replace(/_/g, ''))
      : NaN;
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}

function parse(argv: string[]): SoakOptions | 'help' {
  const values = parseFlags(argv, {
    users: { type: 'string' },
    minutes: { type: 'string' },
    records: { type: 'string' },
    orgs: { type: 'string' },
    seed: { type: 'string' },
    keep: { type: 'boolean' },
    'drain-seconds': { type: 'string' },
    'sweep-seconds': { type: 'string' },
    kills: { type: 'string' },
    hot: { type: 'string' },
    private: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return 'help';
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl)
    throw new UsageError('DATABASE_URL must name the PostgreSQL server to create the soak database on');
  const seed = values.seed === undefined ? undefined : Math.floor(num(values, 'seed', 0, 2 ** 32 - 1, 0));
  return {
    users: Math.floor(num(values, 'users', 1, 500, 20)),
    seconds: num(values, 'minutes', 0.1, 600, 5) * 60,
    records: Math.floor(num(values, 'records', 200, 5_000_000, 20_000)),
    orgs: Math.floor(num(values, 'orgs', 1, 2, 2)),
    ...(seed === undefined ? {} : { seed }),
    keep: values.keep === true,
    databaseUrl,
    ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
    drainSeconds: num(values, 'drain-seconds', 5, 3600, 120),
    sweepWaitSeconds: num(values, 'sweep-seconds', 0, 3600, 45),
    connectionKills: Math.floor(num(values, 'kills', 3, 100, 4)),
    hotRecords: Math.floor(num(values, 'hot', 2, 10_000, 30)),
    privatePerSession: Math.floor(num(values, 'private', 1, 1000, 5)),
    progress: process.stdout.isTTY ? 'tty' : 'lines',
  };
}

async function main(): Promise<void> {
  const options = parseOrExit('soak', USAGE, () => parse(process.argv.slice(2)));
  if (!options) return;
  const report = await runSoak(options);
  console.log(formatReport(report));
  process.exit(report.ok ? 0 : 1);
}

main().catch((e: unknown) => {
  console.error('soak:', e);
  process.exit(1);
});
