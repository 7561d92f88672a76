/**
 * What a pattern cost besides wall time: CPU per request of the server processes, of the
 * service's PostgreSQL backends and of the bench process itself (robust to other work on the
 * machine, which inflates wall time), and how busy the machine was with other people's work.
 */
import type pg from 'pg';
import { readProc, watchBackground, type BackgroundLoad } from './procstat.js';

export interface CpuPerRequest {
  /** Server processes (Node: HTTP, GraphQL, resolvers, pg driver), ms of CPU per request. */
  serverMs: number;
  /** PostgreSQL backends of the service (and of the bench's direct SQL connection), ms per request. */
  postgresMs: number;
  /** The bench process (client: request, JSON.parse), ms per request. */
  clientMs: number;
}

export interface Metered {
  background: BackgroundLoad;
  cpu: CpuPerRequest;
}

/** The service's pool and the bench's direct SQL connection (idle while GraphQL is timed). */
const MEASURED_APPLICATIONS = ['pfa-vanguard', 'pfa-bench-sql'];

export class Meter {
  constructor(
    private readonly serverPids: () => number[],
    private readonly client: pg.Client,
  ) {}

  private async backends(applications: string[] | null): Promise<number[]> {
    const { rows } = await this.client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND ($1::text[] IS NULL OR application_name = ANY($1))`,
      [applications],
    );
    return rows.map((r) => r.pid);
  }

  /** Starts measuring; `stop(requests)` returns the background load and CPU per request. */
  async start(): Promise<{ stop(requests: number): Promise<Metered> }> {
    const cpuOf = (pids: number[]) => new Map(pids.map((p) => [p, readProc(p)?.cpuSeconds ?? 0]));
    const server0 = cpuOf(this.serverPids());
    const pg0 = cpuOf(await this.backends(MEASURED_APPLICATIONS));
    const client0 = process.cpuUsage();
    const background = watchBackground(async () => [
      process.pid,
      ...this.serverPids(),
      ...(await this.backends(null)),
    ]);
    return {
      stop: async (requests: number) => {
        const client = process.cpuUsage(client0);
        const since = (start: Map<number, number>, pids: number[]) => {
          let total = 0;
          for (const p of new Set([...start.keys(), ...pids])) {
            const now = readProc(p);
            if (now) total += now.cpuSeconds - (start.get(p) ?? 0); // an ended process took its CPU with it
          }
          return total;
        };
        const serverSeconds = since(server0, this.serverPids());
        const pgSeconds = since(pg0, await this.backends(MEASURED_APPLICATIONS));
        const n = Math.max(1, requests);
        return {
          background: await background.stop(),
          cpu: {
            serverMs: (1000 * serverSeconds) / n,
            postgresMs: (1000 * pgSeconds) / n,
            clientMs: (client.user + client.system) / 1000 / n,
          },
        };
      },
    };
  }
}
