/**
 * The predecessor's PostgreSQL (its later releases): `organizations`, `users`, `pfa_records`,
 * `pfa_mirror`, `pfa_modification`, `pfa_sync_conflict`, with quoted camelCase columns. Records
 * are streamed through a server-side cursor inside one read-only REPEATABLE READ transaction
 * (one consistent snapshot, constant memory); timestamps arrive as text in UTC so that no local
 * time zone can shift a date.
 */
import pg from 'pg';
import { modificationsQuery, openConflicts, quoteIdent, toModification } from './modifications.js';
import {
  describeShape,
  type LegacyModification,
  type LegacyOrganization,
  type LegacyShape,
  type LegacySource,
  type LegacyUser,
  type RecordTable,
} from './source.js';

const RAW_TEXT_TYPES = new Set([1082, 1114, 1184]); // date, timestamp, timestamptz
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    RAW_TEXT_TYPES.has(oid)
      ? (v: string) => v
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export class PostgresSource implements LegacySource {
  private cursorSeq = 0;

  private constructor(
    private readonly client: pg.Client,
    readonly shape: LegacyShape,
  ) {}

  static async open(url: string): Promise<PostgresSource> {
    const client = new pg.Client({
      connectionString: url,
      types,
      application_name: 'pfa-vanguard-legacy-import',
    });
    // A lost connection fails the pending query (which throws); without a listener it would end the process.
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(`SET TIME ZONE 'UTC'`);
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows: tableRows } = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`,
      );
      const tables = new Set(tableRows.map((r) => r.table_name));
      let recordTable: RecordTable | undefined;
      for (const t of ['pfa_mirror', 'pfa_records', 'PfaRecord'] as const) {
        if (!tables.has(t)) continue;
        if (t === 'pfa_mirror') {
          const { rowCount } = await client.query(`SELECT 1 FROM "pfa_mirror" LIMIT 1`);
          if (!rowCount) continue;
        }
        recordTable = t;
        break;
      }
      if (!recordTable) throw new Error('the database has no pfa_mirror rows and no pfa_records table');
      const cols = await columnsOf(client, recordTable);
      for (const c of ['organizationId', 'pfaId'])
        if (!cols.some((x) => x.name === c)) throw new Error(`${recordTable} lacks the column ${c}`);
      const count = async (t: string): Promise<number> =>
        Number(
          (await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(t)}`)).rows[0]?.n ?? 0,
        );
      const base = {
        kind: 'postgres' as const,
        recordTable,
        columns: new Set(cols.map((c) => c.name)),
        timestampColumns: new Set(cols.filter((c) => /timestamp|date/.test(c.type)).map((c) => c.name)),
        hasOrganizations: tables.has('organizations'),
        hasUsers: tables.has('users'),
        modifications: tables.has('pfa_modification') ? await count('pfa_modification') : null,
        hasConflicts: tables.has('pfa_sync_conflict'),
      };
      return new PostgresSource(client, {
        ...base,
        description: describeShape(base, await count(recordTable)),
      });
    } catch (e) {
      await client.end().catch(() => undefined);
      throw e;
    }
  }

  async organizations(): Promise<LegacyOrganization[]> {
    if (!this.shape.hasOrganizations) return [];
    const cols = new Set((await columnsOf(this.client, 'organizations')).map((c) => c.name));
    const { rows } = await this.client.query<Record<string, unknown>>(
      `SELECT "id", ${cols.has('code') ? '"code"' : 'NULL'} AS code, ${cols.has('name') ? '"name"' : 'NULL'} AS name FROM "organizations"`,
    );
    return rows.map((r) => ({ id: String(r.id), code: str(r.code), name: str(r.name) }));
  }

  async users(): Promise<LegacyUser[]> {
    if (!this.shape.hasUsers) return [];
    const cols = new Set((await columnsOf(this.client, 'users')).map((c) => c.name));
    const { rows } = await this.client.query<Record<string, unknown>>(
      `SELECT "id", ${cols.has('username') ? '"username"' : 'NULL'} AS username, ${cols.has('email') ? '"email"' : 'NULL'} AS email FROM "users"`,
    );
    return rows.map((r) => ({ id: String(r.id), username: str(r.username), email: str(r.email) }));
  }

  async recordCounts(): Promise<{ organizationId: string | null; count: number }[]> {
    const { rows } = await this.client.query<{ org: unknown; n: string }>(
      `SELECT "organizationId" AS org, count(*) AS n FROM ${quoteIdent(this.shape.recordTable)} GROUP BY 1 ORDER BY 1`,
    );
    return rows.map((r) => ({ organizationId: str(r.org), count: Number(r.n) }));
  }

  async *records(organizationId: string, batchSize: number): AsyncIterable<Record<string, unknown>[]> {
    const cursor = `legacy_records_${++this.cursorSeq}`;
    await this.client.query(
      `DECLARE ${cursor} NO SCROLL CURSOR FOR
       SELECT * FROM ${quoteIdent(this.shape.recordTable)} WHERE "organizationId" = $1 ORDER BY "pfaId", "id"`,
      [organizationId],
    );
    try {
      for (;;) {
        const { rows } = await this.client.query<Record<string, unknown>>(
          `FETCH ${Number(batchSize)} FROM ${cursor}`,
        );
        if (rows.length === 0) break;
        yield rows;
        if (rows.length < batchSize) break;
      }
    } finally {
      await this.client.query(`CLOSE ${cursor}`).catch(() => undefined);
    }
  }

  async modifications(): Promise<LegacyModification[]> {
    if (this.shape.modifications === null) return [];
    const query = modificationsQuery(
      this.shape.recordTable,
      new Set((await columnsOf(this.client, 'pfa_modification')).map((c) => c.name)),
      this.shape.columns,
    );
    if (!query) return [];
    const conflicts = openConflicts(
      this.shape.hasConflicts
        ? (await this.client.query<Record<string, unknown>>('SELECT * FROM "pfa_sync_conflict"')).rows
        : [],
    );
    const { rows } = await this.client.query<Record<string, unknown>>(query);
    return rows.map((r) => toModification(r, conflicts));
  }

  async close(): Promise<void> {
    await this.client.query('ROLLBACK').catch(() => undefined);
    await this.client.end();
  }
}

async function columnsOf(client: pg.Client, table: string): Promise<{ name: string; type: string }[]> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows;
}
