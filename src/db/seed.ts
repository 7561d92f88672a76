import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { generateRecord, planOrganizations, type GeneratedOrganization } from '../domain/generator.js';
import { MIRROR_BULK_LOCK, mirrorIndexes, type MirrorIndex } from './mirror-indexes.js';

/**
 * Bulk seed of a demo / benchmark database: organizations, 1M generated mirror records through
 * COPY, then open drafts and pending (committed) modifications built set-based in SQL.
 */

export type SeedPhase =
  | 'prepare'
  | 'organizations'
  | 'copy'
  | 'vacuum'
  | 'indexes'
  | 'sessions'
  | 'drafts'
  | 'committed'
  | 'analyze'
  | 'refresh';

export const SEED_PHASES: readonly SeedPhase[] = [
  'prepare',
  'organizations',
  'copy',
  'vacuum',
  'indexes',
  'sessions',
  'drafts',
  'committed',
  'analyze',
  'refresh',
];

export interface SeedProgress {
  phase: SeedPhase;
  done: number;
  total: number;
}

export interface SeedOptions {
  records: number;
  orgs: number;
  drafts: number;
  committed: number;
  /** Empty the PFA tables first instead of refusing a database that already holds records. */
  reset?: boolean;
  /** Parallel COPY connections (default 2: this is CPU work in PostgreSQL, one core each). */
  copyStreams?: number;
  onProgress?: (p: SeedProgress) => void;
}

export interface SeededSession {
  organizationId: string;
  id: string;
  ownerUserId: string;
}

export interface SeedResult {
  organizations: GeneratedOrganization[];
  records: number;
  sessions: SeededSession[];
  drafts: number;
  committed: number;
  /** Wall time per phase in milliseconds. */
  durationsMs: Record<SeedPhase, number>;
  totalMs: number;
}

/** Drafts per demo session (10,000 drafts → 200 sessions). */
export const DRAFTS_PER_SESSION = 50;
/** Demo sessions per demo editor: demo-editor-1 owns demo-s001 … demo-s004 and so on. */
const SESSIONS_PER_EDITOR = 4;
const DEFAULT_COPY_STREAMS = 2;
/** Rows per string handed to the COPY stream: big enough to amortise, small enough to stream. */
const COPY_CHUNK_ROWS = 2_000;

/** Tables a reset empties; CASCADE reaches anything else that references them. */
const PFA_TABLES = [
  'pfa_modification_event',
  'pfa_modification_archive',
  'pfa_modification',
  'pfa_mirror_history',
  'pfa_session',
  'pfa_sync_log',
  'pfa_mirror',
] as const;

/** Re-exported: the list and its parsing live with the other bulk-load helpers. */
export { mirrorIndexes };

export class SeedRefusedError extends Error {
  override readonly name = 'SeedRefusedError';
}

function validate(options: SeedOptions): void {
  const checks: [keyof SeedOptions, number, number][] = [
    ['records', 0, 50_000_000],
    ['orgs', 1, 40],
    ['drafts', 0, 10_000_000],
    ['committed', 0, 10_000_000],
  ];
  for (const [key, min, max] of checks) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(
        `seed option ${key} must be an integer from ${min} to ${max}, got ${String(value)}`,
      );
    }
  }
}

/** COPY text format: backslash, tab, newline and carriage return must be escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : value;
}

interface CopyChunk {
  org: string;
  /** First and last-exclusive generator index within the organization. */
  start: number;
  end: number;
  /** Mirror id of the first row: ids are positions in the whole load, whatever stream sends them. */
  firstId: number;
}

/** The load in COPY_CHUNK_ROWS pieces, organization by organization, ids consecutive. */
function planChunks(organizations: readonly GeneratedOrganization[], firstId: number): CopyChunk[] {
  const chunks: CopyChunk[] = [];
  let id = firstId;
  for (const org of organizations) {
    for (let start = 0; start < org.records; start += COPY_CHUNK_ROWS) {
      const end = Math.min(org.records, start + COPY_CHUNK_ROWS);
      chunks.push({ org: org.id, start, end, firstId: id });
      id += end - start;
    }
  }
  return chunks;
}

