import type { EventBus, ServiceEvent } from './bus.js';

/** Events a subscriber may have waiting; beyond, the oldest go (every event means "refetch"). */
export const MAX_QUEUED_EVENTS = 100;

/**
 * One subscriber's view of the bus: an async iterator over the events `select` accepts, with its
 * own bounded queue. The bus only pushes into the queue (never awaits a subscriber), so a slow or
 * dead subscriber holds up nobody but itself.
 */
export function eventStream<T>(
  bus: EventBus,
  select: (event: ServiceEvent) => T | undefined,
): AsyncIterableIterator<T> {
  const queue: T[] = [];
  let waiting: ((r: IteratorResult<T>) => void) | null = null;
  let done = false;
  const unsubscribe = bus.subscribe((event) => {
    if (done) return;
    const value = select(event);
    if (value === undefined) return;
    if (waiting) {
      const w = waiting;
      waiting = null;
      w({ value, done: false });
      return;
    }
    queue.push(value);
    if (queue.length > MAX_QUEUED_EVENTS) queue.shift();
  });
  const finish = (): Promise<IteratorResult<T>> => {
    if (!done) {
      done = true;
      unsubscribe();
      queue.length = 0;
      if (waiting) waiting({ value: undefined, done: true });
      waiting = null;
    }
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next() {
      const value = queue.shift();
      if (value !== undefined) return Promise.resolve({ value, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return: finish,
    throw(err?: unknown) {
      void finish();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
