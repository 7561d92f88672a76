import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { promises as fs } from 'node:fs';
import { sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import { createDb, createPool, type Db } from '../src/db/database.js';
import { MIGRATIONS_DIR, migrateDownAll, migrateToLatest, pendingMigrations } from '../src/db/migrator.js';

/**
 * Migrations on an empty database (not the migrated template): up → catalog snapshot → down to
 * nothing → up again → the identical catalog. Catches a down() that forgets an object and an up()
 * that depends on leftovers.
 */

const KYSELY_TABLES = ['kysely_migration', 'kysely_migration_lock'];

let adminUrl: string;
let name: string;
let db: Db;

beforeAll(async () => {
  adminUrl = process.env.PFA_TEST_ADMIN_URL as string;
  if (!adminUrl) throw new Error('test/global-setup.ts did not run');
  // The pfa_test_f_ prefix lets global setup drop it if a killed run leaves it behind.
  name = `pfa_test_f_mig_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  db = createDb(createPool({ connectionString: u.toString(), max: 2 }));
});

afterAll(async () => {
  await db?.destroy();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
});

/** Objects of schema public that belong to an extension (pg_trgm, btree_gin) are not ours. */
const NOT_EXTENSION = (classid: string, oid: string) =>
  sql.raw(
    `NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '${classid}'::regclass AND dep.objid = ${oid} AND dep.deptype = 'e')`,
  );

type Snapshot = Record<string, unknown[]>;

async function rows<T>(query: RawBuilder<T>): Promise<T[]> {
  return (await query.execute(db)).rows;
}

/** Everything in schema public that a migration can create, as comparable text. */
async function snapshot(): Promise<Snapshot> {
  return {
    extensions: await rows(
      sql`SELECT extname, extversion, extnamespace::regnamespace::text AS schema FROM pg_extension ORDER BY extname`,
    ),
    relations: await rows(sql`
      SELECT c.relname, c.relkind, c.relpersistence, c.reloptions, c.relispartition
      FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND ${NOT_EXTENSION('pg_class', 'c.oid')}
      ORDER BY c.relname COLLATE "C"`),
    columns: await rows(sql`
      SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
             pg_get_expr(d.adbin, d.adrelid) AS default_or_generation, a.attgenerated, a.attidentity, a.attstorage,
             a.attcollation::regcollation::text AS collation
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
      ORDER BY c.relname COLLATE "C", a.attnum`),
    indexes: await rows(sql`
      SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname COLLATE "C"`),
    constraints: await rows(sql`
      SELECT conrelid::regclass::text AS rel, conname, contype, pg_get_constraintdef(oid) AS def, condeferrable, convalidated
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY conrelid::regclass::text COLLATE "C", conname COLLATE "C"`),
    functions: await rows(sql`
      SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args, p.prokind, p.provolatile, p.proparallel,
             p.proisstrict, CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END AS def,
             (SELECT row(a.aggtransfn::text, a.aggtranstype::regtype::text, a.agginitval, a.aggkind)::text
              FROM pg_aggregate a WHERE a.aggfnoid = p.oid) AS aggregate
      FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace AND ${NOT_EXTENSION('pg_proc', 'p.oid')}
      ORDER BY p.proname COLLATE "C", pg_get_function_identity_arguments(p.oid) COLLATE "C"`),
    triggers: await rows(sql`
      SELECT tgrelid::regclass::text AS rel, tgname, pg_get_triggerdef(oid) AS def, tgenabled
      FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgrelid::regclass::text COLLATE "C", tgname COLLATE "C"`),
    views: await rows(
      sql`SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY viewname COLLATE "C"`,
    ),
    matviews: await rows(
      sql`SELECT matviewname, definition, hasindexes FROM pg_matviews WHERE schemaname = 'public' ORDER BY matviewname COLLATE "C"`,
    ),
    types: await rows(sql`
      SELECT t.typname, t.typtype, t.typcategory, format_type(t.typbasetype, NULL) AS base,
             (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels
      FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND ${NOT_EXTENSION('pg_type', 't.oid')}
        -- Row types of tables and views come with their relation, array types with their element.
        AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
        AND NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.typarray = t.oid)
      ORDER BY t.typname COLLATE "C"`),
    sequences: await rows(sql`
      SELECT sequencename, data_type::text, start_value::text, increment_by::text, cycle
      FROM pg_sequences WHERE schemaname = 'public' ORDER BY sequencename COLLATE "C"`),
    comments: await rows(sql`
      SELECT * FROM (
        SELECT d.classoid::regclass::text AS catalog, d.objsubid, d.description,
               coalesce((SELECT relname::text FROM pg_class WHERE oid = d.objoid AND d.classoid = 'pg_class'::regclass),
                        (SELECT proname::text FROM pg_proc WHERE oid = d.objoid AND d.classoid = 'pg_proc'::regclass)) AS object
        FROM pg_description d
        WHERE (d.classoid = 'pg_class'::regclass AND d.objoid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace))
           OR (d.classoid = 'pg_proc'::regclass AND d.objoid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'public'::regnamespace))
      ) c
      ORDER BY c.object COLLATE "C", c.objsubid`),
  };
}

/** The snapshot without Kysely's own bookkeeping tables (they stay after migrateDownAll). */
function ours(s: Snapshot): Snapshot {
  const kysely = (v: unknown): boolean => {
    const r = v as Record<string, unknown>;
    const names = [r.relname, r.tablename, r.rel, r.typname, r.indexname, r.sequencename].filter(
      (x): x is string => typeof x === 'string',
    );
    return names.some((n) => KYSELY_TABLES.some((k) => n === k || n.startsWith(`${k}_`) || n === `_${k}`));
  };
  return Object.fromEntries(
    Object.entries(s)
      .filter(([k]) => k !== 'extensions')
      .map(([k, list]) => [k, list.filter((v) => !kysely(v))]),
  );
}

describe('migrations on an empty database', () => {
  let first: Snapshot;

  it('migrateToLatest applies every migration on disk', async () => {
    const onDisk = (await fs.readdir(MIGRATIONS_DIR))
      .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
      .map((f) => f.replace(/\.(ts|js)$/, ''))
      .sort();
    expect(onDisk.length).toBeGreaterThan(0);
    expect(await pendingMigrations(db)).toEqual(onDisk);
    expect(await migrateToLatest(db)).toEqual(onDisk);
    expect(await pendingMigrations(db)).toEqual([]);
    // Running it again is a no-op.
    expect(await migrateToLatest(db)).toEqual([]);
    first = await snapshot();
  });

  it('the snapshot holds the objects of DOMAIN §6', () => {
    for (const [kind, list] of Object.entries(first))
      if (kind !== 'comments') expect({ kind, empty: list.length === 0 }).toEqual({ kind, empty: false });
    expect(first.indexes?.length).toBeGreaterThan(20);
    const relations = (first.relations as { relname: string; relkind: string }[]).map(
      (r) => `${r.relkind}:${r.relname}`,
    );
    for (const table of [
      'organization',
      'pfa_mirror',
      'pfa_mirror_history',
      'pfa_modification',
      'pfa_session',
      'pfa_sync_log',
      'pfa_modification_archive',
    ])
      expect(relations).toContain(`r:${table}`);
    expect(relations).toContain('m:pfa_kpi_summary');
    expect(relations).toContain('m:pfa_timeline_bounds');
    const functions = (first.functions as { proname: string; prokind: string; provolatile: string }[]).map(
      (f) => `${f.prokind}:${f.proname}:${f.provolatile}`,
    );
    for (const f of [
      'pfa_text',
      'pfa_money',
      'pfa_bool',
      'pfa_parse_date',
      'pfa_date',
      'pfa_cost',
      'pfa_search_text',
    ])
      expect(functions).toContain(`f:${f}:i`);
    expect(functions).toContain('f:refresh_pfa_materialized_views:v');
    expect(functions).toContain('a:jsonb_concat_agg:i');
    const generated = (first.columns as { relname: string; attname: string; attgenerated: string }[]).filter(
      (c) => c.relname === 'pfa_mirror' && c.attgenerated === 's',
    );
    expect(generated.map((c) => c.attname)).toContain('forecast_start');
    expect(first.types).toContainEqual(
      expect.objectContaining({
        typname: 'pfa_sync_state',
        typtype: 'e',
        labels: ['draft', 'committed', 'syncing', 'synced', 'conflict'],
      }),
    );
    expect(first.triggers).toContainEqual(
      expect.objectContaining({ rel: 'pfa_mirror', tgname: 'pfa_mirror_versioning' }),
    );
  });

  it('migrateDownAll leaves no object of ours in the schema', async () => {
    await migrateDownAll(db);
    const after = ours(await snapshot());
    expect(after).toEqual({
      relations: [],
      columns: [],
      indexes: [],
      constraints: [],
      functions: [],
      triggers: [],
      views: [],
      matviews: [],
      types: [],
      sequences: [],
      comments: [],
    });
    const executed = await sql<{ n: string }>`SELECT count(*)::text AS n FROM kysely_migration`.execute(db);
    expect(executed.rows).toEqual([{ n: '0' }]);
  });

  it('migrateToLatest again gives the identical catalog', async () => {
    await migrateToLatest(db);
    const second = await snapshot();
    expect(second).toEqual(first);
  });
});