/** One chunk as COPY text rows: id, organization_id, pfa_id, data, pems_version. */
function renderChunk(chunk: CopyChunk): string {
  const orgText = copyText(chunk.org);
  let text = '';
  for (let i = chunk.start; i < chunk.end; i++) {
    const record = generateRecord(chunk.org, i);
    const id = chunk.firstId + (i - chunk.start);
    text += `${id}\t${orgText}\t${copyText(record.pfaId)}\t${copyText(JSON.stringify(record.data))}\t${copyText(record.pemsVersion)}\n`;
  }
  return text;
}

/**
 * Splits the sessions over the organizations in proportion to their sizes (largest remainder),
 * so the big portfolio also carries most of the editing, like in production.
 */
function planSessions(organizations: readonly GeneratedOrganization[], drafts: number): SeededSession[] {
  const count = drafts > 0 ? Math.ceil(drafts / DRAFTS_PER_SESSION) : 0;
  const total = organizations.reduce((a, o) => a + o.records, 0);
  if (count === 0 || total === 0) return [];
  const exact = organizations.map((o) => (count * o.records) / total);
  const shares = exact.map(Math.floor);
  let missing = count - shares.reduce((a, b) => a + b, 0);
  for (const { i } of exact
    .map((x, i) => ({ i, r: x - Math.floor(x) }))
    .sort((a, b) => b.r - a.r || a.i - b.i)) {
    if (missing-- <= 0) break;
    shares[i] = (shares[i] ?? 0) + 1;
  }
  const editors = Math.max(1, Math.ceil(count / SESSIONS_PER_EDITOR));
  const sessions: SeededSession[] = [];
  organizations.forEach((org, i) => {
    for (let k = 0; k < (shares[i] ?? 0); k++) {
      const n = sessions.length;
      sessions.push({
        organizationId: org.id,
        id: `demo-s${String(n + 1).padStart(3, '0')}`,
        ownerUserId: `demo-editor-${(n % editors) + 1}`,
      });
    }
  });
  return sessions;
}

async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

