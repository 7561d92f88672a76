/**
 * Records the SQL a process sends through pg (every client, every pool): text, parameters and the
 * round trip as the sender saw it. Installed once per process; off until switched on.
 */
import pg from 'pg';

export interface CapturedStatement {
  text: string;
  values: unknown[];
  /** Round trip as measured in the sending process. */
  ms: number;
  rows: number | null;
}

let current: CapturedStatement[] | null = null;
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function query(this: unknown, ...args: unknown[]): unknown {
    const log = current;
    const t0 = performance.now();
    const result = original.apply(this, args);
    if (log && typeof args[0] === 'string' && result instanceof Promise) {
      const entry: CapturedStatement = {
        text: args[0],
        values: Array.isArray(args[1]) ? args[1] : [],
        ms: 0,
        rows: null,
      };
      log.push(entry);
      result.then(
        (r: { rowCount?: number | null }) => {
          entry.ms = performance.now() - t0;
          entry.rows = r?.rowCount ?? null;
        },
        () => undefined,
      );
    } else if (log && isQueryObject(args[0])) {
      // A pg Query object (the read timeout's pipelined reads, src/db/read-timeout.ts): it emits
      // 'end' with its result (also when it has a callback).
      const query = args[0];
      const entry: CapturedStatement = { text: query.text, values: query.values ?? [], ms: 0, rows: null };
      log.push(entry);
      query.once('end', (r: { rowCount?: number | null }) => {
        entry.ms = performance.now() - t0;
        entry.rows = r?.rowCount ?? null;
      });
    }
    return result;
  };
}

interface QueryObject {
  text: string;
  values?: unknown[];
  once(event: 'end', listener: (result: { rowCount?: number | null }) => void): unknown;
}

function isQueryObject(q: unknown): q is QueryObject {
  const o = q as Partial<QueryObject> | null;
  return typeof o === 'object' && o !== null && typeof o.text === 'string' && typeof o.once === 'function';
}

/** Starts (on) or stops (off) recording; returns what was recorded since the last switch. */
export function switchCapture(on: boolean): CapturedStatement[] {
  install();
  const done = current ?? [];
  current = on ? [] : null;
  return done;
}

/** Runs fn while recording the statements this process sends. */
export async function captureStatements<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; statements: CapturedStatement[] }> {
  switchCapture(true);
  try {
    const result = await fn();
    return { result, statements: switchCapture(false) };
  } finally {
    switchCapture(false);
  }
}
