/**
 * npm run seed -- --records 1000000 --orgs 12 --drafts 10000 --committed 1000 [--reset]
 *
 * Migrates the database named by DATABASE_URL, then bulk-loads generated PFA data (src/db/seed.ts)
 * with a progress bar per phase (plain periodic lines when stdout is not a terminal).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { createDb, createPool } from '../db/database.js';
import { migrateToLatest } from '../db/migrator.js';
import {
  SEED_PHASES,
  SeedRefusedError,
  seedDatabase,
  type SeedPhase,
  type SeedProgress,
} from '../db/seed.js';

const USAGE = `usage: npm run seed -- [--records N] [--orgs N] [--drafts N] [--committed N] [--reset]

  --records N     mirror records to generate (default 1000000)
  --orgs N        organizations, 1..40 (default 12; HOLNG is the largest)
  --drafts N      open drafts, 50 per demo session (default 10000)
  --committed N   pending (committed) modifications (default 1000)
  --reset         empty the PFA tables first (otherwise a database with records is refused)

DATABASE_URL names the PostgreSQL database to migrate and seed.`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface CliOptions {
  records: number;
  orgs: number;
  drafts: number;
  committed: number;
  reset: boolean;
}

const COUNT_FLAGS = ['records', 'orgs', 'drafts', 'committed'] as const;
const DEFAULTS = { records: 1_000_000, orgs: 12, drafts: 10_000, committed: 1_000 };

/** Parses the flags; every problem names the flag it is about. */
function parseSeedArgs(argv: readonly string[]): CliOptions | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // node:util's messages already name the flag ("Unknown option '--recods'").
    // Only its first sentence: the hint about positionals after '--' misleads here.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.split('. To specify')[0] ?? message);
  }
  if (parsed.values.help) return 'help';
  if (parsed.positionals.length > 0)
    throw new UsageError(`unexpected argument '${parsed.positionals[0] ?? ''}'`);
  const options: CliOptions = { ...DEFAULTS, reset: parsed.values.reset ?? false };
  for (const flag of COUNT_FLAGS) {
    const raw = parsed.values[flag];
    if (raw === undefined) continue;
    // Underscores and commas as thousands separators: --records 1_000_000.
    const text = raw.replace(/[_,]/g, '');
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new UsageError(`--${flag} must be a whole number, got '${raw}'`);
    }
    options[flag] = Number(text);
  }
  if (options.orgs < 1 || options.orgs > 40)
    throw new UsageError(`--orgs must be from 1 to 40, got ${options.orgs}`);
  return options;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      records: { type: 'string' },
      orgs: { type: 'string' },
      drafts: { type: 'string' },
      committed: { type: 'string' },
      reset: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

// ------------------------------------------------------------------------------------------------
// Progress display

const UNITS: Record<SeedPhase, string> = {
  prepare: 'steps',
  organizations: 'orgs',
  copy: 'rows',
  vacuum: 'tables',
  indexes: 'indexes',
  sessions: 'sessions',
  drafts: 'drafts',
  committed: 'commits',
  analyze: 'tables',
  refresh: 'steps',
};

const number = new Intl.NumberFormat('en-US');

function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

interface PhaseState {
  start: number;
  last: SeedProgress;
  lastLog: number;
  finished: boolean;
}

/**
 * A finished phase leaves one permanent line. On a terminal the phases still running share one
 * line redrawn in place (at most 10×/s; the index builds overlap the drafts and the refresh);
 * when the output goes to a file or CI log, where carriage returns are noise, each running phase
 * prints a plain line every few seconds instead.
 */
