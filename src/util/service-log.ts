import { pino, type Logger } from 'pino';

/**
 * The service's log: JSON lines on stdout, buffered. Every request writes an access line, and a
 * write per line (pino's synchronous destination) was about 4% of the server's CPU under load (a
 * write(2) each, measured in the kpiSummary load profile of 2026-12-06). Lines are now gathered up
 * to 4 KiB and written in one write, at the latest every `flushMs`, and what is left is written
 * when the process exits (process.exit included, so the process guard's fatal line and the
 * shutdown lines are out), always in order. Only a hard kill (SIGKILL, a crash of the runtime) can lose
 * the last quarter second of lines. `flushSync()` writes everything out now (before the start
 * banner, so the banner is printed after the lines that precede it).
 */
export function createServiceLog(
  level: string,
  service: string,
  flushMs = 250,
): { log: Logger; flushSync(): void } {
  // Synchronous writes of a buffer, not asynchronous ones: an asynchronous write still in flight
  // when the process exits lands after the lines flushed synchronously at exit (lines out of
  // order, seen in test/service-log.test.ts on a loaded machine).
  const destination = pino.destination({ dest: 1, sync: true, minLength: 4096 });
  const timer = setInterval(() => destination.flush(), flushMs);
  timer.unref();
  // pino flushes an asynchronous destination at exit by itself, a synchronous one not.
  process.on('exit', () => destination.flushSync());
  const log = pino({ level, base: { service } }, destination);
  return { log, flushSync: () => destination.flushSync() };
}
