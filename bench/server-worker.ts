/** One service process of the benchmark (see bench/server.ts): src/main.ts's assembly, jobs disabled. */
import { loadConfig } from '../src/config.js';
import { createDb, createPool } from '../src/db/database.js';
import { createApp } from '../src/http/server.js';
import { registerPoolMetrics } from '../src/http/metrics.js';
import { DisabledJobGateway } from '../src/jobs/gateway.js';
import { createServices } from '../src/services.js';
import { createServiceLog } from '../src/util/service-log.js';
import { switchCapture } from './capture.js';
import { send, type ParentMessage } from './ipc.js';

export async function runWorker(): Promise<void> {
  const config = loadConfig();
  // The service's own log (buffered JSON lines, src/util/service-log.ts), as src/main.ts has it.
  const { log } = createServiceLog(config.LOG_LEVEL, 'pfa-vanguard-bench');
  const pool = createPool({
    connectionString: config.DATABASE_URL as string,
    max: config.DB_POOL_MAX,
    statementTimeoutMs: config.STATEMENT_TIMEOUT_MS,
  });
  pool.on('error', (err) => log.error({ err }, 'idle PostgreSQL connection failed'));
  registerPoolMetrics(pool);
  const db = createDb(pool);
  const services = createServices({
    config,
    log,
    pool,
    db,
    jwtSecret: config.AUTH_JWT_SECRET as string,
    jobs: new DisabledJobGateway(),
  });
  const app = await createApp(services);
  const url = await app.listen(config.PORT, config.HOST);

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'capture')
      send({ type: 'captured', id: message.id, statements: switchCapture(message.on) });
    else
      send({ type: 'stats', id: message.id, stats: [{ pid: process.pid, memory: process.memoryUsage() }] });
  });
  const stop = () => {
    void app
      .close()
      .then(() => db.destroy())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  send({ type: 'ready', url, pids: [process.pid] });
}