async function inTransaction<T>(client: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Seeds an empty (migrated) database. Refuses one that holds records unless `reset` is set. */
export async function seedDatabase(pool: pg.Pool, options: SeedOptions): Promise<SeedResult> {
  validate(options);
  const report = options.onProgress ?? (() => undefined);
  const durationsMs = Object.fromEntries(SEED_PHASES.map((p) => [p, 0])) as Record<SeedPhase, number>;
  const startedAt = performance.now();
  const timed = async <T>(phase: SeedPhase, total: number, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    report({ phase, done: 0, total });
    const result = await fn();
    durationsMs[phase] = performance.now() - t0;
    report({ phase, done: total, total });
    return result;
  };

  const organizations = planOrganizations(options.records, options.orgs);
  const sessions = planSessions(organizations, options.drafts);
  const indexes = mirrorIndexes();

  await timed('prepare', 1, async () => {
    const existing = await pool.query<{ present: boolean }>(
      'SELECT EXISTS (SELECT 1 FROM pfa_mirror) AS present',
    );
    if (existing.rows[0]?.present && !options.reset) {
      // A seed killed between its COPY and its index builds leaves records without indexes.
      const found = await pool.query<{ indexname: string }>(
        `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'pfa_mirror'`,
      );
      const present = new Set(found.rows.map((r) => r.indexname));
      const missing = indexes.filter((i) => !present.has(i.name)).map((i) => i.name);
      throw new SeedRefusedError(
        'pfa_mirror already holds records: refusing to seed over them (pass reset: true / --reset to empty the PFA tables first)' +
          (missing.length ? `; it also lacks ${missing.join(', ')}, as after an interrupted seed` : ''),
      );
    }
    if (options.reset) {
      await pool.query(`TRUNCATE ${PFA_TABLES.join(', ')} RESTART IDENTITY CASCADE`);
    }
  });

  await timed('organizations', organizations.length, async () => {
    await pool.query(
      `INSERT INTO organization (id, name)
       SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name`,
      [organizations.map((o) => o.id), organizations.map((o) => o.name)],
    );
  });

  // The bulk load lock (mirror-indexes.ts) from dropping the indexes and switching the KPI insert
  // trigger off until both are back: `npm run migrate` (ensureMirrorIndexes) meanwhile leaves
  // them alone, and heals them if this process dies.
  // (A connection of its own, not one of the pool's few: the loads below use all of those.)
  const bulkLock = new pg.Client({ ...pool.options, application_name: 'pfa-seed-lock' });
  bulkLock.on('error', () => undefined); // a lost lock connection fails the query that needs it
  await bulkLock.connect();
  await bulkLock.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [MIRROR_BULK_LOCK]);
  let modifiedValue: { drafts: number; committed: number };
  try {
    await timed('copy', options.records, async () => {
      const streams = Math.max(1, Math.min(options.copyStreams ?? DEFAULT_COPY_STREAMS, 8));
      await withClient(pool, (client) =>
        inTransaction(client, async () => {
          await client.query('LOCK TABLE pfa_mirror IN ACCESS EXCLUSIVE MODE');
          const raced = await client.query<{ present: boolean }>(
            'SELECT EXISTS (SELECT 1 FROM pfa_mirror) AS present',
          );
          if (raced.rows[0]?.present)
            throw new SeedRefusedError('pfa_mirror received records while the seed started');
          // Maintaining the secondary indexes row by row (GIN above all) costs far more than
          // building them once at the end.
          for (const index of indexes) await client.query(`DROP INDEX IF EXISTS ${index.name}`);
          // The KPI change log would record a million new states that the views' refresh at the
          // end of the seed counts anyway: the bulk load skips it (ALTER TABLE, inside the lock).
          await client.query('ALTER TABLE pfa_mirror DISABLE TRIGGER pfa_mirror_kpi_ins');
        }),
      );
      try {
        // Ids are set here rather than drawn from the identity one row at a time, so record N of
        // an organization gets the same id on every run, however the streams interleave.
        const idSeq = await pool.query<{ id: string }>(
          `SELECT nextval(pg_get_serial_sequence('pfa_mirror', 'id'))::text AS id`,
        );
        const firstId = Number(idSeq.rows[0]?.id ?? 1);
        const chunks = planChunks(organizations, firstId);
        let next = 0;
        let failed = false;
        // Streams pull chunks from one shared cursor, so they finish together whatever the sizes.
        function* pull(): Generator<string> {
          for (let chunk = chunks[next++]; chunk && !failed; chunk = chunks[next++]) yield renderChunk(chunk);
        }
        // Progress counts rows PostgreSQL has stored, not rows handed to the socket: several MB
        // sit in the loopback buffers, so "sent" runs seconds ahead of the truth at the end.
        const copying = new Map<number, number>(); // backend pid → rows stored by its running COPY
        let committedRows = 0;
        let reported = 0;
        const reportCopy = (): void => {
          let stored = committedRows;
          for (const rows of copying.values()) stored += rows;
          if (stored <= reported) return;
          reported = stored;
          report({ phase: 'copy', done: stored, total: options.records });
        };
        let polling = false;
        const poller = setInterval(() => {
          if (polling || copying.size === 0) return;
          polling = true;
          pool
            .query<{ pid: number; rows: string }>(
              'SELECT pid, tuples_processed::text AS rows FROM pg_stat_progress_copy WHERE pid = ANY($1::int[])',
              [[...copying.keys()]],
            )
            .then((r) => {
              for (const row of r.rows) if (copying.has(row.pid)) copying.set(row.pid, Number(row.rows));
              reportCopy();
            })
            .catch(() => undefined) // progress is best effort; the load itself reports failures
            .finally(() => {
              polling = false;
            });
        }, 500);
        // One COPY per connection, each in its own backend: parsing JSON and computing the ~25
        // generated columns is CPU work in PostgreSQL, which then runs on every core. Without
        // one transaction COPY FREEZE is not possible; the VACUUM below sets the visibility map.
        try {
          await Promise.all(
            Array.from({ length: streams }, () =>
              withClient(pool, async (client) => {
                const backend = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
                const pid = backend.rows[0]?.pid ?? -1;
                let rows = 0;
                await inTransaction(client, async () => {
                  copying.set(pid, 0);
                  const copy = client.query(
                    copyFrom('COPY pfa_mirror (id, organization_id, pfa_id, data, pems_version) FROM STDIN'),
                  );
                  // highWaterMark 1: at most one rendered chunk waits per stream, and pipeline()
                  // waits for 'drain' whenever the socket is full, so memory stays flat.
                  await pipeline(Readable.from(pull(), { highWaterMark: 1 }), copy).catch(
                    (error: unknown) => {
                      failed = true; // the other streams stop at their next chunk
                      throw error;
                    },
                  );
                  rows = copy.rowCount;
                });
                copying.delete(pid);
                committedRows += rows;
                reportCopy();
              }),
            ),
          );
        } finally {
          clearInterval(poller);
        }
        if (options.records > 0) {
          await pool.query(`SELECT setval(pg_get_serial_sequence('pfa_mirror', 'id'), $1)`, [
            firstId + options.records - 1,
          ]);
        }
      } catch (error) {
        // Leave an empty table with its indexes rather than a partial load without them.
        await restoreEmptyMirror(pool, indexes).catch(() => undefined);
        throw error;
      } finally {
        await pool.query('ALTER TABLE pfa_mirror ENABLE TRIGGER pfa_mirror_kpi_ins');
      }
    });

    await timed('vacuum', 1, async () => {
      // Before the index builds: this pass sets hint bits and the visibility map (index-only scans)
      // while only the two constraint indexes exist, and gathers the planner statistics.
      await pool.query('VACUUM (ANALYZE) pfa_mirror');
    });

    // The index builds and everything after them run side by side: drafts, commits and the view
    // refresh need none of the secondary indexes (they probe the unique (organization_id, pfa_id)
    // key), and CREATE INDEX's SHARE lock admits the foreign-key checks and the refresh's reads.
    // While one long GIN build finishes, the other core does this work instead of idling.
    const indexBuild = timed('indexes', indexes.length, async () => {
      // Two builders: GIN builds are single-threaded, so two of them side by side use both cores;
      // the btree builds that follow may add parallel workers of their own.
      const queue = [...indexes].sort((a, b) => Number(b.gin) - Number(a.gin));
      let done = 0;
      const builder = (): Promise<void> =>
        withClient(pool, async (client) => {
          await client.query(`SET maintenance_work_mem = '1GB'`);
          await client.query('SET max_parallel_maintenance_workers = 2');
          try {
            for (let index = queue.shift(); index; index = queue.shift()) {
              await client.query(index.create);
              report({ phase: 'indexes', done: ++done, total: indexes.length });
            }
          } finally {
            await client.query('RESET maintenance_work_mem; RESET max_parallel_maintenance_workers');
          }
        });
      await Promise.all([builder(), builder()]);
    });

    const modifications = (async () => {
      await timed('sessions', sessions.length, async () => {
        await pool.query(
          `INSERT INTO pfa_session (organization_id, id, owner_user_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
       ON CONFLICT (organization_id, id) DO UPDATE SET owner_user_id = EXCLUDED.owner_user_id`,
          [
            sessions.map((s) => s.organizationId),
            sessions.map((s) => s.id),
            sessions.map((s) => s.ownerUserId),
          ],
        );
      });

      const recordsOf = new Map(organizations.map((o) => [o.id, o.records]));
      // Per session: its organization's size and how many drafts it holds (the last one may hold fewer).
      const sessionSizes = sessions.map((s) => recordsOf.get(s.organizationId) ?? 0);
      const draftCounts = sessions.map((_, i) =>
        Math.min(DRAFTS_PER_SESSION, options.drafts - i * DRAFTS_PER_SESSION, sessionSizes[i] ?? 0),
      );
      const sessionParams = [
        sessions.map((s) => s.organizationId),
        sessions.map((s) => s.id),
        sessions.map((s) => s.ownerUserId),
        sessionSizes,
      ];

      const drafts = await timed('drafts', options.drafts, async () => {
        // Slot j of session s drafts record number (offset_s + j * stride) mod n + 1: distinct
        // records within a session (the stride is coprime with n), scattered over the organization,
        // found through the (organization_id, pfa_id) unique index. The delta shifts the forecast
        // by a non-zero number of days and, on every fourth draft, raises a positive rate.
        const result = await pool.query(
          `WITH s AS (
         SELECT t.org, t.session_id, t.owner, t.n::bigint AS n, t.cnt, t.ord
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[]) WITH ORDINALITY
              AS t(org, session_id, owner, n, cnt, ord)
         WHERE t.cnt > 0
       ), picks AS (
         SELECT s.org, s.session_id, s.owner, j, s.ord,
                (((s.ord * 7919 + 104729) % s.n) + j * ${strideSql('s.n')}) % s.n + 1 AS num
         FROM s CROSS JOIN LATERAL generate_series(0, s.cnt - 1) AS j
       ), changes AS (
         SELECT p.session_id, p.owner, m.organization_id, m.id AS mirror_id, m.version, m.pems_version, m.data,
                jsonb_strip_nulls(jsonb_build_object(
                  'forecastStart', to_char(m.forecast_start + x.shift::int, 'YYYY-MM-DD'),
                  'forecastEnd', to_char(m.forecast_end + x.shift::int, 'YYYY-MM-DD'),
                  'monthlyRate', CASE WHEN (p.ord + p.j) % 4 = 0 AND m.monthly_rate > 0
                                      THEN greatest(round(m.monthly_rate * x.factor, 2), m.monthly_rate + 0.01) END
                )) AS delta
         FROM picks p
         CROSS JOIN LATERAL (${mirrorProbeSql('p.org', 'p.num')}) AS m
         CROSS JOIN LATERAL (SELECT ((p.ord * 31 + p.j * 17) % 91) - 30 AS raw,
                                    1.05 + ((p.ord + p.j) % 11) / 100.0 AS factor) AS r
         CROSS JOIN LATERAL (SELECT CASE WHEN r.raw = 0 THEN 7 ELSE r.raw END AS shift, r.factor) AS x
       )
       INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields,
                                     base_values, base_version, base_pems_version, current_version, sync_state,
                                     change_reason)
       SELECT c.organization_id, c.mirror_id, c.session_id, c.owner, c.delta,
              ARRAY(SELECT jsonb_object_keys(c.delta) ORDER BY 1),
              (SELECT coalesce(jsonb_object_agg(k, c.data -> k), '{}') FROM jsonb_object_keys(c.delta) AS k),
              c.version, c.pems_version, 1, 'draft', 'Demo: forecast re-plan'
       FROM changes c
       WHERE c.delta <> '{}'`,
          [...sessionParams, draftCounts],
        );
        return result.rowCount ?? 0;
      });

      // Commits go round-robin over the sessions; each session gets a slice of the total.
      const committedCounts = sessions.map(
        (_, i) =>
          Math.floor(options.committed / sessions.length) + (i < options.committed % sessions.length ? 1 : 0),
      );
      const committed = await timed('committed', options.committed, async () => {
        if (sessions.length === 0 || options.committed === 0) return 0;
        // Candidates come from a second scattered sequence (3× oversampled plus slack); records
        // with any modification are skipped, so a pending delta never sits under anyone's draft
        // and no record gets two pending deltas. committed_at rises with the order of insertion.
        const result = await pool.query(
          `WITH s AS (
         SELECT t.org, t.session_id, t.owner, t.n::bigint AS n, t.cnt, t.ord
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[]) WITH ORDINALITY
              AS t(org, session_id, owner, n, cnt, ord)
         WHERE t.cnt > 0 AND t.n > 0
       ), candidates AS (
         SELECT s.org, s.session_id, s.owner, s.cnt, s.ord, j,
                (((s.ord * 6151 + 7727) % s.n) + j * ${strideSql('s.n', 2)}) % s.n + 1 AS num
         FROM s CROSS JOIN LATERAL generate_series(0, least(s.n, s.cnt * 3 + 20) - 1) AS j
       ), free AS (
         SELECT DISTINCT ON (m.organization_id, m.id) c.*, m.organization_id, m.id AS mirror_id, m.version,
                m.pems_version, m.data, m.forecast_start, m.forecast_end
         FROM candidates c
         CROSS JOIN LATERAL (${mirrorProbeSql('c.org', 'c.num')}) AS m
         WHERE NOT EXISTS (SELECT 1 FROM pfa_modification x
                           WHERE x.organization_id = m.organization_id AND x.mirror_id = m.id)
           AND m.forecast_start IS NOT NULL AND m.forecast_end IS NOT NULL
         ORDER BY m.organization_id, m.id, c.ord, c.j
       ), chosen AS (
         SELECT f.*, row_number() OVER (PARTITION BY f.session_id ORDER BY f.j) AS rank
         FROM free f
       ), changes AS (
         SELECT c.*, row_number() OVER (ORDER BY c.rank, c.ord) AS seq, count(*) OVER () AS total,
                jsonb_build_object(
                  'forecastStart', to_char(c.forecast_start + x.shift::int, 'YYYY-MM-DD'),
                  'forecastEnd', to_char(c.forecast_end + x.shift::int, 'YYYY-MM-DD')) AS delta
         FROM chosen c
         CROSS JOIN LATERAL (SELECT CASE WHEN (c.ord * 13 + c.j * 7) % 61 - 20 = 0 THEN 10
                                         ELSE (c.ord * 13 + c.j * 7) % 61 - 20 END AS shift) AS x
         WHERE c.rank <= c.cnt
       )
       INSERT INTO pfa_modification (organization_id, mirror_id, session_id, user_id, delta, modified_fields,
                                     base_values, base_version, base_pems_version, current_version, sync_state,
                                     change_reason, created_at, updated_at, committed_at, committed_by, commit_xid)
       SELECT c.organization_id, c.mirror_id, c.session_id, c.owner, c.delta,
              ARRAY(SELECT jsonb_object_keys(c.delta) ORDER BY 1),
              (SELECT jsonb_object_agg(k, c.data -> k) FROM jsonb_object_keys(c.delta) AS k),
              c.version, c.pems_version, 1, 'committed', 'Demo: approved forecast change',
              t.at, t.at, t.at, c.owner, NULL
       FROM changes c
       CROSS JOIN LATERAL (SELECT now() - (c.total - c.seq) * interval '1 second' AS at) AS t`,
          [...sessionParams, committedCounts],
        );
        return result.rowCount ?? 0;
      });

      const analyzeTables = ['organization', 'pfa_session', 'pfa_modification'];
      await timed('analyze', analyzeTables.length, async () => {
        let done = 0;
        for (const table of analyzeTables) {
          await pool.query(`VACUUM (ANALYZE) ${table}`);
          report({ phase: 'analyze', done: ++done, total: analyzeTables.length });
        }
      });

      await timed('refresh', 1, async () => {
        await pool.query('SELECT refresh_pfa_materialized_views()');
      });
      return { drafts, committed };
    })();

    // Both run to the end before anything is reported, so a failure never leaves work running.
    const [built, modified] = await Promise.allSettled([indexBuild, modifications]);
    if (built.status === 'rejected') throw built.reason;
    if (modified.status === 'rejected') throw modified.reason;
    modifiedValue = modified.value;
  } finally {
    await bulkLock.end().catch(() => undefined); // ending the session releases the advisory lock
  }
  const { drafts, committed } = modifiedValue;

  return {
    organizations,
    records: options.records,
    sessions,
    drafts,
    committed,
    durationsMs,
    totalMs: performance.now() - startedAt,
  };
}

