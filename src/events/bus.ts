/**
 * Live-update events (DOMAIN §5.1 subscriptions, §8 "events go out after commit").
 *
 * Published by the code path that committed (never by a row trigger), after the transaction:
 * - with REDIS_URL: Redis pub/sub on one channel, so every API process delivers every event (the
 *   jobs already need Redis in that mode; a PUBLISH costs the committing request one round trip
 *   and no PostgreSQL lock, and PgBouncer's transaction mode does not get in the way);
 * - without (embedded mode, one process): an in-process emitter.
 *
 * `changeSeq` is a per-organization sequence of these events (Redis INCR, or a counter in
 * embedded mode): strictly increasing for one organization, so a client that sees a gap knows it
 * missed an event and refetches anyway.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export const EVENTS_CHANNEL = 'pfa:events';
const SEQ_KEY = 'pfa:events:seq';

export interface KpiChangedEvent {
  type: 'kpiChanged';
  organizationId: string;
  refreshedAt: string;
  changeSeq: number;
  reason: string;
}

export interface DraftsChangedEvent {
  type: 'draftsChanged';
  organizationId: string;
  sessionId: string;
  changeSeq: number;
  reason: string;
}

export interface JobProgressEvent {
  type: 'jobProgress';
  id: string;
  job: string;
  /** active, progress, completed, failed */
  state: string;
  processed: number;
  total: number | null;
  /** The organization a sync belongs to (null for refreshes and other global jobs). */
  organizationId: string | null;
}

export type ServiceEvent = KpiChangedEvent | DraftsChangedEvent | JobProgressEvent;
type Unsequenced<E> = E extends { changeSeq: number } ? Omit<E, 'changeSeq'> : E;
export type EventInput = Unsequenced<ServiceEvent>;

export type EventListener = (event: ServiceEvent) => void;

export interface EventBus {
  readonly mode: 'redis' | 'memory';
  /** Never throws: an event that cannot go out is logged (clients refetch on their next action). */
  publish(event: EventInput): Promise<void>;
  /** Listeners are called synchronously and must not block (they queue per subscriber). */
  subscribe(listener: EventListener): () => void;
  readonly listenerCount: number;
  close(): Promise<void>;
}

abstract class BaseBus {
  private readonly listeners = new Set<EventListener>();
  constructor(protected readonly log: Logger) {}

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  protected deliver(event: ServiceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.warn({ err }, 'event listener failed');
      }
    }
  }
}

export class MemoryEventBus extends BaseBus implements EventBus {
  readonly mode = 'memory' as const;
  private readonly seq = new Map<string, number>();

  async publish(event: EventInput): Promise<void> {
    let full: ServiceEvent;
    if (event.type === 'jobProgress') full = event;
    else {
      const n = (this.seq.get(event.organizationId) ?? 0) + 1;
      this.seq.set(event.organizationId, n);
      full = { ...event, changeSeq: n } as ServiceEvent;
    }
    // Asynchronously, as with Redis: the publisher never runs subscriber code.
    await Promise.resolve();
    this.deliver(full);
  }

  async close(): Promise<void> {}
}

export class RedisEventBus extends BaseBus implements EventBus {
  readonly mode = 'redis' as const;
  private readonly pub: Redis;
  private readonly sub: Redis;

  private constructor(url: string, log: Logger) {
    super(log);
    const options = { maxRetriesPerRequest: 2, enableOfflineQueue: true };
    this.pub = new Redis(url, options);
    this.sub = new Redis(url, { ...options, maxRetriesPerRequest: null });
    for (const c of [this.pub, this.sub])
      c.on('error', (err: unknown) => log.debug({ err }, 'events: Redis connection error'));
    this.sub.on('message', (_channel: string, text: string) => {
      let event: ServiceEvent;
      try {
        event = JSON.parse(text) as ServiceEvent;
      } catch {
        return;
      }
      this.deliver(event);
    });
  }

  /** Does not wait for Redis: a Redis that is away now is retried (and re-subscribed) by ioredis. */
  static async connect(url: string, log: Logger): Promise<RedisEventBus> {
    const bus = new RedisEventBus(url, log);
    const subscribed = bus.sub.subscribe(EVENTS_CHANNEL);
    await Promise.race([subscribed, new Promise((r) => setTimeout(r, 2_000).unref())]).catch((err: unknown) =>
      log.warn({ err }, 'events: not subscribed yet (Redis unreachable); retrying'),
    );
    subscribed.catch(() => undefined);
    return bus;
  }

  async publish(event: EventInput): Promise<void> {
    try {
      let full: ServiceEvent;
      if (event.type === 'jobProgress') full = event;
      else {
        const n = await this.pub.hincrby(SEQ_KEY, event.organizationId, 1);
        full = { ...event, changeSeq: n } as ServiceEvent;
      }
      await this.pub.publish(EVENTS_CHANNEL, JSON.stringify(full));
    } catch (err) {
      this.log.warn({ err, event: event.type }, 'event not published (Redis unreachable)');
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
    this.sub.disconnect();
    this.pub.disconnect();
  }
}

/** Redis pub/sub when REDIS_URL is set (several API processes), else in-process (embedded). */
export async function createEventBus(redisUrl: string | undefined, log: Logger): Promise<EventBus> {
  if (!redisUrl) return new MemoryEventBus(log);
  return RedisEventBus.connect(redisUrl, log);
}
