import { sql, type Kysely } from 'kysely';

/**
 * What the legacy import (npm run import:legacy) brought over of the previous application's
 * pending work: one row per source modification, so that running the import again creates
 * nothing twice — also after the change was written back, archived, discarded or resolved
 * (the row outlives our modification). Keyed by organization like every table (DOMAIN §6).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE pfa_legacy_import (
      organization_id text NOT NULL REFERENCES organization (id),
      legacy_id text NOT NULL,
      modification_id bigint NOT NULL,
      sync_state pfa_sync_state NOT NULL,
      source text NOT NULL,
      imported_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organization_id, legacy_id)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE IF EXISTS pfa_legacy_import`.execute(db);
}
