import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pino from 'pino';
import type { Db } from '../../src/db/database.js';
import { DraftsRepository } from '../../src/repositories/drafts.repository.js';
import { DraftsService } from '../../src/services/drafts.service.js';
import { createJobHandlers } from '../../src/jobs/handlers.js';
import { DEFAULT_JOB_SETTINGS, type JobDeps, type JobSettings } from '../../src/jobs/job-deps.js';
import type { JobHandlers, JobRun } from '../../src/jobs/registry.js';
import { PemsClient } from '../../src/pems/client.js';
import type { TestDatabase } from './database.js';

export const testLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/**
 * For the test database's pool: drop() ends the pool, whose clients are still closing when DROP
 * DATABASE … WITH (FORCE) terminates their backends; the FATAL arrives as a pool 'error' that,
 * unhandled, would crash the next test file of this jest worker.
 */
export function ignoreDropRace(err: Error): void {
  if ((err as { code?: string }).code !== '57P01') testLog.warn({ err }, 'idle test connection failed');
}

/** A BullMQ key prefix no other test file (or run) shares. */
export function uniquePrefix(name: string): string {
  return `pfa-test-${name}-${randomBytes(4).toString('hex')}`;
}

export function pemsClient(url: string, rateLimitPerSecond = 0): PemsClient {
  return new PemsClient({ baseUrl: url, tenant: 'TEST', timeoutMs: 5_000, rateLimitPerSecond });
}

/** Test timings: quick in-run retries, short leases. */
export const TEST_SETTINGS: JobSettings = {
  ...DEFAULT_JOB_SETTINGS,
  readPageSize: 500,
  attemptsPerRun: 3,
  retryBaseMs: 10,
  writeLeaseMs: 60_000,
};

export interface DirectJobs {
  handlers: JobHandlers;
  refreshRequests: string[];
  run: JobRun;
}

/** The processors, called directly (no queue), recording refresh requests. */
export function directJobs(
  database: TestDatabase,
  pems: PemsClient | null,
  settings: Partial<JobSettings> = {},
): DirectJobs {
  const refreshRequests: string[] = [];
  const deps: JobDeps = {
    db: database.db,
    pool: database.pool,
    log: testLog,
    pems,
    requestRefresh: (reason) => refreshRequests.push(reason),
    settings: { ...TEST_SETTINGS, ...settings },
  };
  return {
    handlers: createJobHandlers(deps),
    refreshRequests,
    run: { jobId: 'test', attempt: 1, log: testLog },
  };
}

export async function ensureSession(db: Db, org: string, session: string, user: string): Promise<void> {
  await db
    .insertInto('pfa_session')
    .values({ organization_id: org, id: session, owner_user_id: user })
    .onConflict((c) => c.doNothing())
    .execute();
}

/** Edits and commits through the real drafts repository (base version and recordid as the API sets them). */
export async function commitChange(
  db: Db,
  org: string,
  mirrorId: string,
  changes: Record<string, unknown>,
  actor: { session: string; user: string } = { session: 's1', user: 'u1' },
): Promise<string> {
  await ensureSession(db, org, actor.session, actor.user);
  const drafts = new DraftsRepository(db);
  const service = new DraftsService(db, drafts);
  const scope = { organizationId: org, sessionId: actor.session, userId: actor.user };
  const existing = await drafts.openByRecords(org, actor.session, [mirrorId]);
  const edit = await service.edit(scope, mirrorId, existing[0]?.currentVersion ?? 0, changes, 'test');
  if (!edit.draft) throw new Error('edit produced no draft');
  const result = await service.commit(scope, [edit.draft.id]);
  if (result.committed.length !== 1)
    throw new Error(`commit did not commit: ${JSON.stringify(result.conflicted)}`);
  return edit.draft.id;
}

export async function modification(db: Db, org: string, id: string) {
  return db
    .selectFrom('pfa_modification')
    .selectAll()
    .where('organization_id', '=', org)
    .where('id', '=', id)
    .executeTakeFirst();
}

export async function statesOf(db: Db, org: string): Promise<Record<string, number>> {
  const { rows } = await sql<{ sync_state: string; n: number }>`
    SELECT sync_state, count(*)::int AS n FROM pfa_modification WHERE organization_id = ${org} GROUP BY 1`.execute(
    db,
  );
  return Object.fromEntries(rows.map((r) => [r.sync_state, r.n]));
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
