/** Starts bench/server.ts as a child process and talks to it over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CapturedStatement } from './capture.js';
import type { ChildMessage, MemoryStats, ParentMessage } from './ipc.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface ServerOptions {
  workers: number;
  databaseUrl: string;
  jwtSecret: string;
  logFile: string;
  /** Directory for V8 CPU profiles (node --cpu-prof), written when the server stops. */
  cpuProfDir?: string;
  env?: Record<string, string>;
}

export interface ServerHandle {
  url: string;
  workers: number;
  /** The server's processes (the cluster primary first when there is one). */
  pids: number[];
  /** Runs fn while the service records the SQL it sends. */
  capture<T>(fn: () => Promise<T>): Promise<{ result: T; statements: CapturedStatement[] }>;
  /** process.memoryUsage() of every server process. */
  memory(): Promise<MemoryStats[]>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
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

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startServer(options: ServerOptions): Promise<ServerHandle> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const out = openSync(options.logFile, 'w');
  const execArgv = ['--import', 'tsx'];
  if (options.cpuProfDir) {
    mkdirSync(options.cpuProfDir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  }
  const port = await freePort();
  const child: ChildProcess = fork(path.join(HERE, 'server.ts'), [], {
    execArgv,
    stdio: ['ignore', out, out, 'ipc'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: options.jwtSecret,
      DATABASE_URL: options.databaseUrl,
      HOST: '127.0.0.1',
      PORT: String(port),
      BENCH_WORKERS: String(options.workers),
      // FAST_EXECUTION=false npm run bench: the same run with graphql-js only, for comparison.
      ...(process.env.FAST_EXECUTION ? { FAST_EXECUTION: process.env.FAST_EXECUTION } : {}),
      // The benchmark measures the query path: every request runs its statements. The exact
      // response cache (which answers a repeated request from memory) is measured on its own,
      // in the load rows that say "response cache on".
      RESPONSE_CACHE_MB: process.env.RESPONSE_CACHE_MB ?? '0',
      ...options.env,
    },
  });
  closeSync(out);

  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  const ready = await new Promise<{ url: string; pids: number[] }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in 60 s:\n${tail(options.logFile)}`)),
      60_000,
    );
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve({ url: message.url, pids: message.pids });
      } else if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`server failed: ${message.message}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (code ${code}) before it was ready:\n${tail(options.logFile)}`));
    });
  });

  let nextId = 1;
  const request = <T>(message: ParentMessage, pick: (m: ChildMessage) => T | undefined): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', listener);
        reject(new Error(`server did not answer ${message.type} within 30 s`));
      }, 30_000);
      const listener = (reply: ChildMessage) => {
        const value = pick(reply);
        if (value !== undefined) {
          clearTimeout(timer);
          child.off('message', listener);
          resolve(value);
        }
      };
      child.on('message', listener);
      child.send(message, (error) => error && reject(error));
    });
  const setCapture = (on: boolean): Promise<CapturedStatement[]> => {
    const id = nextId++;
    return request({ type: 'capture', id, on }, (m) =>
      m.type === 'captured' && m.id === id ? m.statements : undefined,
    );
  };

  return {
    url: ready.url,
    workers: options.workers,
    pids: ready.pids,
    async capture(fn) {
      await setCapture(true);
      try {
        const result = await fn();
        // Durations are filled in when each query's promise settles; the request is done by now.
        const statements = await setCapture(false);
        return { result, statements };
      } catch (error) {
        await setCapture(false);
        throw error;
      }
    },
    memory() {
      const id = nextId++;
      return request({ type: 'stats', id }, (m) => (m.type === 'stats' && m.id === id ? m.stats : undefined));
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}
