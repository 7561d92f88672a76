import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import { createReadDb } from './db/read-timeout.js';
import { ChangeMarksRepository } from './repositories/change-marks.repository.js';
import type { JobGateway } from './jobs/gateway.js';
import { DraftsRepository } from './repositories/drafts.repository.js';
import { KpiRepository } from './repositories/kpi.repository.js';
import { MirrorRepository } from './repositories/mirror.repository.js';
import { CursorCodec } from './repositories/cursor-codec.js';
import { SessionRepository } from './repositories/session.repository.js';
import { SyncLogRepository } from './repositories/sync-log.repository.js';
import type { AfterCommit, DraftsService } from './services/drafts.service.js';
import { QuestionsService } from './services/questions.service.js';
import { AggregateRepository } from './repositories/aggregate.repository.js';
import { LruCache } from './util/lru-cache.js';
import { MemoryEventBus, type EventBus } from './events/bus.js';
import { PublishingDraftsService } from './events/drafts-events.js';

/** Everything a request or a job needs, built once at boot. */
export interface Services {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  db: Db;
  /** The same pool under READ_STATEMENT_TIMEOUT_MS (SET LOCAL per statement): client-shaped reads. */
  readDb: Db;
  jwtSecret: string;
  mirror: MirrorRepository;
  drafts: DraftsRepository;
  /** The draft use cases (edit, bulk edit, commit, discard, resolve). */
  draftService: DraftsService;
  kpi: KpiRepository;
  /** Change tokens of a caller's view (the exact response cache's validity check). */
  changeMarks: ChangeMarksRepository;
  /** Totals by any grouping, value discovery and hints (pfaAggregate, fieldValues). */
  questions: QuestionsService;
  sessions: SessionRepository;
  syncLog: SyncLogRepository;
  cursors: CursorCodec;
  jobs: JobGateway;
  /**
   * Session owners seen lately: (org/session) → user. Bounded, and each entry lives a few minutes:
   * a session removed by housekeeping and re-created by someone else is not served from here.
   */
  sessionOwners: LruCache<string, string>;
  /** Known organizations (id → name); refreshed on miss. */
  organizations: LruCache<string, string>;
  /** Live-update events (subscriptions): Redis pub/sub with REDIS_URL, in-process otherwise. */
  events: EventBus;
}

export function createServices(deps: {
  config: Config;
  log: Logger;
  pool: pg.Pool;
  db: Db;
  jwtSecret: string;
  jobs: JobGateway;
  /** Defaults to an in-process bus (one process, tests). */
  events?: EventBus;
}): Services {
  const events = deps.events ?? new MemoryEventBus(deps.log);
  const readDb = createReadDb(deps.pool, deps.config.READ_STATEMENT_TIMEOUT_MS, {
    prepared: deps.config.READ_PREPARED_STATEMENTS,
  });
  const drafts = new DraftsRepository(deps.db);
  const kpi = new KpiRepository(readDb);
  // After a commit: a refresh soon and the write-back. A write-back that cannot be queued now
  // (Redis away) is not lost: the changes stay committed and the scheduled sweep queues them.
  const afterCommit: AfterCommit = {
    changesCommitted(organizationId, reason) {
      void events.publish({
        type: 'kpiChanged',
        organizationId,
        refreshedAt: new Date().toISOString(),
        reason,
      });
      deps.jobs.requestRefresh(reason);
      deps.jobs
        .enqueue('write-sync', organizationId)
        .catch((err: unknown) =>
          deps.log.warn({ err, organizationId }, 'write-sync not queued; the sweep will queue it'),
        );
    },
  };
  return {
    ...deps,
    readDb,
    mirror: new MirrorRepository(readDb),
    drafts,
    draftService: new PublishingDraftsService(events, deps.db, drafts, afterCommit),
    kpi,
    changeMarks: new ChangeMarksRepository(readDb),
    questions: new QuestionsService(new AggregateRepository(readDb), kpi),
    sessions: new SessionRepository(deps.db),
    syncLog: new SyncLogRepository(deps.db),
    cursors: new CursorCodec(deps.jwtSecret),
    sessionOwners: new LruCache(10_000, 5 * 60_000),
    organizations: new LruCache(1_000, 10 * 60_000),
    events,
  };
}
