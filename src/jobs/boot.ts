import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { startPemsSimulator } from '../pems/simulator.js';
import { createJobGateway } from './factory.js';
import type { JobGateway } from './gateway.js';
import { createPemsClient } from './job-deps.js';

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
  const pems = createPemsClient(config, pemsUrl ?? undefined);
  if (!pems) log.warn('PEMS_URL not set: synchronisation with PEMS is unavailable');
  // BullMQ when Redis answers (the worker runs here too in embedded mode; in production run
  // `npm run worker`), else the same processors in-process.
  const jobs = await createJobGateway(
    { config, log, pool: deps.pool, db: deps.db },
    { ...(config.REDIS_URL ? { redisUrl: config.REDIS_URL } : {}), pems, worker: deps.embeddedMode },
  );
  const gateway: JobGateway = jobs;
  return {
    gateway,
    pemsUrl,
    readiness: async () => ({
      ...(await jobs.readiness()),
      pems: pems ? 'configured' : 'unavailable (PEMS_URL not set)',
    }),
    close: async () => {
      await gateway.close();
      for (const c of closers) await c();
    },
  };
}
