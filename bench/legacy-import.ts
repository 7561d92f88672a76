/**
 * npx tsx bench/legacy-import.ts [--records 1000000] [--orgs 12] [--batch-size 5000] [--keep] [--reuse]
 *                                 [--runs first,second,dry] [--bulk auto|always|never]
 *
 * The legacy import at the real size: builds the predecessor's PostgreSQL (its DDL from
 * src/legacy/predecessor-schema.ts) in a database of its own (`legacy_src_bench`) with N records
 * in pfa_mirror (JSON data with ISO timestamps, numeric text money, unknown keys, typed copies)
 * and some pending work, imports it into a fresh migrated database (`legacy_dst_bench`), then
 * runs the import again (nothing to change) and dry. Prints records/s of each run; drops both
 * databases unless --keep (--reuse: keep using an existing source database). Needs DATABASE_URL (a server where it may create databases).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { createDb, createPool } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { importLegacy, type LegacyImportReport } from '../src/jobs/legacy-import.js';
import { PREDECESSOR_POSTGRES_DDL } from '../src/legacy/predecessor-schema.js';
import { readProc } from './procstat.js';
import { cpus, loadavg } from 'node:os';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    orgs: { type: 'string', default: '12' },
    'batch-size': { type: 'string', default: '5000' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
    runs: { type: 'string', default: 'first,second,dry' },
    bulk: { type: 'string', default: 'auto' },
  },
});
const RECORDS = Number(values.records);
const ORGS = Number(values.orgs);
const BATCH = Number(values['batch-size']);
const RUNS = new Set(values.runs.split(','));
const BULK = values.bulk as 'auto' | 'always' | 'never';
const SRC = 'legacy_src_bench';
const DST = 'legacy_dst_bench';
const adminUrl = process.env.DATABASE_URL;
if (!adminUrl) throw new Error('DATABASE_URL is required');
const urlOf = (db: string): string => {
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  return u.toString();
};
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function buildSource(): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${SRC} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${SRC}`);
  });
  const c = new pg.Client({ connectionString: urlOf(SRC) });
  await c.connect();
  try {
    for (const ddl of PREDECESSOR_POSTGRES_DDL) await c.query(ddl);
    await c.query(
      `INSERT INTO organizations (id, code, name, "updatedAt")
       SELECT md5('org' || n)::uuid::text, 'ORG' || lpad(n::text, 2, '0'), 'Organization ' || n, now()
       FROM generate_series(1, $1::int) n`,
      [ORGS],
    );
    await c.query(
      `INSERT INTO users (id, username, email, "passwordHash", "updatedAt")
       SELECT md5('user' || n)::uuid::text, 'user' || n, 'user' || n || '@example.com', 'x', now()
       FROM generate_series(1, 50) n`,
    );
    await c.query(`ALTER TABLE pfa_mirror SET UNLOGGED`);
    await c.query(
      `WITH g AS (
         SELECT n, 1 + n % $2::int AS o, date '2025-01-01' + (n % 700) AS s, 30 + n % 400 AS len
         FROM generate_series(1, $1::int) n)
       INSERT INTO pfa_mirror (id, "organizationId", data, "pfaId", category, source, "forecastStart", "forecastEnd",
         "isDiscontinued", "pemsVersion", version, "updatedAt")
       SELECT md5('rec' || n)::uuid::text, md5('org' || o)::uuid::text,
         json_build_object('pfaId', 'PFA-' || lpad(n::text, 8, '0'),
           'category', (ARRAY['Cranes','Earthmoving','Power Generation','Scaffolding','Vehicles'])[1 + n % 5],
           'class', 'Class ' || n % 40, 'source', CASE WHEN n % 7 = 0 THEN 'Purchase' ELSE 'Rental' END,
           'dor', CASE WHEN n % 3 = 0 THEN 'PROJECT' ELSE 'BEO' END, 'areaSilo', 'Area ' || (n % 9) * 100,
           'manufacturer', (ARRAY['Caterpillar','Liebherr','JLG','Atlas Copco'])[1 + n % 4], 'model', 'M-' || n % 300,
           'contract', 'RA-2025-' || n % 90000, 'equipment', 'EQ-' || n,
           'monthlyRate', CASE WHEN n % 5 = 0 THEN to_json(to_char((n % 9000) + 0.5, 'FM99990.00')) ELSE to_json((n % 9000) + 0.25) END,
           'purchasePrice', (n % 50000)::numeric,
           'originalStart', to_char(s, 'YYYY-MM-DD') || 'T00:00:00.000Z', 'originalEnd', to_char(s + len, 'YYYY-MM-DD') || 'T00:00:00.000Z',
           'forecastStart', to_char(s + 7, 'YYYY-MM-DD') || 'T00:00:00.000Z', 'forecastEnd', to_char(s + len + 14, 'YYYY-MM-DD') || 'T00:00:00.000Z',
           'actualStart', CASE WHEN n % 4 = 0 THEN to_char(s, 'YYYY-MM-DD') || 'T00:00:00.000Z' END,
           'actualEnd', NULL, 'isActualized', n % 4 = 0, 'hasActuals', n % 4 = 0, 'hasPlan', true,
           'isFundsTransferable', n % 11 = 0, 'isDiscontinued', n % 50 = 0,
           'forecastCategory', 'FC-' || n % 6, 'wbs', 'WBS-' || o || '.' || n % 1000, 'notes', 'Generated for the benchmark'),
         'PFA-' || lpad(n::text, 8, '0'), (ARRAY['Cranes','Earthmoving','Power Generation','Scaffolding','Vehicles'])[1 + n % 5],
         CASE WHEN n % 7 = 0 THEN 'Purchase' ELSE 'Rental' END, s + 7, s + len + 14, n % 50 = 0, (n % 1000)::text, 1 + n % 3, now()
       FROM g`,
      [RECORDS, ORGS],
    );
    // Pending work: 2,000 committed, 2,000 drafts, 100 open conflicts.
    await c.query(
      `INSERT INTO pfa_modification (id, "mirrorId", "organizationId", "userId", delta, "sessionId", "syncState",
         "baseVersion", "currentVersion", "committedAt", "pemsVersion", "updatedAt")
       SELECT md5('mod' || k)::uuid::text, m.id, m."organizationId", md5('user' || (1 + k % 50))::uuid::text,
         json_build_object('forecastEnd', to_char(date '2027-01-01' + k % 300, 'YYYY-MM-DD') || 'T00:00:00.000Z'),
         's-' || k % 20, CASE WHEN k <= 2100 THEN 'committed' ELSE 'draft' END, 1, 1,
         CASE WHEN k <= 2100 THEN now() - make_interval(mins => k) END, m."pemsVersion", now()
       FROM generate_series(1, 4100) k
       JOIN pfa_mirror m ON m.id = md5('rec' || (k * 211 % $1::int + 1))::uuid::text`,
      [RECORDS],
    );
    await c.query(
      `INSERT INTO pfa_sync_conflict (id, "modificationId", "organizationId", "pfaId", "localData", "pemsData", "conflictFields")
       SELECT md5('conf' || k)::uuid::text, md5('mod' || k)::uuid::text, mo."organizationId", 'x', mo.delta,
         json_build_object('forecastEnd', '2028-01-01T00:00:00.000Z'), '["forecastEnd"]'
       FROM generate_series(2001, 2100) k JOIN pfa_modification mo ON mo.id = md5('mod' || k)::uuid::text`,
    );
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

async function buildTarget(): Promise<void> {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${DST} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DST}`);
  });
  const pool = createPool({ connectionString: urlOf(DST), max: 2 });
  const db = createDb(pool);
  await migrateToLatest(db);
  await db.destroy();
}

/**
 * CPU spent by this process and by the PostgreSQL backends of both databases while `fn` runs
 * (sampled from /proc every 200 ms): on a shared machine the wall-clock rate depends on what
 * else runs, the CPU cost per record does not.
 */
