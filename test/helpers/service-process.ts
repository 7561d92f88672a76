import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

/**
 * The real API (`src/main.ts`) or worker (`src/worker.ts`) as a child process, for tests that
 * must see whether the process survives (an unhandled 'error' event ends a process, not a test's
 * in-process server). Reads pino's JSON lines from stdout.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** Every JSON log line so far. */
  readonly lines: LogLine[];
  /** Non-JSON output (stderr, stack traces) so far. */
  readonly rawOutput: string;
  /** null while running. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Resolves with the first log line the predicate accepts (rejects when the process exits). */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
}

export async function startServiceProcess(
  script: 'src/main.ts' | 'src/worker.ts',
  env: Record<string, string>,
  ready: (line: LogLine) => boolean,
  timeoutMs = 60_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, script)], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let raw = '';
  let exit: ServiceProcess['exit'] = null;
  const waiters = new Set<{ predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  const exitListeners = new Set<() => void>();

  let pending = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let line: LogLine | null = null;
      try {
        const parsed = JSON.parse(text) as unknown;
        if (parsed && typeof parsed === 'object' && 'level' in parsed) line = parsed as LogLine;
      } catch {
        /* not a log line */
      }
      if (!line) {
        raw += `${text}\n`;
        continue;
      }
      lines.push(line);
      for (const w of [...waiters])
        if (w.predicate(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    raw += chunk.toString();
  });
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    for (const l of [...exitListeners]) l();
  });

  const waitForLog = (predicate: (line: LogLine) => boolean, ms = 30_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const found = lines.find(predicate);
      if (found) return resolve(found);
      const w = {
        predicate,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          exitListeners.delete(onExit);
          resolve(l);
        },
      };
      const onExit = () => {
        clearTimeout(timer);
        waiters.delete(w);
        reject(new Error(`${script} exited (${JSON.stringify(exit)}):\n${raw.slice(-4000)}`));
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        exitListeners.delete(onExit);
        reject(new Error(`${script}: no such log line within ${ms} ms:\n${raw.slice(-4000)}`));
      }, ms);
      if (exit) return onExit();
      waiters.add(w);
      exitListeners.add(onExit);
    });

  const handle: ServiceProcess = {
    child,
    lines,
    get rawOutput() {
      return raw;
    },
    get exit() {
      return exit;
    },
    waitForLog,
    async stop() {
      if (exit) return;
      const gone = new Promise<void>((resolve) => exitListeners.add(resolve));
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(hard);
    },
  };
  try {
    await waitForLog(ready, timeoutMs);
  } catch (e) {
    if (!exit) child.kill('SIGKILL');
    throw e;
  }
  return handle;
}

/** Starts the API on a free port; returns the process and its base URL (no trailing slash). */
export async function startApiProcess(
  env: Record<string, string>,
): Promise<{ api: ServiceProcess; baseUrl: string }> {
  const api = await startServiceProcess(
    'src/main.ts',
    { PORT: '0', HOST: '127.0.0.1', KPI_REFRESH_INTERVAL_MS: '0', REDIS_URL: '', ...env },
    (l) => l.msg === 'PFA Vanguard is up',
  );
  const up = api.lines.find((l) => l.msg === 'PFA Vanguard is up') as LogLine;
  return { api, baseUrl: String(up.url).replace(/\/graphql$/, '') };
}

/** A redis-server of this test alone (the machine's shared one is never stopped). */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** SHUTDOWN SAVE: clients lose their connections; the data comes back with start(). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory (nothing when it runs). */
  start(): Promise<void>;
  /** Stops it for good and removes its files. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pfa-redis-'));
  let child: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;

  const start = async () => {
    if (child && child.exitCode === null) return;
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 20_000);
      proc.stdout?.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
  };
  const shutdown = async (mode: 'SAVE' | 'NOSAVE') => {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.call('SHUTDOWN', mode).catch(() => undefined); // the server closes the socket
    } catch {
      proc.kill('SIGKILL');
    } finally {
      redis.disconnect();
    }
    await gone;
    child = null;
  };
  await start();
  return {
    port,
    url,
    stop: () => shutdown('SAVE'),
    start,
    async close() {
      await shutdown('NOSAVE');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
