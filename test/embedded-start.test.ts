import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm start` with no configuration: embedded PostgreSQL, demo data, PEMS simulator, demo tokens,
 * GraphQL answering — and a clean restart after kill -9.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pfa-embedded-'));
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function start(
  port: number,
  pgPort: number,
): Promise<{ child: ChildProcess; output: string; tokens: Record<string, string> }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  Object.assign(env, {
    PORT: String(port),
    EMBEDDED_PG_PORT: String(pgPort),
    DATA_DIR: dataDir,
    DEMO_RECORDS: '3000',
    LOG_LEVEL: 'warn',
    REDIS_URL: '',
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 150 s:\n${output}`)), 150_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('Demo admin  token')) {
        clearTimeout(timer);
        const tokens: Record<string, string> = {};
        for (const m of output.matchAll(/Demo (\w+)\s+token: (\S+)/g))
          tokens[m[1] as string] = m[2] as string;
        resolve({ child, output, tokens });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
  });
}

/** Running, not a zombie waiting for its new parent to reap it. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 500));
  // The embedded postmaster survives a kill -9 of its parent: stop it through its pid file.
  const { CACHE_ROOT, reachableDataDir } = await import('../src/db/embedded-postgres.js');
  const pidFile = path.join(reachableDataDir(path.join(dataDir, 'pg')), 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      /* already gone */
    }
    await new Promise((r) => setTimeout(r, 1500));
  }
  // Under /var/tmp/pfa-vanguard/<key>/ (mkdtemp made a 0700 folder): remove the key folder too.
  // Resolve it before dataDir goes: without dataDir reachableDataDir no longer falls back.
  const pgDir = reachableDataDir(path.join(dataDir, 'pg'));
  rmSync(pgDir.startsWith(`${CACHE_ROOT}/`) ? path.dirname(pgDir) : pgDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start with no configuration', () => {
  it('serves GraphQL on embedded PostgreSQL with demo data, and restarts after kill -9', async () => {
    const port = await freePort();
    const pgPort = await freePort();
    const first = await start(port, pgPort);
    expect(Object.keys(first.tokens).sort()).toEqual(['admin', 'editor', 'viewer']);
    const query = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${first.tokens.editor}` },
        body: JSON.stringify({
          query: '{ pfaRecords(organizationId: "HOLNG", first: 5) { totalCount nodes { pfaId } } }',
        }),
      });
      return (await res.json()) as {
        data?: { pfaRecords: { totalCount: number; nodes: unknown[] } };
        errors?: unknown;
      };
    };
    const r = await query();
    expect(r.errors).toBeUndefined();
    expect(r.data?.pfaRecords.totalCount).toBeGreaterThan(100);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as Record<string, unknown>;
    expect(ready.postgres).toBe('ok');
    expect(ready.migrations).toBe('current');

    // kill -9 leaves the postmaster running as an orphan; the next start must recognise it as
    // this folder's own (executable, data folder, start time) and stop it.
    const { reachableDataDir } = await import('../src/db/embedded-postgres.js');
    const pidFile = path.join(reachableDataDir(path.join(dataDir, 'pg')), 'postmaster.pid');
    const orphan = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    first.child.kill('SIGKILL');
    await new Promise((res) => first.child.once('exit', res));
    expect(running(orphan)).toBe(true);
    const second = await start(port, pgPort);
    expect(running(orphan)).toBe(false);
    expect(Number(readFileSync(pidFile, 'utf8').split('\n')[0])).not.toBe(orphan);
    // Same secret (kept in the data folder) and same data: the old token still works.
    const again = await query();
    expect(again.errors).toBeUndefined();
    expect(again.data?.pfaRecords.totalCount).toBe(r.data?.pfaRecords.totalCount);
    second.child.kill('SIGTERM');
    const code = await new Promise((res) => second.child.once('exit', res));
    expect(code).toBe(0);
  }, 400_000);
});