interface CpuMark {
  label: string;
  at: number;
  node: number;
  pg: number;
  pgSource: number;
}

async function withCpu<T>(
  fn: (mark: (label: string) => void) => Promise<T>,
): Promise<{ value: T; node: number; pg: number; pgSource: number; load: number; marks: CpuMark[] }> {
  const seen = new Map<number, { first: number; last: number; source: boolean }>();
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  const sample = async (): Promise<void> => {
    const { rows } = await c.query<{ pid: number; datname: string }>(
      `SELECT pid, datname FROM pg_stat_activity WHERE datname IN ($1, $2)`,
      [SRC, DST],
    );
    for (const { pid, datname } of rows) {
      const cpu = readProc(pid)?.cpuSeconds;
      if (cpu === undefined) continue;
      const s = seen.get(pid);
      if (s) s.last = cpu;
      else seen.set(pid, { first: cpu, last: cpu, source: datname === SRC });
    }
  };
  const before = process.cpuUsage();
  // CPU so far at a point of the run (the backends read now; one that started since the last
  // sample is counted from its first sample on).
  const marks: CpuMark[] = [];
  const mark = (label: string): void => {
    let pgCpu = 0;
    let pgSource = 0;
    for (const [pid, s] of seen) {
      const cpu = readProc(pid)?.cpuSeconds;
      if (cpu !== undefined) s.last = cpu;
      pgCpu += s.last - s.first;
      if (s.source) pgSource += s.last - s.first;
    }
    const used = process.cpuUsage(before);
    marks.push({ label, at: performance.now(), node: (used.user + used.system) / 1e6, pg: pgCpu, pgSource });
  };
  const loads: number[] = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await sample().catch(() => undefined);
      loads.push(loadavg()[0] ?? 0);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  try {
    mark('start');
    const value = await fn(mark);
    mark('end');
    const used = process.cpuUsage(before);
    stop = true;
    await loop;
    await sample().catch(() => undefined);
    let pgCpu = 0;
    let pgSource = 0;
    for (const s of seen.values()) {
      pgCpu += s.last - s.first;
      if (s.source) pgSource += s.last - s.first;
    }
    return {
      value,
      node: (used.user + used.system) / 1e6,
      pg: pgCpu,
      pgSource,
      load: loads.reduce((a, b) => a + b, 0) / Math.max(1, loads.length),
      marks,
    };
  } finally {
    stop = true;
    await loop;
    await c.end();
  }
}

