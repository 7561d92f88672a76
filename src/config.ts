import { z } from 'zod';

const optionalUrl = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .pipe(z.url().optional())
  .optional();

/** A claim name or a dotted path into nested claims (`realm_access.roles`). */
const claimPath = z
  .string()
  .trim()
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a claim name or a dotted path (realm_access.roles)')
  .max(200);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: optionalUrl,
  REDIS_URL: optionalUrl,
  AUTH_JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  // Identity provider (DOMAIN §5): RS256/ES256 tokens verified against the provider's key set.
  AUTH_JWKS_URL: optionalUrl.refine((u) => u === undefined || /^https?:\/\//i.test(u), 'must be http(s)'),
  AUTH_ISSUER: z.string().trim().max(1000).optional(),
  /** One audience or several, comma-separated: a token must name at least one of them. */
  AUTH_AUDIENCE: z.string().trim().max(1000).optional(),
  AUTH_ORGS_CLAIM: claimPath.default('orgs'),
  AUTH_ROLE_CLAIM: claimPath.default('role'),
  AUTH_MAX_TOKEN_LIFETIME: z.coerce.number().int().min(60).max(31_536_000).default(604_800),
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(60),
  /** /metrics on its own listener (then not on the API port); without it loopback clients only. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().optional(),
  /** When set, /metrics wants `Authorization: Bearer <METRICS_TOKEN>` from every client. */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Stack traces and internal messages in GraphQL error responses (1/true); off by default. */
  DEBUG_ERRORS: z.stringbool().default(false),
  PEMS_URL: optionalUrl,
  PEMS_TENANT: z.string().default('DEFAULT'),
  PEMS_API_KEY: z.string().optional(),
  PEMS_USERNAME: z.string().optional(),
  PEMS_PASSWORD: z.string().optional(),
  PEMS_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(200),
  PEMS_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  KPI_REFRESH_INTERVAL_MS: z.coerce.number().int().min(0).default(300_000),
  /** Write-back sweep: queue write-sync for every organization with old committed changes; 0 off. */
  WRITE_SYNC_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  WRITE_SYNC_LEASE_MS: z.coerce.number().int().min(1_000).default(120_000),
  /** Scheduled incremental read sync of every organization; 0 off (always off without PEMS). */
  READ_SYNC_INTERVAL_MS: z.coerce.number().int().min(0).default(900_000),
  /** Nightly maintenance deletes audit events (pfa_modification_event) older than this; 0 keeps them. */
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).default(365),
  /** … superseded record versions (pfa_mirror_history) older than this; 0 keeps them. */
  HISTORY_RETENTION_DAYS: z.coerce.number().int().min(0).default(365),
  /** … KPI refresh log rows (pfa_view_refresh) older than this (the newest always stays); 0 keeps them. */
  REFRESH_LOG_RETENTION_DAYS: z.coerce.number().int().min(0).default(30),
  /** … sessions unused this long whose modifications are all archived; 0 keeps them. */
  SESSION_IDLE_DAYS: z.coerce.number().int().min(0).default(90),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  /** Per-statement timeout of the record reads a client shapes (SET LOCAL, see src/db/read-timeout.ts). */
  READ_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(10).default(5_000),
  /**
   * Record pages as named prepared statements (protocol level, src/db/read-timeout.ts); false for
   * a pooler that cannot track them (PgBouncer before 1.21, or max_prepared_statements = 0).
   */
  READ_PREPARED_STATEMENTS: z.stringbool().default(true),
  /** Read queries through the compiled executor (src/graphql/fast-execute.ts); false: graphql-js only. */
  FAST_EXECUTION: z.stringbool().default(true),
  /**
   * Megabytes of answer text the exact response cache keeps (src/graphql/response-cache.ts:
   * grid pages and KPI summaries, served again while the caller's change token stands); 0 is off.
   */
  RESPONSE_CACHE_MB: z.coerce.number().int().min(0).max(4096).default(32),
  MAX_QUERY_COST: z.coerce.number().int().positive().default(50_000),
  BULK_UPDATE_MAX: z.coerce.number().int().positive().default(50_000),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  DATA_DIR: z.string().default('.data'),
  /** apq (Apollo's automatic persisted queries), only (the operations/ manifest only), off (DOMAIN §5.1). */
  PERSISTED_QUERIES: z.enum(['apq', 'only', 'off']).default('apq'),
  /** The manifest `only` runs (default operations/generated/persisted-documents.json). */
  PERSISTED_QUERIES_MANIFEST: z.string().optional(),
  DEMO_RECORDS: z.coerce.number().int().min(0).default(60_000),
});

export type Config = Readonly<z.infer<typeof schema>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the environment once, reporting every bad variable in one message. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty or blank variable counts as unset (PORT= must not mean port 0).
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const result = schema.safeParse(set);
  const lines = result.success
    ? []
    : result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
  // Checked outside zod, which skips refinements once a field fails: every problem in one message.
  if (env.NODE_ENV === 'production') {
    if (!env.AUTH_JWT_SECRET?.trim() && !env.AUTH_JWKS_URL?.trim())
      lines.push('  AUTH_JWT_SECRET: is required when NODE_ENV=production (or AUTH_JWKS_URL)');
    if (!env.DATABASE_URL?.trim()) lines.push('  DATABASE_URL: is required when NODE_ENV=production');
  }
  if (!result.success || lines.length) throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  return Object.freeze(result.data);
}