/** After a failed load: no partial data, and every index back (cheap on an empty table). */
async function restoreEmptyMirror(pool: pg.Pool, indexes: readonly MirrorIndex[]): Promise<void> {
  await pool.query('TRUNCATE pfa_mirror CASCADE');
  for (const index of indexes) await pool.query(index.create);
}

/**
 * The mirror row of one generated record, as a LATERAL subquery: the LIMIT keeps the planner from
 * flattening it into a hash join that reads all 1M rows (~3 s) instead of 10,000 index probes.
 */
function mirrorProbeSql(org: string, num: string): string {
  return `SELECT m.organization_id, m.id, m.version, m.pems_version, m.data, m.forecast_start, m.forecast_end,
                 m.monthly_rate
          FROM pfa_mirror m WHERE m.organization_id = ${org} AND m.pfa_id = ${pfaIdSql(org, num)} LIMIT 1`;
}

/** SQL of generatedPfaId(org, num - 1): the number padded to 7 digits, never truncated. */
function pfaIdSql(org: string, num: string): string {
  return `${org} || '-PFA-' || CASE WHEN ${num} < 10000000 THEN lpad(${num}::text, 7, '0') ELSE ${num}::text END`;
}

/**
 * A stride coprime with n, so j * stride mod n visits distinct records: the first of a few
 * primes that does not divide n (n has at most a handful of these prime factors).
 */
function strideSql(n: string, skip = 0): string {
  const primes = [7_919, 7_927, 7_933, 7_937, 7_949, 7_951, 7_963, 7_993].slice(skip);
  return `(CASE ${primes
    .slice(0, -1)
    .map((p) => `WHEN ${n} % ${p} <> 0 THEN ${p}`)
    .join(' ')} ELSE ${primes.at(-1) ?? 1} END)`;
}
