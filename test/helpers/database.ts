import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, createPool, type Db } from '../../src/db/database.js';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  db: Db;
  /** Drops the database (call in afterAll). */
  drop: () => Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh database cloned from the migrated template: no rows shared with any other test file. */
export async function createTestDatabase(options: { poolMax?: number } = {}): Promise<TestDatabase> {
  const adminUrl = process.env.PFA_TEST_ADMIN_URL;
  const template = process.env.PFA_TEST_TEMPLATE;
  if (!adminUrl || !template) throw new Error('test/global-setup.ts did not run');
  // The creation time in the name lets global setup drop only databases left by old, killed runs.
  const name = `pfa_test_f_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // CREATE DATABASE … TEMPLATE fails while another session is connected to the template.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        break;
      } catch (e) {
        if (attempt > 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const pool = createPool({ connectionString: url, max: options.poolMax ?? 10 });
  // DROP … WITH (FORCE) ends connections that are still closing; that is expected, not a failure.
  pool.on('error', () => undefined);
  const db = createDb(pool);
  return {
    url,
    pool,
    db,
    drop: async () => {
      await db.destroy();
      // Kysely ends the pool only when it ran a query; a test that used only `pool` needs this.
      if (!pool.ended) await pool.end().catch(() => undefined);
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export function testRedisUrl(): string {
  const url = process.env.PFA_TEST_REDIS_URL;
  if (!url) throw new Error('test/global-setup.ts did not run');
  return url;
}