class ProgressDisplay {
  private readonly phases = new Map<SeedPhase, PhaseState>();
  private readonly interactive: boolean;
  private lastDraw = 0;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.interactive = out.isTTY === true;
  }

  update(p: SeedProgress): void {
    const now = performance.now();
    let state = this.phases.get(p.phase);
    if (!state) {
      state = { start: now, last: p, lastLog: now, finished: false };
      this.phases.set(p.phase, state);
    }
    if (state.finished) return; // the seed's own closing report repeats the last progress
    state.last = p;
    if (p.done >= p.total) {
      state.finished = true;
      this.permanent(this.render(p, now - state.start, 'done'));
      return;
    }
    if (this.interactive) {
      if (now - this.lastDraw >= 100) this.drawRunning(now);
    } else if (p.done > 0 && now - state.lastLog >= 5_000) {
      state.lastLog = now;
      this.out.write(`${this.render(p, now - state.start, 'plain')}\n`);
    }
  }

  private width(): number {
    return Math.max(40, (this.out.columns || 100) - 1);
  }

  private permanent(line: string): void {
    if (!this.interactive) {
      this.out.write(`${line}\n`);
      return;
    }
    this.out.write(`\r${line.padEnd(this.width())}\n`);
    this.drawRunning(performance.now());
  }

  private drawRunning(now: number): void {
    this.lastDraw = now;
    const running = [...this.phases.values()].filter((s) => !s.finished);
    const line =
      running.length === 1
        ? this.render(running[0]!.last, now - running[0]!.start, 'bar')
        : running.map((s) => this.render(s.last, now - s.start, 'plain')).join('  |  ');
    this.out.write(`\r${line.slice(0, this.width()).padEnd(this.width())}`);
  }

  private render(p: SeedProgress, elapsedMs: number, style: 'done' | 'bar' | 'plain'): string {
    const unit = UNITS[p.phase];
    const ratio = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const label = p.phase.padEnd(13);
    const counts = `${number.format(p.done)}/${number.format(p.total)} ${unit}`;
    const rate = elapsedMs > 0 ? (p.done * 1000) / elapsedMs : 0;
    // Rows/s is what matters for the COPY; for a handful of indexes or tables a rate says little.
    const rateText = rate >= 10 ? `${number.format(Math.round(rate))} ${unit}/s` : '';
    if (style === 'done') return `${label} done in ${seconds(elapsedMs)}  ${counts}  ${rateText}`.trimEnd();
    const eta = rate > 0 ? `ETA ${seconds(((p.total - p.done) / rate) * 1000)}` : 'ETA …';
    const percent = `${String(Math.floor(ratio * 100)).padStart(3)}%`;
    if (style === 'plain')
      return `${label.trimEnd()} ${percent}  ${counts}  ${rateText}  ${eta}`.replace(/ {3,}/g, '  ');
    const barWidth = 24;
    const filled = Math.round(ratio * barWidth);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}`;
    return `${label} [${bar}] ${percent}  ${counts}  ${rateText}  ${eta}`;
  }
}

// ------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  let options: CliOptions | 'help';
  try {
    options = parseSeedArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`seed: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let connectionString: string;
  try {
    const config = loadConfig();
    if (!config.DATABASE_URL) {
      process.stderr.write(
        'seed: DATABASE_URL is required: set it to the PostgreSQL database to seed,\n' +
          '      e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/pfa npm run seed -- --records 1000000\n',
      );
      return 2;
    }
    connectionString = config.DATABASE_URL;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`seed: ${error.message}\n`);
      return 2;
    }
    throw error;
  }

  // Three at a time: two COPY streams and the progress poll, then two index builders and the
  // drafts/refresh work that runs alongside them.
  const pool = createPool({ connectionString, max: 3, applicationName: 'pfa-seed' });
  const db = createDb(pool);
  try {
    const applied = await migrateToLatest(db);
    process.stdout.write(applied.length ? `migrated: ${applied.join(', ')}\n` : 'schema is up to date\n');
    process.stdout.write(
      `seeding ${number.format(options.records)} records in ${options.orgs} organizations, ` +
        `${number.format(options.drafts)} drafts, ${number.format(options.committed)} committed` +
        `${options.reset ? ' (reset)' : ''}\n`,
    );
    const display = new ProgressDisplay(process.stdout);
    const result = await seedDatabase(pool, { ...options, onProgress: (p) => display.update(p) });

    const lines = [
      '',
      'summary',
      ...SEED_PHASES.map(
        (phase) => `  ${phase.padEnd(14)} ${seconds(result.durationsMs[phase]).padStart(8)}`,
      ),
      `  ${'total'.padEnd(14)} ${seconds(result.totalMs).padStart(8)}  (indexes ran alongside sessions … refresh)`,
      '',
      `  records        ${number.format(result.records)} (${number.format(
        Math.round((result.records * 1000) / Math.max(1, result.totalMs)),
      )} records/s overall, ${number.format(
        Math.round((result.records * 1000) / Math.max(1, result.durationsMs.copy)),
      )} rows/s during COPY)`,
      `  organizations  ${result.organizations.map((o) => `${o.id} ${number.format(o.records)}`).join(', ')}`,
      `  sessions       ${number.format(result.sessions.length)} (${number.format(result.drafts)} drafts, ${number.format(
        result.committed,
      )} committed)`,
    ];
    const first = result.sessions[0];
    if (first) {
      lines.push(
        `  try it         session ${first.id} in ${first.organizationId}, owned by ${first.ownerUserId}:` +
          ` npm run token -- --sub ${first.ownerUserId} --orgs ${first.organizationId} --role editor`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (error) {
    if (error instanceof SeedRefusedError) {
      process.stderr.write(`\nseed: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `\nseed failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
