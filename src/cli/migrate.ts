/** npm run migrate [-- --down] — applies (or, with --down, reverts) every migration on DATABASE_URL. */
import { ConfigError, loadConfig } from '../config.js';
import { createDb, createPool } from '../db/database.js';
import { ensureMirrorIndexes } from '../db/mirror-indexes.js';
import { migrateDownAll, migrateToLatest } from '../db/migrator.js';

try {
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new ConfigError('DATABASE_URL is required: the database to migrate');
  const pool = createPool({ connectionString: config.DATABASE_URL, max: 2 });
  const db = createDb(pool);
  try {
    if (process.argv.includes('--down')) {
      await migrateDownAll(db);
      process.stdout.write('all migrations reverted\n');
    } else {
      const applied = await migrateToLatest(db);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
      // A bulk load (legacy import, seed) killed between dropping and rebuilding pfa_mirror's
      // secondary indexes leaves them missing: build them now.
      const ensured = await ensureMirrorIndexes(pool);
      if (ensured.built.length)
        process.stdout.write(
          `built missing pfa_mirror indexes (left by an interrupted bulk load): ${ensured.built.join(', ')}\n`,
        );
      if (ensured.kpiTriggerEnabled)
        process.stdout.write(
          'switched pfa_mirror_kpi_ins back on (left off by an interrupted seed) and refreshed the KPI views\n',
        );
      if (ensured.bulkLoadRunning)
        process.stdout.write('a bulk load of pfa_mirror is running: it rebuilds its indexes itself\n');
    }
  } finally {
    await db.destroy();
  }
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
