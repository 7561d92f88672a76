import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { doctorReport } from '../src/cli/doctor.js';
import { DOCTOR_CHECKS, DoctorRepository, GRID_INDEX } from '../src/repositories/doctor.repository.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { insertModification, insertRecords } from './helpers/fixtures.js';

/**
 * npm run doctor: the seed design's operational queries for this schema, run read-only against a
 * real (test) database: every section appears, the figures are this database's, and the
 * maintenance statements name the grid index that the migrations created.
 */

const run = promisify(execFile);
let t: TestDatabase;

/** The lines of one section of the report (from its "== N. title" heading to the next heading). */
function section(report: string, title: string): string {
  const start = report.indexOf(title);
  if (start < 0) throw new Error(`section "${title}" missing from:\n${report}`);
  const next = report.indexOf('\n== ', start);
  return report.slice(start, next < 0 ? undefined : next);
}

beforeAll(async () => {
  t = await createTestDatabase({ poolMax: 3 });
  const holng = [...(await insertRecords(t.db, 'HOLNG', 20)).values()];
  const rivbr = [...(await insertRecords(t.db, 'RIVBR', 5)).values()];
  const mod = (org: string, mirrorId: string, state: 'draft' | 'committed' | 'conflict', session = 's1') =>
    insertModification(t.db, { org, mirrorId, session, user: 'planner', delta: { contract: 'X' }, state });
  await mod('HOLNG', holng[0] as string, 'draft');
  await mod('HOLNG', holng[1] as string, 'draft');
  await mod('HOLNG', holng[2] as string, 'conflict');
  await mod('HOLNG', holng[3] as string, 'committed', 's2');
  await mod('RIVBR', rivbr[0] as string, 'committed');
  await sql`SELECT refresh_pfa_materialized_views()`.execute(t.db);
}, 120_000);

afterAll(async () => {
  await t?.drop();
});

describe('npm run doctor', () => {
  it('prints every section with this database’s figures (the CLI, against DATABASE_URL)', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/doctor.ts'], {
      env: { ...process.env, DATABASE_URL: t.url, NODE_ENV: 'test' },
      timeout: 120_000,
    });
    for (const check of DOCTOR_CHECKS) expect(stdout).toContain(check.title);
    expect(stdout).toContain('FROM pg_stat_user_indexes'); // the SQL is printed too
    expect(stdout).toContain(`database ${new URL(t.url).pathname.slice(1)} `);

    // Slow statements: a table when pg_stat_statements is usable, otherwise how to get it.
    const slow = section(stdout, DOCTOR_CHECKS[0]?.title as string);
    expect(slow).toMatch(/mean_ms|skipped: pg_stat_statements/);

    // Open work per organization: 2 drafts, 1 conflict, 1 committed in HOLNG; 1 committed in RIVBR.
    const pending = section(stdout, 'Open and pending changes per organization');
    expect(pending).toMatch(/\n\s+HOLNG\s+2\s+1\s+1\s+0\n/);
    expect(pending).toMatch(/\n\s+RIVBR\s+0\s+0\s+1\s+0/);
    const oldest = section(stdout, 'Oldest change not yet written back');
    expect(oldest).toMatch(/\n\s+HOLNG\s+\d{4}-\d\d-\d\dT/);
    expect(oldest).toMatch(/\n\s+RIVBR\s+\d{4}-\d\d-\d\dT/);

    // Sizes and index usage list this schema's relations; the KPI refresh just made is shown.
    expect(section(stdout, 'Table and index sizes')).toMatch(/\n\s+pfa_mirror\s+table/);
    expect(section(stdout, 'Index usage')).toContain(GRID_INDEX);
    expect(section(stdout, 'KPI caches')).toMatch(/\n\s+\d{4}-\d\d-\d\dT\S+\s+/);

    // The rebuild statement names the grid index by its real name, which exists here.
    expect(stdout).toContain(`REINDEX INDEX CONCURRENTLY ${GRID_INDEX};`);
    expect(stdout).toContain(`${GRID_INDEX}: present`);
  }, 180_000);

  it('measures index bloat once pgstattuple is installed (in this test database only)', async () => {
    const before = await doctorReport(t.db, { brief: true });
    expect(section(before, 'Index bloat')).toContain('skipped: pgstattuple is not installed');
    await sql`CREATE EXTENSION IF NOT EXISTS pgstattuple`.execute(t.db);
    const after = await doctorReport(t.db, { brief: true });
    const bloat = section(after, 'Index bloat');
    expect(bloat).toContain('leaf_density_pct');
    expect(bloat).toContain(GRID_INDEX);
    expect(after).not.toContain('FROM pg_stat_user_indexes'); // --brief: results only
  }, 60_000);

  it('runs each check in a READ ONLY transaction (a write is refused, not applied)', async () => {
    const repo = new DoctorRepository(t.db);
    const result = await repo.run(
      { id: 'write', title: 'write', query: sql`DELETE FROM pfa_modification RETURNING id` },
      new Set(),
    );
    expect(result.skipped).toMatch(/read-only transaction/);
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pfa_modification`.execute(t.db);
    expect(rows[0]?.n).toBe(5);
  });
});