function cpuLine(
  r: LegacyImportReport,
  cpu: { node: number; pg: number; pgSource: number; load: number },
): string {
  const cores = cpus().length;
  const total = cpu.node + cpu.pg;
  return (
    `   CPU: node ${cpu.node.toFixed(1)} s + PostgreSQL ${cpu.pg.toFixed(1)} s (source ${cpu.pgSource.toFixed(1)} s, target ${(cpu.pg - cpu.pgSource).toFixed(1)} s) = ${((total * 1e6) / Math.max(1, r.records)).toFixed(0)} µs per record; ` +
    `${cores} cores fully ours would give ${fmt((r.records * cores) / Math.max(total, 1e-9))} records/s; mean load average during the run ${cpu.load.toFixed(1)}`
  );
}

/**
 * The bulk path's phases (from its step messages): the COPY, ANALYZE + view refresh, the index
 * builds, then the pending work and the rest — wall time and µs of CPU per record of each.
 */
function phaseLine(r: LegacyImportReport, marks: CpuMark[]): string {
  const points = marks.filter((m, i) => i === 0 || m.label !== marks[i - 1]?.label);
  if (points.length < 3) return '';
  const per = (v: number) => ((v * 1e6) / Math.max(1, r.records)).toFixed(0);
  const parts: string[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as CpuMark;
    const b = points[i] as CpuMark;
    parts.push(
      `${b.label} ${((b.at - a.at) / 1000).toFixed(1)} s (node ${per(b.node - a.node)}, source ${per(b.pgSource - a.pgSource)}, target ${per(b.pg - b.pgSource - (a.pg - a.pgSource))} µs/record)`,
    );
  }
  return `   phases: ${parts.join('; ')}`;
}

