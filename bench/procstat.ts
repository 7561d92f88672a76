/** CPU and memory of processes from /proc (Linux), sampled while a load runs. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcSample {
  cpuSeconds: number;
  rssBytes: number;
}

/** CPU (user + system) and resident memory of one process, or null when it is gone. */
export function readProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSeconds: ticks / TICKS_PER_SECOND, rssBytes: rssKb * 1024 };
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine (all cores). */
function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export interface ResourceUsage {
  seconds: number;
  /** CPU of the server processes, in % of one core (200 % = both cores). */
  serverCpuPercent: number;
  serverRssMaxMb: number;
  serverRssAvgMb: number;
  /** CPU of the benchmark database's backends, in % of one core. */
  postgresCpuPercent: number;
  /** CPU of the bench process itself (the load generator), in % of one core. */
  clientCpuPercent: number;
  /** Whole machine busy time, in % of all cores. */
  machineBusyPercent: number;
  /** Of which other processes (not the bench, its server, the benchmark database's backends), in % of all cores. */
  othersPercent: number;
}

/**
 * Samples the server processes' memory every `intervalMs` until stopped; CPU of the server, of
 * the benchmark database's backends (`postgresPids`) and of this process over the whole span.
 */
export async function sampleResources(
  serverPids: readonly number[],
  postgresPids: () => Promise<number[]>,
  intervalMs = 250,
): Promise<{ stop(): Promise<ResourceUsage> }> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const serverCpu0 = serverPids.map((p) => readProc(p)?.cpuSeconds ?? 0);
  const pgCpu0 = new Map((await postgresPids()).map((p) => [p, readProc(p)?.cpuSeconds ?? 0]));
  const background = watchBackground(async () => [process.pid, ...serverPids, ...(await postgresPids())]);
  const rss: number[] = [];
  const sample = () => {
    rss.push(serverPids.reduce((a, p) => a + (readProc(p)?.rssBytes ?? 0), 0));
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    async stop() {
      clearInterval(timer);
      sample();
      const seconds = (performance.now() - t0) / 1000;
      const serverCpu = serverPids.reduce(
        (a, p, i) => a + ((readProc(p)?.cpuSeconds ?? 0) - (serverCpu0[i] ?? 0)),
        0,
      );
      // Backends that started during the run count from zero; ones that ended are lost (rare).
      let pgCpu = 0;
      for (const p of new Set([...pgCpu0.keys(), ...(await postgresPids())])) {
        const now = readProc(p);
        if (now) pgCpu += now.cpuSeconds - (pgCpu0.get(p) ?? 0); // a backend that ended took its CPU with it
      }
      const cpu = process.cpuUsage(cpu0);
      const load = await background.stop();
      const mb = 1024 * 1024;
      return {
        seconds,
        serverCpuPercent: (100 * serverCpu) / seconds,
        serverRssMaxMb: Math.max(...rss) / mb,
        serverRssAvgMb: rss.reduce((a, b) => a + b, 0) / rss.length / mb,
        postgresCpuPercent: (100 * pgCpu) / seconds,
        clientCpuPercent: (100 * (cpu.user + cpu.system)) / 1e6 / seconds,
        machineBusyPercent: load.machineBusyPercent,
        othersPercent: load.othersPercent,
      };
    },
  };
}

/** Resident memory of some processes now, in MB. */
export function rssMb(pids: readonly number[]): number {
  return pids.reduce((a, p) => a + (readProc(p)?.rssBytes ?? 0), 0) / (1024 * 1024);
}

export interface BackgroundLoad {
  seconds: number;
  /** Whole machine busy time, in % of all cores. */
  machineBusyPercent: number;
  /** Of which processes that are not the benchmark's (other work on the machine), in % of all cores. */
  othersPercent: number;
}

/**
 * Watches how busy the machine is and how much of that is someone else's work: everything except
 * the given processes (the bench, the server, the benchmark database's backends).
 */
export function watchBackground(ownPids: () => Promise<number[]>): { stop(): Promise<BackgroundLoad> } {
  const t0 = performance.now();
  const machine0 = machineTicks();
  const start = ownPids().then((pids) => new Map(pids.map((p) => [p, readProc(p)?.cpuSeconds ?? 0])));
  return {
    async stop() {
      const own0 = await start;
      const pids = new Set([...own0.keys(), ...(await ownPids())]);
      const machine1 = machineTicks();
      let ownSeconds = 0;
      for (const p of pids) {
        const now = readProc(p);
        if (now) ownSeconds += now.cpuSeconds - (own0.get(p) ?? 0);
      }
      const total = Math.max(1, machine1.total - machine0.total);
      const busy = machine1.busy - machine0.busy;
      const others = Math.max(0, busy - ownSeconds * TICKS_PER_SECOND);
      return {
        seconds: (performance.now() - t0) / 1000,
        machineBusyPercent: (100 * busy) / total,
        othersPercent: (100 * others) / total,
      };
    },
  };
}
