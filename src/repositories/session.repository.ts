import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';

/** `last_used_at` is kept to this precision: a session is written at most once per minute. */
export const TOUCH_EVERY_MS = 60_000;
/** Sessions remembered by touch() before the stale entries are dropped. */
const MAX_TOUCHED = 10_000;

/** Sandboxes: (organization, id), created on first use, owned by whoever used them first. */
export class SessionRepository {
  constructor(private readonly db: Db) {}

  /** Creates the session when new; returns its owner (the caller when it was just created). */
  async ensure(organizationId: string, sessionId: string, userId: string): Promise<string> {
    const { rows } = await sql<{ owner_user_id: string }>`
      WITH created AS (
        INSERT INTO pfa_session (organization_id, id, owner_user_id) VALUES (${organizationId}, ${sessionId}, ${userId})
        ON CONFLICT (organization_id, id) DO NOTHING
        RETURNING owner_user_id)
      SELECT owner_user_id FROM created
      UNION ALL
      SELECT owner_user_id FROM pfa_session WHERE organization_id = ${organizationId} AND id = ${sessionId}
      LIMIT 1`.execute(this.db);
    const owner = rows[0]?.owner_user_id;
    if (owner) return owner;
    // A concurrent first use inserted it after this statement's snapshot: read it now.
    const row = await this.db
      .selectFrom('pfa_session')
      .select('owner_user_id')
      .where('organization_id', '=', organizationId)
      .where('id', '=', sessionId)
      .executeTakeFirst();
    if (!row) throw new Error(`session ${organizationId}/${sessionId} could not be created`);
    return row.owner_user_id;
  }

  /** The owner of a session, or null when there is no such session (nothing is created). */
  async ownerOf(organizationId: string, sessionId: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('pfa_session')
      .select('owner_user_id')
      .where('organization_id', '=', organizationId)
      .where('id', '=', sessionId)
      .executeTakeFirst();
    return row?.owner_user_id ?? null;
  }

  /** A new session with a random id, owned by the caller. */
  async create(organizationId: string, userId: string): Promise<{ id: string; createdAt: Date }> {
    const id = `s-${randomBytes(12).toString('base64url')}`;
    const row = await this.db
      .insertInto('pfa_session')
      .values({ organization_id: organizationId, id, owner_user_id: userId })
      .returning(['id', 'created_at'])
      .executeTakeFirstOrThrow();
    return { id: row.id, createdAt: row.created_at };
  }

  /** Sessions this process marked used, and when (ms): at most one write per TOUCH_EVERY_MS each. */
  private readonly touched = new Map<string, number>();

  /**
   * Marks the session used now (`last_used_at`), from the request path: at most one statement per
   * session and minute per process, and in the database at most one row write per minute whatever
   * the number of processes. Never creates a session (a read must not; an edit's ensure() does).
   */
  async touch(organizationId: string, sessionId: string): Promise<void> {
    const key = `${organizationId}/${sessionId}`;
    const now = Date.now();
    const last = this.touched.get(key);
    if (last !== undefined && now - last < TOUCH_EVERY_MS) return;
    this.touched.set(key, now);
    if (this.touched.size > MAX_TOUCHED) {
      for (const [k, at] of this.touched) if (now - at >= TOUCH_EVERY_MS) this.touched.delete(k);
    }
    try {
      await sql`
        UPDATE pfa_session SET last_used_at = now()
        WHERE organization_id = ${organizationId} AND id = ${sessionId}
          AND last_used_at < now() - make_interval(secs => ${TOUCH_EVERY_MS / 1000})`.execute(this.db);
    } catch (error) {
      this.touched.delete(key); // the next request tries again
      throw error;
    }
  }

  async sessionsOf(organizationId: string, userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('pfa_session')
      .select('id')
      .where('organization_id', '=', organizationId)
      .where('owner_user_id', '=', userId)
      .execute();
    return rows.map((r) => r.id);
  }
}
