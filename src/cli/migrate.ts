/** npm run migrate [-- --down] — applies (or, with --down, reverts) every migration on DATABASE_URL. */
import { ConfigError, loadConfig } from '../config.js';
import { createDb, createPool } from '../db/database.js';
import { migrateDownAll, migrateToLatest } from '../db/migrator.js';

try {
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new ConfigError('DATABASE_URL is required: the database to migrate');
  const db = createDb(createPool({ connectionString: config.DATABASE_URL, max: 2 }));
  try {
    if (process.argv.includes('--down')) {
      await migrateDownAll(db);
      process.stdout.write('all migrations reverted\n');
    } else {
      const applied = await migrateToLatest(db);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
    }
  } finally {
    await db.destroy();
  }
} catch (e) {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
