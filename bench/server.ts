/**
 * The service as the benchmark runs it: a child process (or a cluster of BENCH_WORKERS processes)
 * assembled like src/main.ts in production mode against DATABASE_URL, with the jobs disabled.
 *
 * IPC with the bench process: `ready` (url and pids) once listening; `capture` on/off, which
 * records every SQL statement the service's pg clients send (text, parameters, duration as the
 * service saw it), so the bench can replay exactly that SQL directly.
 */
import cluster, { type Worker } from 'node:cluster';
import type { CapturedStatement } from './capture.js';
import { send, type ChildMessage, type MemoryStats, type ParentMessage } from './ipc.js';

/** Cluster primary: forks the workers, relays capture requests to all of them and merges replies. */
function runPrimary(count: number): void {
  const workers: Worker[] = [];
  const ready = new Map<number, { url: string; pid: number }>();
  const pending = new Map<number, { left: number; statements: CapturedStatement[]; stats: MemoryStats[] }>();
  let stopping = false;
  for (let i = 0; i < count; i++) {
    const worker = cluster.fork();
    workers.push(worker);
    worker.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        ready.set(worker.id, { url: message.url, pid: worker.process.pid ?? 0 });
        if (ready.size === count) {
          const first = [...ready.values()][0];
          send({
            type: 'ready',
            url: first?.url ?? '',
            pids: [process.pid, ...[...ready.values()].map((r) => r.pid)],
          });
        }
      } else if (message.type === 'captured' || message.type === 'stats') {
        const p = pending.get(message.id);
        if (!p) return;
        if (message.type === 'captured') p.statements.push(...message.statements);
        else p.stats.push(...message.stats);
        if (--p.left === 0) {
          pending.delete(message.id);
          if (message.type === 'captured')
            send({ type: 'captured', id: message.id, statements: p.statements });
          else
            send({
              type: 'stats',
              id: message.id,
              stats: [{ pid: process.pid, memory: process.memoryUsage() }, ...p.stats],
            });
        }
      }
    });
    worker.on('exit', (code) => {
      if (!stopping) {
        send({ type: 'failed', message: `worker ${worker.id} exited with code ${code}` });
        process.exit(1);
      }
    });
  }
  process.on('message', (message: ParentMessage) => {
    pending.set(message.id, { left: workers.length, statements: [], stats: [] });
    for (const w of workers) w.send(message);
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    let left = workers.length;
    for (const w of workers) {
      w.once('exit', () => {
        if (--left === 0) process.exit(0);
      });
      w.process.kill('SIGTERM');
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}

const workerCount = Number(process.env.BENCH_WORKERS ?? '1');
if (workerCount > 1 && cluster.isPrimary) runPrimary(workerCount);
else
  // The service is loaded in the workers only: a cluster primary stays a small process.
  import('./server-worker.js')
    .then((worker) => worker.runWorker())
    .catch((error: unknown) => {
      send({
        type: 'failed',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      process.exit(1);
    });
