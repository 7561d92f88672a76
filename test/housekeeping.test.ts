import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { settingsFromConfig } from '../src/jobs/job-deps.js';
import { SessionRepository } from '../src/repositories/session.repository.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';
import { directJobs, ignoreDropRace } from './helpers/jobs.js';

/**
 * Housekeeping (nightly maintenance): retention of audit events, superseded record versions and
 * KPI refresh logs; removal of idle sessions whose modifications are all archived; and
 * `pfa_session.last_used_at` kept current from the request path at most once a minute.
 */

const ORG = 'HOLNG';
let t: TestDatabase;
let ids: string[];

const daysAgo = (d: number) => sql`now() - make_interval(days => ${d})`;

async function session(id: string, lastUsedDaysAgo: number, owner = 'planner'): Promise<void> {
  await sql`
    INSERT INTO pfa_session (organization_id, id, owner_user_id, last_used_at)
    VALUES (${ORG}, ${id}, ${owner}, ${daysAgo(lastUsedDaysAgo)})
    ON CONFLICT (organization_id, id) DO UPDATE SET last_used_at = EXCLUDED.last_used_at`.execute(t.db);
}

async function event(modificationId: string, sessionId: string, atDaysAgo: number): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO pfa_modification_event (organization_id, modification_id, mirror_id, session_id, user_id, action, at)
    VALUES (${ORG}, ${modificationId}::bigint, ${ids[0]}::bigint, ${sessionId}, 'planner', 'test', ${daysAgo(atDaysAgo)})
    RETURNING id`.execute(t.db);
  return String(rows[0]?.id);
}

async function exists(table: 'pfa_modification_event' | 'pfa_mirror_history', id: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE organization_id = ${ORG} AND id = ${id}::bigint`.execute(
    t.db,
  );
  return rows[0]?.n === 1;
}

