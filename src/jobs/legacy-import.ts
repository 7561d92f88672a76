/**
 * Import of the previous system's SQLite database (its flat `PfaRecord` table) into pfa_mirror,
 * through the read sync's own path: rows validated, staged with COPY in batches, merged only
 * where something changed (versions and history by the trigger), refused rows quarantined.
 * Running it twice changes nothing the second time.
 *
 * Legacy values are normalised to the record keys of DOMAIN §1: SQLite 0/1 → booleans, Prisma's
 * DateTime (epoch milliseconds, or ISO / "YYYY-MM-DD HH:MM:SS" text) → YYYY-MM-DD (UTC). The
 * legacy row id and lastModified are bookkeeping of the old system, not record data. Fields are
 * laid over an existing mirror record (unknown PEMS keys survive); the PEMS version is left alone.
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { parseIsoDate } from '../domain/values.js';
import {
  SyncRepository,
  ZERO_COUNTS,
  addCounts,
  type MergeCounts,
  type StagedRecord,
} from '../repositories/sync.repository.js';
import {
  loadWithQuarantine,
  validateRecord,
  MAX_LOGGED_ERRORS,
  type QuarantinedRow,
} from './read-sync.processor.js';

export const LEGACY_TABLE = 'PfaRecord';

const TEXT_KEYS = [
  'areaSilo',
  'category',
  'class',
  'source',
  'dor',
  'manufacturer',
  'model',
  'contract',
  'equipment',
] as const;
const NUMBER_KEYS = ['monthlyRate', 'purchasePrice'] as const;
const BOOLEAN_KEYS = [
  'isActualized',
  'isDiscontinued',
  'isFundsTransferable',
  'hasActuals',
  'hasPlan',
] as const;
const DATE_KEYS = [
  'originalStart',
  'originalEnd',
  'forecastStart',
  'forecastEnd',
  'actualStart',
  'actualEnd',
] as const;
const REQUIRED_COLUMNS = ['organizationId', 'pfaId'] as const;
const ORGANIZATION_ID = /^[A-Za-z0-9_-]{1,32}$/;

export interface ImportOptions {
  file: string;
  /** Rows per COPY + merge batch. */
  batchSize?: number;
  onProgress?: (p: { organizationId: string; done: number; total: number }) => void;
}

export interface OrganizationImport {
  organizationId: string;
  /** Rows in the SQLite table. */
  source: number;
  /** Records in pfa_mirror after the import. */
  target: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** The same pfaId more than once in the source (the last one wins). */
  duplicates: number;
}

export interface ImportReport {
  organizations: OrganizationImport[];
  /** Rows whose organization could not be used at all. */
  unassigned: number;
  errors: QuarantinedRow[];
  durationMs: number;
  /** Some record was inserted or changed (the KPI views need a refresh). */
  changed: boolean;
}

type SqliteValue = string | number | bigint | Buffer | null;

/** Prisma DateTime or text date → YYYY-MM-DD (UTC); anything unreadable stays as it was. */
export function legacyDate(v: SqliteValue | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'bigint') {
    const n = Number(v);
    // Epoch milliseconds (Prisma); a value that small can only be seconds.
    const ms = Math.abs(n) < 100_000_000_000 ? n * 1000 : n;
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? n : d.toISOString().slice(0, 10);
  }
  if (typeof v === 'string') {
    const s = v.trim();
    return (
      parseIsoDate(s) ?? parseIsoDate(s.replace(' ', 'T')) ?? parseIsoDate(s.replace(' ', 'T') + 'Z') ?? v
    );
  }
  return null;
}

function legacyBoolean(v: SqliteValue | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v) !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === 'true' || s === '1') return true;
    if (s === 'false' || s === '0') return false;
    return v;
  }
  return null;
}

function legacyNumber(v: SqliteValue | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return v; // kept as text: pfa_money reads "1250.50" and refuses "TBA"
  return null;
}

function legacyText(v: SqliteValue | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return typeof v === 'bigint' ? String(v) : v;
}

/** One legacy row as record data (keys of DOMAIN §1 the table has). */
export function legacyRecordData(
  row: Record<string, SqliteValue>,
  columns: ReadonlySet<string>,
): Record<string, unknown> {
  const data: Record<string, unknown> = { pfaId: legacyText(row.pfaId) };
  for (const k of TEXT_KEYS) if (columns.has(k)) data[k] = legacyText(row[k]);
  for (const k of NUMBER_KEYS) if (columns.has(k)) data[k] = legacyNumber(row[k]);
  for (const k of BOOLEAN_KEYS) if (columns.has(k)) data[k] = legacyBoolean(row[k]);
  for (const k of DATE_KEYS) if (columns.has(k)) data[k] = legacyDate(row[k]);
  return data;
}

