/**
 * Bearer tokens (DOMAIN §5): HS256 with the configured secret (development, operators, simple
 * deployments) and RS256/ES256 from the identity provider's JWKS. The crypto is jose's; this file
 * decides which keys and algorithms are acceptable and maps every failure to UNAUTHENTICATED.
 */
import {
  SignJWT,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JWTVerifyOptions,
} from 'jose';
import type { Config } from '../config.js';
import { DomainError } from '../domain/errors.js';
import { LruCache } from '../util/lru-cache.js';
import {
  ORGANIZATION_CODE,
  principalFromClaims,
  type ClaimRules,
  type Principal,
  type Role,
} from './claims.js';

export { ROLES, ORGANIZATION_CODE, type Principal, type Role } from './claims.js';

/** Algorithms accepted from the JWKS; HS256 only ever with the shared secret. */
const JWKS_ALGORITHMS = ['RS256', 'ES256'];
const MAX_TOKEN_CHARS = 16_384;

export interface TokenVerifierOptions extends ClaimRules {
  /** HS256 tokens are accepted only when a secret is given. */
  hsSecret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | readonly string[] | undefined;
  /** jose's JWKS cache: refetch at most once per cooldown on an unknown kid; refresh after maxAge. */
  jwks?: { cooldownMs?: number; cacheMaxAgeMs?: number; timeoutMs?: number };
  /** HS256 tokens remembered once verified (see VERIFIED_CACHE_SIZE); 0 turns the cache off. */
  verifiedCacheSize?: number;
}

/**
 * An HS256 token that verified is remembered, by its exact text, for at most
 * VERIFIED_CACHE_TTL_MS and never past its `exp`: a client sends the same token with every
 * request, and checking its HMAC through WebCrypto was ~8% of the CPU of a 100-record grid
 * request. The secret is fixed for the life of the process, and every check that depends on the
 * time is monotone — `exp` (the entry ends at exp, after which jose and its clock tolerance
 * decide as before), `nbf` and `iat` (once passed, passed) — so a remembered answer is the answer
 * verifying again would give. Failures are not remembered. Tokens verified with the JWKS are
 * verified every time: a key the provider withdraws must stop working as soon as jose refetches
 * the key set (test/auth-jwks.test.ts).
 */
const VERIFIED_CACHE_SIZE = 1_000;
const VERIFIED_CACHE_TTL_MS = 60_000;

export interface TokenVerifier {
  /** Verifies `Authorization: Bearer <JWT>`. Throws UNAUTHENTICATED (SERVICE_UNAVAILABLE when the JWKS cannot be fetched). */
  verify(authorization: string | undefined): Promise<Principal>;
}

const unauthenticated = (message: string): DomainError => new DomainError('UNAUTHENTICATED', message);

