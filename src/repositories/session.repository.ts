import { sql } from 'kysely';
import type { Db } from '../db/database.js';

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
