/** What the numbers were measured on: machine, PostgreSQL and its non-default settings, commit. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type pg from 'pg';

export interface MachineInfo {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  commit: string;
  /** Settings of the benchmark database's sessions that differ from the built-in defaults. */
  pgSettings: { name: string; setting: string; unit: string | null; source: string }[];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

export function commitDescription(): string {
  const head = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const dirty = git(['status', '--porcelain']).length > 0;
  return dirty ? `${head} (uncommitted changes)` : head;
}

export async function machineInfo(client: pg.ClientBase): Promise<MachineInfo> {
  const version = await client.query<{ v: string }>('SELECT version() AS v');
  // 'client' (application_name, DateStyle sent by the driver) and 'override' are not settings
  // anyone chose; everything else that is not the built-in default is reported.
  const settings = await client.query<{ name: string; setting: string; unit: string | null; source: string }>(
    `SELECT name, setting, unit, source FROM pg_settings
     WHERE source NOT IN ('default', 'client', 'override', 'session') ORDER BY name`,
  );
  return {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: version.rows[0]?.v ?? 'unknown',
    commit: commitDescription(),
    pgSettings: settings.rows,
  };
}
