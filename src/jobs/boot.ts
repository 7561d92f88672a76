import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { PemsClient } from '../pems/client.js';
import { startPemsSimulator } from '../pems/simulator.js';
import { DisabledJobGateway, type JobGateway } from './gateway.js';

export interface JobsHandle {
  gateway: JobGateway;
  pemsUrl: string | null;
  readiness: () => Promise<Record<string, unknown>>;
  close: () => Promise<void>;
}

/**
 * Wires PEMS and the job runner for the API process. In embedded (demo) mode a PEMS simulator
 * over the same generated data runs in-process, so the whole loop works out of the box.
 */
export async function startJobs(deps: {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  db: Db;
  embeddedMode: boolean;
  demoRecords: number;
}): Promise<JobsHandle> {
  const { config, log } = deps;
  const closers: (() => Promise<void>)[] = [];
  let pemsUrl = config.PEMS_URL ?? null;
  if (!pemsUrl && deps.embeddedMode) {
    const sim = await startPemsSimulator({ orgs: 12, records: deps.demoRecords, host: '127.0.0.1' });
    closers.push(() => sim.close());
    pemsUrl = sim.url;
    log.info({ url: sim.url }, 'PEMS simulator started in-process (demo mode)');
  }
  const pems = pemsUrl
    ? new PemsClient({
        baseUrl: pemsUrl,
        tenant: config.PEMS_TENANT,
        timeoutMs: config.PEMS_TIMEOUT_MS,
        rateLimitPerSecond: config.PEMS_RATE_LIMIT_PER_SECOND,
        ...(config.PEMS_API_KEY ? { apiKey: config.PEMS_API_KEY } : {}),
        ...(config.PEMS_USERNAME ? { username: config.PEMS_USERNAME, password: config.PEMS_PASSWORD ?? '' } : {}),
      })
    : null;
  if (!pems) log.warn('PEMS_URL not set: synchronisation with PEMS is unavailable');
  const gateway: JobGateway = new DisabledJobGateway();
  return {
    gateway,
    pemsUrl,
    readiness: async () => ({ pems: pems ? 'configured' : 'unavailable (PEMS_URL not set)' }),
    close: async () => {
      await gateway.close();
      for (const c of closers) await c();
    },
  };
}