async function sessionIds(): Promise<string[]> {
  const rows = await t.db
    .selectFrom('pfa_session')
    .select('id')
    .where('organization_id', '=', ORG)
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

async function lastUsedSecondsAgo(id: string): Promise<number> {
  const { rows } = await sql<{ s: number }>`
    SELECT extract(epoch FROM now() - last_used_at)::float8 AS s FROM pfa_session
    WHERE organization_id = ${ORG} AND id = ${id}`.execute(t.db);
  return rows[0]?.s ?? NaN;
}

beforeAll(async () => {
  t = await createTestDatabase();
  t.pool.on('error', ignoreDropRace);
  ids = [...(await insertRecords(t.db, ORG, 5)).values()];
});

afterAll(async () => {
  await t?.drop();
});

describe('settings', () => {
  it('have documented defaults and reach the maintenance job', () => {
    const config = loadConfig({ NODE_ENV: 'test' });
    expect(settingsFromConfig(config)).toEqual({
      auditRetentionDays: 365,
      historyRetentionDays: 365,
      refreshLogRetentionDays: 30,
      sessionIdleDays: 90,
      writeLeaseMs: 120_000,
    });
    expect(
      settingsFromConfig(
        loadConfig({
          NODE_ENV: 'test',
          AUDIT_RETENTION_DAYS: '7',
          SESSION_IDLE_DAYS: '0',
          WRITE_SYNC_LEASE_MS: '9000',
        }),
      ),
    ).toMatchObject({ auditRetentionDays: 7, sessionIdleDays: 0, writeLeaseMs: 9000 });
    expect(() => loadConfig({ NODE_ENV: 'test', HISTORY_RETENTION_DAYS: '-1' })).toThrow(
      /HISTORY_RETENTION_DAYS/,
    );
  });
});

describe('maintenance retention', () => {
  it('deletes what is older than its retention, keeps live trails, the newest refresh and busy sessions', async () => {
    // Sessions: idle without modifications (goes), idle with a draft (stays), idle whose only
    // change is synced long ago (archived by the same run, then goes), recently used (stays).
    await session('idle-empty', 100);
    await session('idle-draft', 100);
    await session('idle-archived', 100);
    await session('recent', 10);
    const draft = await insertModification(t.db, {
      org: ORG,
      mirrorId: ids[1] as string,
      session: 'idle-draft',
      user: 'planner',
      delta: { model: 'X' },
      state: 'draft',
    });
    const old = await insertModification(t.db, {
      org: ORG,
      mirrorId: ids[2] as string,
      session: 'idle-archived',
      user: 'planner',
      delta: { model: 'Y' },
      state: 'committed',
    });
    await sql`
      UPDATE pfa_modification SET sync_state = 'synced', synced_at = ${daysAgo(400)}
      WHERE organization_id = ${ORG} AND id = ${old}::bigint`.execute(t.db);

    // Audit events: an old one of the archived change (goes), an old one of the open draft
    // (stays: a live change keeps its trail), a recent one (stays).
    const oldEventOfArchived = await event(old, 'idle-archived', 400);
    const oldEventOfDraft = await event(draft, 'idle-draft', 400);
    const recentEvent = await event(old, 'idle-archived', 10);

    // Record versions: two real changes of one record, the first superseded long ago.
    await sql`UPDATE pfa_mirror SET data = data || '{"model": "v2"}' WHERE id = ${ids[3]}::bigint`.execute(
      t.db,
    );
    await sql`UPDATE pfa_mirror SET data = data || '{"model": "v3"}' WHERE id = ${ids[3]}::bigint`.execute(
      t.db,
    );
    const { rows: history } = await sql<{ id: string }>`
      SELECT id FROM pfa_mirror_history WHERE organization_id = ${ORG} AND mirror_id = ${ids[3]}::bigint
      ORDER BY version`.execute(t.db);
    const [oldVersion, newVersion] = history.map((h) => String(h.id)) as [string, string];
    await sql`UPDATE pfa_mirror_history SET superseded_at = ${daysAgo(400)} WHERE id = ${oldVersion}::bigint`.execute(
      t.db,
    );

    // Refresh log: only old rows: all but the newest go.
    await sql`DELETE FROM pfa_view_refresh`.execute(t.db);
    await sql`
      INSERT INTO pfa_view_refresh (refreshed_at, duration_ms)
      VALUES (${daysAgo(40)}, 1), (${daysAgo(35)}, 1), (${daysAgo(31)}, 1)`.execute(t.db);

    const jobs = directJobs(t, null, {
      archiveAfterDays: 30,
      auditRetentionDays: 365,
      historyRetentionDays: 365,
      refreshLogRetentionDays: 30,
      sessionIdleDays: 90,
    });
    const result = await jobs.handlers.maintenance({ reason: 'test' }, jobs.run);
    expect(result).toMatchObject({
      archived: 1,
      deletedEvents: 1,
      deletedHistory: 1,
      deletedRefreshLogs: 2,
      deletedSessions: 2,
    });
    expect(await exists('pfa_modification_event', oldEventOfArchived)).toBe(false);
    expect(await exists('pfa_modification_event', oldEventOfDraft)).toBe(true);
    expect(await exists('pfa_modification_event', recentEvent)).toBe(true);
    expect(await exists('pfa_mirror_history', oldVersion)).toBe(false);
    expect(await exists('pfa_mirror_history', newVersion)).toBe(true);
    const { rows: refreshes } = await sql<{ days: number }>`
      SELECT round(extract(epoch FROM now() - refreshed_at) / 86400)::int AS days FROM pfa_view_refresh`.execute(
      t.db,
    );
    expect(refreshes).toEqual([{ days: 31 }]);
    expect(await sessionIds()).toEqual(['idle-draft', 'recent']);

    // 0 keeps everything.
    await session('idle-empty', 100);
    const again = await event(draft, 'idle-draft', 400);
    await sql`DELETE FROM pfa_modification WHERE organization_id = ${ORG} AND id = ${draft}::bigint`.execute(
      t.db,
    );
    const keep = directJobs(t, null, {
      auditRetentionDays: 0,
      historyRetentionDays: 0,
      refreshLogRetentionDays: 0,
      sessionIdleDays: 0,
    });
    expect(await keep.handlers.maintenance({ reason: 'test' }, keep.run)).toMatchObject({
      deletedEvents: 0,
      deletedHistory: 0,
      deletedRefreshLogs: 0,
      deletedSessions: 0,
    });
    expect(await exists('pfa_modification_event', again)).toBe(true);
    expect(await sessionIds()).toEqual(['idle-draft', 'idle-empty', 'recent']);
  });

  it('deletes in batches until nothing old is left', async () => {
    await sql`
      INSERT INTO pfa_modification_event (organization_id, modification_id, mirror_id, session_id, user_id, action, at)
      SELECT ${ORG}, 1000000 + g, ${ids[0]}::bigint, 'gone', 'planner', 'test', ${daysAgo(400)}
      FROM generate_series(1, 25) g`.execute(t.db);
    const { MaintenanceRepository } = await import('../src/repositories/maintenance.repository.js');
    expect(await new MaintenanceRepository(t.db).deleteOldEvents(365, 10)).toBeGreaterThanOrEqual(25);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pfa_modification_event WHERE modification_id > 1000000`.execute(t.db);
    expect(rows[0]?.n).toBe(0);
  });
});

describe('last_used_at', () => {
  it('is written at most once a minute per session, never creates a session', async () => {
    await session('touched', 1);
    const repo = new SessionRepository(t.db);
    await repo.touch(ORG, 'touched');
    expect(await lastUsedSecondsAgo('touched')).toBeLessThan(60);

    // Within the minute this process does not write again.
    await session('touched', 1);
    await repo.touch(ORG, 'touched');
    expect(await lastUsedSecondsAgo('touched')).toBeGreaterThan(86_000);

    // Another process (another repository) writes, unless the row was written within the minute.
    await new SessionRepository(t.db).touch(ORG, 'touched');
    expect(await lastUsedSecondsAgo('touched')).toBeLessThan(60);
    await sql`UPDATE pfa_session SET last_used_at = now() - interval '30 seconds' WHERE id = 'touched'`.execute(
      t.db,
    );
    await new SessionRepository(t.db).touch(ORG, 'touched');
    expect(await lastUsedSecondsAgo('touched')).toBeGreaterThanOrEqual(30);

    await new SessionRepository(t.db).touch(ORG, 'never-created');
    expect(await sessionIds()).not.toContain('never-created');
  });

  it('is kept current by requests that use the session', async () => {
    let app: TestApp | null = null;
    try {
      app = await startTestApp({ database: t });
      await session('in-use', 5, 'user-editor');
      const res = await app.gql(`{ drafts(organizationId: "${ORG}") { id } }`, { session: 'in-use' });
      expect(res.errors).toBeUndefined();
      expect(await lastUsedSecondsAgo('in-use')).toBeLessThan(60);
    } finally {
      await app?.close();
    }
  });
});
