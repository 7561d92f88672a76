/**
 * The predecessor's SQLite file, read with sql.js (SQLite compiled to WebAssembly: no native
 * build at install). sql.js works on an in-memory copy of the file, which suits a development
 * database; its rows are read one at a time and handed over in batches.
 */
import { readFile } from 'node:fs/promises';
import initSqlJs, { type Database, type SqlValue } from 'sql.js';
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

type Row = Record<string, SqlValue>;

function all(db: Database, query: string, params: SqlValue[] = []): Row[] {
  const stmt = db.prepare(query);
  try {
    stmt.bind(params);
    const rows: Row[] = [];
    while (stmt.step()) rows.push(stmt.getAsObject());
    return rows;
  } finally {
    stmt.free();
  }
}

function columnsOf(db: Database, table: string): { name: string; type: string }[] {
  return all(db, 'SELECT name, type FROM pragma_table_info(?)', [table]).map((r) => ({
    name: String(r.name),
    type: String(r.type ?? '').toLowerCase(),
  }));
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export class SqliteSource implements LegacySource {
  private constructor(
    private readonly db: Database,
    readonly shape: LegacyShape,
  ) {}

  static async open(file: string): Promise<SqliteSource> {
    const SQL = await initSqlJs();
    let db: Database;
    try {
      db = new SQL.Database(await readFile(file));
      all(db, 'SELECT count(*) FROM sqlite_master');
    } catch (e) {
      throw new Error(`${file} is not a SQLite database: ${e instanceof Error ? e.message : String(e)}`);
    }
    try {
      const tables = new Set(
        all(db, `SELECT name FROM sqlite_master WHERE type IN ('table', 'view')`).map((r) => String(r.name)),
      );
      const recordTable = (['pfa_mirror', 'pfa_records', 'PfaRecord'] as const).find(
        (t) =>
          tables.has(t) &&
          (t !== 'pfa_mirror' ||
            Number(all(db, `SELECT count(*) AS n FROM (SELECT 1 FROM "pfa_mirror" LIMIT 1)`)[0]?.n) > 0),
      );
      if (!recordTable) throw new Error(`${file} has no pfa_records (or PfaRecord, or pfa_mirror) table`);
      const cols = columnsOf(db, recordTable);
      for (const c of ['organizationId', 'pfaId'])
        if (!cols.some((x) => x.name === c)) throw new Error(`${recordTable} lacks the column ${c}`);
      const records = Number(all(db, `SELECT count(*) AS n FROM ${quoteIdent(recordTable)}`)[0]?.n ?? 0);
      const modifications = tables.has('pfa_modification')
        ? Number(all(db, 'SELECT count(*) AS n FROM "pfa_modification"')[0]?.n ?? 0)
        : null;
      const base = {
        kind: 'sqlite' as const,
        recordTable: recordTable as RecordTable,
        columns: new Set(cols.map((c) => c.name)),
        timestampColumns: new Set(cols.filter((c) => /date|time/.test(c.type)).map((c) => c.name)),
        hasOrganizations: tables.has('organizations'),
        hasUsers: tables.has('users'),
        modifications,
        hasConflicts: tables.has('pfa_sync_conflict'),
      };
      return new SqliteSource(db, { ...base, description: describeShape(base, records) });
    } catch (e) {
      db.close();
      throw e;
    }
  }

  async organizations(): Promise<LegacyOrganization[]> {
    if (!this.shape.hasOrganizations) return [];
    const cols = new Set(columnsOf(this.db, 'organizations').map((c) => c.name));
    return all(
      this.db,
      `SELECT "id", ${cols.has('code') ? '"code"' : 'NULL'} AS code, ${cols.has('name') ? '"name"' : 'NULL'} AS name FROM "organizations"`,
    ).map((r) => ({ id: String(r.id), code: str(r.code), name: str(r.name) }));
  }

  async users(): Promise<LegacyUser[]> {
    if (!this.shape.hasUsers) return [];
    const cols = new Set(columnsOf(this.db, 'users').map((c) => c.name));
    return all(
      this.db,
      `SELECT "id", ${cols.has('username') ? '"username"' : 'NULL'} AS username, ${cols.has('email') ? '"email"' : 'NULL'} AS email FROM "users"`,
    ).map((r) => ({ id: String(r.id), username: str(r.username), email: str(r.email) }));
  }

  async recordCounts(): Promise<{ organizationId: string | null; count: number }[]> {
    return all(
      this.db,
      `SELECT "organizationId" AS org, count(*) AS n FROM ${quoteIdent(this.shape.recordTable)} GROUP BY 1 ORDER BY 1`,
    ).map((r) => ({ organizationId: str(r.org), count: Number(r.n) }));
  }

  async *records(organizationId: string, batchSize: number): AsyncIterable<Record<string, unknown>[]> {
    const stmt = this.db.prepare(
      `SELECT * FROM ${quoteIdent(this.shape.recordTable)} WHERE "organizationId" = ? ORDER BY "pfaId", rowid`,
    );
    try {
      stmt.bind([organizationId]);
      let batch: Record<string, unknown>[] = [];
      while (stmt.step()) {
        batch.push(stmt.getAsObject());
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    } finally {
      stmt.free();
    }
  }

  async modifications(): Promise<LegacyModification[]> {
    if (this.shape.modifications === null) return [];
    const query = modificationsQuery(
      this.shape.recordTable,
      new Set(columnsOf(this.db, 'pfa_modification').map((c) => c.name)),
      this.shape.columns,
    );
    if (!query) return [];
    const conflicts = openConflicts(
      this.shape.hasConflicts ? all(this.db, 'SELECT * FROM "pfa_sync_conflict"') : [],
    );
    return all(this.db, query).map((r) => toModification(r, conflicts));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