/** Names the bulk path's step messages by the phase they end. */
function phaseOf(message: string): string | null {
  if (/^bulk path: analyzing/.test(message)) return 'COPY';
  if (/^bulk path: building \d+ indexes/.test(message)) return 'ANALYZE + refresh';
  const built = /^bulk path: index \S+ built \((\d+)\/(\d+)\)/.exec(message);
  if (built && built[1] === built[2]) return 'index builds';
  return null;
}

function summary(label: string, r: LegacyImportReport): string {
  const sum = (f: (o: LegacyImportReport['organizations'][number]) => number): number =>
    r.organizations.reduce((n, o) => n + f(o), 0);
  return (
    `${label}: ${fmt(r.records)} records in ${(r.recordsMs / 1000).toFixed(1)} s = ${fmt(r.recordsPerSecond)} records/s ` +
    `(whole run ${(r.durationMs / 1000).toFixed(1)} s) ` +
    `(inserted ${fmt(sum((o) => o.inserted))}, updated ${fmt(sum((o) => o.updated))}, unchanged ${fmt(sum((o) => o.unchanged))}, ` +
    `rejected ${fmt(sum((o) => o.rejected))}; pending: ${fmt(sum((o) => o.pending.committed))} committed, ` +
    `${fmt(sum((o) => o.pending.draft))} drafts, ${fmt(sum((o) => o.pending.conflict))} conflicts, ` +
    `${fmt(sum((o) => o.pendingAlreadyImported))} imported before; problems ${r.pendingProblems.length})\n` +
    `   ${r.bulk.reason}` +
    (r.bulk.organizations.length && !r.dryRun
      ? ` — KPI views refreshed in ${(r.bulk.refreshMs / 1000).toFixed(1)} s, indexes rebuilt in ${(r.bulk.indexesMs / 1000).toFixed(1)} s (both inside the records' time)`
      : '')
  );
}

async function main(): Promise<void> {
  let t = performance.now();
  const exists = await admin(
    async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [SRC])).rowCount,
  );
  if (!values.reuse || !exists) await buildSource();
  console.log(
    `source: ${fmt(RECORDS)} records over ${ORGS} organizations built in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  await buildTarget();
  const pool = createPool({ connectionString: urlOf(DST), max: 4 });
  const db = createDb(pool);
  const log = pino({ level: 'warn' });
  try {
    const source = { postgres: urlOf(SRC) };
    t = performance.now();
    if (RUNS.has('first')) {
      const first = await withCpu((mark) =>
        importLegacy(
          { db, pool, log },
          {
            source,
            batchSize: BATCH,
            bulk: BULK,
            onStep: (message) => {
              const phase = phaseOf(message);
              if (phase) mark(phase);
            },
          },
        ),
      );
      console.log(summary('first run (empty target)', first.value));
      console.log(cpuLine(first.value, first));
      const phases = phaseLine(first.value, first.marks);
      if (phases) console.log(phases.replace(/; end /, '; pending work and the rest '));
    }
    if (RUNS.has('second')) {
      const second = await withCpu(() =>
        importLegacy({ db, pool, log }, { source, batchSize: BATCH, bulk: BULK }),
      );
      console.log(summary('second run (nothing to change)', second.value));
      console.log(cpuLine(second.value, second));
    }
    if (RUNS.has('dry')) {
      const dry = await withCpu(() =>
        importLegacy({ db, pool, log }, { source, batchSize: BATCH, dryRun: true, bulk: BULK }),
      );
      console.log(summary('dry run', dry.value));
      console.log(cpuLine(dry.value, dry));
    }
    const mem = process.memoryUsage();
    console.log(
      `peak-ish memory: rss ${fmt(mem.rss / 1048576)} MiB, heap ${fmt(mem.heapUsed / 1048576)} MiB`,
    );
  } finally {
    await db.destroy();
    if (!values.keep)
      await admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${SRC} WITH (FORCE)`);
        await c.query(`DROP DATABASE IF EXISTS ${DST} WITH (FORCE)`);
      });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