/** Reads the SQLite file and merges it into the mirror, organization by organization. */
export async function importLegacySqlite(
  deps: { db: Db; pool: pg.Pool; log: Logger },
  options: ImportOptions,
): Promise<ImportReport> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 5_000;
  const sqlite = new Database(options.file, { readonly: true, fileMustExist: true });
  try {
    const columns = new Set(
      (sqlite.prepare(`SELECT name FROM pragma_table_info(?)`).all(LEGACY_TABLE) as { name: string }[]).map(
        (c) => c.name,
      ),
    );
    if (columns.size === 0) throw new Error(`${options.file} has no ${LEGACY_TABLE} table`);
    const missing = REQUIRED_COLUMNS.filter((c) => !columns.has(c));
    if (missing.length) throw new Error(`${LEGACY_TABLE} lacks the column(s) ${missing.join(', ')}`);
    const absent = [...TEXT_KEYS, ...NUMBER_KEYS, ...BOOLEAN_KEYS, ...DATE_KEYS].filter(
      (c) => !columns.has(c),
    );
    if (absent.length)
      deps.log.warn({ absent }, `${LEGACY_TABLE} lacks some record columns; they are left out`);

    const sources = sqlite
      .prepare(
        `SELECT "organizationId" AS org, count(*) AS n FROM "${LEGACY_TABLE}" GROUP BY "organizationId" ORDER BY 1`,
      )
      .all() as { org: SqliteValue; n: number }[];
    const repo = new SyncRepository(deps.db, deps.pool);
    const report: ImportReport = {
      organizations: [],
      unassigned: 0,
      errors: [],
      durationMs: 0,
      changed: false,
    };
    const reject = (row: QuarantinedRow): void => {
      if (report.errors.length < MAX_LOGGED_ERRORS) report.errors.push(row);
    };

    for (const { org: rawOrg, n } of sources) {
      const org = typeof rawOrg === 'string' ? rawOrg : rawOrg === null ? null : String(rawOrg);
      if (org === null || !ORGANIZATION_ID.test(org)) {
        report.unassigned += n;
        reject({
          pfaId: null,
          reason: `${n} rows with organizationId ${JSON.stringify(org)}, which is not an organization code`,
        });
        continue;
      }
      report.organizations.push(
        await importOrganization(deps, repo, sqlite, columns, org, n, batchSize, reject, options),
      );
    }
    report.durationMs = Math.round(performance.now() - started);
    report.changed = report.organizations.some((o) => o.inserted + o.updated > 0);
    return report;
  } finally {
    sqlite.close();
  }
}

async function importOrganization(
  deps: { log: Logger },
  repo: SyncRepository,
  sqlite: Database.Database,
  columns: ReadonlySet<string>,
  org: string,
  source: number,
  batchSize: number,
  reject: (row: QuarantinedRow) => void,
  options: ImportOptions,
): Promise<OrganizationImport> {
  await repo.ensureOrganization(org);
  const runId = await repo.startRun(org, 'read', 'import', null);
  const staging = await repo.openStaging({
    organizationId: org,
    batchId: `import-${runId}`,
    kind: 'import',
    lock: true,
  });
  if (!staging) {
    await repo.finishRun(org, runId, { status: 'failed', message: `another read of ${org} is running` });
    throw new Error(`another read of ${org} is running: try again later`);
  }
  let counts: MergeCounts = { ...ZERO_COUNTS };
  let rejected = 0;
  let duplicates = 0;
  let done = 0;
  const errors: QuarantinedRow[] = [];
  const rejectHere = (row: QuarantinedRow): void => {
    rejected += 1;
    if (errors.length < MAX_LOGGED_ERRORS) errors.push(row);
    reject(row);
  };
  // A pfaId twice in the source: only its last row is imported (loading both would rewrite the
  // record twice per run, and a second run would not be a no-op).
  const lastRowOf = new Map(
    (
      sqlite
        .prepare(
          `SELECT "pfaId" AS pfa_id, max(rowid) AS last, count(*) AS n FROM "${LEGACY_TABLE}"
           WHERE "organizationId" = ? GROUP BY "pfaId" HAVING count(*) > 1`,
        )
        .all(org) as { pfa_id: SqliteValue; last: number; n: number }[]
    ).map((d) => [String(legacyText(d.pfa_id)), d.last]),
  );
  try {
    let batch = new Map<string, StagedRecord>();
    const flush = async (): Promise<void> => {
      if (batch.size === 0) return;
      const records = [...batch.values()];
      batch = new Map();
      counts = addCounts(counts, await loadWithQuarantine(staging, records, rejectHere));
    };
    const rows = sqlite
      .prepare(
        `SELECT rowid AS "__rowid", * FROM "${LEGACY_TABLE}" WHERE "organizationId" = ? ORDER BY rowid`,
      )
      .iterate(org) as IterableIterator<Record<string, SqliteValue>>;
    for (const row of rows) {
      done += 1;
      const data = legacyRecordData(row, columns);
      const pfaId = typeof data.pfaId === 'string' ? data.pfaId : '';
      const last = lastRowOf.get(pfaId);
      if (last !== undefined && last !== Number(row.__rowid)) {
        duplicates += 1;
        continue;
      }
      const verdict = validateRecord(pfaId, data, null, { id: legacyText(row.id), pfaId: row.pfaId ?? null });
      if (!verdict.ok) {
        rejectHere(verdict.rejection);
      } else {
        batch.set(pfaId, verdict.record);
      }
      if (batch.size >= batchSize) {
        await flush();
        options.onProgress?.({ organizationId: org, done, total: source });
      }
    }
    await flush();
    options.onProgress?.({ organizationId: org, done, total: source });
    const target = (await repo.countRecords([org])).get(org) ?? 0;
    await repo.finishRun(org, runId, {
      status: rejected > 0 ? 'partial' : 'succeeded',
      inserted: counts.inserted,
      updated: counts.updated,
      unchanged: counts.unchanged,
      rejected,
      errors,
      message: `legacy import: ${source} source rows, ${target} mirror records`,
    });
    deps.log.info(
      { org, source, target, ...counts, rejected, duplicates },
      'legacy import of organization done',
    );
    return {
      organizationId: org,
      source,
      target,
      inserted: counts.inserted,
      updated: counts.updated,
      unchanged: counts.unchanged,
      rejected,
      duplicates,
    };
  } catch (error) {
    await repo
      .finishRun(org, runId, {
        status: 'failed',
        ...counts,
        rejected,
        errors,
        message: error instanceof Error ? error.message : String(error),
      })
      .catch(() => undefined);
    throw error;
  } finally {
    await staging.release();
  }
}
