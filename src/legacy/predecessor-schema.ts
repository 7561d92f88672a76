/**
 * The previous application's tables as its ORM (Prisma) creates them, written from its published
 * field lists: for the import's tests and its benchmark (a real move reads the real database).
 * SQLite: DATETIME holds integer milliseconds, BOOLEAN 0/1, money REAL. PostgreSQL: quoted
 * camelCase columns, UUID-like text ids, timestamp(3), JSON deltas.
 */

export const PREDECESSOR_SQLITE_DDL: readonly string[] = [
  `CREATE TABLE "organizations" ("id" TEXT NOT NULL PRIMARY KEY, "code" TEXT NOT NULL, "name" TEXT NOT NULL,
    "description" TEXT, "isActive" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" DATETIME NOT NULL)`,
  `CREATE UNIQUE INDEX "organizations_code_key" ON "organizations"("code")`,
  `CREATE TABLE "users" ("id" TEXT NOT NULL PRIMARY KEY, "username" TEXT NOT NULL, "email" TEXT,
    "passwordHash" TEXT NOT NULL, "firstName" TEXT, "lastName" TEXT, "role" TEXT NOT NULL DEFAULT 'user',
    "isActive" BOOLEAN NOT NULL DEFAULT true, "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL)`,
  `CREATE TABLE "pfa_records" ("id" TEXT NOT NULL PRIMARY KEY, "pfaId" TEXT NOT NULL, "organizationId" TEXT NOT NULL,
    "areaSilo" TEXT, "category" TEXT, "forecastCategory" TEXT, "class" TEXT, "source" TEXT, "dor" TEXT,
    "isActualized" BOOLEAN NOT NULL DEFAULT false, "isDiscontinued" BOOLEAN NOT NULL DEFAULT false,
    "isFundsTransferable" BOOLEAN NOT NULL DEFAULT false, "monthlyRate" REAL, "purchasePrice" REAL,
    "manufacturer" TEXT, "model" TEXT, "originalStart" DATETIME, "originalEnd" DATETIME,
    "hasPlan" BOOLEAN NOT NULL DEFAULT false, "forecastStart" DATETIME, "forecastEnd" DATETIME,
    "actualStart" DATETIME, "actualEnd" DATETIME, "hasActuals" BOOLEAN NOT NULL DEFAULT false,
    "contract" TEXT, "equipment" TEXT, "lastModified" DATETIME, "lastModifiedBy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "pfa_records_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "organizations" ("id"))`,
  `CREATE UNIQUE INDEX "pfa_records_organizationId_pfaId_key" ON "pfa_records"("organizationId", "pfaId")`,
];

export const PREDECESSOR_POSTGRES_DDL: readonly string[] = [
  `CREATE TABLE "organizations" ("id" TEXT NOT NULL PRIMARY KEY, "code" TEXT NOT NULL UNIQUE, "name" TEXT NOT NULL,
    "description" TEXT, "isActive" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL)`,
  `CREATE TABLE "users" ("id" TEXT NOT NULL PRIMARY KEY, "username" TEXT NOT NULL UNIQUE, "email" TEXT UNIQUE,
    "passwordHash" TEXT NOT NULL, "role" TEXT NOT NULL DEFAULT 'user', "isActive" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL)`,
  `CREATE TABLE "pfa_records" ("id" TEXT NOT NULL PRIMARY KEY, "pfaId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL REFERENCES "organizations" ("id"),
    "areaSilo" TEXT, "category" TEXT, "forecastCategory" TEXT, "class" TEXT, "source" TEXT, "dor" TEXT,
    "isActualized" BOOLEAN NOT NULL DEFAULT false, "isDiscontinued" BOOLEAN NOT NULL DEFAULT false,
    "isFundsTransferable" BOOLEAN NOT NULL DEFAULT false, "monthlyRate" DOUBLE PRECISION, "purchasePrice" DOUBLE PRECISION,
    "manufacturer" TEXT, "model" TEXT, "originalStart" TIMESTAMP(3), "originalEnd" TIMESTAMP(3),
    "hasPlan" BOOLEAN NOT NULL DEFAULT false, "forecastStart" TIMESTAMP(3), "forecastEnd" TIMESTAMP(3),
    "actualStart" TIMESTAMP(3), "actualEnd" TIMESTAMP(3), "hasActuals" BOOLEAN NOT NULL DEFAULT false,
    "contract" TEXT, "equipment" TEXT, "lastModified" TIMESTAMP(3), "lastModifiedBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
    UNIQUE ("organizationId", "pfaId"))`,
  `CREATE TABLE "pfa_mirror" ("id" TEXT NOT NULL PRIMARY KEY, "organizationId" TEXT NOT NULL REFERENCES "organizations" ("id"),
    "data" JSON NOT NULL, "pfaId" TEXT NOT NULL, "category" TEXT, "class" TEXT, "source" TEXT, "dor" TEXT,
    "monthlyRate" DECIMAL(12, 2), "purchasePrice" DECIMAL(12, 2), "forecastStart" TIMESTAMP(3), "forecastEnd" TIMESTAMP(3),
    "originalStart" TIMESTAMP(3), "originalEnd" TIMESTAMP(3), "isActualized" BOOLEAN, "isDiscontinued" BOOLEAN,
    "pemsVersion" TEXT, "version" INTEGER NOT NULL DEFAULT 1, "lastSyncedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL,
    UNIQUE ("organizationId", "pfaId"))`,
  `CREATE TABLE "pfa_modification" ("id" TEXT NOT NULL PRIMARY KEY, "mirrorId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL, "userId" TEXT NOT NULL, "delta" JSON NOT NULL DEFAULT '{}', "sessionId" TEXT,
    "syncState" TEXT NOT NULL DEFAULT 'draft', "baseVersion" INTEGER NOT NULL, "currentVersion" INTEGER NOT NULL DEFAULT 1,
    "modifiedFields" JSON, "changeReason" TEXT, "committedAt" TIMESTAMP(3), "pemsVersion" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" TIMESTAMP(3) NOT NULL)`,
  `CREATE TABLE "pfa_sync_conflict" ("id" TEXT NOT NULL PRIMARY KEY, "modificationId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL, "pfaId" TEXT NOT NULL, "localData" JSON NOT NULL, "pemsData" JSON NOT NULL,
    "conflictFields" JSON NOT NULL, "status" TEXT NOT NULL DEFAULT 'pending', "resolution" TEXT,
    "resolvedAt" TIMESTAMP(3), "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
];

/** A UUID-like text id, deterministic (fixtures must compare field by field). */
export function legacyUuid(kind: number, n: number): string {
  const h = (n * 2654435761 + kind * 40503) >>> 0;
  const hex = (v: number, len: number): string => v.toString(16).padStart(len, '0').slice(-len);
  return `${hex(h, 8)}-${hex(kind, 4)}-4${hex(n >>> 16, 3)}-a${hex(n >>> 4, 3)}-${hex(n, 12)}`;
}
