import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { PREPARED_READ } from '../db/read-timeout.js';
import type { MergeScope } from './record-query.js';

/**
 * The change token of a caller's view (migration 20261206T0800): the sum of the change marks of
 * every organization ('*'), of the organization's shared view, of the caller's session, and, for
 * a read of the KPI caches, of their refreshes ('*', '#kpi'). It
 * only grows, and grows with every committed transaction that changes what the caller can read;
 * equal tokens read at two moments mean nothing the view holds changed in between.
 */
export class ChangeMarksRepository {
  constructor(private readonly db: Db) {}

  /** `kpiCaches`: the read also reads the KPI caches (their refreshes count too). */
  async token(scope: MergeScope, kpiCaches: boolean): Promise<string> {
    const { rows } = await sql<{ token: string }>`${sql.raw(PREPARED_READ)}
      SELECT coalesce(sum(n), 0)::text AS token FROM pfa_change_mark
      WHERE (organization_id = '*' AND session_id = ANY (ARRAY['', ${kpiCaches ? '#kpi' : ''}]))
         OR (organization_id = ${scope.organizationId} AND session_id = ANY (ARRAY['', ${scope.sessionId ?? ''}]))`.execute(
      this.db,
    );
    return rows[0]?.token ?? '0';
  }
}