/** Is this failure the key set being unreachable (not the token being bad)? */
function isJwksOutage(e: unknown): boolean {
  if (e instanceof joseErrors.JWKSTimeout) return true;
  // Network failures (fetch's TypeError, compared by name: it may come from another realm) and a
  // non-200 or non-JSON answer from the provider.
  const { name, message } = (e ?? {}) as { name?: unknown; message?: unknown };
  if (name === 'TypeError' && typeof message === 'string' && /fetch/i.test(message)) return true;
  return (
    e instanceof joseErrors.JOSEError &&
    e.code === 'ERR_JOSE_GENERIC' &&
    /JSON Web Key Set HTTP response/.test(e.message)
  );
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (!options.hsSecret && !options.jwksUrl)
    throw new Error('token verifier needs an HS256 secret or a JWKS URL');
  const secret = options.hsSecret ? new TextEncoder().encode(options.hsSecret) : null;
  const jwks = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl), {
        ...(options.jwks?.cooldownMs !== undefined ? { cooldownDuration: options.jwks.cooldownMs } : {}),
        ...(options.jwks?.cacheMaxAgeMs !== undefined ? { cacheMaxAge: options.jwks.cacheMaxAgeMs } : {}),
        ...(options.jwks?.timeoutMs !== undefined ? { timeoutDuration: options.jwks.timeoutMs } : {}),
      })
    : null;
  const cacheSize = options.verifiedCacheSize ?? VERIFIED_CACHE_SIZE;
  const verified =
    cacheSize > 0
      ? new LruCache<string, { principal: Principal; until: number }>(cacheSize, VERIFIED_CACHE_TTL_MS)
      : null;
  const common: JWTVerifyOptions = {
    requiredClaims: ['exp', 'iat', 'sub'],
    clockTolerance: options.clockToleranceSeconds,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience && options.audience.length ? { audience: [...[options.audience].flat()] } : {}),
  };

  return {
    async verify(authorization) {
      if (!authorization) throw unauthenticated('missing Authorization: Bearer token');
      const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
      if (!m?.[1]) throw unauthenticated('Authorization header must be "Bearer <token>"');
      const token = m[1];
      if (token.length > MAX_TOKEN_CHARS) throw unauthenticated('token is too long');
      const known = verified?.get(token);
      if (known && Date.now() < known.until) return known.principal;
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw unauthenticated('token is not valid');
      }
      let payload: Record<string, unknown>;
      let viaJwks = false;
      try {
        if (alg === 'HS256' && secret) {
          ({ payload } = await jwtVerify(token, secret, { ...common, algorithms: ['HS256'] }));
        } else if (typeof alg === 'string' && JWKS_ALGORITHMS.includes(alg) && jwks) {
          viaJwks = true;
          ({ payload } = await jwtVerify(token, jwks, { ...common, algorithms: JWKS_ALGORITHMS }));
        } else {
          throw unauthenticated(
            `token algorithm ${typeof alg === 'string' ? alg.slice(0, 20) : '(none)'} is not accepted`,
          );
        }
      } catch (e) {
        if (e instanceof DomainError) throw e;
        if (viaJwks && isJwksOutage(e))
          throw new DomainError(
            'SERVICE_UNAVAILABLE',
            'the identity provider’s key set could not be fetched',
            {
              retryable: true,
            },
          );
        if (e instanceof joseErrors.JWTExpired) throw unauthenticated('token expired');
        if (e instanceof joseErrors.JWKSNoMatchingKey)
          throw unauthenticated('token signed with an unknown key');
        if (e instanceof joseErrors.JWTClaimValidationFailed)
          throw unauthenticated(`token claim ${e.claim} is not valid (${e.reason})`);
        throw unauthenticated('token is not valid');
      }
      const { userId, orgs, role } = principalFromClaims(payload, options);
      // Shared by every request that sends this token: frozen.
      const principal: Principal = Object.freeze({ userId, orgs: Object.freeze([...orgs]), role });
      // principalFromClaims checked that exp is a number.
      if (!viaJwks) verified?.set(token, { principal, until: (payload.exp as number) * 1000 });
      return principal;
    },
  };
}

/**
 * The verifier a running service uses. `fallbackSecret` is the demo secret of the embedded start
 * (or the test secret); it signs HS256 tokens only when neither AUTH_JWT_SECRET nor AUTH_JWKS_URL
 * is configured, so a JWKS deployment never accepts a locally signed token.
 */
export function tokenVerifierFromConfig(config: Config, fallbackSecret?: string): TokenVerifier {
  const hsSecret = config.AUTH_JWT_SECRET ?? (config.AUTH_JWKS_URL ? undefined : fallbackSecret);
  return createTokenVerifier({
    hsSecret,
    jwksUrl: config.AUTH_JWKS_URL,
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE?.split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    orgsClaim: config.AUTH_ORGS_CLAIM,
    roleClaim: config.AUTH_ROLE_CLAIM,
    maxLifetimeSeconds: config.AUTH_MAX_TOKEN_LIFETIME,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_SECONDS,
  });
}

/** `12h`, `7d`, `90m`, `3600s` or plain seconds → seconds; null when not a duration. */
export function parseLifetime(text: string): number | null {
  const m = /^(\d{1,9})\s*(s|m|h|d)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(m[2] ?? 's').toLowerCase() as 's' | 'm' | 'h' | 'd'];
  const seconds = Number(m[1]) * unit;
  return seconds > 0 ? seconds : null;
}

/**
 * Signs an HS256 token as the customer's identity provider would (dev tooling, demo mode, tests).
 * `lifetime` is seconds or a duration (`12h`, `7d`); `iat` is now.
 */
export async function signToken(
  secret: string,
  claims: { sub: string; orgs: readonly string[]; role: Role },
  lifetime: string | number = '12h',
): Promise<string> {
  const seconds = typeof lifetime === 'number' ? lifetime : parseLifetime(lifetime);
  if (seconds === null || !Number.isInteger(seconds) || seconds <= 0)
    throw new Error(`token lifetime ${String(lifetime)} is not a duration (e.g. 3600, 12h, 7d)`);
  for (const org of claims.orgs)
    if (!ORGANIZATION_CODE.test(org))
      throw new Error(`organization code ${JSON.stringify(org)} is not valid`);
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ orgs: [...claims.orgs], role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + seconds)
    .sign(new TextEncoder().encode(secret));
}

export function can(principal: Principal, action: 'read' | 'edit' | 'admin'): boolean {
  if (action === 'read') return true;
  if (action === 'edit') return principal.role === 'editor' || principal.role === 'admin';
  return principal.role === 'admin';
}
